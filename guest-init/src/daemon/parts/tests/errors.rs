//! Refusals: bad arguments, ranges, missing partitions, partitions and
//! busy disks given as the disk, and corrupt tables (which must give an
//! error, never a panic: this is PID 1).

use std::os::unix::fs::OpenOptionsExt;

use protocol::ErrorKind;

use super::*;
use crate::daemon::parts::disk::check_whole_disk;

#[track_caller]
pub(super) fn refused<T: std::fmt::Debug>(
    r: Result<T, ErrorReply>,
    kind: ErrorKind,
    words: &str,
) -> ErrorReply {
    let e = r.expect_err("should fail");
    assert_eq!(e.kind, kind, "{e:?}");
    assert!(e.message.contains(words), "{:?} lacks {words:?}", e.message);
    e
}

#[test]
fn parts_bad_arguments() {
    let s = Scratch::new(16);
    let dev = s.dev();
    let e = refused(init(&dev, "bsd"), ErrorKind::InvalidArgument, "unsupported");
    assert!(
        e.message.contains("gpt") && e.message.contains("msdos"),
        "{e:?}"
    );
    refused(parttype(&dev), ErrorKind::Other, "no partition table");
    refused(list(&dev), ErrorKind::Other, "no partition table");
    refused(
        add(&dev, "p", 2048, 4095),
        ErrorKind::Other,
        "no partition table",
    );
    for parttype in ["gpt", "mbr"] {
        init(&dev, parttype).unwrap();
        refused(
            add(&dev, "x", 2048, 4095),
            ErrorKind::InvalidArgument,
            "prlogex",
        );
        add(&dev, "p", 2048, 4095).unwrap();
        refused(
            add(&dev, "p", 4000, 5000),
            ErrorKind::InvalidArgument,
            "overlap partition 1",
        );
        refused(
            add(&dev, "p", 1000, 2048),
            ErrorKind::InvalidArgument,
            "overlap partition 1",
        );
        refused(
            add(&dev, "p", 8192, 1 << 40),
            ErrorKind::InvalidArgument,
            "outside",
        );
        refused(
            add(&dev, "p", 8192, s.sectors() as i64),
            ErrorKind::InvalidArgument,
            "outside",
        );
        refused(
            add(&dev, "p", 6000, 5000),
            ErrorKind::InvalidArgument,
            "bad sector range",
        );
        refused(
            add(&dev, "p", -5, 5000),
            ErrorKind::InvalidArgument,
            "bad sector range",
        );
        refused(
            add(&dev, "p", 8192, -(1 << 40)),
            ErrorKind::InvalidArgument,
            "bad sector range",
        );
        refused(
            add(&dev, "p", 0, 100),
            ErrorKind::InvalidArgument,
            "outside",
        );
        for n in [0, -1, i64::MAX] {
            refused(del(&dev, n), ErrorKind::InvalidArgument, "partition number");
        }
        refused(del(&dev, 7), ErrorKind::InvalidArgument, "no partition 7");
        refused(
            set_bootable(&dev, 9, true),
            ErrorKind::InvalidArgument,
            "no partition 9",
        );
        assert_eq!(
            list(&dev).unwrap(),
            vec![bytes(1, 2048, 4095)],
            "nothing changed"
        );
    }
    // MBR: no names or type GUIDs; logical partitions need an extended one.
    refused(
        set_name(&dev, 1, "x"),
        ErrorKind::InvalidArgument,
        "no partition names",
    );
    refused(
        set_type(&dev, 1, EFI_SYSTEM),
        ErrorKind::InvalidArgument,
        "no type GUIDs",
    );
    refused(
        add(&dev, "l", 8192, 9000),
        ErrorKind::InvalidArgument,
        "needs an extended",
    );
    add(&dev, "e", 8192, 16383).unwrap();
    refused(
        add(&dev, "e", 20000, 21000),
        ErrorKind::InvalidArgument,
        "already an extended",
    );
    refused(
        add(&dev, "l", 8192, 9000),
        ErrorKind::InvalidArgument,
        "not inside the extended",
    );
    refused(
        add(&dev, "l", 16000, 17000),
        ErrorKind::InvalidArgument,
        "not inside the extended",
    );
    add(&dev, "l", 9000, 10000).unwrap();
    refused(
        add(&dev, "l", 10001, 11000),
        ErrorKind::InvalidArgument,
        "overlap partition 5",
    );
    add(&dev, "p", 20000, 21000).unwrap();
    add(&dev, "p", 22000, 23000).unwrap();
    refused(
        add(&dev, "p", 24000, 25000),
        ErrorKind::InvalidArgument,
        "all four primary",
    );
    // GPT: primary partitions only; GUIDs and names checked.
    init(&dev, "gpt").unwrap();
    refused(
        add(&dev, "l", 2048, 4095),
        ErrorKind::InvalidArgument,
        "only primary",
    );
    refused(
        add(&dev, "e", 2048, 4095),
        ErrorKind::InvalidArgument,
        "only primary",
    );
    refused(
        add(&dev, "p", 33, 4095),
        ErrorKind::InvalidArgument,
        "usable sectors 34-",
    );
    add(&dev, "p", 2048, 4095).unwrap();
    for guid in [
        "not-a-guid",
        "00000000-0000-0000-0000-000000000000",
        "C12A7328F81F11D2BA4B00A0C93EC93B",
        "LINUX_FS",
        "",
    ] {
        refused(
            set_type(&dev, 1, guid),
            ErrorKind::InvalidArgument,
            "type GUID",
        );
    }
    refused(
        set_type(&dev, 2, EFI_SYSTEM),
        ErrorKind::InvalidArgument,
        "no partition 2",
    );
    refused(
        set_name(&dev, 1, &"x".repeat(37)),
        ErrorKind::InvalidArgument,
        "at most 36",
    );
    refused(set_name(&dev, 1, "a\0b"), ErrorKind::InvalidArgument, "NUL");
    refused(
        set_name(&dev, 2, "x"),
        ErrorKind::InvalidArgument,
        "no partition 2",
    );
}

#[test]
fn parts_not_a_disk() {
    let null = Device::new("/dev/null").unwrap();
    refused(
        list(&null),
        ErrorKind::InvalidArgument,
        "not a block device",
    );
    refused(
        init(&null, "gpt"),
        ErrorKind::InvalidArgument,
        "not a block device",
    );
    let missing = Device::new("/dev/no-such-disk").unwrap();
    assert_eq!(list(&missing).unwrap_err().errno, libc::ENOENT);
    // A partition, named by sysfs (a fake tree here; a real one below).
    let sys = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(sys.path().join("block/sdb/sdb2")).unwrap();
    std::os::unix::fs::symlink("block/sdb/sdb2", sys.path().join("8:18")).unwrap();
    std::fs::write(sys.path().join("block/sdb/sdb2/partition"), "2\n").unwrap();
    let e = check_whole_disk(
        "part_list",
        "/dev/sdb2",
        sys.path(),
        rustix::fs::makedev(8, 18),
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        "part_list: /dev/sdb2 is a partition, give the whole disk (/dev/sdb)"
    );
    std::fs::create_dir_all(sys.path().join("8:16")).unwrap();
    check_whole_disk(
        "part_list",
        "/dev/sdb",
        sys.path(),
        rustix::fs::makedev(8, 16),
    )
    .unwrap();
    if kernel_reads_partitions() {
        let s = Scratch::new(16);
        whole(&s.dev(), "gpt").unwrap();
        let p1 = Device::new(s.part(1)).unwrap();
        refused(
            list(&p1),
            ErrorKind::InvalidArgument,
            "is a partition, give the whole disk",
        );
        refused(
            init(&p1, "mbr"),
            ErrorKind::InvalidArgument,
            "is a partition",
        );
    }
}

#[test]
fn parts_busy_disk() {
    let s = Scratch::new(64);
    let dev = s.dev();
    whole(&dev, "gpt").unwrap();
    {
        // Someone else holds the disk exclusively.
        let _held = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_EXCL)
            .open(&s.device)
            .unwrap();
        let e = init(&dev, "mbr").unwrap_err();
        assert_eq!(e.errno, libc::EBUSY, "{e:?}");
        assert!(e.message.contains("unmount"), "{e:?}");
        assert_eq!(list(&dev).unwrap().len(), 1, "reading is still fine");
    }
    if kernel_reads_partitions() && crate::daemon::tests::kernel_supports("ext4") {
        let p1 = s.part(1);
        run("mkfs.ext4", &["-q", "-F", &p1]);
        let mnt = tempfile::tempdir().unwrap();
        run("mount", &[&p1, mnt.path().to_str().unwrap()]);
        let r = add(&dev, "p", 34, 100);
        let _ = std::process::Command::new("umount")
            .arg(mnt.path())
            .status();
        let e = r.unwrap_err();
        assert_eq!(e.errno, libc::EBUSY, "{e:?}");
        assert!(e.message.contains("unmount"), "{e:?}");
    }
}
