//! mke2fs, tune2fs, tune2fs_l, the ext2 attributes and
//! vfs_minimum_size, checked with dumpe2fs, lsattr and resize2fs -P.

use protocol::calls;

use super::super::*;
use super::{args, bare, expect_ok, io, random_uuid, unique};
use crate::daemon::tests::{run as sh, LoopFs};
use crate::daemon::GuestDaemon;

/// `Key: value` lines of dumpe2fs -h (tune2fs -l's format, no version
/// line), up to the journal's own superblock ("Journal features" on).
fn superblock(device: &str) -> Vec<(String, String)> {
    let out = std::process::Command::new("dumpe2fs")
        .args(["-h", device])
        .output()
        .expect("dumpe2fs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .take_while(|l| !l.is_empty() && !l.starts_with("Journal features:"))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

fn field(sb: &[(String, String)], key: &str) -> String {
    sb.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no {key:?} in {sb:?}"))
}

#[test]
fn mke2fs_options_reach_the_superblock() {
    let (_root, mut d) = bare();
    let fs = LoopFs::new("none", 32, "");
    let (label, uuid) = (unique("m2"), random_uuid());
    let a = args::<calls::mke2fs::Call>(&[
        ("device", &fs.device),
        ("fstype", "ext4"),
        ("blocksize", "1024"),
        ("inodesize", "256"),
        ("label", &label),
        ("uuid", &uuid),
        ("reservedblockspercentage", "2"),
        ("lastmounteddir", "/srv"),
        ("hasjournal", "false"),
        ("stridesize", "4"),
        ("stripewidth", "8"),
        ("lazyitableinit", "false"),
        ("forcecreate", "true"),
        ("blockscount", "30000"),
    ]);
    expect_ok("mke2fs", mke2fs(&mut d, &mut io(), a));
    let sb = superblock(&fs.device);
    assert_eq!(field(&sb, "Block size"), "1024");
    assert_eq!(field(&sb, "Inode size"), "256");
    assert_eq!(field(&sb, "Block count"), "30000");
    assert_eq!(field(&sb, "Filesystem volume name"), label);
    assert_eq!(field(&sb, "Filesystem UUID"), uuid);
    assert_eq!(field(&sb, "Last mounted on"), "/srv");
    assert_eq!(field(&sb, "Reserved block count"), "600");
    assert_eq!(field(&sb, "RAID stride"), "4");
    assert_eq!(field(&sb, "RAID stripe width"), "8");
    assert!(!field(&sb, "Filesystem features").contains("has_journal"));
    assert!(field(&sb, "Filesystem features").contains("extent"));

    let a = args::<calls::mke2fs::Call>(&[("device", &fs.device), ("fstype", "xfs")]);
    assert!(mke2fs(&mut d, &mut io(), a).is_err());
    let a = args::<calls::mke2fs::Call>(&[("device", &fs.device), ("blocksize", "-1")]);
    assert!(mke2fs(&mut d, &mut io(), a).is_err());
}

#[test]
fn tune2fs_and_tune2fs_l() {
    let (_root, mut d) = bare();
    let fs = LoopFs::new("ext4", 32, "TUNE");
    let a = args::<calls::tune2fs::Call>(&[
        ("device", &fs.device),
        ("maxmountcount", "20"),
        ("mountcount", "5"),
        ("errorbehavior", "panic"),
        ("intervalbetweenchecks", "86400"),
        ("reservedblockscount", "100"),
        ("lastmounteddirectory", "/data"),
        ("group", "7"),
        ("user", "9"),
    ]);
    expect_ok("tune2fs", tune2fs(&mut d, &mut io(), a));
    let sb = superblock(&fs.device);
    assert_eq!(field(&sb, "Maximum mount count"), "20");
    assert_eq!(field(&sb, "Mount count"), "5");
    assert_eq!(field(&sb, "Errors behavior"), "Panic");
    assert_eq!(field(&sb, "Check interval"), "86400 (1 day)");
    assert_eq!(field(&sb, "Reserved block count"), "100");
    assert_eq!(field(&sb, "Last mounted on"), "/data");
    assert!(field(&sb, "Reserved blocks gid").starts_with("7 "));
    assert!(field(&sb, "Reserved blocks uid").starts_with("9 "));

    let a = args::<calls::tune2fs_l::Call>(&[("device", &fs.device)]);
    let got = expect_ok("tune2fs_l", tune2fs_l(&mut d, &mut io(), a));
    // Every superblock line dumpe2fs shows, with libguestfs's "" for <none>.
    for (key, value) in &sb {
        let want = if value == "<none>" || value == "<not available>" {
            ""
        } else {
            value
        };
        // Values are as tune2fs prints them, trailing spaces included.
        let have = got
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim_end());
        assert_eq!(have, Some(want), "{key}");
    }
    assert!(!got.iter().any(|(k, _)| k.starts_with("tune2fs ")));

    let a = args::<calls::tune2fs::Call>(&[("device", &fs.device), ("errorbehavior", "explode")]);
    assert!(tune2fs(&mut d, &mut io(), a).is_err());
    let a = args::<calls::tune2fs::Call>(&[("device", &fs.device), ("mountcount", "-1")]);
    assert!(tune2fs(&mut d, &mut io(), a).is_err());
}

/// lsattr's letters for a path, without the dashes, sorted.
fn lsattr_letters(path: &std::path::Path) -> String {
    let out = sh("lsattr", &["-d", path.to_str().expect("utf-8")]);
    let flags = out.split_whitespace().next().unwrap_or("");
    let mut v: Vec<char> = flags.chars().filter(|&c| c != '-').collect();
    v.sort_unstable();
    v.into_iter().collect()
}

#[test]
fn e2attrs_and_generation() {
    // ext4 refuses a new generation when metadata_csum is on.
    let mut fs = LoopFs::new("none", 32, "");
    sh(
        "mkfs.ext4",
        &["-q", "-F", "-O", "^metadata_csum", &fs.device],
    );
    let mut d = fs.daemon();
    let root = fs
        .mountpoint
        .as_ref()
        .expect("mounted")
        .path()
        .to_path_buf();
    std::fs::write(root.join("f"), b"x").expect("write");
    let get = |d: &mut GuestDaemon| {
        let a = args::<calls::get_e2attrs::Call>(&[("file", "/f")]);
        expect_ok("get_e2attrs", get_e2attrs(d, &mut io(), a))
    };
    assert_eq!(get(&mut d), lsattr_letters(&root.join("f")));
    assert_eq!(get(&mut d), "e");
    let a = args::<calls::set_e2attrs::Call>(&[("file", "/f"), ("attrs", "adA")]);
    expect_ok("set_e2attrs", set_e2attrs(&mut d, &mut io(), a));
    assert_eq!(lsattr_letters(&root.join("f")), "Aade");
    assert_eq!(get(&mut d), "Aade");
    let a = args::<calls::set_e2attrs::Call>(&[("file", "/f"), ("attrs", "da"), ("clear", "true")]);
    expect_ok("set_e2attrs clear", set_e2attrs(&mut d, &mut io(), a));
    assert_eq!(get(&mut d), "Ae");
    assert_eq!(lsattr_letters(&root.join("f")), "Ae");
    for bad in ["aa", "R", "N", "1"] {
        let a = args::<calls::set_e2attrs::Call>(&[("file", "/f"), ("attrs", bad)]);
        assert!(set_e2attrs(&mut d, &mut io(), a).is_err(), "{bad}");
    }

    let a = args::<calls::set_e2generation::Call>(&[("file", "/f"), ("generation", "123456789")]);
    expect_ok("set_e2generation", set_e2generation(&mut d, &mut io(), a));
    let host = sh("lsattr", &["-dv", root.join("f").to_str().expect("utf-8")]);
    assert!(host.starts_with("123456789 "), "{host}");
    let a = args::<calls::get_e2generation::Call>(&[("file", "/f")]);
    assert_eq!(
        expect_ok("get_e2generation", get_e2generation(&mut d, &mut io(), a)),
        123456789
    );
    let a = args::<calls::set_e2generation::Call>(&[("file", "/f"), ("generation", "-1")]);
    assert!(set_e2generation(&mut d, &mut io(), a).is_err());
}

#[test]
fn ext_minimum_size_is_resize2fs_estimate() {
    let (_root, mut d) = bare();
    let fs = LoopFs::new("ext4", 64, "MIN");
    let out = sh("resize2fs", &["-P", &fs.device]);
    let blocks: i64 = out
        .lines()
        .find_map(|l| l.strip_prefix("Estimated minimum size of the filesystem: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("resize2fs -P");
    let block: i64 = field(&superblock(&fs.device), "Block size")
        .parse()
        .expect("block size");
    let a = args::<calls::vfs_minimum_size::Call>(&[("mountable", &fs.device)]);
    assert_eq!(
        expect_ok("vfs_minimum_size", vfs_minimum_size(&mut d, &mut io(), a)),
        blocks * block
    );
}
