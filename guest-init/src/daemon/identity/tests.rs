//! set_uuid and friends on real filesystems, checked with blkid;
//! canonical_device_name on names and on a device-mapper device.

use protocol::calls;
use protocol::types::Device;

use super::*;
use crate::daemon::root::Root;
use crate::daemon::tests::{kernel_supports, run, LoopFs, TestIo};

fn daemon() -> GuestDaemon {
    GuestDaemon::new(Root::new("/nonexistent-root"))
}

fn blkid_uuid(device: &str) -> String {
    run("blkid", &["-p", "-s", "UUID", "-o", "value", device])
}

fn formatted(fstype: &str) -> LoopFs {
    let size = match fstype {
        "xfs" => 300,
        "btrfs" => 256,
        _ => 64,
    };
    let fs = LoopFs::new("none", size, "");
    match fstype {
        "ext4" => run("mkfs.ext4", &["-q", "-F", &fs.device]),
        "ext2" => run("mkfs.ext2", &["-q", "-F", &fs.device]),
        "xfs" => run("mkfs.xfs", &["-q", "-f", &fs.device]),
        "btrfs" => run("mkfs.btrfs", &["-q", "-f", &fs.device]),
        "swap" => run("mkswap", &["-f", &fs.device]),
        other => panic!("{other}"),
    };
    fs
}

#[test]
fn set_uuid_per_type() {
    let uuid = "01234567-89ab-4cde-8f01-23456789abcd";
    for fstype in ["ext4", "ext2", "xfs", "btrfs", "swap"] {
        let fs = formatted(fstype);
        let mut d = daemon();
        let device = Device::new(fs.device.as_str()).expect("device");
        let args = calls::set_uuid::Args {
            device: device.clone(),
            uuid: uuid.into(),
        };
        set_uuid(&mut d, &mut TestIo::default(), args)
            .unwrap_or_else(|e| panic!("{fstype}: {}", e.message));
        assert_eq!(blkid_uuid(&fs.device), uuid, "{fstype}");
        let args = calls::set_uuid_random::Args { device };
        set_uuid_random(&mut d, &mut TestIo::default(), args)
            .unwrap_or_else(|e| panic!("{fstype}: {}", e.message));
        let now = blkid_uuid(&fs.device);
        assert!(is_uuid(&now) && now != uuid, "{fstype}: {now}");
        if fstype == "btrfs" && kernel_supports("btrfs") {
            // Still a sound filesystem after btrfstune rewrote it.
            run("btrfs", &["check", "--readonly", &fs.device]);
        }
    }
    let fs = LoopFs::new("none", 16, "");
    let args = calls::set_uuid::Args {
        device: Device::new(fs.device.as_str()).expect("device"),
        uuid: uuid.into(),
    };
    assert!(
        set_uuid(&mut daemon(), &mut TestIo::default(), args).is_err(),
        "a blank device"
    );
    let args = calls::set_uuid::Args {
        device: Device::new(fs.device.as_str()).expect("device"),
        uuid: "not-a-uuid".into(),
    };
    assert!(set_uuid(&mut daemon(), &mut TestIo::default(), args).is_err());
}

#[test]
fn set_e2uuid_values() {
    let fs = formatted("ext4");
    let device = Device::new(fs.device.as_str()).expect("device");
    let set = |uuid: &str| {
        let args = calls::set_e2uuid::Args {
            device: device.clone(),
            uuid: uuid.into(),
        };
        set_e2uuid(&mut daemon(), &mut TestIo::default(), args)
    };
    set("fedcba98-7654-4321-8fed-cba987654321").expect("uuid");
    assert_eq!(
        blkid_uuid(&fs.device),
        "fedcba98-7654-4321-8fed-cba987654321"
    );
    set("random").expect("random");
    let random = blkid_uuid(&fs.device);
    assert!(is_uuid(&random) && random != "fedcba98-7654-4321-8fed-cba987654321");
    set("time").expect("time");
    let time = blkid_uuid(&fs.device);
    assert_eq!(time.as_bytes()[14], b'1', "a version 1 UUID: {time}");
    set("clear").expect("clear");
    let out = run("tune2fs", &["-l", &fs.device]);
    assert!(out.contains("Filesystem UUID:          <none>"), "{out}");
    assert!(set("bogus").is_err());
    assert!(random_uuid().map(|u| is_uuid(&u)).unwrap_or(false));
}

#[test]
fn canonical_names() {
    let sys = std::path::Path::new("/sys");
    assert_eq!(canonical("/dev/hda", sys), "/dev/sda");
    assert_eq!(canonical("/dev/vdb2", sys), "/dev/sdb2");
    assert_eq!(canonical("/dev/sdc1", sys), "/dev/sdc1");
    assert_eq!(
        canonical("/dev/mapper/nosuch-lv", sys),
        "/dev/mapper/nosuch-lv"
    );
    assert_eq!(canonical("/dev/md0", sys), "/dev/md0");
    assert_eq!(
        canonical("btrfsvol:/dev/sda1/x", sys),
        "btrfsvol:/dev/sda1/x"
    );

    // A device-mapper device with an LVM-style UUID: an LV.
    let fs = LoopFs::new("none", 4, "");
    let name = format!("lgvg{}-my--lv", std::process::id());
    let uuid = format!("LVM-{}", "a1".repeat(32));
    let table = format!("0 8192 linear {} 0", fs.device);
    let created = std::process::Command::new("dmsetup")
        .args([
            "create",
            "--noudevsync",
            &name,
            "--uuid",
            &uuid,
            "--table",
            &table,
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !created {
        eprintln!("dmsetup create failed: no device-mapper here; covered by tests/e2e/daemon.rs");
        return;
    }
    struct Remove(String);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = std::process::Command::new("dmsetup")
                .args(["remove", "--noudevsync", &self.0])
                .status();
        }
    }
    let _guard = Remove(name.clone());
    let mapper = format!("/dev/mapper/{name}");
    // No udev: make the node if dmsetup did not.
    let _ = std::process::Command::new("dmsetup")
        .args(["mknodes", &name])
        .status();
    let want = format!("/dev/lgvg{}/my-lv", std::process::id());
    assert_eq!(canonical(&mapper, sys), want);
    let dm = std::fs::canonicalize(&mapper).expect("mapper node");
    let dm_name = dm.to_string_lossy().into_owned();
    if dm_name.starts_with("/dev/dm-") {
        assert_eq!(canonical(&dm_name, sys), want);
    }
}
