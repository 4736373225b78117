//! rm_f, ln, ln_f, ln_sf, rename, cp_r, copy_attributes and lchown.

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

use protocol::{calls, Daemon, ErrorKind};

use super::{errno, io};
use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{each_fs, p};

fn umask(d: &mut GuestDaemon) -> u32 {
    d.get_umask(&mut io(), calls::get_umask::Args {}).unwrap() as u32
}

#[test]
fn rm_f_ignores_only_missing_files() {
    each_fs(|fstype, d, root| {
        fs::write(root.join("f"), "x").unwrap();
        fs::create_dir(root.join("dir")).unwrap();
        let rm_f = |d: &mut GuestDaemon, path: &str| {
            d.rm_f(&mut io(), calls::rm_f::Args { path: p(path) })
        };
        rm_f(d, "/f").unwrap();
        assert!(!root.join("f").exists(), "{fstype}");
        rm_f(d, "/f").unwrap();
        rm_f(d, "/missing/below").unwrap();
        assert_eq!(errno(rm_f(d, "/dir")), libc::EISDIR, "{fstype}");
        assert!(root.join("dir").is_dir());
    });
}

#[test]
fn hard_and_forced_links() {
    each_fs(|fstype, d, root| {
        if fstype == "vfat" {
            return; // no hard links or symlinks on FAT
        }
        fs::write(root.join("t"), "target").unwrap();
        fs::write(root.join("other"), "other").unwrap();
        fs::create_dir(root.join("dir")).unwrap();
        let ln = |d: &mut GuestDaemon, t: &str, l: &str, force: bool| {
            let (target, linkname) = (p(t), p(l));
            if force {
                d.ln_f(&mut io(), calls::ln_f::Args { target, linkname })
            } else {
                d.ln(&mut io(), calls::ln::Args { target, linkname })
            }
        };
        ln(d, "/t", "/h", false).unwrap();
        let ino = fs::metadata(root.join("t")).unwrap().ino();
        assert_eq!(fs::metadata(root.join("h")).unwrap().ino(), ino);
        assert_eq!(fs::metadata(root.join("t")).unwrap().nlink(), 2);
        // Into a directory, as ln.
        ln(d, "/t", "/dir", false).unwrap();
        assert_eq!(fs::metadata(root.join("dir/t")).unwrap().ino(), ino);
        assert_eq!(errno(ln(d, "/t", "/other", false)), libc::EEXIST);
        ln(d, "/t", "/other", true).unwrap();
        assert_eq!(fs::metadata(root.join("other")).unwrap().ino(), ino);
        // ln -f of a file onto itself is refused and leaves it.
        assert_eq!(errno(ln(d, "/t", "/h", true)), libc::EINVAL);
        assert_eq!(fs::read_to_string(root.join("h")).unwrap(), "target");
        assert_eq!(errno(ln(d, "/missing", "/m", false)), libc::ENOENT);

        // ln_sf replaces a file or a symlink, never a directory.
        let ln_sf = |d: &mut GuestDaemon, t: &str, l: &str| {
            d.ln_sf(
                &mut io(),
                calls::ln_sf::Args {
                    target: t.into(),
                    linkname: p(l),
                },
            )
        };
        ln_sf(d, "../t", "/other").unwrap();
        assert_eq!(
            fs::read_link(root.join("other")).unwrap().to_str(),
            Some("../t")
        );
        ln_sf(d, "/elsewhere", "/other").unwrap();
        assert_eq!(
            fs::read_link(root.join("other")).unwrap().to_str(),
            Some("/elsewhere")
        );
        ln_sf(d, "t", "/new").unwrap();
        assert_eq!(fs::read_to_string(root.join("new")).unwrap(), "target");
        assert_eq!(errno(ln_sf(d, "t", "/dir")), libc::EISDIR);
        assert!(root.join("dir").is_dir());
    });
}

#[test]
fn rename_is_rename2() {
    each_fs(|fstype, d, root| {
        fs::write(root.join("a"), "a").unwrap();
        fs::create_dir(root.join("dir")).unwrap();
        let rename = |d: &mut GuestDaemon, o: &str, n: &str| {
            d.rename(
                &mut io(),
                calls::rename::Args {
                    oldpath: p(o),
                    newpath: p(n),
                },
            )
        };
        rename(d, "/a", "/b").unwrap();
        assert!(
            !root.join("a").exists() && root.join("b").is_file(),
            "{fstype}"
        );
        rename(d, "/b", "/dir/c").unwrap();
        assert_eq!(fs::read_to_string(root.join("dir/c")).unwrap(), "a");
        // Not mv: a file onto a directory fails.
        fs::write(root.join("e"), "e").unwrap();
        assert_eq!(errno(rename(d, "/e", "/dir")), libc::EISDIR, "{fstype}");
        assert_eq!(errno(rename(d, "/missing", "/z")), libc::ENOENT);
    });
}

#[test]
fn cp_r_copies_trees_without_attributes() {
    each_fs(|fstype, d, root| {
        let mask = umask(d);
        fs::create_dir_all(root.join("src/sub")).unwrap();
        fs::write(root.join("src/f"), "file").unwrap();
        fs::write(root.join("src/sub/g"), "deep").unwrap();
        let native = fstype != "vfat";
        if native {
            fs::set_permissions(root.join("src/f"), fs::Permissions::from_mode(0o750)).unwrap();
            std::os::unix::fs::chown(root.join("src/f"), Some(1234), Some(1234)).unwrap();
            symlink("f", root.join("src/link")).unwrap();
            fs::hard_link(root.join("src/f"), root.join("src/hard")).unwrap();
        }
        d.cp_r(
            &mut io(),
            calls::cp_r::Args {
                src: p("/src"),
                dest: p("/dst"),
            },
        )
        .unwrap();
        assert_eq!(fs::read_to_string(root.join("dst/f")).unwrap(), "file");
        assert_eq!(fs::read_to_string(root.join("dst/sub/g")).unwrap(), "deep");
        if native {
            let m = fs::symlink_metadata(root.join("dst/f")).unwrap();
            assert_eq!(m.mode() & 0o777, 0o750 & !mask, "{fstype}");
            assert_eq!(m.uid(), 0, "{fstype}: owner not kept");
            assert_eq!(
                fs::read_link(root.join("dst/link")).unwrap().to_str(),
                Some("f")
            );
            let hard = fs::metadata(root.join("dst/hard")).unwrap();
            assert_ne!(hard.ino(), m.ino(), "{fstype}: hard links not kept");
        }
        // Into an existing directory, under the source's name.
        fs::create_dir(root.join("into")).unwrap();
        d.cp_r(
            &mut io(),
            calls::cp_r::Args {
                src: p("/src"),
                dest: p("/into"),
            },
        )
        .unwrap();
        assert_eq!(
            fs::read_to_string(root.join("into/src/sub/g")).unwrap(),
            "deep"
        );
        let e = d.cp_r(
            &mut io(),
            calls::cp_r::Args {
                src: p("/src"),
                dest: p("/src/sub"),
            },
        );
        assert_eq!(errno(e), libc::EINVAL);
    });
}

#[test]
fn copy_attributes_copies_what_is_asked() {
    each_fs(|fstype, d, root| {
        if fstype == "vfat" {
            return; // FAT keeps neither modes, owners nor xattrs
        }
        fs::write(root.join("s"), "s").unwrap();
        // chown clears set-uid: owner first.
        std::os::unix::fs::chown(root.join("s"), Some(42), Some(43)).unwrap();
        fs::set_permissions(root.join("s"), fs::Permissions::from_mode(0o4751)).unwrap();
        // The host's own xattr calls (no attr package needed).
        let xattr = |path: &std::path::Path| {
            let mut buf = [0u8; 64];
            rustix::fs::getxattr(path, "user.k", &mut buf[..])
                .map(|n| buf[..n].to_vec())
                .ok()
        };
        rustix::fs::setxattr(
            root.join("s"),
            "user.k",
            b"val",
            rustix::fs::XattrFlags::empty(),
        )
        .unwrap();
        let reset = |name: &str| {
            let path = root.join(name);
            fs::write(&path, "d").unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        };
        let copy = |d: &mut GuestDaemon, dest: &str, all, mode, xattributes, ownership| {
            d.copy_attributes(
                &mut io(),
                calls::copy_attributes::Args {
                    src: p("/s"),
                    dest: p(dest),
                    all,
                    mode,
                    xattributes,
                    ownership,
                },
            )
        };
        // Nothing by default.
        reset("none");
        copy(d, "/none", None, None, None, None).unwrap();
        let m = fs::metadata(root.join("none")).unwrap();
        assert_eq!((m.mode() & 0o7777, m.uid()), (0o600, 0));
        // Mode only.
        reset("mode");
        copy(d, "/mode", None, Some(true), None, None).unwrap();
        let m = fs::metadata(root.join("mode")).unwrap();
        assert_eq!((m.mode() & 0o7777, m.uid()), (0o4751, 0));
        assert_eq!(xattr(&root.join("mode")), None);
        // All, with mode turned off.
        reset("all");
        copy(d, "/all", Some(true), Some(false), None, None).unwrap();
        let m = fs::metadata(root.join("all")).unwrap();
        assert_eq!(
            (m.mode() & 0o7777, m.uid(), m.gid()),
            (0o600, 42, 43),
            "{fstype}"
        );
        assert_eq!(
            xattr(&root.join("all")).as_deref(),
            Some(&b"val"[..]),
            "{fstype}"
        );
        // All: set-uid survives because the owner goes first.
        reset("every");
        copy(d, "/every", Some(true), None, None, None).unwrap();
        let m = fs::metadata(root.join("every")).unwrap();
        assert_eq!((m.mode() & 0o7777, m.uid()), (0o4751, 42));
        let e = copy(d, "/missing", Some(true), None, None, None);
        assert_eq!(errno(e), libc::ENOENT);
    });
}

#[test]
fn lchown_changes_the_link_itself() {
    each_fs(|fstype, d, root| {
        if fstype == "vfat" {
            return;
        }
        fs::write(root.join("f"), "f").unwrap();
        symlink("/f", root.join("l")).unwrap();
        d.lchown(
            &mut io(),
            calls::lchown::Args {
                owner: 1000,
                group: 1001,
                path: p("/l"),
            },
        )
        .unwrap();
        let l = fs::symlink_metadata(root.join("l")).unwrap();
        assert_eq!((l.uid(), l.gid()), (1000, 1001), "{fstype}");
        assert_eq!(fs::metadata(root.join("f")).unwrap().uid(), 0);
        d.lchown(
            &mut io(),
            calls::lchown::Args {
                owner: -1,
                group: 7,
                path: p("/f"),
            },
        )
        .unwrap();
        let f = fs::metadata(root.join("f")).unwrap();
        assert_eq!((f.uid(), f.gid()), (0, 7));
        let e = d.lchown(
            &mut io(),
            calls::lchown::Args {
                owner: -2,
                group: 0,
                path: p("/f"),
            },
        );
        assert_eq!(e.unwrap_err().kind, ErrorKind::InvalidArgument);
    });
}
