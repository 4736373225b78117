//! The xattr calls on a loop-mounted ext4 (user.* attributes), checked
//! against the host's own view of the files (rustix on the mountpoint).

use super::*;
use crate::daemon::tests::{p, LoopFs, TestIo};

fn ext4() -> (LoopFs, GuestDaemon, PathBuf) {
    let mut fs = LoopFs::new("ext4", 32, "XATTR");
    let d = fs.daemon();
    let root = fs
        .mountpoint
        .as_ref()
        .expect("mounted")
        .path()
        .to_path_buf();
    (fs, d, root)
}

fn set_args(name: &str, val: &str, vallen: i64, path: &str) -> calls::setxattr::Args {
    calls::setxattr::Args {
        xattr: name.into(),
        val: val.into(),
        vallen,
        path: p(path),
    }
}

fn host_get(path: &std::path::Path, name: &str) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 1024];
    let n = rustix::fs::lgetxattr(path, name, &mut buf[..]).ok()?;
    buf.truncate(n);
    Some(buf)
}

fn user(list: Vec<XAttr>) -> Vec<(String, Vec<u8>)> {
    list.into_iter()
        .filter(|x| x.attrname.starts_with("user."))
        .map(|x| (x.attrname, x.attrval))
        .collect()
}

#[test]
fn set_get_list_remove() {
    let (_fs, mut d, root) = ext4();
    let mut io = TestIo::default();
    std::fs::write(root.join("f"), b"data").unwrap();
    std::os::unix::fs::symlink("f", root.join("l")).unwrap();
    setxattr(&mut d, &mut io, set_args("user.a", "hello", 5, "/f")).unwrap();
    setxattr(&mut d, &mut io, set_args("user.b", "xyz", 2, "/l")).unwrap();
    assert_eq!(host_get(&root.join("f"), "user.a").unwrap(), b"hello");
    assert_eq!(host_get(&root.join("f"), "user.b").unwrap(), b"xy");
    let err = setxattr(&mut d, &mut io, set_args("user.c", "ab", 3, "/f")).unwrap_err();
    assert_eq!(err.kind, protocol::ErrorKind::InvalidArgument, "{err}");
    let err = setxattr(&mut d, &mut io, set_args("", "ab", 1, "/f")).unwrap_err();
    assert_eq!(err.kind, protocol::ErrorKind::InvalidArgument, "{err}");

    let get = |d: &mut GuestDaemon, path: &str, name: &str, follow: bool| {
        if follow {
            let args = calls::getxattr::Args {
                path: p(path),
                name: name.into(),
            };
            getxattr(d, &mut TestIo::default(), args)
        } else {
            let args = calls::lgetxattr::Args {
                path: p(path),
                name: name.into(),
            };
            lgetxattr(d, &mut TestIo::default(), args)
        }
    };
    assert_eq!(get(&mut d, "/l", "user.a", true).unwrap(), b"hello");
    assert_eq!(
        get(&mut d, "/l", "user.a", false).unwrap_err().errno,
        libc::ENODATA
    );
    assert_eq!(
        get(&mut d, "/f", "user.none", true).unwrap_err().errno,
        libc::ENODATA
    );

    let want = vec![
        ("user.a".to_owned(), b"hello".to_vec()),
        ("user.b".to_owned(), b"xy".to_vec()),
    ];
    let mut all =
        user(getxattrs(&mut d, &mut io, calls::getxattrs::Args { path: p("/l") }).unwrap());
    all.sort();
    assert_eq!(all, want);
    let link = lgetxattrs(&mut d, &mut io, calls::lgetxattrs::Args { path: p("/l") }).unwrap();
    assert!(user(link).is_empty());
    // user.* attributes are not allowed on symlinks: the link is what
    // lsetxattr acts on, not its target.
    let args = calls::lsetxattr::Args {
        xattr: "user.z".into(),
        val: "1".into(),
        vallen: 1,
        path: p("/l"),
    };
    assert_eq!(
        lsetxattr(&mut d, &mut io, args).unwrap_err().errno,
        libc::EPERM
    );
    let args = calls::lsetxattr::Args {
        xattr: "user.z".into(),
        val: "1".into(),
        vallen: 1,
        path: p("/f"),
    };
    lsetxattr(&mut d, &mut io, args).unwrap();
    assert_eq!(host_get(&root.join("f"), "user.z").unwrap(), b"1");

    // The link, not its target (which has user.a): refused there too.
    let args = calls::lremovexattr::Args {
        xattr: "user.a".into(),
        path: p("/l"),
    };
    assert_eq!(
        lremovexattr(&mut d, &mut io, args).unwrap_err().errno,
        libc::EPERM
    );
    let args = calls::removexattr::Args {
        xattr: "user.a".into(),
        path: p("/l"),
    };
    removexattr(&mut d, &mut io, args).unwrap();
    assert_eq!(host_get(&root.join("f"), "user.a"), None);
    let args = calls::lremovexattr::Args {
        xattr: "user.z".into(),
        path: p("/f"),
    };
    lremovexattr(&mut d, &mut io, args).unwrap();
    assert_eq!(host_get(&root.join("f"), "user.z"), None);
    // The root directory itself.
    setxattr(&mut d, &mut io, set_args("user.top", "1", 1, "/")).unwrap();
    let top = lgetxattrs(&mut d, &mut io, calls::lgetxattrs::Args { path: p("/") }).unwrap();
    assert_eq!(user(top), [("user.top".to_owned(), b"1".to_vec())]);
}

/// A symlink out of the guest tree resolves inside it.
#[test]
fn symlinks_stay_inside_the_root() {
    let (_fs, mut d, root) = ext4();
    let mut io = TestIo::default();
    let outside = tempfile::NamedTempFile::new().unwrap();
    let _ = rustix::fs::setxattr(outside.path(), "user.secret", b"host", XattrFlags::empty());
    std::os::unix::fs::symlink(outside.path(), root.join("esc")).unwrap();
    let err = getxattrs(&mut d, &mut io, calls::getxattrs::Args { path: p("/esc") }).unwrap_err();
    assert_eq!(err.errno, libc::ENOENT, "{err}");
    let err = setxattr(&mut d, &mut io, set_args("user.x", "1", 1, "/esc")).unwrap_err();
    assert_eq!(err.errno, libc::ENOENT, "{err}");
    let args = calls::getxattr::Args {
        path: p("/../../esc"),
        name: "user.secret".into(),
    };
    assert_eq!(
        getxattr(&mut d, &mut io, args).unwrap_err().errno,
        libc::ENOENT
    );
    assert!(host_get(outside.path(), "user.x").is_none());
}

#[test]
fn lxattrlist_flat_encoding() {
    let (_fs, mut d, root) = ext4();
    let mut io = TestIo::default();
    std::fs::create_dir(root.join("dir")).unwrap();
    std::fs::write(root.join("dir/a"), b"").unwrap();
    std::fs::write(root.join("dir/b"), b"").unwrap();
    setxattr(&mut d, &mut io, set_args("user.one", "1", 1, "/dir/a")).unwrap();
    setxattr(&mut d, &mut io, set_args("user.two", "22", 2, "/dir/a")).unwrap();
    let args = calls::lxattrlist::Args {
        path: p("/dir"),
        names: vec!["a".into(), "missing".into(), "b".into()],
    };
    let list = lxattrlist(&mut d, &mut io, args).unwrap();
    let marker = |x: &XAttr| x.attrname.is_empty();
    assert!(marker(&list[0]));
    let n: usize = std::str::from_utf8(&list[0].attrval)
        .unwrap()
        .parse()
        .unwrap();
    let mut first: Vec<_> = list[1..=n]
        .iter()
        .filter(|x| x.attrname.starts_with("user."))
        .cloned()
        .collect();
    first.sort_by(|a, b| a.attrname.cmp(&b.attrname));
    assert_eq!(
        first,
        [
            XAttr {
                attrname: "user.one".into(),
                attrval: b"1".to_vec()
            },
            XAttr {
                attrname: "user.two".into(),
                attrval: b"22".to_vec()
            },
        ]
    );
    // The missing file: an empty marker; then b's marker and entries.
    assert_eq!(
        list[n + 1],
        XAttr {
            attrname: String::new(),
            attrval: Vec::new()
        }
    );
    let rest = &list[n + 2..];
    assert!(marker(&rest[0]));
    let m: usize = std::str::from_utf8(&rest[0].attrval)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(rest.len(), m + 1);
    io.cancel = true;
    let args = calls::lxattrlist::Args {
        path: p("/dir"),
        names: vec!["a".into()],
    };
    assert_eq!(
        lxattrlist(&mut d, &mut io, args).unwrap_err().kind,
        protocol::ErrorKind::Cancelled
    );
}
