//! The btrfsvol: mountable in the mount and vfs calls.

use protocol::calls;
use protocol::types::Mountable;

use super::*;
use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::p;

#[test]
fn btrfsvol_mounts_a_subvolume() {
    let Some(mut fs) = btrfs_fs() else { return };
    let mut d = fs.daemon();
    create(&mut d, "/home");
    let root = fs
        .mountpoint
        .as_ref()
        .expect("mounted")
        .path()
        .to_path_buf();
    std::fs::write(root.join("home/marker"), b"in home").expect("write");

    let sysroot = tempfile::tempdir().expect("root");
    let mut g = GuestDaemon::new(crate::daemon::root::Root::new(sysroot.path()));
    let m = Mountable::new(format!("btrfsvol:{}/home", fs.device)).expect("mountable");
    let vfs = calls::vfs_type::Args {
        mountable: m.clone(),
    };
    assert_eq!(
        crate::daemon::devices::vfs_type(&mut g, &mut io(), vfs).expect("vfs_type"),
        "btrfs"
    );
    let label = calls::vfs_label::Args {
        mountable: m.clone(),
    };
    assert_eq!(
        crate::daemon::devices::vfs_label(&mut g, &mut io(), label).expect("vfs_label"),
        "BTR"
    );
    let args = calls::mount_ro::Args {
        mountable: m.clone(),
        mountpoint: p("/"),
    };
    crate::daemon::mount::mount_ro(&mut g, &mut io(), args).expect("mount btrfsvol");
    let seen = std::fs::read(sysroot.path().join("marker"));
    let mounts = crate::daemon::mount::mounts(&mut g, &mut io(), calls::mounts::Args {});
    crate::daemon::mount::umount_all(&mut g, &mut io(), calls::umount_all::Args {})
        .expect("umount");
    assert_eq!(seen.expect("marker through the subvolume"), b"in home");
    assert_eq!(mounts.expect("mounts"), vec![m.to_string()]);

    // Two subvolumes of one filesystem at once; umount by mountable.
    std::fs::create_dir(root.join("home/top")).expect("mkdir");
    let top = Mountable::new(fs.device.as_str()).expect("device");
    for (mountable, at) in [(m.clone(), "/"), (top, "/top")] {
        let args = calls::mount_ro::Args {
            mountable,
            mountpoint: p(at),
        };
        crate::daemon::mount::mount_ro(&mut g, &mut io(), args).expect("mount");
    }
    assert!(sysroot.path().join("top/home/marker").exists());
    let args = calls::umount::Args {
        pathordevice: fs.device.clone(),
        force: None,
        lazyunmount: None,
    };
    crate::daemon::mount::umount(&mut g, &mut io(), args).expect("umount the top level");
    let args = calls::umount::Args {
        pathordevice: m.to_string(),
        force: None,
        lazyunmount: None,
    };
    crate::daemon::mount::umount(&mut g, &mut io(), args).expect("umount btrfsvol:");
    assert!(!sysroot.path().join("marker").exists());

    // mount_vfs with the type named, and a subvolume that is not there.
    let args = calls::mount_vfs::Args {
        options: "ro".into(),
        vfstype: "btrfs".into(),
        mountable: m,
        mountpoint: p("/"),
    };
    crate::daemon::mount::mount_vfs(&mut g, &mut io(), args).expect("mount_vfs");
    assert!(sysroot.path().join("marker").exists());
    crate::daemon::mount::umount_all(&mut g, &mut io(), calls::umount_all::Args {})
        .expect("umount");
    let missing = Mountable::new(format!("btrfsvol:{}/nosuch", fs.device)).expect("mountable");
    let args = calls::mount::Args {
        mountable: missing,
        mountpoint: p("/"),
    };
    assert!(crate::daemon::mount::mount(&mut g, &mut io(), args).is_err());
    let nodev = Mountable::new("btrfsvol:/dev/nonexistent-dev/home").expect("mountable");
    let err = split_mountable("mount", &nodev).expect_err("no such device");
    assert!(err.message.contains("no block device"), "{}", err.message);
}

#[test]
fn mountable_splits() {
    let m = Mountable::new("btrfsvol:/dev/vg/lv/a/b").expect("valid");
    let splits: Vec<(String, &str)> = m
        .subvolume_splits()
        .into_iter()
        .map(|(d, s)| (d.to_string(), s))
        .collect();
    assert_eq!(
        splits,
        vec![
            ("/dev/vg".to_owned(), "lv/a/b"),
            ("/dev/vg/lv".to_owned(), "a/b"),
            ("/dev/vg/lv/a".to_owned(), "b")
        ]
    );
    for bad in [
        "btrfsvol:/dev/sda1",
        "btrfsvol:/dev/sda1/",
        "btrfsvol:/dev/sda1/a/../b",
        "btrfsvol:/dev/sda1/a,ro",
        "btrfsvol:sda1/x",
        "/tmp/x",
    ] {
        assert!(Mountable::new(bad).is_err(), "{bad}");
    }
    assert!(Mountable::new("/dev/sda1")
        .expect("device")
        .device()
        .is_some());
}
