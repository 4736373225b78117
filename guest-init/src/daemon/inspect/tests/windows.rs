//! Windows: detection on a Windows tree holding hives built by
//! `guest_formats::fixtures`, and the whole inspect_os path on an NTFS
//! image when the host can make one.

use std::path::Path;
use std::process::Command;

use protocol::calls;
use protocol::types::Device;

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
    assert_eq!(f.product_name, "Windows 11 Pro");
    assert_eq!((f.major, f.minor), (10, 0));
    assert_eq!(f.arch, "x86_64");
    assert_eq!(f.hostname, "WIN-BOX");
    assert_eq!(
        (f.package_format.as_str(), f.package_management.as_str()),
        ("unknown", "unknown")
    );
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
        .get("test", &Device::new(&*ntfs.device).unwrap())
        .unwrap();
    check_windows(info, &ntfs.device);
    let product = inspect_get_product_name(
        &mut dm,
        &mut TestIo::default(),
        calls::inspect_get_product_name::Args {
            root: Device::new(&*ntfs.device).unwrap(),
        },
    );
    assert_eq!(product.unwrap(), "Windows 11 Pro");
}
