//! The path calls on real ext4, xfs and vfat filesystems.

use std::fs;
use std::os::unix::fs::symlink;

use protocol::{calls, Daemon, ErrorKind};

use super::glob::fnmatch;
use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{each_fs, p, TestIo};

fn csp(d: &mut GuestDaemon, path: &str) -> Result<String, protocol::ErrorReply> {
    let args = calls::case_sensitive_path::Args { path: p(path) };
    d.case_sensitive_path(&mut TestIo::default(), args)
}

fn realpath(d: &mut GuestDaemon, path: &str) -> Result<String, protocol::ErrorReply> {
    d.realpath(
        &mut TestIo::default(),
        calls::realpath::Args { path: p(path) },
    )
}

fn glob(d: &mut GuestDaemon, pattern: &str, slash: Option<bool>) -> Vec<String> {
    let args = calls::glob_expand::Args {
        pattern: pattern.into(),
        directoryslash: slash,
    };
    d.glob_expand(&mut TestIo::default(), args).unwrap()
}

#[test]
fn case_sensitive_paths() {
    each_fs(|fstype, d, root| {
        fs::create_dir_all(root.join("Windows/System32")).unwrap();
        fs::write(root.join("Windows/System32/netkvm.sys"), "x").unwrap();
        let got = csp(d, "/windows/system32/NETKVM.SYS").unwrap();
        assert_eq!(got, "/Windows/System32/netkvm.sys", "{fstype}");
        // A missing last element is appended as given.
        assert_eq!(
            csp(d, "//WINDOWS/system32//New").unwrap(),
            "/Windows/System32/New"
        );
        assert_eq!(csp(d, "/").unwrap(), "/");
        let e = csp(d, "/nope/x").unwrap_err();
        assert_eq!(e.errno, libc::ENOENT, "{fstype}: {e:?}");
        let e = csp(d, "/windows/../x").unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{fstype}");
    });
}

#[test]
fn realpaths_stay_inside() {
    each_fs(|fstype, d, root| {
        fs::create_dir_all(root.join("a/b")).unwrap();
        assert_eq!(realpath(d, "/a/./b/../b").unwrap(), "/a/b");
        assert_eq!(realpath(d, "/").unwrap(), "/");
        assert_eq!(realpath(d, "/x").unwrap_err().errno, libc::ENOENT);
        if fstype == "vfat" {
            return;
        }
        symlink("/a/b", root.join("abs")).unwrap();
        symlink("../../../../..", root.join("up")).unwrap();
        assert_eq!(realpath(d, "/abs").unwrap(), "/a/b", "{fstype}");
        assert_eq!(realpath(d, "/up").unwrap(), "/", "{fstype}");
        assert_eq!(realpath(d, "/up/a").unwrap(), "/a", "{fstype}");
    });
}

#[test]
fn glob_patterns() {
    assert!(fnmatch(b"*.txt", b"a.txt"));
    assert!(!fnmatch(b"*.txt", b".a.txt"));
    assert!(fnmatch(b".*", b".hidden"));
    assert!(fnmatch(b"[!a]?[[:digit:]]", b"bc7"));
    assert!(!fnmatch(b"[a-c]", b"d"));
    assert!(fnmatch(b"a\\*", b"a*"));
    assert!(!fnmatch(b"a\\*", b"ab"));
    assert!(fnmatch(b"[]]x", b"]x"));
    assert!(fnmatch(b"[", b"["));
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("host-file"), "host").unwrap();
    each_fs(|fstype, d, root| {
        fs::create_dir_all(root.join("g/sub")).unwrap();
        for f in ["g/a.txt", "g/b.txt", "g/.hidden", "g/sub/c.txt"] {
            fs::write(root.join(f), "").unwrap();
        }
        assert_eq!(
            glob(d, "/g/*.txt", None),
            ["/g/a.txt", "/g/b.txt"],
            "{fstype}"
        );
        assert_eq!(glob(d, "/g/*", None), ["/g/a.txt", "/g/b.txt", "/g/sub/"]);
        assert_eq!(
            glob(d, "/g/*", Some(false)),
            ["/g/a.txt", "/g/b.txt", "/g/sub"]
        );
        assert_eq!(glob(d, "/g/{sub/*,a*}", None), ["/g/sub/c.txt", "/g/a.txt"]);
        assert_eq!(glob(d, "/*/s?b/[c]*", None), ["/g/sub/c.txt"]);
        assert_eq!(glob(d, "/g/*/", Some(false)), ["/g/sub/"]);
        assert_eq!(glob(d, "/g/a.txt", None), ["/g/a.txt"]);
        assert!(glob(d, "/g/zzz", None).is_empty());
        assert!(glob(d, "/g/nomatch*", None).is_empty());
        assert!(glob(d, "/nodir/*", None).is_empty());
        if fstype != "vfat" {
            assert_eq!(glob(d, "/g/.*", None), ["/g/.hidden"]);
            // A link to the host's directory resolves inside the guest.
            symlink(outside.path(), root.join("g/host")).unwrap();
            assert!(glob(d, "/g/host/*", None).is_empty(), "{fstype}");
            symlink("/g/sub", root.join("g/lsub")).unwrap();
            assert_eq!(glob(d, "/g/l*/*", None), ["/g/lsub/c.txt"]);
            assert_eq!(glob(d, "/g/ls*", None), ["/g/lsub/"]);
        }
    });
}

#[test]
fn find0_filesize_du() {
    each_fs(|fstype, d, root| {
        fs::create_dir_all(root.join("t/d/e")).unwrap();
        fs::write(root.join("t/f"), vec![7u8; 12345]).unwrap();
        fs::write(root.join("t/d/e/g"), vec![1u8; 1 << 20]).unwrap();
        let mut io = TestIo::default();
        let args = calls::find0::Args { directory: p("/t") };
        d.find0(&mut io, args).unwrap();
        assert_eq!(io.output.last(), Some(&0));
        let mut names: Vec<&[u8]> = io.output.split(|b| *b == 0).collect();
        assert_eq!(names.pop(), Some(&b""[..]));
        names.sort();
        assert_eq!(names, [&b"/d"[..], b"/d/e", b"/d/e/g", b"/f"], "{fstype}");

        let size = d.filesize(
            &mut TestIo::default(),
            calls::filesize::Args { file: p("/t/f") },
        );
        assert_eq!(size.unwrap(), 12345);
        let du = |d: &mut GuestDaemon, path: &str| {
            d.du(&mut TestIo::default(), calls::du::Args { path: p(path) })
                .unwrap()
        };
        let total = du(d, "/t");
        assert!(
            (1024 + 12..1024 + 200).contains(&total),
            "{fstype}: {total}"
        );
        assert!(du(d, "/t/d/e/g") >= 1024);
        if fstype != "vfat" {
            fs::hard_link(root.join("t/d/e/g"), root.join("t/g2")).unwrap();
            assert_eq!(du(d, "/t"), total, "{fstype}: a hard link counts once");
        }
        let e = d
            .filesize(
                &mut TestIo::default(),
                calls::filesize::Args { file: p("/none") },
            )
            .unwrap_err();
        assert_eq!(e.errno, libc::ENOENT);
    });
}
