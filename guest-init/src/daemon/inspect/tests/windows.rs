//! Windows: detection on a Windows tree holding hives built by
//! `guest_formats::fixtures`, and the whole inspect_os path on an NTFS
//! image when the host can make one.

use std::path::Path;
use std::process::Command;

use protocol::calls;
use protocol::types::Mountable;

use guest_formats::fixtures::hive::{build_hive, software_hive, system_hive};
use guest_formats::fixtures::pe_x86_64;

use super::{daemon, write};
use crate::daemon::inspect::scan::{self, inspect_mounted};
use crate::daemon::inspect::types::{FsDevice, Mounter, OsInfo};
use crate::daemon::inspect::{inspect_get_product_name, run_inspection, windows};
use crate::daemon::root::Root;
use crate::daemon::tests::{kernel_supports, run, LoopFs, TestIo};

/// A Windows tree, spelt in the case Windows leaves on disk.
fn windows_tree(r: &Path) {
    write(
        r,
        "/WINDOWS/system32/config/SOFTWARE",
        &build_hive(&software_hive()),
    );
    write(r, "/WINDOWS/system32/config/SYSTEM", &system_hive());
    write(r, "/WINDOWS/system32/CMD.EXE", &pe_x86_64());
}

fn check_windows(info: &OsInfo, device: &str) {
    assert_eq!(info.root, device);
    let f = &info.facts;
    assert_eq!(
        (f.os_type.as_str(), f.distro.as_str()),
        ("windows", "windows")
    );
    // As libguestfs: ProductName as Windows 11 writes it; the build
    // tells 11 from 10 (osinfo win11).
    assert_eq!(f.product_name, "Windows 10 Pro");
    assert_eq!((f.major, f.minor), (10, 0));
    assert_eq!(
        (f.product_variant.as_str(), f.build_id.as_str()),
        ("Client", "22631")
    );
    assert_eq!(super::super::osinfo::short_id(f), "win11");
    assert_eq!(f.arch, "x86_64");
    assert_eq!(f.hostname, "win-box", "Tcpip's Hostname, as libguestfs");
    assert_eq!(
        (f.package_format.as_str(), f.package_management.as_str()),
        ("", "")
    );
    let w = &f.windows;
    assert_eq!(w.systemroot, "/WINDOWS");
    assert_eq!(w.software_hive, "/WINDOWS/system32/config/SOFTWARE");
    assert_eq!(w.system_hive, "/WINDOWS/system32/config/SYSTEM");
    assert_eq!(w.current_control_set, "ControlSet002");
    assert_eq!(info.mountpoints.len(), 1);
    assert_eq!(info.mountpoints[0].mountpoint, "/");
    assert_eq!(info.filesystems, [device]);
}

#[test]
fn windows_tree_facts_and_applications() {
    let dir = tempfile::tempdir().unwrap();
    windows_tree(dir.path());
    let root = Root::new(dir.path());
    let fs = FsDevice {
        device: "/dev/sdz2".into(),
        fstype: "ntfs".into(),
        label: String::new(),
        uuid: String::new(),
    };
    check_windows(&inspect_mounted(&root, &fs, &[]).unwrap(), "/dev/sdz2");
    let apps = windows::applications(&root).unwrap();
    let names: Vec<(&str, &str)> = apps
        .iter()
        .map(|a| (a.app2_name.as_str(), a.app2_display_name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("7-Zip", "7-Zip 23.01 (x64)"),
            ("{ABC-123}", "Éditeur"),
            ("Zoom", "Zoom"),
            ("Hidden", "")
        ]
    );
    assert_eq!(apps[0].app2_version, "23.01");
    assert_eq!(apps[0].app2_publisher, "Vendor Inc.");
    assert_eq!(apps[0].app2_install_path, r"C:\Program Files\X");
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The whole inspect_os path on an NTFS image: mkntfs, files copied in
/// with ntfs-3g, then inspection mounting it read-only (with the kernel's
/// ntfs3 where this kernel has it, else ntfs-3g in its place).
#[test]
fn windows_on_ntfs() {
    if !have("mkntfs") || !have("ntfs-3g") {
        eprintln!(
            "windows_on_ntfs: no mkntfs/ntfs-3g on this host (apt-get install ntfs-3g): skipped"
        );
        return;
    }
    let mut ntfs = LoopFs::new("none", 32, "");
    run("mkntfs", &["-q", "-Q", "-F", "-L", "WINDOWS", &ntfs.device]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    // Filled through the kernel's ntfs3 where there is one (the test host
    // has no FUSE for ntfs-3g), else through ntfs-3g.
    let ntfs3 = kernel_supports("ntfs3");
    if ntfs3 {
        run("mount", &["-t", "ntfs3", &ntfs.device, d]);
    } else {
        run("ntfs-3g", &[&ntfs.device, d]);
    }
    windows_tree(dir.path());
    run("umount", &[d]);
    ntfs.mountpoint = None;
    let ntfs_3g = |fs: &FsDevice, target: &Path| -> std::io::Result<()> {
        let st = Command::new("ntfs-3g")
            .args(["-o", "ro", &fs.device, target.to_str().unwrap()])
            .status()?;
        st.success()
            .then_some(())
            .ok_or_else(|| std::io::Error::other("ntfs-3g failed"))
    };
    let mounter: &Mounter = if ntfs3 { &scan::kernel_mount } else { &ntfs_3g };
    let (mut dm, _sysroot) = daemon();
    let base = tempfile::tempdir().unwrap();
    let roots = run_inspection(
        &mut dm,
        &[ntfs.device.clone()],
        base.path(),
        mounter,
        &|| false,
    )
    .unwrap();
    assert_eq!(roots, [ntfs.device.clone()]);
    let info = dm
        .inspection
        .get("test", &Mountable::new(&*ntfs.device).unwrap())
        .unwrap();
    check_windows(info, &ntfs.device);
    let product = inspect_get_product_name(
        &mut dm,
        &mut TestIo::default(),
        calls::inspect_get_product_name::Args {
            root: Mountable::new(&*ntfs.device).unwrap(),
        },
    );
    assert_eq!(product.unwrap(), "Windows 10 Pro");
}

/// MountedDevices blobs name partitions by MBR disk signature and byte
/// offset, or by GPT partition GUID; unknown ones are left out.
#[test]
fn drive_letters_from_mounted_devices() {
    use crate::daemon::inspect::drives::{resolve, Disk, Partition};
    let dir = tempfile::tempdir().unwrap();
    // An MBR disk with signature 0x11223344 and a partition at 1 MiB.
    let mbr_path = dir.path().join("mbr.img");
    let mut mbr = vec![0u8; 4096];
    mbr[0x1b8..0x1bc].copy_from_slice(&[0x44, 0x33, 0x22, 0x11]);
    mbr[0x1c2] = 0x07;
    mbr[510..512].copy_from_slice(&[0x55, 0xaa]);
    std::fs::write(&mbr_path, &mbr).unwrap();
    // A GPT disk (512-byte sectors) whose second entry has this GUID.
    let guid: [u8; 16] = *b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10";
    let gpt_path = dir.path().join("gpt.img");
    let mut gpt = vec![0u8; 64 << 10];
    gpt[510..512].copy_from_slice(&[0x55, 0xaa]);
    gpt[0x1c2] = 0xee;
    gpt[512..520].copy_from_slice(b"EFI PART");
    gpt[512 + 72..512 + 80].copy_from_slice(&2u64.to_le_bytes());
    gpt[512 + 80..512 + 84].copy_from_slice(&128u32.to_le_bytes());
    gpt[512 + 84..512 + 88].copy_from_slice(&128u32.to_le_bytes());
    for (i, unique) in [[0xaa; 16], guid].iter().enumerate() {
        let e = 1024 + i * 128;
        gpt[e..e + 16].copy_from_slice(&[0x77; 16]);
        gpt[e + 16..e + 32].copy_from_slice(unique);
    }
    std::fs::write(&gpt_path, &gpt).unwrap();
    let part = |device: &str, number, start| Partition {
        device: device.into(),
        number,
        start,
    };
    let disks = [
        Disk {
            device: mbr_path.to_str().unwrap().into(),
            partitions: vec![part("/dev/sda1", 1, 1 << 20), part("/dev/sda2", 2, 2 << 20)],
        },
        Disk {
            device: gpt_path.to_str().unwrap().into(),
            partitions: vec![part("/dev/sdb1", 1, 1 << 20), part("/dev/sdb2", 2, 9 << 20)],
        },
    ];
    let mut blob = vec![0x44, 0x33, 0x22, 0x11];
    blob.extend_from_slice(&(2u64 << 20).to_le_bytes());
    assert_eq!(resolve(&disks, &blob).as_deref(), Some("/dev/sda2"));
    let mut dmio = b"DMIO:ID:".to_vec();
    dmio.extend_from_slice(&guid);
    assert_eq!(resolve(&disks, &dmio).as_deref(), Some("/dev/sdb2"));
    blob[0] = 0x45;
    assert_eq!(resolve(&disks, &blob), None, "no disk has that signature");
    assert_eq!(resolve(&disks, b"\\??\\Volume{x}"), None);
    // Through the SYSTEM hive: letters sorted, unresolvable ones left out.
    let system = guest_formats::fixtures::hive::system_hive_with_mounts(vec![
        (r"\DosDevices\D:", dmio.clone()),
        (r"\DosDevices\C:", {
            let mut b = vec![0x44, 0x33, 0x22, 0x11];
            b.extend_from_slice(&(1u64 << 20).to_le_bytes());
            b
        }),
        (r"\DosDevices\E:", vec![1, 2, 3]),
        (r"\??\Volume{1234}", dmio),
    ]);
    let tree = tempfile::tempdir().unwrap();
    windows_tree(tree.path());
    write(tree.path(), "/WINDOWS/system32/config/SYSTEM", &system);
    let fs = FsDevice {
        device: "/dev/sda1".into(),
        fstype: "ntfs".into(),
        label: String::new(),
        uuid: String::new(),
    };
    let facts = windows::detect(&Root::new(tree.path()), &|b: &[u8]| resolve(&disks, b)).unwrap();
    let _ = fs;
    assert_eq!(
        facts.windows.drive_mappings,
        [
            ("C".to_string(), "/dev/sda1".to_string()),
            ("D".to_string(), "/dev/sdb2".to_string())
        ]
    );
}
