//! Packs a local file or tree as a tar stream (the `copy_in` side).
//!
//! The output is what `tar -C parent -cf - name` gives, which is what the
//! appliance extracts: GNU headers (long names and link targets through GNU
//! `L`/`K` records), one top-level entry named after the source, directories
//! before their contents, symlinks stored as symlinks, full mode bits, mtime
//! and numeric owners. Hard-linked files are stored once per name.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use tar::{Header, HeaderMode};

use super::TransferError;

/// What [`pack`] stored.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PackSummary {
    /// Regular files.
    pub files: u64,
    /// Directories.
    pub dirs: u64,
    /// Symbolic links.
    pub symlinks: u64,
    /// Sockets, FIFOs and devices, which are not stored.
    pub skipped_special: u64,
    /// Bytes of regular file content stored.
    pub bytes: u64,
}

/// Writes `source` (a file, symlink or directory tree) to `writer` as a tar
/// whose single top-level entry is `source`'s file name. Children are stored
/// in name order, so the same tree gives the same stream.
pub fn pack(source: &Path, writer: impl Write) -> Result<PackSummary, TransferError> {
    let top = top_name(source)?;
    let mut builder = tar::Builder::new(writer);
    let mut summary = PackSummary::default();
    // Depth first with an explicit stack: no recursion limit on deep trees.
    let mut stack = vec![(source.to_path_buf(), PathBuf::from(top))];
    while let Some((path, name)) = stack.pop() {
        let meta = fs::symlink_metadata(&path).map_err(source_err(&path))?;
        let kind = meta.file_type();
        let mut header = Header::new_gnu();
        // Complete: mode, numeric uid/gid, mtime, type; no user names.
        header.set_metadata_in_mode(&meta, HeaderMode::Complete);
        header.set_mode(meta.mode() & 0o7777);
        // Before 1970 cannot be stored in the unsigned field: clamp.
        header.set_mtime(u64::try_from(meta.mtime()).unwrap_or(0));
        if kind.is_dir() {
            builder
                .append_data(&mut header, &name, io::empty())
                .map_err(stream_err(&path))?;
            summary.dirs += 1;
            let mut children = fs::read_dir(&path)
                .and_then(|dir| {
                    dir.map(|e| e.map(|e| e.file_name()))
                        .collect::<io::Result<Vec<OsString>>>()
                })
                .map_err(source_err(&path))?;
            children.sort();
            for child in children.into_iter().rev() {
                stack.push((path.join(&child), name.join(&child)));
            }
        } else if kind.is_file() {
            let file = File::open(&path).map_err(source_err(&path))?;
            let mut reader = Exact {
                inner: file,
                left: meta.len(),
                failed: None,
            };
            if let Err(e) = builder.append_data(&mut header, &name, &mut reader) {
                return Err(match reader.failed.take() {
                    Some(ReadFailure::Io(source)) => TransferError::Source { path, source },
                    Some(ReadFailure::Short) => TransferError::SourceChanged {
                        expected: meta.len(),
                        got: meta.len() - reader.left,
                        path,
                    },
                    None => TransferError::Stream { path, source: e },
                });
            }
            summary.files += 1;
            summary.bytes += meta.len();
        } else if kind.is_symlink() {
            let target = fs::read_link(&path).map_err(source_err(&path))?;
            builder
                .append_link(&mut header, &name, &target)
                .map_err(stream_err(&path))?;
            summary.symlinks += 1;
        } else {
            tracing::debug!(path = %path.display(), "copy_in skips a socket, FIFO or device");
            summary.skipped_special += 1;
        }
    }
    let mut writer = builder.into_inner().map_err(stream_err(source))?;
    writer.flush().map_err(stream_err(source))?;
    Ok(summary)
}

/// The top-level entry name: the last component, or for `.`/`..` the real
/// directory's name.
fn top_name(source: &Path) -> Result<OsString, TransferError> {
    if let Some(name) = source.file_name() {
        return Ok(name.to_owned());
    }
    let real = fs::canonicalize(source).map_err(source_err(source))?;
    real.file_name()
        .map(ToOwned::to_owned)
        .ok_or_else(|| TransferError::SourceName {
            path: source.to_path_buf(),
        })
}

enum ReadFailure {
    Io(io::Error),
    Short,
}

/// Yields exactly the size the header announced: stops at it if the file
/// grew, fails if it shrank (the stream would be corrupt otherwise), and
/// keeps read errors apart from errors writing the stream.
struct Exact {
    inner: File,
    left: u64,
    failed: Option<ReadFailure>,
}

impl Read for Exact {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let cap = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        match self.inner.read(&mut buf[..cap]) {
            Ok(0) => {
                self.failed = Some(ReadFailure::Short);
                Err(io::Error::other("file shrank while being read"))
            }
            Ok(n) => {
                self.left -= n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let msg = e.to_string();
                self.failed = Some(ReadFailure::Io(e));
                Err(io::Error::other(msg))
            }
        }
    }
}

fn source_err(path: &Path) -> impl FnOnce(io::Error) -> TransferError + '_ {
    move |source| TransferError::Source {
        path: path.to_path_buf(),
        source,
    }
}

fn stream_err(path: &Path) -> impl FnOnce(io::Error) -> TransferError + '_ {
    move |source| TransferError::Stream {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{symlink, PermissionsExt};
    use std::os::unix::net::UnixListener;
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::transfer::unpack_into;

    fn set_mtime(path: &Path, secs: u64) {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        let f = File::options()
            .write(true)
            .open(path)
            .or_else(|_| File::open(path))
            .unwrap();
        f.set_times(fs::FileTimes::new().set_modified(t)).unwrap();
    }

    fn mode(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().mode() & 0o7777
    }

    /// A tree with everything the round trip must keep. Returns its root.
    fn sample_tree(base: &Path) -> PathBuf {
        let root = base.join("tree");
        let long = "n".repeat(120);
        let deep = root.join("a/b/c").join(&long);
        fs::create_dir_all(&deep).unwrap();
        fs::write(root.join("empty"), b"").unwrap();
        // 5 MiB: data, a zero run (becomes a hole on unpack), data.
        let mut big: Vec<u8> = (0..5u32 << 20).map(|i| (i % 251) as u8).collect();
        big[1 << 20..3 << 20].fill(0);
        fs::write(root.join("big.bin"), &big).unwrap();
        fs::write(deep.join(format!("{long}.txt")), b"deep").unwrap();
        symlink("a/b", root.join("rel-link")).unwrap();
        symlink("/nonexistent/target", root.join("dangling")).unwrap();
        symlink("t".repeat(150), root.join("long-target")).unwrap();
        fs::write(root.join("script"), b"#!/bin/sh\n").unwrap();
        fs::set_permissions(root.join("script"), fs::Permissions::from_mode(0o750)).unwrap();
        fs::write(root.join("secret"), b"s").unwrap();
        fs::set_permissions(root.join("secret"), fs::Permissions::from_mode(0o600)).unwrap();
        fs::set_permissions(root.join("a/b"), fs::Permissions::from_mode(0o711)).unwrap();
        set_mtime(&root.join("big.bin"), 1_000_000_000);
        set_mtime(&root.join("a"), 1_234_567_890);
        root
    }

    #[test]
    fn round_trip_keeps_tree_modes_links_and_mtimes() {
        let tmp = tempfile::tempdir().unwrap();
        let src = sample_tree(tmp.path());
        let mut stream = Vec::new();
        let packed = pack(&src, &mut stream).unwrap();
        assert_eq!(
            (packed.files, packed.symlinks, packed.skipped_special),
            (5, 3, 0)
        );
        assert_eq!(packed.dirs, 5);
        let dest = tmp.path().join("out");
        fs::create_dir(&dest).unwrap();
        let unpacked = unpack_into(&stream[..], &dest).unwrap();
        assert_eq!(
            (
                unpacked.files,
                unpacked.dirs,
                unpacked.symlinks,
                unpacked.bytes
            ),
            (packed.files, packed.dirs, packed.symlinks, packed.bytes)
        );
        let out = dest.join("tree");
        for rel in ["empty", "big.bin", "script", "secret"] {
            assert_eq!(
                fs::read(src.join(rel)).unwrap(),
                fs::read(out.join(rel)).unwrap(),
                "{rel}"
            );
            assert_eq!(mode(&src.join(rel)), mode(&out.join(rel)), "{rel}");
        }
        let long = "n".repeat(120);
        let deep = format!("a/b/c/{long}/{long}.txt");
        assert_eq!(fs::read(out.join(&deep)).unwrap(), b"deep");
        for link in ["rel-link", "dangling", "long-target"] {
            assert_eq!(
                fs::read_link(src.join(link)).unwrap(),
                fs::read_link(out.join(link)).unwrap()
            );
        }
        assert_eq!(mode(&out.join("a/b")), 0o711);
        assert_eq!(
            fs::metadata(out.join("big.bin")).unwrap().mtime(),
            1_000_000_000
        );
        assert_eq!(fs::metadata(out.join("a")).unwrap().mtime(), 1_234_567_890);
        // The 2 MiB zero run came back as a hole.
        assert!(fs::metadata(out.join("big.bin")).unwrap().blocks() * 512 < 4 << 20);
    }

    #[test]
    fn stream_matches_what_gnu_tar_reads() {
        let tmp = tempfile::tempdir().unwrap();
        let src = sample_tree(tmp.path());
        let archive = tmp.path().join("t.tar");
        pack(&src, File::create(&archive).unwrap()).unwrap();
        let Ok(out) = std::process::Command::new("tar")
            .arg("-tf")
            .arg(&archive)
            .output()
        else {
            return; // no tar on this host; the round trip test still covers us
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let list = String::from_utf8(out.stdout).unwrap();
        assert!(list.lines().all(|l| l.starts_with("tree")), "{list}");
        assert!(
            list.contains(&format!("{0}/{0}.txt", "n".repeat(120))),
            "{list}"
        );
    }

    #[test]
    fn single_file_is_the_top_entry() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("one.txt");
        fs::write(&file, b"x").unwrap();
        let mut stream = Vec::new();
        pack(&file, &mut stream).unwrap();
        let mut ar = tar::Archive::new(&stream[..]);
        let names: Vec<_> = ar
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().into_owned())
            .collect();
        assert_eq!(names, [PathBuf::from("one.txt")]);
        // `dir/.` packs as `dir`, like `tar -C parent -cf - dir` would.
        let mut stream = Vec::new();
        pack(&tmp.path().join("."), &mut stream).unwrap();
        let top = tmp.path().canonicalize().unwrap();
        let mut ar = tar::Archive::new(&stream[..]);
        let first = ar
            .entries()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
            .unwrap()
            .into_owned();
        assert_eq!(first.as_os_str(), top.file_name().unwrap());
    }

    #[test]
    fn symlink_source_is_stored_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let link = tmp.path().join("l");
        symlink("/etc", &link).unwrap();
        let mut stream = Vec::new();
        let s = pack(&link, &mut stream).unwrap();
        assert_eq!((s.symlinks, s.files, s.dirs), (1, 0, 0));
    }

    #[test]
    fn sockets_are_skipped_and_counted() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("d");
        fs::create_dir(&root).unwrap();
        let _sock = UnixListener::bind(root.join("sock")).unwrap();
        let mut stream = Vec::new();
        let s = pack(&root, &mut stream).unwrap();
        assert_eq!((s.skipped_special, s.dirs, s.files), (1, 1, 0));
    }

    #[test]
    fn unreadable_file_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("d");
        fs::create_dir(&root).unwrap();
        let locked = root.join("locked");
        fs::write(&locked, b"x").unwrap();
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
        if File::open(&locked).is_ok() {
            return; // root reads anything: nothing to test
        }
        let err = pack(&root, io::sink()).unwrap_err();
        assert!(
            matches!(&err, TransferError::Source { path, .. } if *path == locked),
            "{err}"
        );
        assert!(err.to_string().contains("locked"), "{err}");
    }

    #[test]
    fn root_has_no_name() {
        let err = pack(Path::new("/"), io::sink()).unwrap_err();
        assert!(matches!(err, TransferError::SourceName { .. }), "{err}");
    }

    #[test]
    fn broken_stream_is_reported() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::BrokenPipe, "appliance gone"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, b"x").unwrap();
        let err = pack(&file, Full).unwrap_err();
        assert!(matches!(err, TransferError::Stream { .. }), "{err}");
    }
}
