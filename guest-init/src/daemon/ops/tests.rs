//! Tree-changing calls on real ext4, xfs and vfat filesystems, and the
//! guarantee that symlinks and `..` never take them outside the root (tests/escape.rs).

mod escape;
mod links;

use std::fs;
use std::os::unix::fs::{symlink, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use protocol::{calls, Daemon, ErrorKind, ErrorReply};

use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{each_fs, p, run, LoopFs, TestIo};

#[track_caller]
pub(super) fn errno<T: std::fmt::Debug>(r: Result<T, ErrorReply>) -> i32 {
    let e = r.expect_err("should fail");
    assert_eq!(e.kind, ErrorKind::Errno, "{e:?}");
    e.errno
}

#[track_caller]
pub(super) fn kind<T: std::fmt::Debug>(r: Result<T, ErrorReply>) -> ErrorKind {
    r.expect_err("should fail").kind
}

pub(super) fn io() -> TestIo {
    TestIo::default()
}

pub(super) fn mkdir(d: &mut GuestDaemon, path: &str) -> Result<(), ErrorReply> {
    d.mkdir(&mut io(), calls::mkdir::Args { path: p(path) })
}
pub(super) fn mkdir_p(d: &mut GuestDaemon, path: &str) -> Result<(), ErrorReply> {
    d.mkdir_p(&mut io(), calls::mkdir_p::Args { path: p(path) })
}
pub(super) fn rm_rf(d: &mut GuestDaemon, path: &str) -> Result<(), ErrorReply> {
    d.rm_rf(&mut io(), calls::rm_rf::Args { path: p(path) })
}
pub(super) fn cp(d: &mut GuestDaemon, src: &str, dest: &str) -> Result<(), ErrorReply> {
    d.cp(
        &mut io(),
        calls::cp::Args {
            src: p(src),
            dest: p(dest),
        },
    )
}
pub(super) fn cp_a(d: &mut GuestDaemon, src: &str, dest: &str) -> Result<(), ErrorReply> {
    d.cp_a(
        &mut io(),
        calls::cp_a::Args {
            src: p(src),
            dest: p(dest),
        },
    )
}
pub(super) fn mv(d: &mut GuestDaemon, src: &str, dest: &str) -> Result<(), ErrorReply> {
    d.mv(
        &mut io(),
        calls::mv::Args {
            src: p(src),
            dest: p(dest),
        },
    )
}
pub(super) fn ln_s(d: &mut GuestDaemon, target: &str, linkname: &str) -> Result<(), ErrorReply> {
    d.ln_s(
        &mut io(),
        calls::ln_s::Args {
            target: target.into(),
            linkname: p(linkname),
        },
    )
}
pub(super) fn chmod(d: &mut GuestDaemon, mode: i64, path: &str) -> Result<(), ErrorReply> {
    d.chmod(
        &mut io(),
        calls::chmod::Args {
            mode,
            path: p(path),
        },
    )
}
pub(super) fn chown(
    d: &mut GuestDaemon,
    owner: i64,
    group: i64,
    path: &str,
) -> Result<(), ErrorReply> {
    d.chown(
        &mut io(),
        calls::chown::Args {
            owner,
            group,
            path: p(path),
        },
    )
}
pub(super) fn utimens(
    d: &mut GuestDaemon,
    path: &str,
    at: (i64, i64),
    mt: (i64, i64),
) -> Result<(), ErrorReply> {
    d.utimens(
        &mut io(),
        calls::utimens::Args {
            path: p(path),
            atsecs: at.0,
            atnsecs: at.1,
            mtsecs: mt.0,
            mtnsecs: mt.1,
        },
    )
}

fn mode_of(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn directories_and_removal() {
    each_fs(|fstype, d, root| {
        mkdir(d, "/d").unwrap();
        assert!(root.join("d").is_dir());
        assert_eq!(errno(mkdir(d, "/d")), libc::EEXIST, "{fstype}");
        assert_eq!(errno(mkdir(d, "/x/y")), libc::ENOENT);
        assert_eq!(kind(mkdir(d, "/")), ErrorKind::InvalidArgument);
        mkdir_p(d, "/p/q/r").unwrap();
        assert!(root.join("p/q/r").is_dir());
        mkdir_p(d, "/p/q/r").unwrap();
        mkdir_p(d, "/p/q/r/").unwrap();
        mkdir_p(d, "/").unwrap();
        mkdir_p(d, "/m/n/..").unwrap();
        assert!(root.join("m/n").is_dir());
        mkdir_p(d, "/p/../s/./t").unwrap();
        assert!(root.join("s/t").is_dir());
        fs::write(root.join("file"), "x").unwrap();
        assert_eq!(errno(mkdir_p(d, "/file")), libc::EEXIST);
        assert_eq!(errno(mkdir_p(d, "/file/sub")), libc::ENOTDIR);

        let rmdir = |d: &mut GuestDaemon, path: &str| {
            d.rmdir(&mut io(), calls::rmdir::Args { path: p(path) })
        };
        let rm =
            |d: &mut GuestDaemon, path: &str| d.rm(&mut io(), calls::rm::Args { path: p(path) });
        assert_eq!(errno(rmdir(d, "/p")), libc::ENOTEMPTY);
        assert_eq!(errno(rmdir(d, "/file")), libc::ENOTDIR);
        assert_eq!(errno(rmdir(d, "/none")), libc::ENOENT);
        rmdir(d, "/p/q/r").unwrap();
        assert!(!root.join("p/q/r").exists());
        assert_eq!(errno(rm(d, "/d")), libc::EISDIR);
        assert_eq!(errno(rm(d, "/none")), libc::ENOENT);
        rm(d, "/file").unwrap();
        assert!(!root.join("file").exists());

        // rm_rf: trees, files, missing paths; never "/".
        fs::create_dir_all(root.join("tree/a/b/c")).unwrap();
        fs::write(root.join("tree/a/b/c/f"), "f").unwrap();
        fs::write(root.join("tree/g"), "g").unwrap();
        let mut cancelled = TestIo {
            cancel: true,
            ..Default::default()
        };
        let e = d
            .rm_rf(&mut cancelled, calls::rm_rf::Args { path: p("/tree") })
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Cancelled);
        assert!(root.join("tree/a/b/c/f").exists());
        rm_rf(d, "/tree").unwrap();
        assert!(!root.join("tree").exists());
        rm_rf(d, "/tree").unwrap();
        rm_rf(d, "/none/deeper").unwrap();
        fs::write(root.join("single"), "s").unwrap();
        rm_rf(d, "/single").unwrap();
        assert!(!root.join("single").exists());
        rm_rf(d, "/single/x").unwrap();
        for refused in ["/", "//", "/s/..", "/."] {
            assert_eq!(
                kind(rm_rf(d, refused)),
                ErrorKind::InvalidArgument,
                "{refused}"
            );
        }
        assert!(root.join("s/t").is_dir());
    });
}

#[test]
fn copying_files() {
    each_fs(|fstype, d, root| {
        let vfat = fstype == "vfat";
        fs::write(root.join("src"), "contents").unwrap();
        fs::create_dir(root.join("dir")).unwrap();
        cp(d, "/src", "/dst").unwrap();
        assert_eq!(fs::read(root.join("dst")).unwrap(), b"contents");
        cp(d, "/src", "/dir").unwrap();
        assert_eq!(fs::read(root.join("dir/src")).unwrap(), b"contents");
        fs::write(root.join("dst"), "a much longer old content").unwrap();
        if !vfat {
            fs::set_permissions(root.join("dst"), fs::Permissions::from_mode(0o600)).unwrap();
        }
        cp(d, "/src", "/dst").unwrap();
        assert_eq!(fs::read(root.join("dst")).unwrap(), b"contents");
        if !vfat {
            assert_eq!(
                mode_of(&root.join("dst")),
                0o600,
                "an existing file keeps its mode"
            );
        }
        let e = cp(d, "/src", "/src").unwrap_err();
        assert_eq!(e.errno, libc::EINVAL, "{e:?}");
        assert_eq!(
            fs::read(root.join("src")).unwrap(),
            b"contents",
            "not truncated"
        );
        assert_eq!(errno(cp(d, "/dir", "/dir2")), libc::EISDIR);
        assert_eq!(errno(cp(d, "/none", "/x")), libc::ENOENT);
        assert_eq!(errno(cp(d, "/src", "/nodir/x")), libc::ENOENT);

        // Big and sparse: several chunks, holes kept where the fs has them.
        let big = fs::File::create(root.join("big")).unwrap();
        big.set_len(3 << 20).unwrap();
        std::os::unix::fs::FileExt::write_all_at(&big, b"middle", 1 << 20).unwrap();
        std::os::unix::fs::FileExt::write_all_at(&big, b"end", (3 << 20) - 3).unwrap();
        drop(big);
        cp(d, "/big", "/big2").unwrap();
        assert!(fs::read(root.join("big")).unwrap() == fs::read(root.join("big2")).unwrap());
        if !vfat {
            let blocks = fs::metadata(root.join("big2")).unwrap().blocks();
            assert!(blocks < 1024, "{blocks} blocks: holes should stay holes");
        }
        let mut cancelled = TestIo {
            cancel: true,
            ..Default::default()
        };
        let e = d
            .cp(
                &mut cancelled,
                calls::cp::Args {
                    src: p("/big"),
                    dest: p("/big3"),
                },
            )
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Cancelled);
    });
}

#[test]
fn copying_trees() {
    each_fs(|fstype, d, root| {
        let vfat = fstype == "vfat";
        let src = root.join("src");
        fs::create_dir_all(src.join("sub/deeper")).unwrap();
        fs::write(src.join("sub/deeper/f"), "deep").unwrap();
        fs::write(src.join("top"), "top").unwrap();
        if !vfat {
            fs::hard_link(src.join("top"), src.join("sub/hard")).unwrap();
            symlink("../top", src.join("sub/link")).unwrap();
            fs::set_permissions(src.join("top"), fs::Permissions::from_mode(0o4750)).unwrap();
            fs::set_permissions(src.join("sub"), fs::Permissions::from_mode(0o710)).unwrap();
            std::os::unix::fs::lchown(src.join("top"), Some(123), Some(456)).unwrap();
            std::os::unix::fs::lchown(src.join("sub/link"), Some(7), Some(8)).unwrap();
            // chown cleared the set-id bit; put it back.
            fs::set_permissions(src.join("top"), fs::Permissions::from_mode(0o4750)).unwrap();
            rustix::fs::mknodat(
                rustix::fs::CWD,
                src.join("fifo"),
                rustix::fs::FileType::Fifo,
                rustix::fs::Mode::from_raw_mode(0o640),
                0,
            )
            .unwrap();
            let _ = xattr_set(&src.join("top"));
        }
        // Even seconds: vfat keeps mtimes to 2 s.
        utimens(
            d,
            "/src/sub/deeper/f",
            (1_500_000_000, 0),
            (1_400_000_000, 0),
        )
        .unwrap();
        utimens(d, "/src/sub", (1_500_000_000, 0), (1_300_000_000, 0)).unwrap();

        cp_a(d, "/src", "/copy").unwrap();
        let copy = root.join("copy");
        assert_eq!(
            fs::read(copy.join("sub/deeper/f")).unwrap(),
            b"deep",
            "{fstype}"
        );
        assert_eq!(fs::read(copy.join("top")).unwrap(), b"top");
        let mtime = |path: &Path| fs::symlink_metadata(path).unwrap().mtime();
        assert_eq!(mtime(&copy.join("sub/deeper/f")), 1_400_000_000);
        assert_eq!(
            mtime(&copy.join("sub")),
            1_300_000_000,
            "directory times set after its contents"
        );
        if !vfat {
            let top = fs::metadata(copy.join("top")).unwrap();
            assert_eq!((top.uid(), top.gid()), (123, 456));
            assert_eq!(top.mode() & 0o7777, 0o4750);
            assert_eq!(mode_of(&copy.join("sub")), 0o710);
            let hard = fs::metadata(copy.join("sub/hard")).unwrap();
            assert_eq!(hard.ino(), top.ino(), "hard links stay linked");
            assert_eq!(
                fs::read_link(copy.join("sub/link")).unwrap(),
                Path::new("../top")
            );
            let link = fs::symlink_metadata(copy.join("sub/link")).unwrap();
            assert_eq!((link.uid(), link.gid()), (7, 8));
            assert!(fs::symlink_metadata(copy.join("fifo"))
                .unwrap()
                .file_type()
                .is_fifo());
            assert_eq!(xattr_get(&src.join("top")), xattr_get(&copy.join("top")));
        }

        // Into an existing directory; over an existing tree (merged).
        fs::create_dir(root.join("into")).unwrap();
        cp_a(d, "/src", "/into").unwrap();
        assert_eq!(fs::read(root.join("into/src/top")).unwrap(), b"top");
        cp_a(d, "/src/top", "/copy/sub/deeper/f").unwrap();
        assert_eq!(fs::read(copy.join("sub/deeper/f")).unwrap(), b"top");
        cp_a(d, "/src", "/into").unwrap();
        assert_eq!(
            errno(cp_a(d, "/src", "/src/sub")),
            libc::EINVAL,
            "into itself"
        );
        assert_eq!(errno(cp_a(d, "/src", "/src")), libc::EINVAL);
        assert_eq!(errno(cp_a(d, "/none", "/x")), libc::ENOENT);
        assert_eq!(errno(cp_a(d, "/src", "/copy/top")), libc::ENOTDIR);

        let mut cancelled = TestIo {
            cancel: true,
            ..Default::default()
        };
        let e = d
            .cp_a(
                &mut cancelled,
                calls::cp_a::Args {
                    src: p("/src"),
                    dest: p("/c2"),
                },
            )
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Cancelled);
    });
}

fn xattr_set(path: &Path) -> rustix::io::Result<()> {
    rustix::fs::setxattr(path, "user.test", b"value", rustix::fs::XattrFlags::empty())
}

fn xattr_get(path: &Path) -> Option<Vec<u8>> {
    let mut buf = [0u8; 64];
    let n = rustix::fs::getxattr(path, "user.test", &mut buf[..]).ok()?;
    Some(buf[..n].to_vec())
}

#[test]
fn moving() {
    each_fs(|fstype, d, root| {
        fs::write(root.join("a"), "a").unwrap();
        fs::create_dir_all(root.join("dir/sub")).unwrap();
        fs::write(root.join("dir/sub/f"), "f").unwrap();
        mv(d, "/a", "/b").unwrap();
        assert!(!root.join("a").exists());
        assert_eq!(fs::read(root.join("b")).unwrap(), b"a");
        fs::create_dir(root.join("target")).unwrap();
        mv(d, "/b", "/target").unwrap();
        assert_eq!(fs::read(root.join("target/b")).unwrap(), b"a");
        mv(d, "/dir", "/dir2").unwrap();
        assert_eq!(fs::read(root.join("dir2/sub/f")).unwrap(), b"f");
        assert_eq!(errno(mv(d, "/none", "/x")), libc::ENOENT);
        assert_eq!(errno(mv(d, "/dir2", "/dir2/sub/x")), libc::EINVAL);

        // Across filesystems: copied, then the source removed.
        let other = LoopFs::new("ext4", 32, "OTHER");
        fs::create_dir(root.join("mnt")).unwrap();
        let mnt = root.join("mnt");
        run("mount", &[&other.device, mnt.to_str().unwrap()]);
        utimens(d, "/dir2/sub/f", (1_500_000_000, 0), (1_400_000_000, 0)).unwrap();
        let moved = mv(d, "/dir2", "/mnt/moved");
        let file = mv(d, "/target/b", "/mnt");
        let result = (
            fs::read(mnt.join("moved/sub/f")).ok(),
            fs::metadata(mnt.join("moved/sub/f"))
                .map(|m| m.mtime())
                .ok(),
            fs::read(mnt.join("b")).ok(),
            root.join("dir2").exists(),
            root.join("target/b").exists(),
        );
        run("umount", &[mnt.to_str().unwrap()]);
        moved.unwrap();
        file.unwrap();
        assert_eq!(
            result,
            (
                Some(b"f".to_vec()),
                Some(1_400_000_000),
                Some(b"a".to_vec()),
                false,
                false
            ),
            "{fstype}"
        );
    });
}

#[test]
fn links_modes_owners_times() {
    each_fs(|fstype, d, root| {
        let vfat = fstype == "vfat";
        fs::write(root.join("f"), "f").unwrap();
        fs::create_dir(root.join("dir")).unwrap();
        if vfat {
            // vfat has no symlinks, owners or set-id bits: the
            // filesystem's own errors come back. (A mode it cannot hold
            // is silently left unchanged by the kernel.)
            assert_eq!(errno(ln_s(d, "f", "/l")), libc::EPERM);
            assert_eq!(errno(chmod(d, 0o4755, "/f")), libc::EPERM);
            chmod(d, 0o644, "/f").unwrap();
            assert_ne!(mode_of(&root.join("f")) & 0o111, 0);
            assert_eq!(errno(chown(d, 123, 456, "/f")), libc::EPERM);
            chown(d, 0, 0, "/f").unwrap();
        } else {
            ln_s(d, "f", "/l").unwrap();
            ln_s(d, "/any/thing", "/abs").unwrap();
            assert_eq!(
                fs::read_link(root.join("abs")).unwrap(),
                Path::new("/any/thing")
            );
            assert_eq!(errno(ln_s(d, "f", "/l")), libc::EEXIST);
            chmod(d, 0o640, "/f").unwrap();
            assert_eq!(mode_of(&root.join("f")), 0o640);
            chmod(d, 0o4711, "/l").unwrap();
            assert_eq!(mode_of(&root.join("f")), 0o4711, "chmod follows symlinks");
            chown(d, 123, 456, "/l").unwrap();
            let m = fs::metadata(root.join("f")).unwrap();
            assert_eq!((m.uid(), m.gid()), (123, 456), "chown follows symlinks");
            let l = fs::symlink_metadata(root.join("l")).unwrap();
            assert_eq!((l.uid(), l.gid()), (0, 0));
            chown(d, -1, 789, "/f").unwrap();
            let m = fs::metadata(root.join("f")).unwrap();
            assert_eq!((m.uid(), m.gid()), (123, 789));
            // utimens does not follow: the link's own times change.
            utimens(d, "/l", (1_000_000_000, 5), (1_000_000_001, 7)).unwrap();
            let l = fs::symlink_metadata(root.join("l")).unwrap();
            assert_eq!((l.mtime(), l.mtime_nsec()), (1_000_000_001, 7));
            assert_ne!(fs::metadata(root.join("f")).unwrap().mtime(), 1_000_000_001);
        }
        fs::write(root.join("g"), "g").unwrap();
        chmod(d, 0o555, "/g").unwrap();
        assert_eq!(mode_of(&root.join("g")) & 0o222, 0);
        assert_eq!(kind(chmod(d, -1, "/f")), ErrorKind::InvalidArgument);
        assert_eq!(kind(chmod(d, 0o10000, "/f")), ErrorKind::InvalidArgument);
        assert_eq!(errno(chmod(d, 0o644, "/none")), libc::ENOENT);
        assert_eq!(kind(chown(d, -2, 0, "/f")), ErrorKind::InvalidArgument);
        assert_eq!(kind(chown(d, 0, 1 << 32, "/f")), ErrorKind::InvalidArgument);
        assert_eq!(errno(chown(d, 0, 0, "/none")), libc::ENOENT);

        utimens(d, "/f", (1_200_000_000, 0), (1_100_000_000, 0)).unwrap();
        assert_eq!(fs::metadata(root.join("f")).unwrap().mtime(), 1_100_000_000);
        if !vfat {
            utimens(
                d,
                "/f",
                (1_200_000_000, 123_456_789),
                (1_100_000_000, 987_654_321),
            )
            .unwrap();
            let m = fs::metadata(root.join("f")).unwrap();
            assert_eq!((m.atime(), m.atime_nsec()), (1_200_000_000, 123_456_789));
            assert_eq!((m.mtime(), m.mtime_nsec()), (1_100_000_000, 987_654_321));
        }
        // -2 leaves a time alone, -1 is now.
        utimens(d, "/f", (0, -1), (0, -2)).unwrap();
        let m = fs::metadata(root.join("f")).unwrap();
        assert_eq!(m.mtime(), 1_100_000_000, "{fstype}");
        assert!(m.atime() > 1_700_000_000);
        utimens(d, "/", (0, -2), (1_000_000_000, 0)).unwrap();
        assert_eq!(
            kind(utimens(d, "/f", (0, 1_000_000_000), (0, 0))),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(utimens(d, "/f", (0, 0), (0, -3))),
            ErrorKind::InvalidArgument
        );
        assert_eq!(errno(utimens(d, "/none", (0, 0), (0, 0))), libc::ENOENT);
    });
}
