//! mkfs_btrfs over several devices, and list_filesystems' subvolumes on
//! a read-only device.

use protocol::calls;
use protocol::types::FsEntry;

use super::*;
use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{kernel_supports, run, LoopFs};

/// A loop device on an image, detached on drop.
struct Loop(String);

impl Loop {
    fn attach(image: &std::path::Path, read_only: bool) -> Loop {
        let image = image.to_str().expect("utf-8");
        let mut args = vec!["-f", "--show"];
        if read_only {
            args.push("-r");
        }
        args.push(image);
        Loop(run("losetup", &args))
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = std::process::Command::new("losetup")
            .args(["-d", &self.0])
            .status();
    }
}

fn sha256(path: &std::path::Path) -> String {
    run("sha256sum", &[path.to_str().expect("utf-8")])
}

#[test]
fn listing_a_read_only_device_writes_nothing() {
    if !kernel_supports("btrfs") {
        return;
    }
    let image = tempfile::NamedTempFile::new().expect("image");
    image.as_file().set_len(512 << 20).expect("size");
    {
        let rw = Loop::attach(image.path(), false);
        run("mkfs.btrfs", &["-q", "-f", &rw.0]);
        let dir = tempfile::tempdir().expect("dir");
        let at = dir.path().to_str().expect("utf-8");
        run("mount", &[&rw.0, at]);
        run("btrfs", &["subvolume", "create", &format!("{at}/root")]);
        run("btrfs", &["subvolume", "create", &format!("{at}/root/var")]);
        std::fs::write(dir.path().join("root/file"), b"x").expect("write");
        run("umount", &[at]);
    }
    let before = sha256(image.path());
    let ro = Loop::attach(image.path(), true);
    let mut found = vec![FsEntry {
        device: ro.0.clone(),
        fstype: "btrfs".into(),
    }];
    add_subvolumes(&mut found);
    let names: Vec<&str> = found.iter().map(|f| f.device.as_str()).collect();
    assert_eq!(
        names,
        vec![
            ro.0.clone(),
            format!("btrfsvol:{}/root", ro.0),
            format!("btrfsvol:{}/root/var", ro.0)
        ]
    );
    drop(ro);
    assert_eq!(sha256(image.path()), before, "the read-only image changed");
}

#[test]
fn mkfs_btrfs_over_two_devices() {
    if !kernel_supports("btrfs") {
        return;
    }
    let (a, b) = (LoopFs::new("none", 256, ""), LoopFs::new("none", 256, ""));
    let mut d = GuestDaemon::new(crate::daemon::root::Root::new("/nonexistent"));
    let args = |devices: Vec<String>| calls::mkfs_btrfs::Args {
        devices,
        allocstart: None,
        bytecount: None,
        datatype: Some("raid1".into()),
        leafsize: None,
        label: Some("TWO".into()),
        metadata: Some("raid1".into()),
        nodesize: None,
        sectorsize: None,
    };
    mkfs_btrfs(
        &mut d,
        &mut io(),
        args(vec![a.device.clone(), b.device.clone()]),
    )
    .expect("mkfs_btrfs");
    let show = run("btrfs", &["filesystem", "show", &a.device]);
    assert!(
        show.contains("Total devices 2") && show.contains(&b.device),
        "{show}"
    );
    assert!(show.contains("'TWO'"), "{show}");
    let mut found = vec![
        FsEntry {
            device: a.device.clone(),
            fstype: "btrfs".into(),
        },
        FsEntry {
            device: b.device.clone(),
            fstype: "btrfs".into(),
        },
    ];
    add_subvolumes(&mut found);
    assert_eq!(found.len(), 2, "no subvolumes, and no error: {found:?}");
    // Bad arguments never reach the tool.
    assert!(mkfs_btrfs(&mut d, &mut io(), args(vec![])).is_err());
    let mut bad = args(vec![a.device.clone()]);
    bad.datatype = Some("raid7".into());
    assert!(mkfs_btrfs(&mut d, &mut io(), bad).is_err());
    assert!(mkfs_btrfs(&mut d, &mut io(), args(vec!["sda".into()])).is_err());
    let mut bad = args(vec![a.device.clone()]);
    bad.allocstart = Some(1 << 20);
    assert!(mkfs_btrfs(&mut d, &mut io(), bad).is_err());

    // leafsize is the node size, allocstart 0 the default; bytecount the
    // size used on the device.
    let mut one = args(vec![a.device.clone()]);
    (one.datatype, one.metadata, one.label) = (None, None, None);
    (one.leafsize, one.allocstart, one.bytecount) = (Some(32768), Some(0), Some(200 << 20));
    mkfs_btrfs(&mut d, &mut io(), one).expect("mkfs_btrfs with leafsize");
    let dump = run("btrfs", &["inspect-internal", "dump-super", &a.device]);
    assert!(
        dump.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["nodesize", "32768"]),
        "{dump}"
    );
    assert!(
        dump.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["total_bytes", "209715200"]),
        "{dump}"
    );
}
