//! xfs_info, xfs_growfs, xfs_admin and xfs_repair, checked with xfs_db,
//! blkid and statvfs.

use protocol::calls;

use super::super::*;
use super::{args, bare, expect_ok, io, random_uuid};
use crate::daemon::tests::{run as sh, LoopFs};

/// One superblock field as xfs_db prints it.
fn sb_field(device: &str, name: &str) -> i64 {
    let out = sh(
        "xfs_db",
        &["-r", "-c", "sb 0", "-c", &format!("p {name}"), device],
    );
    out.split_once(" = ")
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("xfs_db {name}: {out}"))
}

#[test]
fn xfs_info_of_device_and_mountpoint() {
    let (_root, mut d) = bare();
    let fs = LoopFs::new("xfs", 300, "INFO");
    let a = args::<calls::xfs_info::Call>(&[("pathordevice", &fs.device)]);
    let info = expect_ok("xfs_info", xfs_info(&mut d, &mut io(), a));
    assert_eq!(info.xfs_mntpoint, fs.device);
    assert_eq!(info.xfs_blocksize, sb_field(&fs.device, "blocksize"));
    assert_eq!(info.xfs_agcount, sb_field(&fs.device, "agcount"));
    assert_eq!(info.xfs_agsize, sb_field(&fs.device, "agblocks"));
    assert_eq!(info.xfs_datablocks, sb_field(&fs.device, "dblocks"));
    assert_eq!(info.xfs_logblocks, sb_field(&fs.device, "logblocks"));
    assert_eq!(info.xfs_inodesize, sb_field(&fs.device, "inodesize"));
    assert_eq!(info.xfs_sectsize, sb_field(&fs.device, "sectsize"));
    assert_eq!(info.xfs_imaxpct, sb_field(&fs.device, "imax_pct"));
    assert_eq!(
        (info.xfs_logname.as_str(), info.xfs_rtname.as_str()),
        ("internal", "none")
    );

    let mut fs = fs;
    let mut d = fs.daemon();
    let a = args::<calls::xfs_info::Call>(&[("pathordevice", "/")]);
    let mounted = expect_ok("xfs_info /", xfs_info(&mut d, &mut io(), a));
    assert_eq!(mounted.xfs_datablocks, info.xfs_datablocks);
    assert_eq!(mounted.xfs_mntpoint, "/");
    let a = args::<calls::xfs_info::Call>(&[("pathordevice", &fs.device)]);
    let by_dev = expect_ok("xfs_info mounted dev", xfs_info(&mut d, &mut io(), a));
    assert_eq!(by_dev.xfs_agcount, info.xfs_agcount);
}

#[test]
fn xfs_growfs_fills_the_device() {
    let mut fs = LoopFs::new("none", 400, "");
    sh("mkfs.xfs", &["-q", "-f", "-d", "size=300m", &fs.device]);
    let mut d = fs.daemon();
    let root = fs
        .mountpoint
        .as_ref()
        .expect("mounted")
        .path()
        .to_path_buf();
    let before = rustix::fs::statvfs(&root).expect("statvfs").f_blocks;
    let a = args::<calls::xfs_growfs::Call>(&[("path", "/"), ("datasec", "true")]);
    expect_ok("xfs_growfs", xfs_growfs(&mut d, &mut io(), a));
    let after = rustix::fs::statvfs(&root).expect("statvfs").f_blocks;
    assert!(after > before + (90 << 20) / 4096, "{before} -> {after}");
}

#[test]
fn xfs_admin_label_uuid_and_repair() {
    let (_root, mut d) = bare();
    let fs = LoopFs::new("xfs", 300, "OLD");
    let uuid = random_uuid();
    let a = args::<calls::xfs_admin::Call>(&[
        ("device", &fs.device),
        ("label", "NEWLABEL"),
        ("uuid", &uuid),
        ("lazycounter", "true"),
    ]);
    expect_ok("xfs_admin", xfs_admin(&mut d, &mut io(), a));
    let tag = |t: &str| sh("blkid", &["-p", "-o", "value", "-s", t, &fs.device]);
    assert_eq!(tag("LABEL"), "NEWLABEL");
    assert_eq!(tag("UUID"), uuid);
    let a = args::<calls::xfs_admin::Call>(&[("device", &fs.device), ("label", "has space")]);
    assert!(xfs_admin(&mut d, &mut io(), a).is_err());

    let a = args::<calls::xfs_repair::Call>(&[("device", &fs.device), ("nomodify", "true")]);
    assert_eq!(
        expect_ok("xfs_repair -n", xfs_repair(&mut d, &mut io(), a)),
        0
    );
    // Break the primary superblock's magic: xfs_repair -n reports it.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&fs.device)
        .expect("open");
    std::os::unix::fs::FileExt::write_all_at(&file, b"XXXX", 0).expect("corrupt");
    drop(file);
    let a = args::<calls::xfs_repair::Call>(&[("device", &fs.device), ("nomodify", "true")]);
    assert_ne!(
        expect_ok("xfs_repair -n corrupt", xfs_repair(&mut d, &mut io(), a)),
        0
    );
}

/// Every key=value xfs_info2 returns appears in the host's xfs_info
/// output, and the numbers are the superblock's.
#[test]
fn xfs_info2_matches_xfs_info() {
    let mut fs = LoopFs::new("xfs", 300, "INFO2");
    let dev = fs.device.clone();
    let real = sh("xfs_info", &[&dev]);
    let check = |h: &[(String, String)], name: &str| {
        let get = |k: &str| {
            h.iter()
                .find(|(a, _)| a == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("{k} missing in {h:?}"))
        };
        assert_eq!(get("meta-data"), name);
        assert_eq!(get("log"), "internal log");
        assert_eq!(get("realtime"), "none");
        assert!(get("naming").starts_with("version "), "{h:?}");
        let n = |k: &str| {
            get(k)
                .split(' ')
                .next()
                .unwrap_or_default()
                .parse::<i64>()
                .ok()
        };
        assert_eq!(n("data.bsize"), Some(sb_field(&dev, "blocksize")));
        assert_eq!(n("data.blocks"), Some(sb_field(&dev, "dblocks")));
        assert_eq!(n("meta-data.agcount"), Some(sb_field(&dev, "agcount")));
        assert_eq!(n("meta-data.agsize"), Some(sb_field(&dev, "agblocks")));
        assert_eq!(n("log.blocks"), Some(sb_field(&dev, "logblocks")));
        for (k, v) in h.iter().filter(|(k, _)| k.contains('.')) {
            let field = k.split_once('.').map_or("", |(_, f)| f);
            assert!(
                real.contains(&format!("{field}={v}")),
                "{k}={v} not in:\n{real}"
            );
        }
        // Every numeric field of the real output is in the table.
        for key in [
            "isize",
            "sectsz",
            "imaxpct",
            "sunit",
            "swidth",
            "lazy-count",
            "extsz",
        ] {
            assert!(
                h.iter().any(|(k, _)| k.ends_with(&format!(".{key}"))),
                "{key}: {h:?}"
            );
        }
    };
    let (_root, mut d) = bare();
    let a = args::<calls::xfs_info2::Call>(&[("mountable", &dev)]);
    check(
        &expect_ok("xfs_info2", xfs_info2(&mut d, &mut io(), a)),
        &dev,
    );

    let mut d = fs.daemon();
    let a = args::<calls::xfs_info2::Call>(&[("mountable", "/")]);
    check(
        &expect_ok("xfs_info2 /", xfs_info2(&mut d, &mut io(), a)),
        "/",
    );
    let ext = LoopFs::new("ext4", 40, "");
    let a = args::<calls::xfs_info2::Call>(&[("mountable", &ext.device)]);
    assert!(xfs_info2(&mut bare().1, &mut io(), a).is_err());
}
