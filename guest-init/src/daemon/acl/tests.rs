//! The ACL calls on loop-mounted ext4 and xfs, checked against the host's
//! getfacl and setfacl (package acl) on the mountpoint.

use super::*;
use crate::daemon::tests::{p, run, LoopFs, TestIo};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// ext4 and xfs: the test filesystems with POSIX ACLs (vfat has none).
fn each_acl_fs(mut test: impl FnMut(&str, &mut GuestDaemon, &Path)) {
    for fstype in ["ext4", "xfs"] {
        let size = if fstype == "xfs" { 300 } else { 32 };
        let mut fs = LoopFs::new(fstype, size, "ACL");
        let mut d = fs.daemon();
        let root: PathBuf = fs.mountpoint.as_ref().expect("mounted").path().into();
        test(fstype, &mut d, &root);
    }
}

fn get(d: &mut GuestDaemon, path: &str, acltype: &str) -> Reply<String> {
    let args = calls::acl_get_file::Args {
        path: p(path),
        acltype: acltype.into(),
    };
    acl_get_file(d, &mut TestIo::default(), args)
}

fn set(d: &mut GuestDaemon, path: &str, acltype: &str, acl: &str) -> Reply<()> {
    let args = calls::acl_set_file::Args {
        path: p(path),
        acltype: acltype.into(),
        acl: acl.into(),
    };
    acl_set_file(d, &mut TestIo::default(), args)
}

fn delete_def(d: &mut GuestDaemon, dir: &str) -> Reply<()> {
    let args = calls::acl_delete_def_file::Args { dir: p(dir) };
    acl_delete_def_file(d, &mut TestIo::default(), args)
}

/// getfacl's view, with the trailing blank line dropped and one newline
/// after each entry, as acl_to_text ends them.
fn getfacl(path: &Path, default: bool) -> String {
    let path = path.to_str().expect("utf-8 path");
    let mut args = vec!["-n", "--omit-header"];
    if default {
        args.push("-d");
    }
    args.push(path);
    let out = run("getfacl", &args);
    out.lines().map(|l| format!("{l}\n")).collect()
}

#[test]
fn acl_set_matches_getfacl() {
    each_acl_fs(|fstype, d, root| {
        std::fs::write(root.join("f"), b"x").unwrap();
        // Perms in any order, short tags, newlines and commas, a comment.
        let text = "u::wr, u:1000:r\ng::r--\n g:2000:-wr # staff\nm::rw-,o::---";
        set(d, "/f", "access", text).unwrap_or_else(|e| panic!("{fstype}: {e}"));
        let want = "user::rw-\nuser:1000:r--\ngroup::r--\ngroup:2000:rw-\nmask::rw-\nother::---\n";
        assert_eq!(getfacl(&root.join("f"), false), want, "{fstype}");
        assert_eq!(get(d, "/f", "access").unwrap(), want, "{fstype}");
        // Through a symlink, as libacl follows it.
        std::os::unix::fs::symlink("f", root.join("l")).unwrap();
        assert_eq!(get(d, "/l", "access").unwrap(), want, "{fstype}");

        // A minimal ACL is only the mode (the kernel keeps no attribute).
        std::fs::write(root.join("plain"), b"x").unwrap();
        std::fs::set_permissions(root.join("plain"), PermissionsExt::from_mode(0o640)).unwrap();
        let plain = "user::rw-\ngroup::r--\nother::---\n";
        assert_eq!(get(d, "/plain", "access").unwrap(), plain, "{fstype}");
        set(d, "/plain", "access", "user::rwx,group::r-x,other::r--").unwrap();
        assert_eq!(
            getfacl(&root.join("plain"), false),
            "user::rwx\ngroup::r-x\nother::r--\n"
        );
        let mode = std::fs::metadata(root.join("plain")).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o754
        );
    });
}

#[test]
fn acl_get_matches_setfacl() {
    each_acl_fs(|fstype, d, root| {
        let f = root.join("f");
        std::fs::write(&f, b"x").unwrap();
        let fs = f.to_str().unwrap();
        run("setfacl", &["-m", "u:1234:rwx,g:55:r-x,u:7:r--", fs]);
        let got = get(d, "/f", "access").unwrap();
        assert_eq!(got, getfacl(&f, false), "{fstype}");
        assert!(
            got.contains("user:7:r--\nuser:1234:rwx\n"),
            "{fstype}: {got}"
        );
        // A mask that takes permissions away: acl_to_text's one-tab comment,
        // which getfacl prints the same way for lines this short.
        run("setfacl", &["-n", "-m", "m::r--", fs]);
        let got = get(d, "/f", "access").unwrap();
        assert!(
            got.contains("user:1234:rwx\t#effective:r--\n"),
            "{fstype}: {got}"
        );
        assert_eq!(got, getfacl(&f, false), "{fstype}");
    });
}

#[test]
fn acl_default_and_delete_def() {
    each_acl_fs(|fstype, d, root| {
        std::fs::create_dir(root.join("d")).unwrap();
        assert_eq!(get(d, "/d", "default").unwrap(), "", "{fstype}");
        let want = "user::rwx\nuser:7:rwx\ngroup::r-x\nmask::rwx\nother::r-x\n";
        set(d, "/d", "default", "o::r-x,u:7:rwx,g::r-x,u::rwx,m::rwx").unwrap();
        assert_eq!(getfacl(&root.join("d"), true), want, "{fstype}");
        assert_eq!(get(d, "/d", "default").unwrap(), want, "{fstype}");
        // New files inherit it.
        std::fs::write(root.join("d/new"), b"x").unwrap();
        assert!(
            getfacl(&root.join("d/new"), false).contains("user:7:rwx"),
            "{fstype}"
        );
        // setfacl's default, read back.
        run(
            "setfacl",
            &["-d", "-m", "g:99:r-x", root.join("d").to_str().unwrap()],
        );
        assert_eq!(
            get(d, "/d", "default").unwrap(),
            getfacl(&root.join("d"), true)
        );

        delete_def(d, "/d").unwrap();
        assert_eq!(getfacl(&root.join("d"), true), "", "{fstype}");
        assert_eq!(get(d, "/d", "default").unwrap(), "", "{fstype}");
        // Already none, and on a file: success, as libacl.
        delete_def(d, "/d").unwrap();
        delete_def(d, "/d/new").unwrap();
        // An empty default ACL removes it too.
        set(d, "/d", "default", want).unwrap();
        set(d, "/d", "default", "").unwrap();
        assert_eq!(getfacl(&root.join("d"), true), "", "{fstype}");
        assert_eq!(delete_def(d, "/none").unwrap_err().errno, libc::ENOENT);
    });
}

#[test]
fn acl_errors() {
    let mut fs = LoopFs::new("ext4", 32, "ACL");
    let mut d = fs.daemon();
    let root: PathBuf = fs.mountpoint.as_ref().expect("mounted").path().into();
    std::fs::write(root.join("f"), b"x").unwrap();
    let d = &mut d;
    let invalid_arg = |r: Reply<()>, needle: &str| {
        let e = r.unwrap_err();
        assert_eq!(e.kind, protocol::ErrorKind::InvalidArgument, "{e}");
        assert!(e.message.contains(needle), "{e}");
    };
    let base = "u::rw-,g::r--,o::r--";
    invalid_arg(
        set(d, "/f", "access", "u::rw-,g::r--,o::r--,bogus"),
        "TAG:QUALIFIER:PERMS",
    );
    invalid_arg(
        set(d, "/f", "access", "x::rw-,g::r--,o::r--"),
        "unknown tag",
    );
    invalid_arg(
        set(d, "/f", "access", "u::rwq,g::r--,o::r--"),
        "not a permission",
    );
    invalid_arg(set(d, "/f", "access", "u::rrw,g::r--,o::r--"), "twice");
    invalid_arg(
        set(d, "/f", "access", &format!("{base},u:root:rw-,m::rw-")),
        "use the numeric id",
    );
    invalid_arg(
        set(d, "/f", "access", &format!("{base},u:4294967295:r,m::r")),
        "out of range",
    );
    invalid_arg(
        set(d, "/f", "access", &format!("{base},u:1000:rw-")),
        "no mask",
    );
    invalid_arg(
        set(d, "/f", "access", &format!("{base},u:5:r,u:5:w,m::rw")),
        "twice",
    );
    invalid_arg(set(d, "/f", "access", "u::rw-,o::r--"), "group::");
    invalid_arg(set(d, "/f", "access", &format!("{base},u::r--")), "user::");
    invalid_arg(set(d, "/f", "access", ""), "user::");
    invalid_arg(
        set(d, "/f", "access", &format!("{base},m:1:rw")),
        "no qualifier",
    );
    invalid_arg(
        set(d, "/f", "access", &format!("d:{base}")),
        "without the default: prefix",
    );
    invalid_arg(set(d, "/f", "posix", base), "acltype");
    // Nothing was changed by the refused calls.
    assert_eq!(
        getfacl(&root.join("f"), false),
        "user::rw-\ngroup::r--\nother::r--\n"
    );
    // Default ACLs are for directories.
    assert_eq!(
        set(d, "/f", "default", base).unwrap_err().errno,
        libc::EACCES
    );
    assert_eq!(get(d, "/f", "default").unwrap_err().errno, libc::EACCES);
    assert_eq!(get(d, "/none", "access").unwrap_err().errno, libc::ENOENT);
}

/// The kernel checks ACLs it is given, so a malformed one can only come
/// from a crafted disk; the parser gets one here directly.
#[test]
fn acl_malformed_xattr_is_an_error() {
    let entry = |tag: u16, perm: u16, id: u32| {
        let mut v = tag.to_le_bytes().to_vec();
        v.extend_from_slice(&perm.to_le_bytes());
        v.extend_from_slice(&id.to_le_bytes());
        v
    };
    let good: Vec<u8> = [
        2u32.to_le_bytes().to_vec(),
        entry(1, 6, u32::MAX),
        entry(4, 4, u32::MAX),
        entry(0x20, 4, u32::MAX),
    ]
    .concat();
    let acl = model::from_xattr(&good, "/f").unwrap();
    assert_eq!(model::to_text(&acl), "user::rw-\ngroup::r--\nother::r--\n");
    assert_eq!(model::to_xattr(&acl), good);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![], "no header"),
        (vec![2, 0], "no header"),
        (
            [3u32.to_le_bytes().to_vec(), good[4..].to_vec()].concat(),
            "version 3",
        ),
        (good[..good.len() - 3].to_vec(), "multiple of 8"),
        (
            [good.clone(), entry(0x40, 4, 0)].concat(),
            "unknown tag 0x40",
        ),
        (
            [good.clone(), entry(2, 0x10, 0)].concat(),
            "permission bits",
        ),
        ([good.clone(), entry(2, 4, 9)].concat(), "no mask"),
        ([good.clone(), entry(1, 4, 0)].concat(), "2 user:: entries"),
        (good[..12].to_vec(), "no group::"),
    ];
    for (value, needle) in cases {
        let err = model::from_xattr(&value, "/f").unwrap_err();
        assert!(err.starts_with("/f: malformed POSIX ACL"), "{err}");
        assert!(err.contains(needle), "{needle}: {err}");
    }
}

/// A guest-planted on-disk ACL (written raw with debugfs, bypassing the
/// kernel's checks): a clean error naming the file, no panic.
#[test]
fn acl_planted_on_disk_is_an_error() {
    let mut fs = LoopFs::new("ext4", 32, "ACL");
    let image = fs.image.path().to_str().expect("utf-8 path").to_owned();
    let bad = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(bad.path(), [7, 0, 0, 0, 1, 0, 6, 0]).unwrap();
    let bad_path = bad.path().to_str().unwrap();
    run("debugfs", &["-w", "-R", "write /dev/null f", &image]);
    let set = format!("ea_set -r -f {bad_path} f system.posix_acl_access");
    run("debugfs", &["-w", "-R", &set, &image]);
    let mut d = fs.daemon();
    let err = get(&mut d, "/f", "access").unwrap_err();
    assert_eq!(err.errno, libc::EINVAL, "{err}");
    assert!(err.message.contains("/f"), "{err}");
    // The default ACL is a separate attribute: still readable (none).
    assert_eq!(
        get(&mut d, "/f", "default").unwrap_err().errno,
        libc::EACCES
    );
}
