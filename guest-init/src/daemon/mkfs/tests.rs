//! mkfs and friends on loop devices, with the host's own tools (root,
//! e2fsprogs, xfsprogs, dosfstools, btrfs-progs; scripts/setup.sh).

use protocol::types::Device;
use protocol::{calls, ErrorKind, ErrorReply};

use super::*;
use crate::daemon::root::Root;
use crate::daemon::tests::{run as sh, LoopFs, TestIo};

/// A daemon with nothing mounted (for the device calls).
fn bare() -> (tempfile::TempDir, GuestDaemon) {
    let dir = tempfile::tempdir().expect("temp root");
    let d = GuestDaemon::new(Root::new(dir.path()));
    (dir, d)
}

fn dev(s: &str) -> Device {
    Device::new(s).expect("device")
}

fn do_mkfs(
    d: &mut GuestDaemon,
    fstype: &str,
    device: &str,
    label: Option<&str>,
    blocksize: Option<i64>,
) -> Result<(), ErrorReply> {
    let args = calls::mkfs::Args {
        fstype: fstype.into(),
        device: dev(device),
        blocksize,
        label: label.map(Into::into),
        features: None,
        inode: None,
        sectorsize: None,
    };
    mkfs(d, &mut TestIo::default(), args)
}

fn do_e2fsck(
    d: &mut GuestDaemon,
    device: &str,
    correct: bool,
    forceall: bool,
) -> Result<(), ErrorReply> {
    let args = calls::e2fsck::Args {
        device: dev(device),
        correct: Some(correct),
        forceall: Some(forceall),
    };
    e2fsck(d, &mut TestIo::default(), args)
}

fn do_fsck(d: &mut GuestDaemon, fstype: &str, device: &str) -> i64 {
    let args = calls::fsck::Args {
        fstype: fstype.into(),
        device: dev(device),
    };
    fsck(d, &mut TestIo::default(), args).unwrap_or_else(|e| panic!("fsck {fstype}: {e:?}"))
}

fn do_set_label(d: &mut GuestDaemon, device: &str, label: &str) -> Result<(), ErrorReply> {
    let args = calls::set_label::Args {
        mountable: dev(device),
        label: label.into(),
    };
    set_label(d, &mut TestIo::default(), args)
}

fn blkid(device: &str, tag: &str) -> String {
    sh("blkid", &["-p", "-o", "value", "-s", tag, device])
}

/// (type, image size in MiB): xfs needs 300 MiB, btrfs about 110.
const TYPES: [(&str, u64); 7] = [
    ("ext2", 32),
    ("ext3", 32),
    ("ext4", 32),
    ("xfs", 300),
    ("vfat", 32),
    ("btrfs", 128),
    ("ntfs", 32),
];

#[test]
fn mkfs_each_type_with_label() {
    let (_root, mut d) = bare();
    for (fstype, size) in TYPES {
        let fs = LoopFs::new("none", size, "");
        let label = format!("L-{fstype}");
        do_mkfs(&mut d, fstype, &fs.device, Some(&label), None)
            .unwrap_or_else(|e| panic!("mkfs {fstype}: {e:?}"));
        assert_eq!(blkid(&fs.device, "TYPE"), fstype);
        // mkfs.fat upper-cases nothing, blkid shows the label as written.
        assert_eq!(blkid(&fs.device, "LABEL"), label, "{fstype}");
        // Our own prober agrees.
        assert_eq!(
            crate::daemon::devices::probe_device(&fs.device).map(|c| match c {
                Content::Filesystem(f) => f.fstype,
                _ => "",
            }),
            Ok(fstype)
        );
    }
}

#[test]
fn mkfs_blocksize_and_no_label() {
    let (_root, mut d) = bare();
    let fs = LoopFs::new("none", 32, "");
    do_mkfs(&mut d, "ext4", &fs.device, None, Some(1024)).unwrap();
    let info = sh("tune2fs", &["-l", &fs.device]);
    assert!(
        info.lines()
            .any(|l| l.starts_with("Block size:") && l.ends_with(" 1024")),
        "{info}"
    );
    assert_eq!(blkid(&fs.device, "LABEL"), "");
    do_mkfs(&mut d, "vfat", &fs.device, None, Some(4096)).unwrap();
    assert_eq!(blkid(&fs.device, "TYPE"), "vfat");
    let big = LoopFs::new("none", 300, "");
    do_mkfs(&mut d, "xfs", &big.device, None, Some(2048)).unwrap();
    let sb = sh(
        "xfs_db",
        &["-r", "-c", "sb 0", "-c", "p blocksize", &big.device],
    );
    assert_eq!(sb, "blocksize = 2048");
}

#[test]
fn mkfs_refuses_bad_arguments() {
    let (_root, mut d) = bare();
    let fs = LoopFs::new("none", 32, "");
    let kind = |r: Result<(), ErrorReply>| r.unwrap_err().kind;
    assert_eq!(
        kind(do_mkfs(&mut d, "ntfs9", &fs.device, None, None)),
        ErrorKind::InvalidArgument
    );
    let long = Some("seventeen-chars-x");
    assert_eq!(
        kind(do_mkfs(&mut d, "ext4", &fs.device, long, None)),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        kind(do_mkfs(
            &mut d,
            "vfat",
            &fs.device,
            Some("TWELVE-CHARS"),
            None
        )),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        kind(do_mkfs(&mut d, "xfs", &fs.device, Some("a b"), None)),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        kind(do_mkfs(&mut d, "ext4", &fs.device, None, Some(3000))),
        ErrorKind::InvalidArgument
    );
    // Nothing was written.
    assert!(std::process::Command::new("blkid")
        .args(["-p", &fs.device])
        .output()
        .unwrap()
        .stdout
        .is_empty());
    let err = do_mkfs(&mut d, "ext4", "/dev/no-such-disk", None, None).unwrap_err();
    assert_eq!(err.errno, libc::ENOENT, "{err:?}");
}

#[test]
fn mkfs_refuses_a_mounted_device() {
    // Mounted by the daemon: named in its table.
    let mut fs = LoopFs::new("ext4", 32, "busy");
    let mut d = fs.daemon();
    let err = do_mkfs(&mut d, "ext4", &fs.device, None, None).unwrap_err();
    assert_eq!(err.errno, libc::EBUSY, "{err:?}");
    assert!(err.message.contains("mounted on /"), "{}", err.message);
    // Mounted behind the daemon's back: the kernel holds it.
    let (_root, mut bare_d) = bare();
    let err = do_mkfs(&mut bare_d, "xfs", &fs.device, None, None).unwrap_err();
    assert_eq!(err.errno, libc::EBUSY, "{err:?}");
    let err = do_e2fsck(&mut bare_d, &fs.device, false, false).unwrap_err();
    assert_eq!(err.errno, libc::EBUSY, "{err:?}");
    assert_eq!(blkid(&fs.device, "LABEL"), "busy");
}

/// Zeroes the root directory's inode, as `debugfs -R "clri <2>"` does:
/// damage only a full repair fixes. (No debugfs: the test host lacks it.)
fn break_root_inode(device: &str) {
    use std::os::unix::fs::FileExt;
    let dev = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(device)
        .unwrap();
    let mut sb = [0u8; 1024];
    dev.read_exact_at(&mut sb, 1024).unwrap();
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as u64;
    let block = 1024u64 << u32_at(&sb, 24);
    let inode_size = u64::from(u16::from_le_bytes([sb[88], sb[89]]));
    // Group 0's descriptor is in the block after the superblock's.
    let mut gd = [0u8; 32];
    dev.read_exact_at(&mut gd, (u32_at(&sb, 20) + 1) * block)
        .unwrap();
    let table = u32_at(&gd, 8) * block;
    dev.write_all_at(&vec![0u8; inode_size as usize], table + inode_size)
        .unwrap();
    dev.sync_all().unwrap();
}

#[test]
fn e2fsck_clean_damaged_and_repaired() {
    let (_root, mut d) = bare();
    let fs = LoopFs::new("ext4", 32, "");
    do_e2fsck(&mut d, &fs.device, false, false).unwrap();
    do_e2fsck(&mut d, &fs.device, true, false).unwrap();
    let err = do_e2fsck(&mut d, &fs.device, true, true).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    break_root_inode(&fs.device);
    // Check only, then a preen: both leave the damage and say so.
    let err = do_e2fsck(&mut d, &fs.device, false, false).unwrap_err();
    assert!(
        err.message.contains("e2fsck failed (exit status 12)"),
        "{}",
        err.message
    );
    assert!(
        err.message.to_lowercase().contains("root inode"),
        "{}",
        err.message
    );
    assert!(do_e2fsck(&mut d, &fs.device, true, false).is_err());
    assert_eq!(do_fsck(&mut d, "ext4", &fs.device), 4);
    // -y repairs it (exit 1, not an error); then it is clean.
    do_e2fsck(&mut d, &fs.device, false, true).unwrap();
    do_e2fsck(&mut d, &fs.device, false, false).unwrap();
    assert_eq!(do_fsck(&mut d, "ext4", &fs.device), 0);
}

#[test]
fn fsck_returns_status_per_type() {
    let (_root, mut d) = bare();
    for (fstype, size) in TYPES {
        let tool = match fstype {
            "xfs" => "xfs_repair",
            "vfat" => "fsck.fat",
            "btrfs" => "btrfs",
            "ntfs" => "ntfsfix",
            _ => "e2fsck",
        };
        if run::find(tool).is_err() {
            eprintln!("fsck {fstype}: {tool} is not installed here: left out");
            continue;
        }
        let fs = LoopFs::new("none", size, "");
        do_mkfs(&mut d, fstype, &fs.device, None, None).unwrap();
        assert_eq!(do_fsck(&mut d, fstype, &fs.device), 0, "{fstype}");
    }
    if run::find("xfs_repair").is_err() {
        return;
    }
    // Zeroed superblocks: nothing left to check.
    let fs = LoopFs::new("none", 300, "");
    do_mkfs(&mut d, "xfs", &fs.device, None, None).unwrap();
    let dev = std::fs::OpenOptions::new()
        .write(true)
        .open(&fs.device)
        .unwrap();
    std::os::unix::fs::FileExt::write_all_at(&dev, &[0u8; 64 << 10], 0).unwrap();
    dev.sync_all().unwrap();
    assert_ne!(do_fsck(&mut d, "xfs", &fs.device), 0);
}

#[test]
fn resize2fs_fills_a_grown_device() {
    let (_root, mut d) = bare();
    let fs = LoopFs::new("ext4", 32, "");
    fs.image.as_file().set_len(96 << 20).unwrap();
    sh("losetup", &["-c", &fs.device]);
    let args = calls::resize2fs::Args {
        device: dev(&fs.device),
    };
    resize2fs(&mut d, &mut TestIo::default(), args).unwrap();
    let info = sh("tune2fs", &["-l", &fs.device]);
    let field = |name: &str| -> u64 {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {info}"))
    };
    assert_eq!(field("Block count:") * field("Block size:"), 96 << 20);
    do_e2fsck(&mut d, &fs.device, false, false).unwrap();
}

#[test]
fn set_label_each_type() {
    let (_root, mut d) = bare();
    for (fstype, size) in TYPES {
        let fs = LoopFs::new("none", size, "");
        do_mkfs(&mut d, fstype, &fs.device, Some("before"), None).unwrap();
        for label in ["after", "-dash", ""] {
            if fstype == "ntfs" && label != "after" {
                let err = do_set_label(&mut d, &fs.device, label).unwrap_err();
                assert!(err.message.contains("ntfslabel cannot"), "{}", err.message);
                continue;
            }
            do_set_label(&mut d, &fs.device, label)
                .unwrap_or_else(|e| panic!("{fstype} {label:?}: {e:?}"));
            assert_eq!(blkid(&fs.device, "LABEL"), label, "{fstype}");
        }
        let long = "x".repeat(Family::of(fstype).unwrap().max_label() + 1);
        let err = do_set_label(&mut d, &fs.device, &long).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidArgument, "{fstype}");
    }
    let blank = LoopFs::new("none", 8, "");
    let err = do_set_label(&mut d, &blank.device, "x").unwrap_err();
    assert!(err.message.contains("no filesystem"), "{}", err.message);
}

#[test]
fn a_missing_tool_names_its_package() {
    let err = run::find("mkfs.no-such-tool").unwrap_err();
    assert!(
        err.message.contains("mkfs.no-such-tool is not available"),
        "{}",
        err.message
    );
    let err = run::not_available("mkfs.xfs");
    assert_eq!(
        err.message,
        "mkfs.xfs is not available: install xfsprogs on the host (apt-get install xfsprogs) and retry"
    );
}

#[test]
fn mkfs_features_inode_and_sectorsize() {
    let (_root, mut d) = bare();
    let fs = LoopFs::new("none", 32, "");
    let mut args = calls::mkfs::Args {
        fstype: "ext4".into(),
        device: dev(&fs.device),
        blocksize: None,
        label: None,
        features: Some("^has_journal".into()),
        inode: Some(512),
        sectorsize: None,
    };
    mkfs(&mut d, &mut TestIo::default(), args.clone()).unwrap();
    let info = sh("tune2fs", &["-l", &fs.device]);
    let line = |key: &str| {
        info.lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(line("Inode size:").ends_with(" 512"), "{info}");
    assert!(
        !line("Filesystem features:").contains("has_journal"),
        "{info}"
    );
    // inode is for ext only, sectorsize for xfs only.
    args.fstype = "vfat".into();
    let e = mkfs(&mut d, &mut TestIo::default(), args.clone()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    args.inode = Some(100);
    args.fstype = "ext4".into();
    args.features = None;
    let e = mkfs(&mut d, &mut TestIo::default(), args).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);

    let big = LoopFs::new("none", 300, "");
    let args = calls::mkfs::Args {
        fstype: "xfs".into(),
        device: dev(&big.device),
        blocksize: None,
        label: None,
        features: None,
        inode: None,
        sectorsize: Some(4096),
    };
    mkfs(&mut d, &mut TestIo::default(), args).unwrap();
    let sb = sh(
        "xfs_db",
        &["-r", "-c", "sb 0", "-c", "p sectsize", &big.device],
    );
    assert_eq!(sb, "sectsize = 4096");
}

#[test]
fn a_usage_dump_after_the_complaint_is_left_out_of_the_error() {
    let out = run::Output {
        code: 1,
        text: "Filesystem must be larger than 300MB.\nUsage: mkfs.xfs\n/* blocksize */\t[-b size=num]\n\
               devicename\n"
            .into(),
    };
    assert_eq!(out.tail(), "Filesystem must be larger than 300MB.");
    let out = run::Output {
        code: 1,
        text: "usage: only a usage line\n".into(),
    };
    assert_eq!(out.tail(), "usage: only a usage line");
}

#[test]
fn xfs_under_300m_says_so() {
    let (_dir, mut d) = bare();
    let fs = LoopFs::new("none", 100, "");
    let err = do_mkfs(&mut d, "xfs", &fs.device, None, None).expect_err("too small");
    assert!(err.message.contains("larger than 300MB"), "{}", err.message);
    assert!(!err.message.contains("Usage"), "{}", err.message);
}
