//! Hostile guests: huge, looping, escaping or garbage files must give
//! "unknown", an empty answer or an error, never a panic, a hang or a
//! read outside the guest tree.

use std::os::unix::fs::symlink;
use std::time::Instant;

use guest_formats::fixtures::hive::{build_hive, software_hive, system_hive};
use guest_formats::fixtures::pe_x86_64;
use guest_formats::fixtures::rpm::build_header;

use super::{make_rpmdb, write};
use crate::daemon::inspect::scan::inspect_mounted;
use crate::daemon::inspect::types::FsDevice;
use crate::daemon::inspect::{apps, rpmdb, windows};
use crate::daemon::root::Root;

fn fs() -> FsDevice {
    FsDevice {
        device: "/dev/sdz1".into(),
        fstype: "ext4".into(),
        label: String::new(),
        uuid: String::new(),
    }
}

/// What libguestfs takes for a Linux root: /etc, /bin -> usr/bin, and
/// /etc/hosts (or /etc/fstab).
fn linux_skeleton(r: &std::path::Path) {
    std::fs::create_dir_all(r.join("etc")).unwrap();
    std::fs::create_dir_all(r.join("usr/bin")).unwrap();
    symlink("usr/bin", r.join("bin")).unwrap();
    write(r, "/etc/hosts", b"127.0.0.1 localhost\n");
}

#[test]
fn huge_and_garbage_config_files() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    linux_skeleton(r);
    // 64 MiB of os-release with its ID far past what is read; a sparse
    // 1 TiB fstab; garbage bytes as hostname.
    let mut big = "X=y\n".repeat(16 << 20);
    big.push_str("ID=fedora\n");
    write(r, "/etc/os-release", big.as_bytes());
    let fstab = std::fs::File::create(r.join("etc/fstab")).unwrap();
    fstab.set_len(1 << 40).unwrap();
    write(r, "/etc/hostname", &[0xFF, 0xFE, 0, b'\n', 0x80]);
    write(r, "/bin/sh", &[0x7F, b'E', b'L', b'F', 2]);
    let start = Instant::now();
    let info = inspect_mounted(&Root::new(r), &fs(), &[]).unwrap();
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
    assert_eq!(info.facts.distro, "", "unknown");
    assert_eq!(info.facts.arch, "", "unknown");
    assert_eq!(info.mountpoints.len(), 1);
    // fstab garbage: binary junk, endless fields, lone escapes.
    let mut junk: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    junk.extend_from_slice(b"\nUUID= / \\ \\0\nLABEL=\\777 /x ext4\n/dev/ /y ext4\n");
    write(r, "/etc/fstab", &junk);
    let info = inspect_mounted(&Root::new(r), &fs(), &[]).unwrap();
    assert_eq!(info.filesystems, ["/dev/sdz1"]);
}

#[test]
fn symlinks_loop_or_point_outside() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("os-release"),
        "ID=secret\nPRETTY_NAME=host\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    linux_skeleton(r);
    // A loop, then an absolute link to a host file: neither is read.
    symlink("/etc/os-release", r.join("etc/os-release")).unwrap();
    symlink(
        "../../../../../../usr/lib/os-release",
        r.join("etc/hostname"),
    )
    .unwrap();
    std::fs::create_dir_all(r.join("usr/lib")).unwrap();
    symlink(
        outside.path().join("os-release"),
        r.join("usr/lib/os-release"),
    )
    .unwrap();
    write(r, "/etc/debian_version", b"11.9\n");
    let info = inspect_mounted(&Root::new(r), &fs(), &[]).unwrap();
    assert_eq!(info.facts.distro, "debian");
    assert_eq!((info.facts.major, info.facts.minor), (11, 9));
    assert_eq!(info.facts.hostname, "");
    assert!(!format!("{info:?}").contains("secret"));
    // With no release file at all, it is still a root (as libguestfs),
    // of an unknown distribution.
    std::fs::remove_file(r.join("etc/debian_version")).unwrap();
    let info = inspect_mounted(&Root::new(r), &fs(), &[]).unwrap();
    assert_eq!(info.facts.distro, "");
    // Without /etc/hosts or /etc/fstab it is not.
    std::fs::remove_file(r.join("etc/hosts")).unwrap();
    assert!(inspect_mounted(&Root::new(r), &fs(), &[]).is_none());
    write(r, "/etc/hosts", b"");
    // A symlink to the guest's own file resolves inside the guest.
    std::fs::remove_file(r.join("usr/lib/os-release")).unwrap();
    write(
        r,
        "/usr/lib/os-release",
        b"ID=ubuntu\nVERSION_ID=\"24.04\"\n",
    );
    std::fs::remove_file(r.join("etc/os-release")).unwrap();
    symlink("/usr/lib/os-release", r.join("etc/os-release")).unwrap();
    let info = inspect_mounted(&Root::new(r), &fs(), &[]).unwrap();
    assert_eq!(
        (
            info.facts.distro.as_str(),
            info.facts.major,
            info.facts.minor
        ),
        ("ubuntu", 24, 4)
    );
    assert_eq!(
        info.facts.hostname, "ID=ubuntu",
        "its own os-release, via the .. link"
    );
}

#[test]
fn fifos_and_devices_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    linux_skeleton(r);
    write(r, "/etc/os-release", b"ID=debian\n");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        r.join("etc/hostname"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    // A device node (here /dev/zero's numbers) is not opened either.
    rustix::fs::mknodat(
        rustix::fs::CWD,
        r.join("etc/HOSTNAME"),
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::from_raw_mode(0o644),
        rustix::fs::makedev(1, 5),
    )
    .unwrap();
    symlink("/etc/HOSTNAME", r.join("usr/bin/sh")).unwrap();
    symlink("/dev/zero", r.join("usr/bin/bash")).unwrap();
    let info = inspect_mounted(&Root::new(r), &fs(), &[]).unwrap();
    assert_eq!(info.facts.hostname, "");
    assert_eq!(info.facts.arch, "", "unknown");
}

#[test]
fn broken_windows_hives() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let hive = build_hive(&software_hive());
    write(r, "/Windows/System32/cmd.exe", &pe_x86_64());
    // A good SYSTEM hive: the registry is read only when both are there.
    write(r, "/Windows/System32/config/SYSTEM", &system_hive());
    for broken in [
        hive[..hive.len() / 2].to_vec(),
        hive[..600].to_vec(),
        vec![0u8; 10],
        b"regf".repeat(2000),
    ] {
        write(r, "/Windows/System32/config/SOFTWARE", &broken);
        let info = inspect_mounted(&Root::new(r), &fs(), &[]).unwrap();
        assert_eq!(info.facts.os_type, "windows");
        assert_eq!(info.facts.product_name, "");
        assert_eq!(info.facts.arch, "x86_64");
        assert_eq!(info.facts.hostname, "win-box", "the SYSTEM hive still read");
        // An error here; inspect_list_applications2 answers it with an
        // empty list (logged), never a failed call.
        assert!(windows::applications(&Root::new(r)).is_err());
    }
    // SOFTWARE as a loop: still a Windows root (cmd.exe is there), with
    // no SOFTWARE hive and so no registry facts.
    std::fs::remove_file(r.join("Windows/System32/config/SOFTWARE")).unwrap();
    symlink("SOFTWARE", r.join("Windows/System32/config/SOFTWARE")).unwrap();
    let info = inspect_mounted(&Root::new(r), &fs(), &[]).unwrap();
    assert_eq!(info.facts.windows.software_hive, "");
    assert_eq!(info.facts.hostname, "");
    // Without cmd.exe it is not a Windows root.
    std::fs::remove_file(r.join("Windows/System32/cmd.exe")).unwrap();
    assert!(inspect_mounted(&Root::new(r), &fs(), &[]).is_none());
}

#[test]
fn broken_package_databases() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let root = Root::new(r);
    assert!(apps::dpkg(&root).is_err());
    assert!(rpmdb::rpm(&root).is_err());
    write(
        r,
        "/var/lib/dpkg/status",
        b"\0\0garbage\n \n:\nPackage:\nStatus: install ok installed\n\n\n",
    );
    assert_eq!(apps::dpkg(&root).unwrap(), []);
    // A Berkeley DB `Packages` that is not one.
    write(r, "/var/lib/rpm/Packages", &[0u8; 4096]);
    assert!(rpmdb::rpm(&root).is_err());
    // A sqlite file that is garbage, truncated, or has a damaged page.
    write(r, "/var/lib/rpm/rpmdb.sqlite", b"SQLite format 3\0garbage");
    assert!(rpmdb::rpm(&root).is_err());
    let db = r.join("good.sqlite");
    let blobs: Vec<Vec<u8>> = (0..300)
        .map(|i| build_header(&[(1000, &format!("p{i}")), (1005, &"d".repeat(3000))], None))
        .collect();
    if make_rpmdb(&db, &blobs).is_none() {
        eprintln!("broken_package_databases: no python3 sqlite3: sqlite damage not tested");
        return;
    }
    let good = std::fs::read(&db).unwrap();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for round in 0..300 {
        let mut m = good.clone();
        if round % 3 == 0 {
            m.truncate(seed as usize % good.len());
        }
        for _ in 0..8 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = 100 + seed as usize % (good.len() - 100);
            if let Some(b) = m.get_mut(at) {
                *b = (seed >> 40) as u8;
            }
        }
        write(r, "/var/lib/rpm/rpmdb.sqlite", &m);
        let _ = rpmdb::rpm(&root);
    }
}
