//! File content calls on real ext4, xfs and vfat filesystems.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use protocol::{calls, CallIo, Daemon, ErrorKind, ErrorReply};

use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{each_fs, p, run, TestIo};
use crate::daemon::util::MAX_DATA;

#[track_caller]
fn errno<T: std::fmt::Debug>(r: Result<T, ErrorReply>) -> i32 {
    let e = r.expect_err("should fail");
    assert_eq!(e.kind, ErrorKind::Errno, "{e:?}");
    e.errno
}

#[track_caller]
fn kind<T: std::fmt::Debug>(r: Result<T, ErrorReply>) -> ErrorKind {
    r.expect_err("should fail").kind
}

fn cat(d: &mut GuestDaemon, path: &str) -> Result<String, ErrorReply> {
    d.cat(&mut TestIo::default(), calls::cat::Args { path: p(path) })
}

fn read_file(d: &mut GuestDaemon, path: &str) -> Result<Vec<u8>, ErrorReply> {
    d.read_file(
        &mut TestIo::default(),
        calls::read_file::Args { path: p(path) },
    )
}

fn read_lines(d: &mut GuestDaemon, path: &str) -> Result<Vec<String>, ErrorReply> {
    d.read_lines(
        &mut TestIo::default(),
        calls::read_lines::Args { path: p(path) },
    )
}

fn pread(d: &mut GuestDaemon, path: &str, count: i64, offset: i64) -> Result<Vec<u8>, ErrorReply> {
    d.pread(
        &mut TestIo::default(),
        calls::pread::Args {
            path: p(path),
            count,
            offset,
        },
    )
}

fn write(d: &mut GuestDaemon, path: &str, content: &[u8]) -> Result<(), ErrorReply> {
    d.write(
        &mut TestIo::default(),
        calls::write::Args {
            path: p(path),
            content: content.to_vec(),
        },
    )
}

fn touch(d: &mut GuestDaemon, path: &str) -> Result<(), ErrorReply> {
    d.touch(&mut TestIo::default(), calls::touch::Args { path: p(path) })
}

#[test]
fn reading() {
    each_fs(|fstype, d, root| {
        fs::write(root.join("hello.txt"), "hello\nworld\r\nlast").unwrap();
        fs::write(root.join("bin.dat"), [0xffu8, 0, 1]).unwrap();
        fs::write(root.join("nl.txt"), "\n").unwrap();
        fs::write(root.join("empty"), "").unwrap();
        fs::write(root.join("two.txt"), "a\nb\n").unwrap();
        fs::create_dir(root.join("dir")).unwrap();

        assert_eq!(cat(d, "/hello.txt").unwrap(), "hello\nworld\r\nlast");
        let e = cat(d, "/bin.dat").unwrap_err();
        assert_eq!(e.errno, libc::EILSEQ, "{fstype}");
        assert!(e.message.contains("read_file"), "{}", e.message);
        assert_eq!(read_file(d, "/bin.dat").unwrap(), [0xff, 0, 1]);
        assert_eq!(read_file(d, "/empty").unwrap(), b"");

        assert_eq!(
            read_lines(d, "/hello.txt").unwrap(),
            ["hello", "world", "last"]
        );
        assert_eq!(read_lines(d, "/two.txt").unwrap(), ["a", "b"]);
        assert_eq!(read_lines(d, "/nl.txt").unwrap(), [""]);
        assert!(read_lines(d, "/empty").unwrap().is_empty());
        assert_eq!(read_lines(d, "/bin.dat").unwrap_err().errno, libc::EILSEQ);

        assert_eq!(pread(d, "/hello.txt", 5, 6).unwrap(), b"world");
        assert_eq!(pread(d, "/hello.txt", 100, 13).unwrap(), b"last");
        assert_eq!(pread(d, "/hello.txt", 10, 1000).unwrap(), b"");
        assert_eq!(
            kind(pread(d, "/hello.txt", -1, 0)),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(pread(d, "/hello.txt", 1, -5)),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(pread(d, "/hello.txt", MAX_DATA as i64 + 1, 0)),
            ErrorKind::TooLarge
        );

        assert_eq!(errno(cat(d, "/missing")), libc::ENOENT);
        assert_eq!(errno(read_file(d, "/missing/x")), libc::ENOENT);
        assert_eq!(errno(read_file(d, "/hello.txt/x")), libc::ENOTDIR);
        assert_eq!(errno(cat(d, "/dir")), libc::EISDIR);
        assert_eq!(errno(pread(d, "/missing", 1, 0)), libc::ENOENT);
    });
}

#[test]
fn reads_over_the_message_limit_fail_early() {
    each_fs(|fstype, d, root| {
        let big = fs::File::create(root.join("big")).unwrap();
        big.set_len(MAX_DATA as u64 + 1).unwrap();
        drop(big);
        for r in [
            cat(d, "/big").map(drop),
            read_file(d, "/big").map(drop),
            read_lines(d, "/big").map(drop),
        ] {
            let e = r.unwrap_err();
            assert_eq!(e.kind, ErrorKind::TooLarge, "{fstype}: {e:?}");
            assert!(e.message.contains("download"), "{}", e.message);
        }
        // Exactly at the limit still works, and pread can page through more.
        fs::File::options()
            .write(true)
            .open(root.join("big"))
            .unwrap()
            .set_len(MAX_DATA as u64)
            .unwrap();
        assert_eq!(read_file(d, "/big").unwrap().len(), MAX_DATA);
        assert_eq!(pread(d, "/big", 10, MAX_DATA as i64 - 4).unwrap(), [0; 4]);
    });
}

#[test]
fn writing() {
    each_fs(|fstype, d, root| {
        let vfat = fstype == "vfat";
        write(d, "/new", b"abcdef").unwrap();
        assert_eq!(fs::read(root.join("new")).unwrap(), b"abcdef");
        if !vfat {
            let mode = fs::metadata(root.join("new")).unwrap().permissions().mode();
            assert_eq!(mode & 0o7133, 0, "{mode:o}: 0644 less the umask");
        }
        write(d, "/new", b"xy").unwrap();
        assert_eq!(fs::read(root.join("new")).unwrap(), b"xy");

        let append = |d: &mut GuestDaemon, path: &str, content: &[u8]| {
            d.write_append(
                &mut TestIo::default(),
                calls::write_append::Args {
                    path: p(path),
                    content: content.to_vec(),
                },
            )
        };
        append(d, "/new", b"z").unwrap();
        append(d, "/fresh", b"1").unwrap();
        assert_eq!(fs::read(root.join("new")).unwrap(), b"xyz");
        assert_eq!(fs::read(root.join("fresh")).unwrap(), b"1");

        let pwrite = |d: &mut GuestDaemon, path: &str, content: &[u8], offset: i64| {
            d.pwrite(
                &mut TestIo::default(),
                calls::pwrite::Args {
                    path: p(path),
                    content: content.to_vec(),
                    offset,
                },
            )
        };
        assert_eq!(pwrite(d, "/new", b"Y", 1).unwrap(), 1);
        assert_eq!(pwrite(d, "/new", b"end", 5).unwrap(), 3);
        assert_eq!(fs::read(root.join("new")).unwrap(), b"xYz\0\0end");
        assert_eq!(pwrite(d, "/new", b"", 0).unwrap(), 0);
        assert_eq!(errno(pwrite(d, "/nothere", b"a", 0)), libc::ENOENT);
        assert_eq!(
            kind(pwrite(d, "/new", b"a", -1)),
            ErrorKind::InvalidArgument
        );

        let truncate_size = |d: &mut GuestDaemon, path: &str, size: i64| {
            d.truncate_size(
                &mut TestIo::default(),
                calls::truncate_size::Args {
                    path: p(path),
                    size,
                },
            )
        };
        truncate_size(d, "/new", 100).unwrap();
        assert_eq!(fs::metadata(root.join("new")).unwrap().len(), 100);
        truncate_size(d, "/new", 2).unwrap();
        assert_eq!(fs::read(root.join("new")).unwrap(), b"xY");
        d.truncate(
            &mut TestIo::default(),
            calls::truncate::Args { path: p("/new") },
        )
        .unwrap();
        assert_eq!(fs::metadata(root.join("new")).unwrap().len(), 0);
        assert_eq!(
            kind(truncate_size(d, "/new", -1)),
            ErrorKind::InvalidArgument
        );
        assert_eq!(errno(truncate_size(d, "/nothere", 0)), libc::ENOENT);
        assert!(!root.join("nothere").exists());

        fs::create_dir(root.join("dir")).unwrap();
        assert_eq!(errno(write(d, "/dir", b"x")), libc::EISDIR);
        assert_eq!(errno(write(d, "/nodir/x", b"x")), libc::ENOENT);
    });
}

#[test]
fn touching() {
    each_fs(|fstype, d, root| {
        touch(d, "/t").unwrap();
        assert_eq!(fs::metadata(root.join("t")).unwrap().len(), 0);
        fs::write(root.join("t"), "keep").unwrap();
        let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        fs::File::options()
            .write(true)
            .open(root.join("t"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        touch(d, "/t").unwrap();
        let meta = fs::metadata(root.join("t")).unwrap();
        assert!(meta.modified().unwrap() > old + std::time::Duration::from_secs(86_400));
        assert_eq!(
            fs::read(root.join("t")).unwrap(),
            b"keep",
            "touch keeps the contents"
        );

        fs::create_dir(root.join("dir")).unwrap();
        assert_eq!(kind(touch(d, "/dir")), ErrorKind::InvalidArgument);
        assert_eq!(errno(touch(d, "/nodir/x")), libc::ENOENT);
        if fstype != "vfat" {
            std::os::unix::fs::symlink("t", root.join("link")).unwrap();
            assert_eq!(kind(touch(d, "/link")), ErrorKind::InvalidArgument);
            std::os::unix::fs::symlink("nowhere", root.join("dangling")).unwrap();
            assert_eq!(kind(touch(d, "/dangling")), ErrorKind::InvalidArgument);
            assert!(!root.join("nowhere").exists());
        }
    });
}

/// A CallIo that records the chunks written and can cancel after some.
#[derive(Default)]
struct ChunkIo {
    chunks: Vec<Vec<u8>>,
    cancel_after: Option<usize>,
}

impl CallIo for ChunkIo {
    fn cancelled(&self) -> bool {
        self.cancel_after.is_some_and(|n| self.chunks.len() >= n)
    }
    fn read_chunk(&mut self, _buf: &mut Vec<u8>) -> Result<usize, ErrorReply> {
        Ok(0)
    }
    fn write_chunk(&mut self, data: &[u8]) -> Result<(), ErrorReply> {
        self.chunks.push(data.to_vec());
        Ok(())
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn upload_and_download() {
    each_fs(|fstype, d, root| {
        let data = pattern((5 << 20) / 2);
        let mut io = TestIo::default();
        for piece in data.chunks(1 << 20) {
            io.input.push_back(piece.to_vec());
        }
        fs::write(root.join("up"), vec![1u8; 4 << 20]).unwrap();
        d.upload(
            &mut io,
            calls::upload::Args {
                remotefilename: p("/up"),
            },
        )
        .unwrap();
        assert!(io.input.is_empty());
        assert!(
            fs::read(root.join("up")).unwrap() == data,
            "{fstype}: upload replaces"
        );

        let mut io = ChunkIo::default();
        d.download(
            &mut io,
            calls::download::Args {
                remotefilename: p("/up"),
            },
        )
        .unwrap();
        assert_eq!(io.chunks.len(), 3);
        assert!(io.chunks.iter().all(|c| c.len() <= 1 << 20));
        assert!(io.chunks.concat() == data);

        let mut io = ChunkIo {
            cancel_after: Some(1),
            ..Default::default()
        };
        let e = d
            .download(
                &mut io,
                calls::download::Args {
                    remotefilename: p("/up"),
                },
            )
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Cancelled);
        assert_eq!(io.chunks.len(), 1);

        // A failed open still drains the host's stream.
        let mut io = TestIo::default();
        io.input.extend([vec![1u8; 10], vec![2u8; 10]]);
        let e = d
            .upload(
                &mut io,
                calls::upload::Args {
                    remotefilename: p("/nodir/up"),
                },
            )
            .unwrap_err();
        assert_eq!(e.errno, libc::ENOENT);
        assert!(io.input.is_empty());

        let mut io = TestIo::default();
        d.upload(
            &mut io,
            calls::upload::Args {
                remotefilename: p("/empty"),
            },
        )
        .unwrap();
        assert_eq!(fs::read(root.join("empty")).unwrap(), b"");
        let mut io = TestIo::default();
        d.download(
            &mut io,
            calls::download::Args {
                remotefilename: p("/empty"),
            },
        )
        .unwrap();
        assert!(io.output.is_empty());
        assert_eq!(
            errno(d.download(
                &mut TestIo::default(),
                calls::download::Args {
                    remotefilename: p("/nothere")
                }
            )),
            libc::ENOENT
        );
    });
}

fn remount_ro(root: &Path) {
    run("mount", &["-o", "remount,ro", root.to_str().unwrap()]);
}

#[test]
fn read_only_mount_is_erofs() {
    each_fs(|fstype, d, root| {
        fs::write(root.join("f"), "data").unwrap();
        fs::create_dir(root.join("dir")).unwrap();
        remount_ro(root);
        assert_eq!(errno(write(d, "/f", b"x")), libc::EROFS, "{fstype}");
        assert_eq!(errno(write(d, "/new", b"x")), libc::EROFS);
        assert_eq!(errno(touch(d, "/f")), libc::EROFS);
        let mut io = TestIo::default();
        io.input.extend([vec![1u8; 10], vec![2u8; 10]]);
        assert_eq!(
            errno(d.upload(
                &mut io,
                calls::upload::Args {
                    remotefilename: p("/f")
                }
            )),
            libc::EROFS
        );
        assert!(io.input.is_empty());
        assert_eq!(
            errno(d.mkdir(&mut TestIo::default(), calls::mkdir::Args { path: p("/d") })),
            libc::EROFS
        );
        assert_eq!(
            errno(d.rm(&mut TestIo::default(), calls::rm::Args { path: p("/f") })),
            libc::EROFS
        );
        assert_eq!(
            errno(d.rm_rf(
                &mut TestIo::default(),
                calls::rm_rf::Args { path: p("/dir") }
            )),
            libc::EROFS
        );
        // Reading still works.
        assert_eq!(cat(d, "/f").unwrap(), "data");
        assert_eq!(fs::metadata(root.join("f")).unwrap().size(), 4);
    });
}
