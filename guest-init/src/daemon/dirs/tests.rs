//! Directory and stat calls on real ext4, xfs and vfat filesystems.

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;

use protocol::types::Dirent;
use protocol::{calls, Daemon, ErrorKind, ErrorReply};

use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{each_fs, p, TestIo};

#[track_caller]
fn errno<T: std::fmt::Debug>(r: Result<T, ErrorReply>) -> i32 {
    let e = r.expect_err("should fail");
    assert_eq!(e.kind, ErrorKind::Errno, "{e:?}");
    e.errno
}

fn io() -> TestIo {
    TestIo::default()
}

/// /t/{a/{b/deep, f}, b.txt, c/} plus, where the filesystem has them, a
/// symlink to a directory, a dangling symlink and a FIFO.
fn tree(root: &Path, vfat: bool) {
    let t = root.join("t");
    fs::create_dir_all(t.join("a/b")).unwrap();
    fs::create_dir(t.join("c")).unwrap();
    fs::write(t.join("a/b/deep"), "deep").unwrap();
    fs::write(t.join("a/f"), "f").unwrap();
    fs::write(t.join("b.txt"), "hello").unwrap();
    if !vfat {
        symlink("a", t.join("ln")).unwrap();
        symlink("/nowhere", t.join("dangling")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            t.join("fifo"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
    }
}

fn ls(d: &mut GuestDaemon, path: &str) -> Result<Vec<String>, ErrorReply> {
    d.ls(&mut io(), calls::ls::Args { directory: p(path) })
}

fn find(d: &mut GuestDaemon, path: &str) -> Result<Vec<String>, ErrorReply> {
    d.find(&mut io(), calls::find::Args { directory: p(path) })
}

#[test]
fn listing() {
    each_fs(|fstype, d, root| {
        let vfat = fstype == "vfat";
        tree(root, vfat);
        let mut want = vec!["a", "b.txt", "c"];
        if !vfat {
            want.extend(["dangling", "fifo", "ln"]);
            want.sort();
        }
        assert_eq!(ls(d, "/t").unwrap(), want, "{fstype}");
        assert_eq!(ls(d, "/t/").unwrap(), want);
        assert_eq!(ls(d, "/t/a/..").unwrap(), want);
        assert_eq!(ls(d, "/t/c").unwrap(), Vec::<String>::new());
        assert_eq!(errno(ls(d, "/t/missing")), libc::ENOENT);
        assert_eq!(errno(ls(d, "/t/b.txt")), libc::ENOTDIR);

        let mut want = vec!["a", "a/b", "a/b/deep", "a/f", "b.txt", "c"];
        if !vfat {
            // Symlinks are listed, never followed.
            want.extend(["dangling", "fifo", "ln"]);
            want.sort();
            assert_eq!(
                ls(d, "/t/ln").unwrap(),
                ["b", "f"],
                "ls follows the directory symlink"
            );
        }
        // As libguestfs: the directory as given is cut off the full path,
        // so "/t" leaves a leading '/' and "/t/" does not.
        assert_eq!(find(d, "/t/").unwrap(), want);
        let slashed: Vec<String> = want.iter().map(|w| format!("/{w}")).collect();
        assert_eq!(find(d, "/t").unwrap(), slashed);
        assert_eq!(find(d, "/t/a/b").unwrap(), ["/deep"]);
        assert_eq!(errno(find(d, "/t/b.txt")), libc::ENOTDIR);
        assert_eq!(errno(find(d, "/t/none")), libc::ENOENT);
        let all = find(d, "/").unwrap();
        assert!(all.contains(&"t/a/b/deep".to_string()), "{all:?}");
        let mut cancelled = TestIo {
            cancel: true,
            ..Default::default()
        };
        let e = d
            .find(&mut cancelled, calls::find::Args { directory: p("/t") })
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Cancelled);

        let entries = d
            .readdir(&mut io(), calls::readdir::Args { dir: p("/t") })
            .unwrap();
        let find_entry = |name: &str| -> &Dirent {
            entries
                .iter()
                .find(|e| e.name == name)
                .unwrap_or_else(|| panic!("{name} in {entries:?}"))
        };
        assert_eq!(find_entry(".").ftyp, 'd');
        assert_eq!(find_entry("..").ftyp, 'd');
        assert_eq!(find_entry("a").ftyp, 'd');
        assert_eq!(find_entry("b.txt").ftyp, 'r');
        let ino = fs::symlink_metadata(root.join("t/b.txt")).unwrap().ino();
        assert_eq!(find_entry("b.txt").ino, ino as i64);
        if !vfat {
            assert_eq!(find_entry("ln").ftyp, 'l');
            assert_eq!(find_entry("fifo").ftyp, 'f');
        }
        assert_eq!(entries.len(), ls(d, "/t").unwrap().len() + 2);
    });
}

#[test]
fn long_listing() {
    each_fs(|fstype, d, root| {
        let vfat = fstype == "vfat";
        tree(root, vfat);
        let text = d
            .ll(&mut io(), calls::ll::Args { directory: p("/t") })
            .unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("total "), "{text}");
        let line = |name: &str| -> &str {
            lines
                .iter()
                .find(|l| l.ends_with(&format!(" {name}")) || l.contains(&format!(" {name} -> ")))
                .unwrap_or_else(|| panic!("{name} in {text}"))
        };
        assert!(line(".").starts_with('d'));
        assert!(line("..").starts_with('d'));
        assert!(line("a").starts_with('d'));
        let file = line("b.txt");
        assert!(file.starts_with("-rw"), "{file}");
        let fields: Vec<&str> = file.split_whitespace().collect();
        assert_eq!(
            fields[1..5],
            ["1", "0", "0", "5"],
            "{file}: nlink uid gid size"
        );
        if !vfat {
            assert!(line("ln").starts_with('l'));
            assert!(line("ln").ends_with(" ln -> a"), "{text}");
            assert!(line("fifo").starts_with('p'));
        }
        // The guest's /.. is / itself.
        let top = d
            .ll(&mut io(), calls::ll::Args { directory: p("/") })
            .unwrap();
        let dot = top.lines().find(|l| l.ends_with(" .")).unwrap();
        let dotdot = top.lines().find(|l| l.ends_with(" ..")).unwrap();
        assert_eq!(
            dot.trim_end_matches('.'),
            dotdot.trim_end_matches('.'),
            "{top}"
        );
        assert_eq!(
            errno(d.ll(
                &mut io(),
                calls::ll::Args {
                    directory: p("/none")
                }
            )),
            libc::ENOENT
        );
    });
}

#[test]
fn stats_and_predicates() {
    each_fs(|fstype, d, root| {
        let vfat = fstype == "vfat";
        tree(root, vfat);
        let st = d
            .statns(
                &mut io(),
                calls::statns::Args {
                    path: p("/t/b.txt"),
                },
            )
            .unwrap();
        let meta = fs::metadata(root.join("t/b.txt")).unwrap();
        assert_eq!(st.st_size, 5);
        assert_eq!(st.st_ino, meta.ino() as i64);
        assert_eq!(st.st_mode, i64::from(meta.mode()));
        assert_eq!(st.st_mtime_sec, meta.mtime());
        assert_eq!(st.st_mtime_nsec, meta.mtime_nsec());
        assert_eq!(st.st_nlink, 1);
        let lst = d
            .lstatns(
                &mut io(),
                calls::lstatns::Args {
                    path: p("/t/b.txt"),
                },
            )
            .unwrap();
        assert_eq!(lst, st);
        assert_eq!(
            errno(d.statns(&mut io(), calls::statns::Args { path: p("/t/none") })),
            libc::ENOENT
        );
        if !vfat {
            let link = d
                .lstatns(&mut io(), calls::lstatns::Args { path: p("/t/ln") })
                .unwrap();
            assert_eq!(link.st_mode as u32 & libc::S_IFMT, libc::S_IFLNK);
            let target = d
                .statns(&mut io(), calls::statns::Args { path: p("/t/ln") })
                .unwrap();
            assert_eq!(target.st_mode as u32 & libc::S_IFMT, libc::S_IFDIR);
        }

        let vfs = d
            .statvfs(&mut io(), calls::statvfs::Args { path: p("/t") })
            .unwrap();
        assert!(
            vfs.bsize > 0 && vfs.blocks > 0 && vfs.bfree > 0 && vfs.namemax >= 255,
            "{vfs:?}"
        );

        let exists = |d: &mut GuestDaemon, path: &str| {
            d.exists(&mut io(), calls::exists::Args { path: p(path) })
                .unwrap()
        };
        let is_file = |d: &mut GuestDaemon, path: &str, follow: Option<bool>| {
            d.is_file(
                &mut io(),
                calls::is_file::Args {
                    path: p(path),
                    followsymlinks: follow,
                },
            )
            .unwrap()
        };
        let is_dir = |d: &mut GuestDaemon, path: &str, follow: Option<bool>| {
            d.is_dir(
                &mut io(),
                calls::is_dir::Args {
                    path: p(path),
                    followsymlinks: follow,
                },
            )
            .unwrap()
        };
        let is_symlink = |d: &mut GuestDaemon, path: &str| {
            d.is_symlink(&mut io(), calls::is_symlink::Args { path: p(path) })
                .unwrap()
        };
        assert!(exists(d, "/"));
        assert!(exists(d, "/t/b.txt"));
        assert!(!exists(d, "/t/none"));
        assert!(!exists(d, "/t/b.txt/x"), "ENOTDIR is not there");
        assert!(is_file(d, "/t/b.txt", None));
        assert!(!is_file(d, "/t/a", None));
        assert!(!is_file(d, "/t/none", None));
        assert!(is_dir(d, "/t/a", None));
        assert!(is_dir(d, "/", None));
        assert!(!is_dir(d, "/t/b.txt", Some(true)));
        assert!(!is_symlink(d, "/t/b.txt"));
        assert!(!is_symlink(d, "/t/none"));
        let readlink = |d: &mut GuestDaemon, path: &str| {
            d.readlink(&mut io(), calls::readlink::Args { path: p(path) })
        };
        assert_eq!(errno(readlink(d, "/t/b.txt")), libc::EINVAL);
        assert_eq!(errno(readlink(d, "/t/none")), libc::ENOENT);
        if !vfat {
            assert!(exists(d, "/t/ln"));
            assert!(!exists(d, "/t/dangling"), "a dangling link leads nowhere");
            assert!(is_symlink(d, "/t/dangling"));
            assert!(is_symlink(d, "/t/ln"));
            assert!(
                !is_dir(d, "/t/ln", None),
                "followsymlinks defaults to false"
            );
            assert!(!is_dir(d, "/t/ln", Some(false)));
            assert!(is_dir(d, "/t/ln", Some(true)));
            symlink("b.txt", root.join("t/flink")).unwrap();
            assert!(!is_file(d, "/t/flink", None));
            assert!(is_file(d, "/t/flink", Some(true)));
            assert_eq!(readlink(d, "/t/ln").unwrap(), "a");
            assert_eq!(readlink(d, "/t/dangling").unwrap(), "/nowhere");
            symlink("loop", root.join("t/loop")).unwrap();
            assert!(!exists(d, "/t/loop"));
        }
    });
}
