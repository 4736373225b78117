//! Windows: the hive parser on hives built by hive_build.rs, detection
//! on a Windows tree, and the whole inspect_os path on an NTFS image when
//! the host can make one.

use std::path::Path;
use std::process::Command;

use protocol::calls;
use protocol::types::Device;

use super::super::root::Root;
use super::super::test_fs::{run, LoopFs, TestIo};
use super::hive::Hive;
use super::hive_build::{build_hive, software_hive, windows_tree};
use super::scan::{inspect_mounted, FsDevice};
use super::tests::daemon;
use super::*;

#[test]
fn hive_parser_reads_keys_values_and_lists() {
    let bytes = build_hive(&software_hive());
    let src: &[u8] = &bytes;
    let h = Hive::new(&src).unwrap();
    let cv = h
        .open(r"microsoft\WINDOWS NT\currentversion")
        .unwrap()
        .unwrap();
    let v = |n| h.value(&cv, n).unwrap().unwrap();
    assert_eq!(v("productname").string().unwrap(), "Windows 10 Pro");
    assert_eq!(v("CurrentMajorVersionNumber").dword(), Some(10));
    assert_eq!(v("BigBlob").data, vec![0xAB; 40000]);
    assert!(h.value(&cv, "missing").unwrap().is_none());
    let un = h
        .open(r"Microsoft\Windows\CurrentVersion\Uninstall")
        .unwrap()
        .unwrap();
    let names: Vec<String> = h
        .subkeys(&un)
        .unwrap()
        .into_iter()
        .map(|k| k.name)
        .collect();
    assert_eq!(names, ["7-Zip", "{ABC-123}", "Zoom", "Hidden"]);
    let uni = h.open(r"Microsoft\ÜNÏCODE").unwrap().unwrap();
    assert_eq!(
        h.value(&uni, "").unwrap().unwrap().string().unwrap(),
        "default value"
    );
    assert!(h.open(r"Microsoft\Nope\X").unwrap().is_none());
}

#[test]
fn hostile_hives_are_errors_not_panics() {
    let good = build_hive(&software_hive());
    // Truncated anywhere: an error when opened, or when read.
    for cut in (0..good.len()).step_by(97) {
        let src: &[u8] = &good[..cut];
        if let Ok(h) = Hive::new(&src) {
            let _ = h.open(r"Microsoft\Windows NT\CurrentVersion");
        }
    }
    assert!(Hive::new(&&good[..5000]).is_err());
    // Bad checksum.
    let mut bad = good.clone();
    bad[0x30] ^= 1;
    assert!(Hive::new(&&bad[..]).is_err());
    // Flipped bytes in the cells (checksum still right): never a panic.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..3000 {
        let mut m = good.clone();
        for _ in 0..4 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = 4096 + (seed as usize % (m.len() - 4096));
            m[at] = (seed >> 32) as u8;
        }
        let src: &[u8] = &m;
        if let Ok(h) = Hive::new(&src) {
            if let Ok(Some(k)) = h.open(r"Microsoft\Windows\CurrentVersion\Uninstall") {
                for sub in h.subkeys(&k).unwrap_or_default() {
                    for r in h.values(&sub).unwrap_or_default() {
                        let _ = h.read_value(&r);
                    }
                }
            }
        }
    }
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
    let ntfs3 = super::super::test_fs::kernel_supports("ntfs3");
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
    let mounter: &scan::Mounter = if ntfs3 { &scan::kernel_mount } else { &ntfs_3g };
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
