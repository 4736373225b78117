//! blkid, findfs, wipefs, zerofree, the ntfs tools and mksquashfs,
//! checked with the host's blkid, ntfsresize, ntfs-3g.probe and unsquashfs.

use std::process::Command;

use protocol::calls;

use super::super::*;
use super::{args, bare, expect_ok, io, unique};
use crate::daemon::tests::{run as sh, LoopFs};

#[test]
fn blkid_matches_the_tool() {
    let (_root, mut d) = bare();
    let label = unique("bk");
    let fs = LoopFs::new("ext4", 32, &label);
    let a = args::<calls::blkid::Call>(&[("device", &fs.device)]);
    let got = expect_ok("blkid", blkid(&mut d, &mut io(), a));
    let host = sh(
        "blkid",
        &["-c", "/dev/null", "-p", "-i", "-o", "export", &fs.device],
    );
    let want: Vec<(String, String)> = host
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(got, want);
    let get = |k: &str| {
        got.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("TYPE"), Some("ext4"));
    assert_eq!(get("LABEL"), Some(label.as_str()));
    assert_eq!(get("USAGE"), Some("filesystem"));
}

#[test]
fn findfs_by_label_and_uuid() {
    let (_root, mut d) = bare();
    let label = unique("ff");
    let fs = LoopFs::new("ext4", 32, &label);
    let uuid = sh("blkid", &["-p", "-o", "value", "-s", "UUID", &fs.device]);
    let a = args::<calls::findfs_label::Call>(&[("label", &label)]);
    assert_eq!(
        expect_ok("findfs_label", findfs_label(&mut d, &mut io(), a)),
        fs.device
    );
    let a = args::<calls::findfs_uuid::Call>(&[("uuid", &uuid)]);
    assert_eq!(
        expect_ok("findfs_uuid", findfs_uuid(&mut d, &mut io(), a)),
        fs.device
    );
    let a = args::<calls::findfs_label::Call>(&[("label", "no-such-label-y")]);
    assert_eq!(
        findfs_label(&mut d, &mut io(), a).unwrap_err().errno,
        libc::ENOENT
    );
}

#[test]
fn wipefs_erases_the_signature() {
    let (_root, mut d) = bare();
    let fs = LoopFs::new("xfs", 300, "WIPE");
    let a = args::<calls::wipefs::Call>(&[("device", &fs.device)]);
    expect_ok("wipefs", wipefs(&mut d, &mut io(), a));
    // blkid exits 2 when it finds nothing.
    let st = Command::new("blkid")
        .args(["-p", &fs.device])
        .status()
        .expect("blkid");
    assert_eq!(st.code(), Some(2));
}

/// Bytes of `device` that are not zero.
fn nonzero_bytes(device: &str) -> usize {
    let data = std::fs::read(device).expect("read device");
    data.iter().filter(|&&b| b != 0).count()
}

#[test]
fn zerofree_zeroes_free_blocks() {
    let (_root, mut d) = bare();
    let fs = LoopFs::new("none", 32, "");
    // Free blocks keep whatever was there before mkfs.
    std::fs::write(&fs.device, vec![0xaau8; 32 << 20]).expect("fill");
    // nodiscard: a discard would zero the loop device's blocks itself.
    sh("mkfs.ext4", &["-q", "-F", "-E", "nodiscard", &fs.device]);
    let before = nonzero_bytes(&fs.device);
    let a = args::<calls::zerofree::Call>(&[("device", &fs.device)]);
    expect_ok("zerofree", zerofree(&mut d, &mut io(), a));
    let after = nonzero_bytes(&fs.device);
    assert!(after < before / 4, "{before} -> {after}");
    sh("e2fsck", &["-fn", &fs.device]);
}

#[test]
fn ntfs_probe_resize_fix_and_minimum_size() {
    let (_root, mut d) = bare();
    let fs = LoopFs::new("none", 64, "");
    sh("mkntfs", &["-q", "-F", "-f", &fs.device]);
    let host = Command::new("ntfs-3g.probe")
        .args(["--readwrite", &fs.device])
        .status()
        .expect("ntfs-3g.probe");
    let a = args::<calls::ntfs_3g_probe::Call>(&[("rw", "true"), ("device", &fs.device)]);
    let code = expect_ok("ntfs_3g_probe", ntfs_3g_probe(&mut d, &mut io(), a));
    assert_eq!(Some(code as i32), host.code());
    assert_eq!(code, 0);

    let info = sh(
        "ntfsresize",
        &["--info", "--force", "--no-progress-bar", &fs.device],
    );
    let a = args::<calls::vfs_minimum_size::Call>(&[("mountable", &fs.device)]);
    let min = expect_ok("vfs_minimum_size", vfs_minimum_size(&mut d, &mut io(), a));
    assert!(
        info.contains(&format!("You might resize at {min} bytes")),
        "{min}: {info}"
    );

    let a = args::<calls::ntfsresize::Call>(&[("device", &fs.device), ("size", "40000000")]);
    expect_ok("ntfsresize", ntfsresize(&mut d, &mut io(), a));
    let info = sh(
        "ntfsresize",
        &["--info", "--force", "--no-progress-bar", &fs.device],
    );
    let size_line = info
        .lines()
        .find(|l| l.starts_with("Current volume size:"))
        .unwrap_or("");
    let bytes: i64 = size_line
        .split_whitespace()
        .nth(3)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(bytes <= 40_000_000 && bytes > 39_000_000, "{size_line}");
    let a = args::<calls::ntfsfix::Call>(&[("device", &fs.device)]);
    expect_ok("ntfsfix", ntfsfix(&mut d, &mut io(), a));
}

#[test]
fn mksquashfs_packs_a_directory() {
    let mut fs = LoopFs::new("ext4", 32, "SQ");
    let mut d = fs.daemon();
    let root = fs
        .mountpoint
        .as_ref()
        .expect("mounted")
        .path()
        .to_path_buf();
    std::fs::create_dir_all(root.join("data/sub")).expect("mkdir");
    std::fs::write(root.join("data/a.txt"), b"alpha").expect("write");
    std::fs::write(root.join("data/sub/b.log"), b"beta").expect("write");
    std::os::unix::fs::symlink("/etc/passwd", root.join("data/link")).expect("symlink");
    let a = args::<calls::mksquashfs::Call>(&[
        ("path", "/data"),
        ("compress", "xz"),
        ("excludes", "sub/*.log"),
    ]);
    let mut out = io();
    expect_ok("mksquashfs", mksquashfs(&mut d, &mut out, a));
    let image = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(image.path(), &out.output).expect("save image");
    let path = image.path().to_str().expect("utf-8");
    let list = sh("unsquashfs", &["-l", path]);
    let mut names: Vec<&str> = list
        .lines()
        .filter_map(|l| l.strip_prefix("squashfs-root"))
        .filter(|n| !n.is_empty())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["/a.txt", "/link", "/sub"], "{list}");
    let stat = sh("unsquashfs", &["-s", path]);
    assert!(stat.contains("Compression xz"), "{stat}");
    let a = args::<calls::mksquashfs::Call>(&[("path", "/data"), ("compress", "bogus")]);
    assert!(mksquashfs(&mut d, &mut io(), a).is_err());
}
