//! inspect_os and the inspect_get_* calls on real filesystems on loop
//! devices (the tests run as root on the host, mounting through the same
//! code as the appliance), and list_applications2 on the mounted tree.
//! Topics apart: hostile guests (tests/hostile.rs), the config-file and
//! package-database readers on their own (tests/parsers.rs), Windows
//! (tests/windows.rs).

mod hostile;
mod parsers;
mod rpm;
mod windows;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};

use guest_formats::fixtures::rpm::build_header;
use guest_formats::fixtures::rpmdb::{bdb_packages, real_headers, scratch_dir};
use guest_formats::probe::Content;
use protocol::types::{Application, MountEntry, Mountable};
use protocol::{calls, ErrorKind};

use super::scan::natural_cmp;
use super::*;
use crate::daemon::devices::probe_device;
use crate::daemon::root::Root;
use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{run, LoopFs, TestIo};

pub(super) fn write(root: &Path, path: &str, content: &[u8]) {
    let full = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, content).unwrap();
}

pub(super) fn uuid_of(device: &str) -> String {
    match probe_device(device).unwrap() {
        Content::Filesystem(fs) => fs.uuid,
        other => panic!("{device}: {other:?}"),
    }
}

/// Populates a filesystem through a temporary mount, then unmounts it:
/// inspection mounts it read-only, which a live read-write mount of the
/// same device would refuse.
pub(super) fn populate(fs: &mut LoopFs, fill: impl FnOnce(&Path)) {
    let dir = fs.mount();
    fill(&dir);
    run("umount", &[dir.to_str().unwrap()]);
    fs.mountpoint = None;
}

/// inspect_os over `devices`, mounting under a temporary directory.
pub(super) fn inspect(d: &mut GuestDaemon, devices: &[&str]) -> Vec<String> {
    let base = tempfile::tempdir().unwrap();
    let devices: Vec<String> = devices.iter().map(|s| s.to_string()).collect();
    let roots = run_inspection(d, &devices, base.path(), &scan::kernel_mount, &|| false).unwrap();
    // Everything was unmounted and its directory removed.
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mountinfo.contains(base.path().to_str().unwrap()),
        "{mountinfo}"
    );
    assert_eq!(std::fs::read_dir(base.path()).unwrap().count(), 0);
    roots
}

pub(super) fn daemon() -> (GuestDaemon, tempfile::TempDir) {
    let sysroot = tempfile::tempdir().unwrap();
    (GuestDaemon::new(Root::new(sysroot.path())), sysroot)
}

fn dev(s: &str) -> Mountable {
    Mountable::new(s).unwrap()
}

macro_rules! get {
    ($d:expr, $call:ident, $root:expr) => {
        $call(
            $d,
            &mut TestIo::default(),
            calls::$call::Args { root: dev($root) },
        )
    };
}

const DPKG_STATUS: &str = "\
Package: bash
Status: install ok installed
Priority: required
Architecture: amd64
Version: 5.2.15-2+b7
Description: GNU Bourne Again SHell
 Bash is an sh-compatible command language interpreter.
 .
 It is the default shell.
Homepage: http://tiswww.case.edu/php/chet/bash/bashtop.html

Package: removed-pkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1
Description: gone

Package: perl-base
Status: hold ok installed
Architecture: amd64
Source: perl (5.36.0-7)
Version: 1:5.36.0-7+deb12u1
Description: minimal Perl system

Package: adduser
Status: install ok installed
Architecture: all
Version: 3.134
Description: add and remove users and groups
";

fn app(name: &str, epoch: i64, version: &str, release: &str, arch: &str) -> Application {
    Application {
        app2_name: name.into(),
        app2_epoch: epoch,
        app2_version: version.into(),
        app2_release: release.into(),
        app2_arch: arch.into(),
        ..Application::default()
    }
}

#[test]
fn inspect_debian_like_guest() {
    let mut data = LoopFs::new("ext4", 16, "DATA");
    let boot = LoopFs::new("ext4", 16, "BOOTFS");
    let mut rootfs = LoopFs::new("ext4", 32, "root");
    let (data_uuid, root_uuid) = (uuid_of(&data.device), uuid_of(&rootfs.device));
    populate(&mut data, |d| write(d, "/hello", b"data"));
    populate(&mut rootfs, |r| {
        write(r, "/usr/lib/os-release", b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n");
        symlink("../usr/lib/os-release", r.join("etc/os-release")).unwrap_or_else(|_| {
            std::fs::create_dir_all(r.join("etc")).unwrap();
            symlink("../usr/lib/os-release", r.join("etc/os-release")).unwrap();
        });
        write(r, "/etc/debian_version", b"12.7\n");
        write(r, "/etc/hostname", b"web1\n");
        let fstab = format!(
            "# /etc/fstab\nUUID={root_uuid} / ext4 errors=remount-ro 0 1\n\
             UUID={} /srv/data ext4 defaults 0 2\n\
             LABEL=BOOTFS /boot/ ext4 defaults 0 2\n\
             /dev/sdz9 none swap sw 0 0\n\
             tmpfs /tmp tmpfs defaults 0 0\nproc /proc proc defaults 0 0\n",
            data_uuid.to_uppercase()
        );
        write(r, "/etc/fstab", fstab.as_bytes());
        write(r, "/bin/sh", &std::fs::read("/bin/true").unwrap());
        write(r, "/var/lib/dpkg/status", DPKG_STATUS.as_bytes());
    });
    let (mut d, _sysroot) = daemon();
    let root = rootfs.device.clone();
    let err = get!(&mut d, inspect_get_type, &root).unwrap_err();
    assert!(
        err.message.contains("call inspect_os first"),
        "{}",
        err.message
    );

    let roots = inspect(&mut d, &[&boot.device, &rootfs.device, &data.device]);
    assert_eq!(roots, std::slice::from_ref(&root));
    let host_arch = match std::env::consts::ARCH {
        "x86" => "i386",
        a => a,
    };
    assert_eq!(get!(&mut d, inspect_get_type, &root).unwrap(), "linux");
    assert_eq!(get!(&mut d, inspect_get_distro, &root).unwrap(), "debian");
    // As libguestfs: Debian's os-release has no minor version, so
    // /etc/debian_version gives both the version and the product name.
    assert_eq!(
        get!(&mut d, inspect_get_product_name, &root).unwrap(),
        "12.7"
    );
    assert_eq!(get!(&mut d, inspect_get_osinfo, &root).unwrap(), "debian12");
    assert_eq!(
        get!(&mut d, inspect_get_product_variant, &root).unwrap(),
        "unknown"
    );
    assert_eq!(
        get!(&mut d, inspect_get_build_id, &root).unwrap(),
        "unknown"
    );
    assert!(get!(&mut d, inspect_get_windows_systemroot, &root)
        .unwrap_err()
        .message
        .contains("not a Windows guest"));
    assert_eq!(get!(&mut d, inspect_get_drive_mappings, &root).unwrap(), []);
    let again = inspect_get_roots(
        &mut d,
        &mut TestIo::default(),
        calls::inspect_get_roots::Args {},
    );
    assert_eq!(again.unwrap(), std::slice::from_ref(&root));
    assert_eq!(get!(&mut d, inspect_get_major_version, &root).unwrap(), 12);
    assert_eq!(get!(&mut d, inspect_get_minor_version, &root).unwrap(), 7);
    assert_eq!(get!(&mut d, inspect_get_arch, &root).unwrap(), host_arch);
    assert_eq!(get!(&mut d, inspect_get_hostname, &root).unwrap(), "web1");
    assert_eq!(
        get!(&mut d, inspect_get_package_format, &root).unwrap(),
        "deb"
    );
    assert_eq!(
        get!(&mut d, inspect_get_package_management, &root).unwrap(),
        "apt"
    );
    let mp = |device: &str, mountpoint: &str| MountEntry {
        device: device.into(),
        mountpoint: mountpoint.into(),
    };
    assert_eq!(
        get!(&mut d, inspect_get_mountpoints, &root).unwrap(),
        [
            mp(&root, "/"),
            mp(&boot.device, "/boot"),
            mp(&data.device, "/srv/data")
        ]
    );
    assert_eq!(
        get!(&mut d, inspect_get_filesystems, &root).unwrap(),
        [root.clone(), data.device.clone(), boot.device.clone()]
    );
    let err = get!(&mut d, inspect_get_distro, &data.device).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    assert!(err.message.contains("not an OS root"), "{}", err.message);

    // list_applications2 reads the tree mounted at / (here by the fixture).
    let mut mounted = rootfs.daemon();
    mounted.inspection = std::mem::take(&mut d.inspection);
    let apps = get!(&mut mounted, inspect_list_applications2, &root).unwrap();
    let mut bash = app("bash", 0, "5.2.15", "2+b7", "amd64");
    bash.app2_summary = "GNU Bourne Again SHell".into();
    bash.app2_description =
        "Bash is an sh-compatible command language interpreter.\n.\nIt is the default shell."
            .into();
    bash.app2_url = "http://tiswww.case.edu/php/chet/bash/bashtop.html".into();
    let mut adduser = app("adduser", 0, "3.134", "", "all");
    adduser.app2_summary = "add and remove users and groups".into();
    let mut perl = app("perl-base", 1, "5.36.0", "7+deb12u1", "amd64");
    perl.app2_summary = "minimal Perl system".into();
    perl.app2_source_package = "perl".into();
    assert_eq!(apps, [adduser, bash, perl]);
}

#[test]
fn a_disk_without_an_os_has_no_roots() {
    let empty = LoopFs::new("ext4", 16, "EMPTY");
    let blank = LoopFs::new("none", 4, "");
    let (mut d, _sysroot) = daemon();
    assert!(inspect(&mut d, &[&empty.device, &blank.device]).is_empty());
    let err = get!(&mut d, inspect_get_type, &empty.device).unwrap_err();
    assert!(err.message.contains("roots: none"), "{}", err.message);
}

/// The rpm database as rpm ≥ 4.16 writes it, made by the host's sqlite
/// (python3); None when the host has no python3 with sqlite3.
pub(super) fn make_rpmdb(path: &Path, blobs: &[Vec<u8>]) -> Option<()> {
    let script = "import sqlite3, sys\n\
        db = sqlite3.connect(sys.argv[1])\n\
        db.execute('PRAGMA page_size=1024')\n\
        db.execute('CREATE TABLE Name (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL)')\n\
        db.execute('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)')\n\
        for line in sys.stdin:\n    db.execute('INSERT INTO Packages (blob) VALUES (?)', (bytes.fromhex(line.strip()),))\n\
        db.commit()\n";
    let mut child = Command::new("python3")
        .args(["-c", script, path.to_str().unwrap()])
        .stdin(Stdio::piped())
        .spawn()
        .ok()?;
    let input: String = blobs
        .iter()
        .map(|b| b.iter().map(|x| format!("{x:02x}")).collect::<String>() + "\n")
        .collect();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait().unwrap().success().then_some(())
}

fn rpm_blobs() -> Vec<Vec<u8>> {
    let mut blobs: Vec<Vec<u8>> = (0..150)
        .map(|i| {
            let name = format!("pkg{i:03}");
            build_header(
                &[
                    (1000, &name),
                    (1001, "1.0"),
                    (1002, "1.fc40"),
                    (1022, "noarch"),
                ],
                None,
            )
        })
        .collect();
    // Big enough to spill over several overflow pages.
    let description = "long description line\n".repeat(400);
    blobs.push(build_header(
        &[
            (1000, "bash"),
            (1001, "5.2.26"),
            (1002, "3.fc40"),
            (1004, "The GNU Bourne Again shell"),
            (1005, &description),
            (1020, "https://www.gnu.org/software/bash"),
            (1022, "x86_64"),
            (1044, "bash-5.2.26-3.fc40.src.rpm"),
        ],
        Some(1),
    ));
    blobs.push(b"garbage, not a header".to_vec());
    blobs
}

#[test]
fn two_operating_systems_two_roots() {
    let mut fedora = LoopFs::new("ext4", 16, "fedora");
    let mut centos = LoopFs::new("ext4", 16, "centos");
    let mut have_rpmdb = false;
    populate(&mut fedora, |r| {
        write(r, "/etc/os-release", b"NAME=\"Fedora Linux\"\nVERSION_ID=40\nID=fedora\nPRETTY_NAME=\"Fedora Linux 40 (Server Edition)\"\n");
        write(r, "/etc/hostname", b"fed.example.com\n");
        write(r, "/etc/fstab", b"# no entries\n");
        std::fs::create_dir_all(r.join("usr/bin")).unwrap();
        symlink("usr/bin", r.join("bin")).unwrap();
        write(r, "/usr/bin/bash", &std::fs::read("/bin/true").unwrap());
        write(r, "/usr/bin/dnf", b"#!/usr/bin/python3\n");
        std::fs::create_dir_all(r.join("var/lib/rpm")).unwrap();
        have_rpmdb = make_rpmdb(&r.join("var/lib/rpm/rpmdb.sqlite"), &rpm_blobs()).is_some();
    });
    populate(&mut centos, |r| {
        write(
            r,
            "/etc/redhat-release",
            b"CentOS Linux release 7.9.2009 (Core)\n",
        );
        write(
            r,
            "/etc/sysconfig/network",
            b"NETWORKING=yes\nHOSTNAME=\"c7\"\n",
        );
        write(r, "/etc/hosts", b"127.0.0.1 localhost\n");
        std::fs::create_dir_all(r.join("usr")).unwrap();
        std::fs::create_dir_all(r.join("bin")).unwrap();
        // CentOS 7's Berkeley DB, made by db5.3_load from real headers.
        let made = scratch_dir("centos-rpmdb");
        let packages = bdb_packages(&made, real_headers(), 4096, false);
        write(
            r,
            "/var/lib/rpm/Packages",
            &std::fs::read(packages).unwrap(),
        );
        let _ = std::fs::remove_dir_all(&made);
    });
    let (mut d, _sysroot) = daemon();
    let roots = inspect(&mut d, &[&fedora.device, &centos.device]);
    let mut expected = vec![fedora.device.clone(), centos.device.clone()];
    expected.sort_by(|a, b| natural_cmp(a, b));
    assert_eq!(roots, expected);
    let f = fedora.device.clone();
    assert_eq!(get!(&mut d, inspect_get_distro, &f).unwrap(), "fedora");
    assert_eq!(get!(&mut d, inspect_get_major_version, &f).unwrap(), 40);
    assert_eq!(get!(&mut d, inspect_get_minor_version, &f).unwrap(), 0);
    assert_eq!(
        get!(&mut d, inspect_get_hostname, &f).unwrap(),
        "fed.example.com"
    );
    assert_eq!(get!(&mut d, inspect_get_package_format, &f).unwrap(), "rpm");
    assert_eq!(
        get!(&mut d, inspect_get_package_management, &f).unwrap(),
        "dnf"
    );
    assert_ne!(get!(&mut d, inspect_get_arch, &f).unwrap(), "unknown");
    let c = centos.device.clone();
    assert_eq!(get!(&mut d, inspect_get_distro, &c).unwrap(), "centos");
    assert_eq!(
        get!(&mut d, inspect_get_product_name, &c).unwrap(),
        "CentOS Linux release 7.9.2009 (Core)"
    );
    assert_eq!(get!(&mut d, inspect_get_major_version, &c).unwrap(), 7);
    assert_eq!(get!(&mut d, inspect_get_minor_version, &c).unwrap(), 9);
    assert_eq!(get!(&mut d, inspect_get_hostname, &c).unwrap(), "c7");
    assert_eq!(
        get!(&mut d, inspect_get_package_management, &c).unwrap(),
        "yum"
    );
    assert_eq!(get!(&mut d, inspect_get_arch, &c).unwrap(), "unknown");

    if !have_rpmdb {
        eprintln!("two_operating_systems_two_roots: no python3 sqlite3 on this host: rpm database not tested");
        return;
    }
    let mut mounted = fedora.daemon();
    mounted.inspection = std::mem::take(&mut d.inspection);
    let apps = get!(&mut mounted, inspect_list_applications2, &f).unwrap();
    assert_eq!(apps.len(), 151, "the garbage header is skipped");
    let bash = &apps[0];
    assert_eq!(
        (
            bash.app2_name.as_str(),
            bash.app2_epoch,
            bash.app2_version.as_str()
        ),
        ("bash", 1, "5.2.26")
    );
    assert_eq!(bash.app2_release, "3.fc40");
    assert_eq!(bash.app2_arch, "x86_64");
    assert_eq!(bash.app2_summary, "The GNU Bourne Again shell");
    assert_eq!(bash.app2_description.len(), 22 * 400);
    assert_eq!(bash.app2_source_package, "bash-5.2.26-3.fc40.src.rpm");
    assert_eq!(bash.app2_url, "https://www.gnu.org/software/bash");
    assert_eq!(apps[1], app("pkg000", 0, "1.0", "1.fc40", "noarch"));
    assert_eq!(apps[150].app2_name, "pkg149");

    let mut c7 = centos.daemon();
    c7.inspection = std::mem::take(&mut mounted.inspection);
    let apps = get!(&mut c7, inspect_list_applications2, &c).unwrap();
    let names: Vec<&str> = apps.iter().map(|a| a.app2_name.as_str()).collect();
    assert_eq!(names, ["big-doc", "hello", "tiny-lib"]);
    assert_eq!(apps[1].app2_epoch, 2);
    assert_eq!(apps[1].app2_summary, "A greeting");
}

/// A root whose /usr is a filesystem of its own (CoreOS-style GPT
/// layouts, /etc/os-release a link into /usr): the root takes the
/// distribution from the /usr its fstab mounts, as libguestfs merges it.
#[test]
fn separate_usr_completes_its_root() {
    let mut rootfs = LoopFs::new("ext4", 16, "root");
    let mut usrfs = LoopFs::new("ext4", 16, "usr");
    populate(&mut rootfs, |r| {
        std::fs::create_dir_all(r.join("usr")).unwrap();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        symlink("usr/bin", r.join("bin")).unwrap();
        symlink("../usr/lib/os-release", r.join("etc/os-release")).unwrap();
        write(r, "/etc/hostname", b"core1\n");
        write(
            r,
            "/etc/fstab",
            b"LABEL=root / ext4 defaults 0 1\nLABEL=usr /usr ext4 ro 0 2\n",
        );
    });
    populate(&mut usrfs, |r| {
        for d in ["bin", "share", "local", "src", "lib"] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        write(r, "/lib/os-release", b"NAME=\"Fedora Linux\"\nID=fedora\nVERSION_ID=41\nPRETTY_NAME=\"Fedora Linux 41 (CoreOS)\"\n");
        write(r, "/bin/bash", &std::fs::read("/bin/true").unwrap());
    });
    let (mut d, _sysroot) = daemon();
    let roots = inspect(&mut d, &[&rootfs.device, &usrfs.device]);
    let root = rootfs.device.clone();
    assert_eq!(roots, std::slice::from_ref(&root), "the /usr is not a root");
    assert_eq!(get!(&mut d, inspect_get_distro, &root).unwrap(), "fedora");
    assert_eq!(
        get!(&mut d, inspect_get_product_name, &root).unwrap(),
        "Fedora Linux 41 (CoreOS)"
    );
    assert_eq!(get!(&mut d, inspect_get_major_version, &root).unwrap(), 41);
    assert_eq!(get!(&mut d, inspect_get_hostname, &root).unwrap(), "core1");
    assert_eq!(
        get!(&mut d, inspect_get_package_format, &root).unwrap(),
        "rpm"
    );
    assert_ne!(get!(&mut d, inspect_get_arch, &root).unwrap(), "unknown");
    let mps = get!(&mut d, inspect_get_mountpoints, &root).unwrap();
    assert_eq!(
        mps.iter()
            .map(|m| (m.mountpoint.as_str(), m.device.as_str()))
            .collect::<Vec<_>>(),
        [("/", root.as_str()), ("/usr", usrfs.device.as_str())]
    );
}

/// Fedora's default layout: one btrfs filesystem, subvolumes root and
/// home, fstab mounting them with subvol=. The root is the subvolume
/// (`btrfsvol:DEVICE/root`), as libguestfs names it, and /home resolves
/// to the other subvolume.
#[test]
fn fedora_btrfs_subvolumes() {
    let mut fs = LoopFs::new("none", 256, "");
    run("mkfs.btrfs", &["-q", "-f", "-L", "fedora", &fs.device]);
    let uuid = uuid_of(&fs.device);
    populate(&mut fs, |top| {
        run(
            "btrfs",
            &[
                "-q",
                "subvolume",
                "create",
                top.join("root").to_str().unwrap(),
            ],
        );
        run(
            "btrfs",
            &[
                "-q",
                "subvolume",
                "create",
                top.join("home").to_str().unwrap(),
            ],
        );
        let r = top.join("root");
        write(&r, "/etc/os-release", b"NAME=\"Fedora Linux\"\nVERSION_ID=40\nID=fedora\nPRETTY_NAME=\"Fedora Linux 40 (Workstation Edition)\"\n");
        let fstab = format!(
            "UUID={uuid} / btrfs subvol=root,compress=zstd:1 0 0\nUUID={uuid} /home btrfs subvol=home,compress=zstd:1 0 0\n"
        );
        write(&r, "/etc/fstab", fstab.as_bytes());
        write(&r, "/etc/hostname", b"fedora-ws\n");
        std::fs::create_dir_all(r.join("usr/bin")).unwrap();
        symlink("usr/bin", r.join("bin")).unwrap();
        write(&r, "/usr/bin/bash", &std::fs::read("/bin/true").unwrap());
        write(&r, "/usr/bin/dnf", b"#!/usr/bin/python3\n");
        write(&top.join("home"), "/user/notes", b"hi\n");
    });
    let root_vol = format!("btrfsvol:{}/root", fs.device);
    let home_vol = format!("btrfsvol:{}/home", fs.device);
    let (mut d, _sysroot) = daemon();
    let roots = inspect(&mut d, &[&fs.device, &root_vol, &home_vol]);
    assert_eq!(roots, std::slice::from_ref(&root_vol));
    assert_eq!(
        get!(&mut d, inspect_get_distro, &root_vol).unwrap(),
        "fedora"
    );
    assert_eq!(
        get!(&mut d, inspect_get_major_version, &root_vol).unwrap(),
        40
    );
    assert_eq!(
        get!(&mut d, inspect_get_hostname, &root_vol).unwrap(),
        "fedora-ws"
    );
    assert_eq!(
        get!(&mut d, inspect_get_package_management, &root_vol).unwrap(),
        "dnf"
    );
    assert_eq!(
        get!(&mut d, inspect_get_osinfo, &root_vol).unwrap(),
        "fedora40"
    );
    let mps = get!(&mut d, inspect_get_mountpoints, &root_vol).unwrap();
    assert_eq!(
        mps.iter()
            .map(|m| (m.mountpoint.as_str(), m.device.as_str()))
            .collect::<Vec<_>>(),
        [("/", root_vol.as_str()), ("/home", home_vol.as_str())]
    );
}
