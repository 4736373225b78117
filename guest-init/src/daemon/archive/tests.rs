//! tar_in and tar_out on real filesystems (ext4 and xfs on loop devices;
//! this host's kernel mounts no vfat): round trips (plain and compressed,
//! and with GNU tar on either side), hostile archives, cancellation; raw tar streams in tests/raw.rs.

mod raw;

use std::collections::BTreeMap;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;

use protocol::types::Compression;
use protocol::ErrorKind;

use super::pack::excluded;
use super::*;
use crate::daemon::tests::{p, run, LoopFs, TestIo};
use crate::daemon::util::CHUNK;

/// Runs `test` on a mounted ext4 and a mounted xfs.
pub(super) fn on_real_fs(mut test: impl FnMut(&str, &mut GuestDaemon, &Path)) {
    for (fstype, mib) in [("ext4", 64), ("xfs", 300)] {
        let mut fs = LoopFs::new(fstype, mib, "TAR");
        let mut d = fs.daemon();
        let root = fs
            .mountpoint
            .as_ref()
            .map(|m| m.path().to_path_buf())
            .expect("mounted");
        test(fstype, &mut d, &root);
    }
}

/// A tree with what tar must carry: modes (set-id too), numeric owners,
/// mtimes, symlinks (some leading out), hard links, a fifo, a device,
/// long names and link targets, empty and multi-chunk files.
fn make_tree(dir: &Path) {
    let long = "n".repeat(150);
    std::fs::create_dir_all(dir.join("a/b").join(&long)).unwrap();
    std::fs::write(dir.join("a/b").join(&long).join("deep"), b"deep file").unwrap();
    std::fs::write(dir.join("empty"), b"").unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(dir.join("a/big"), &big).unwrap();
    std::fs::write(dir.join("setuid"), b"#!/bin/sh\n").unwrap();
    std::fs::set_permissions(dir.join("setuid"), std::fs::Permissions::from_mode(0o4755)).unwrap();
    std::fs::write(dir.join("a/private"), b"secret").unwrap();
    std::fs::set_permissions(
        dir.join("a/private"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    std::os::unix::fs::chown(dir.join("a/private"), Some(1234), Some(5678)).unwrap();
    std::fs::hard_link(dir.join("a/private"), dir.join("hardlink")).unwrap();
    symlink("/etc", dir.join("etc-link")).unwrap();
    symlink("../../..", dir.join("a/b/up")).unwrap();
    symlink("big", dir.join("a/rel")).unwrap();
    symlink(format!("/{}", "t".repeat(200)), dir.join("long-target")).unwrap();
    run("mkfifo", &[dir.join("fifo").to_str().unwrap()]);
    run(
        "mknod",
        &[dir.join("null").to_str().unwrap(), "c", "1", "3"],
    );
    std::fs::set_permissions(dir.join("a/b"), std::fs::Permissions::from_mode(0o750)).unwrap();
    run(
        "touch",
        &[
            "-h",
            "-d",
            "2001-02-03 04:05:06",
            dir.join("etc-link").to_str().unwrap(),
        ],
    );
    for path in ["a/big", "a/b", "a", "."] {
        run(
            "touch",
            &[
                "-d",
                "2010-01-01 00:00:00",
                dir.join(path).to_str().unwrap(),
            ],
        );
    }
}

/// Everything tar should preserve, by relative path; hard links as
/// the first path sharing the inode.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut inodes: BTreeMap<u64, String> = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let md = std::fs::symlink_metadata(&path).unwrap();
        let rel = path
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let ft = md.file_type();
        let mut desc = format!("{:o} {}:{} ", md.mode(), md.uid(), md.gid());
        if !ft.is_dir() || !rel.is_empty() {
            desc += &format!("mtime={} ", md.mtime());
        }
        if ft.is_dir() {
            for e in std::fs::read_dir(&path).unwrap() {
                stack.push(e.unwrap().path());
            }
        } else if ft.is_symlink() {
            desc += &format!("-> {}", std::fs::read_link(&path).unwrap().display());
        } else if ft.is_file() {
            let first = inodes.entry(md.ino()).or_insert_with(|| rel.clone());
            let data = std::fs::read(&path).unwrap();
            desc += &format!(
                "{} bytes, sum {}, link {first}",
                data.len(),
                data.iter().map(|&b| b as u64).sum::<u64>()
            );
        } else {
            desc += &format!("rdev {}", md.rdev());
        }
        out.insert(rel, desc);
    }
    out
}

fn out_args(dir: &str, compress: Option<Compression>, excludes: &[&str]) -> calls::tar_out::Args {
    let excludes = Some(excludes.iter().map(|s| s.to_string()).collect());
    calls::tar_out::Args {
        directory: p(dir),
        compress,
        numericowner: None,
        excludes,
    }
}

pub(super) fn in_args(dir: &str, compress: Option<Compression>) -> calls::tar_in::Args {
    calls::tar_in::Args {
        directory: p(dir),
        compress,
        xattrs: None,
    }
}

/// A TestIo whose input is `data` in chunks of `chunk` bytes.
pub(super) fn feeding(data: &[u8], chunk: usize) -> TestIo {
    TestIo {
        input: data.chunks(chunk).map(<[u8]>::to_vec).collect(),
        ..Default::default()
    }
}

#[test]
fn round_trips_keep_everything() {
    on_real_fs(|fstype, d, root| {
        make_tree(&root.join("src"));
        let before = snapshot(&root.join("src"));
        let mut io = TestIo::default();
        tar_out(d, &mut io, out_args("/src", None, &[])).expect("tar_out");
        let names = list(&io.output);
        assert_eq!(names.first().map(String::as_str), Some("./"));
        assert!(names.iter().all(|n| n.starts_with("./")), "{names:?}");
        for (compress, magic) in [
            (None, &b""[..]),
            (Some(Compression::Gzip), b"\x1f\x8b"),
            (Some(Compression::Xz), b"\xfd7zXZ"),
            (Some(Compression::Zstd), b"\x28\xb5\x2f\xfd"),
            (Some(Compression::Bzip2), b"BZh9"),
        ] {
            let mut out = TestIo::default();
            tar_out(d, &mut out, out_args("/src", compress, &[])).expect("tar_out");
            assert!(out.output.starts_with(magic), "{compress:?}");
            let dst = format!("/dst-{compress:?}");
            std::fs::create_dir(root.join(&dst[1..])).unwrap();
            let mut input = feeding(&out.output, 65_537);
            tar_in(d, &mut input, in_args(&dst, compress)).expect("tar_in");
            assert!(input.input.is_empty());
            assert_eq!(
                snapshot(&root.join(&dst[1..])),
                before,
                "{fstype} {compress:?}"
            );
        }
        // GNU tar reads what we write, and we read what it writes.
        let ours = root.join("ours.tar");
        std::fs::write(&ours, &io.output).unwrap();
        std::fs::create_dir(root.join("by-gnu")).unwrap();
        run(
            "tar",
            &[
                "-C",
                root.join("by-gnu").to_str().unwrap(),
                "-xpf",
                ours.to_str().unwrap(),
            ],
        );
        assert_eq!(
            snapshot(&root.join("by-gnu")),
            before,
            "{fstype}: GNU tar extracting ours"
        );
        let gnu = root.join("gnu.tar");
        run(
            "tar",
            &[
                "-C",
                root.join("src").to_str().unwrap(),
                "-cf",
                gnu.to_str().unwrap(),
                ".",
            ],
        );
        std::fs::create_dir(root.join("from-gnu")).unwrap();
        let mut input = feeding(&std::fs::read(&gnu).unwrap(), 4096);
        tar_in(d, &mut input, in_args("/from-gnu", None)).expect("tar_in of GNU tar's");
        assert_eq!(
            snapshot(&root.join("from-gnu")),
            before,
            "{fstype}: ours extracting GNU tar's"
        );
    });
}

/// Entry names (and link targets) of an archive.
fn list(archive: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for entry in tar::Archive::new(archive).entries().unwrap() {
        let entry = entry.unwrap();
        let mut name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if let Some(link) = entry.link_name_bytes() {
            name += &format!(" -> {}", String::from_utf8_lossy(&link));
        }
        names.push(name);
    }
    names
}

#[test]
fn symlinks_are_stored_not_followed_and_excludes_apply() {
    on_real_fs(|_, d, root| {
        make_tree(&root.join("src"));
        std::fs::write(root.join("src/a/debug.log"), b"x").unwrap();
        std::fs::create_dir_all(root.join("src/skip/inner")).unwrap();
        let mut io = TestIo::default();
        tar_out(
            d,
            &mut io,
            out_args("/src", None, &["*.log", "./skip", "b/n*"]),
        )
        .expect("tar_out");
        let names = list(&io.output);
        for wanted in [
            "./etc-link -> /etc",
            "./a/b/up -> ../../..",
            "./a/rel -> big",
            "./hardlink -> ./a/private",
        ] {
            assert!(names.iter().any(|n| n == wanted), "{wanted} in {names:?}");
        }
        assert!(names
            .iter()
            .any(|n| n.starts_with("./long-target -> /tttt")));
        assert!(!names
            .iter()
            .any(|n| n.contains("passwd") || n.contains(".log") || n.contains("skip")));
        assert!(!names.iter().any(|n| n.contains("nnnn")), "{names:?}");
    });
    assert!(excluded(b"a/b/c.o", &["*.o".into()]));
    assert!(excluded(b"x/a/b", &["a/b".into()]));
    assert!(!excluded(b"xa/b", &["a/b".into()]));
    assert!(excluded(b"a", &["./a/".into()]));
    assert!(!excluded(b"abc", &["a?".into()]));
    assert!(excluded(
        &[b'a'; 3000],
        &["*a*a*a*a*a*a*a*b*".into(), "a*".into()]
    ));
}

/// A host that cancels once it has received `limit` bytes.
struct Canceller {
    received: usize,
    limit: usize,
    refuse_writes: bool,
}

impl CallIo for Canceller {
    fn cancelled(&self) -> bool {
        self.received >= self.limit
    }
    fn read_chunk(&mut self, _buf: &mut Vec<u8>) -> Result<usize, ErrorReply> {
        Ok(0)
    }
    fn write_chunk(&mut self, data: &[u8]) -> Result<(), ErrorReply> {
        if self.refuse_writes && self.cancelled() {
            return Err(ErrorReply::cancelled());
        }
        assert!(data.len() <= CHUNK, "chunks are at most 1 MiB");
        self.received += data.len();
        Ok(())
    }
}

#[test]
fn tar_out_stops_when_cancelled() {
    on_real_fs(|_, d, root| {
        for i in 0..2000 {
            std::fs::create_dir_all(root.join(format!("many/{}", i % 50))).unwrap();
            std::fs::write(root.join(format!("many/{}/{i}", i % 50)), vec![b'x'; 2000]).unwrap();
        }
        for refuse_writes in [false, true] {
            let mut io = Canceller {
                received: 0,
                limit: 1 << 20,
                refuse_writes,
            };
            let err = tar_out(d, &mut io, out_args("/many", None, &[])).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Cancelled, "{err}");
            assert!(io.received < 4 << 20, "stopped soon after the cancel");
        }
        let mut io = Canceller {
            received: 0,
            limit: usize::MAX,
            refuse_writes: true,
        };
        tar_out(d, &mut io, out_args("/many", None, &[])).expect("not cancelled");
    });
}
