//! btrfs calls on a real btrfs filesystem on a loop device, checked
//! against the btrfs tool's own view of it.

use protocol::calls;
use protocol::types::FsEntry;

use super::*;
use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{kernel_supports, p, run, LoopFs, TestIo};

mod devices;
mod mount;

pub(super) fn io() -> TestIo {
    TestIo::default()
}

/// A 512 MiB loop device made btrfs by mkfs_btrfs, labelled BTR.
pub(super) fn btrfs_fs() -> Option<LoopFs> {
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
pub(super) fn host_list(dir: &std::path::Path) -> Vec<(i64, i64, String)> {
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

pub(super) fn create(d: &mut GuestDaemon, path: &str) {
    let args = calls::btrfs_subvolume_create::Args {
        dest: p(path),
        qgroupid: None,
    };
    btrfs_subvolume_create(d, &mut io(), args).expect("create");
}

pub(super) fn list(d: &mut GuestDaemon, fs: &str) -> Vec<(i64, i64, String)> {
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

    // Quota groups: a new subvolume and a snapshot join one.
    let at = root.to_str().expect("utf-8");
    run("btrfs", &["quota", "enable", at]);
    run("btrfs", &["qgroup", "create", "1/100", at]);
    let args = calls::btrfs_subvolume_create::Args {
        dest: p("/grouped"),
        qgroupid: Some("1/100".into()),
    };
    btrfs_subvolume_create(&mut d, &mut io(), args).expect("create in a qgroup");
    let snap = calls::btrfs_subvolume_snapshot::Args {
        source: p("/root"),
        dest: p("/grouped-snap"),
        ro: None,
        qgroupid: Some("1/100".into()),
    };
    btrfs_subvolume_snapshot(&mut d, &mut io(), snap).expect("snapshot in a qgroup");
    let show = run("btrfs", &["qgroup", "show", "-p", at]);
    for name in ["grouped", "grouped-snap"] {
        let line = show
            .lines()
            .find(|l| l.split_whitespace().last() == Some(name));
        assert!(line.is_some_and(|l| l.contains("1/100")), "{name}: {show}");
    }
    let args = calls::btrfs_subvolume_create::Args {
        dest: p("/bad"),
        qgroupid: Some("1/x".into()),
    };
    assert!(btrfs_subvolume_create(&mut d, &mut io(), args).is_err());
    std::fs::write(root.join("grouped-snap/w"), b"w").expect("a writable snapshot");
    run("btrfs", &["quota", "disable", at]);

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
