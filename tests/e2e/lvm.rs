//! e2e: LVM through the real appliance. A VG with two LVs is made with the
//! API on a raw image; a second appliance opens the image read-only and,
//! before its first call, activates the LVs as libguestfs's appliance does
//! at boot: list_filesystems lists them by /dev/VG/LV and not the PV, they
//! mount, and the image's bytes do not change.

use libguest::{calls, Backend, DriveFormat, DriveOptions, FsEntry, Guest};
use libguest_tests::fingerprint;

const MIB: i64 = 1 << 20;

fn launched(backend: Backend, image: &std::path::Path, readonly: bool) -> Guest {
    let mut g = Guest::new().unwrap();
    g.set_backend(backend).unwrap();
    let opts = DriveOptions {
        format: Some(DriveFormat::Raw),
        readonly,
        ..Default::default()
    };
    g.add_drive_opts(image, opts).unwrap();
    if let Err(e) = g.launch() {
        panic!("launch: {e}\n{}", g.console_log());
    }
    g
}

fn create_then_open_read_only(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("lvm.img");
    Guest::new()
        .unwrap()
        .disk_create(&image, "raw", 96 * MIB, calls::disk_create::Opts::default())
        .unwrap();

    let mut g = launched(backend, &image, false);
    g.part_disk("/dev/sda", "mbr").unwrap();
    g.pvcreate("/dev/sda1")
        .unwrap_or_else(|e| panic!("pvcreate: {e}\n{}", g.console_log()));
    g.vgcreate("e2evg", vec!["/dev/sda1"]).unwrap();
    g.lvcreate("root", "e2evg", 32).unwrap();
    g.lvcreate_free("home", "e2evg", 100).unwrap();
    assert_eq!(g.lvs().unwrap(), ["/dev/e2evg/home", "/dev/e2evg/root"]);
    assert_eq!(g.pvs().unwrap(), ["/dev/sda1"]);
    assert_eq!(g.vgs().unwrap(), ["e2evg"]);
    g.mkfs("ext4", "/dev/e2evg/root", calls::mkfs::Opts::default())
        .unwrap();
    g.mount("/dev/e2evg/root", "/").unwrap();
    g.write("/hello", "on an LV").unwrap();
    g.umount_all().unwrap();
    g.shutdown().unwrap();

    let before = fingerprint(&image);
    let mut g = launched(backend, &image, true);
    let fs = g.list_filesystems().unwrap();
    let root = FsEntry {
        device: "/dev/e2evg/root".into(),
        fstype: "ext4".into(),
    };
    assert!(fs.contains(&root), "{fs:?}\n{}", g.console_log());
    assert!(
        !fs.iter().any(|e| e.device == "/dev/sda1"),
        "the PV is not listed: {fs:?}"
    );
    g.mount_ro("/dev/e2evg/root", "/").unwrap();
    assert_eq!(g.cat("/hello").unwrap(), "on an LV");
    assert!(g.is_lv("/dev/mapper/e2evg-root").unwrap());
    assert!(!g.is_lv("/dev/sda1").unwrap());
    assert_eq!(
        g.lvm_canonical_lv_name("/dev/mapper/e2evg-home").unwrap(),
        "/dev/e2evg/home"
    );
    assert!(g.list_dm_devices().unwrap().is_empty());
    g.umount_all().unwrap();
    g.shutdown().unwrap();
    assert_eq!(fingerprint(&image), before, "the read-only image changed");
}

libguest_tests::on_both_backends! {
    create_then_open_read_only => e2e_lvm_create_then_open_read_only, tcg_lvm_create_then_open_read_only;
}
