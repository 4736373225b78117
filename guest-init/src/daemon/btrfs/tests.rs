//! btrfs calls on a real btrfs filesystem on a loop device, checked
//! against the btrfs tool's own view of it.

use protocol::calls;
use protocol::types::{FsEntry, Mountable};

use super::*;
use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{kernel_supports, p, run, LoopFs, TestIo};

fn io() -> TestIo {
    TestIo::default()
}

/// A 512 MiB loop device made btrfs by mkfs_btrfs, labelled BTR.
fn btrfs_fs() -> Option<LoopFs> {
    if !kernel_supports("btrfs") {
        eprintln!(
            "this kernel cannot mount btrfs; covered by tests/e2e/daemon.rs in the test host"
        );
        return None;
    }
    let fs = LoopFs::new("none", 512, "");
    let mut d =
        crate::daemon::state::GuestDaemon::new(crate::daemon::root::Root::new("/nonexistent"));
    let args = calls::mkfs_btrfs::Args {
        devices: vec![fs.device.clone()],
        allocstart: None,
        bytecount: None,
        datatype: Some("single".into()),
        leafsize: None,
        label: Some("BTR".into()),
        metadata: Some("single".into()),
        nodesize: Some(16384),
        sectorsize: Some(4096),
    };
    mkfs_btrfs(&mut d, &mut io(), args).expect("mkfs_btrfs");
    Some(fs)
}

/// `btrfs subvolume list` on the host: (id, top level, path).
fn host_list(dir: &std::path::Path) -> Vec<(i64, i64, String)> {
    let text = run(
        "btrfs",
        &["subvolume", "list", dir.to_str().expect("utf-8")],
    );
    text.lines()
        .map(|l| {
            let w: Vec<&str> = l.splitn(9, ' ').collect();
            (
                w[1].parse().expect("id"),
                w[6].parse().expect("top"),
                w[8].to_owned(),
            )
        })
        .collect()
}

fn create(d: &mut GuestDaemon, path: &str) {
    let args = calls::btrfs_subvolume_create::Args {
        dest: p(path),
        qgroupid: None,
    };
    btrfs_subvolume_create(d, &mut io(), args).expect("create");
}

fn list(d: &mut GuestDaemon, fs: &str) -> Vec<(i64, i64, String)> {
    let args = calls::btrfs_subvolume_list::Args { fs: fs.into() };
    let mut out: Vec<_> = btrfs_subvolume_list(d, &mut io(), args)
        .expect("list")
        .into_iter()
        .map(|s| {
            (
                s.btrfssubvolume_id,
                s.btrfssubvolume_top_level_id,
                s.btrfssubvolume_path,
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn subvolumes_snapshots_and_default() {
    let Some(mut fs) = btrfs_fs() else { return };
    let blkid = run("blkid", &["-o", "export", &fs.device]);
    assert!(
        blkid.contains("TYPE=btrfs") && blkid.contains("LABEL=BTR"),
        "{blkid}"
    );
    let mut d = fs.daemon();
    let root = fs
        .mountpoint
        .as_ref()
        .expect("mounted")
        .path()
        .to_path_buf();
    create(&mut d, "/root");
    create(&mut d, "/home");
    std::fs::create_dir(root.join("dir")).expect("mkdir");
    create(&mut d, "/dir/nested sub");
    create(&mut d, "/home/inner");
    // A symlink to outside the guest tree stays inside it.
    std::os::unix::fs::symlink("/dir", root.join("link")).expect("symlink");
    create(&mut d, "/link/via-link");
    assert!(root.join("dir/via-link").is_dir());

    let mut host = host_list(&root);
    host.sort();
    assert_eq!(list(&mut d, "/"), host);
    assert_eq!(list(&mut d, "/home"), host, "from inside a subvolume");
    let paths: Vec<&str> = host.iter().map(|h| h.2.as_str()).collect();
    assert!(
        paths.contains(&"dir/nested sub") && paths.contains(&"home/inner"),
        "{paths:?}"
    );

    // Snapshots, read-only.
    std::fs::write(root.join("root/file"), b"data").expect("write");
    let snap = calls::btrfs_subvolume_snapshot::Args {
        source: p("/root"),
        dest: p("/snap"),
        ro: Some(true),
        qgroupid: None,
    };
    btrfs_subvolume_snapshot(&mut d, &mut io(), snap).expect("snapshot");
    assert_eq!(
        std::fs::read(root.join("snap/file")).expect("read"),
        b"data"
    );
    let ro = run(
        "btrfs",
        &[
            "property",
            "get",
            "-ts",
            root.join("snap").to_str().expect("utf-8"),
            "ro",
        ],
    );
    assert_eq!(ro, "ro=true");
    assert!(std::fs::write(root.join("snap/other"), b"x").is_err());

    // Default subvolume, by path and by device.
    let root_id = host.iter().find(|h| h.2 == "root").expect("root listed").0;
    let set = calls::btrfs_subvolume_set_default::Args {
        id: root_id,
        fs: p("/"),
    };
    btrfs_subvolume_set_default(&mut d, &mut io(), set).expect("set default");
    let host_default = run(
        "btrfs",
        &["subvolume", "get-default", root.to_str().expect("utf-8")],
    );
    assert!(
        host_default.starts_with(&format!("ID {root_id} ")),
        "{host_default}"
    );
    for fs_arg in ["/", fs.device.as_str()] {
        let get = calls::btrfs_subvolume_get_default::Args { fs: fs_arg.into() };
        assert_eq!(
            btrfs_subvolume_get_default(&mut d, &mut io(), get).expect("get default"),
            root_id
        );
    }
    // By device the filesystem is mounted for the call: the same list.
    assert_eq!(list(&mut d, &fs.device), list(&mut d, "/"));
    let set = calls::btrfs_subvolume_set_default::Args { id: 5, fs: p("/") };
    btrfs_subvolume_set_default(&mut d, &mut io(), set).expect("set default back");

    // list_filesystems' part: the device, then each subvolume.
    let mut found = vec![FsEntry {
        device: fs.device.clone(),
        fstype: "btrfs".into(),
    }];
    add_subvolumes(&mut found);
    let mut want = vec![FsEntry {
        device: fs.device.clone(),
        fstype: "btrfs".into(),
    }];
    let mut by_id = host_list(&root);
    by_id.sort();
    want.extend(by_id.iter().map(|h| FsEntry {
        device: format!("btrfsvol:{}/{}", fs.device, h.2),
        fstype: "btrfs".into(),
    }));
    assert_eq!(found, want);

    // Delete.
    let del = calls::btrfs_subvolume_delete::Args {
        subvolume: p("/home/inner"),
    };
    btrfs_subvolume_delete(&mut d, &mut io(), del).expect("delete");
    assert!(!root.join("home/inner").exists());
    let mut host = host_list(&root);
    host.sort();
    assert_eq!(list(&mut d, "/"), host);
    assert!(!host.iter().any(|h| h.2 == "home/inner"));
    let del = calls::btrfs_subvolume_delete::Args {
        subvolume: p("/dir"),
    };
    assert!(
        btrfs_subvolume_delete(&mut d, &mut io(), del).is_err(),
        "a plain directory"
    );

    // Resize: shrink to 300 MiB (the kernel's floor is 256), then grow
    // back to the whole device.
    let size = |root: &std::path::Path| {
        let out = run(
            "btrfs",
            &["filesystem", "show", "--raw", root.to_str().expect("utf-8")],
        );
        out.lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("devid")
                    .map(|r| r.split_whitespace().nth(2).unwrap_or("").to_owned())
            })
            .expect("devid line")
    };
    let resize = |d: &mut GuestDaemon, s: Option<i64>| {
        let args = calls::btrfs_filesystem_resize::Args {
            mountpoint: p("/"),
            size: s,
        };
        btrfs_filesystem_resize(d, &mut io(), args)
    };
    resize(&mut d, Some(300 << 20)).expect("shrink");
    assert_eq!(size(&root), (300u64 << 20).to_string());
    resize(&mut d, None).expect("grow");
    assert_eq!(size(&root), (512u64 << 20).to_string());
}

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
