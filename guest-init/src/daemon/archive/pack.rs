//! tar_out's packing: a walk of the directory with *at() calls that never
//! follow symlinks. Names are `./…` as `tar -C dir -cf - .` writes them,
//! long names go in GNU long-name records, owners are numeric, hard links
//! are found by (device, inode). The walk keeps its own stack, so a deep
//! hostile tree costs descriptors (an error when they run out), not the
//! daemon's stack.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;

use protocol::ErrorReply;
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;
use tar::{EntryType, Header};

use super::stream::Sink;
use crate::daemon::util::{errno_reply, io_error};

type Builder<'a> = tar::Builder<Sink<'a>>;

/// One directory being walked: its descriptor, name, children left.
struct Level {
    fd: OwnedFd,
    rel: Vec<u8>,
    names: std::vec::IntoIter<Vec<u8>>,
}

pub(super) fn pack(
    builder: &mut Builder,
    top: &OwnedFd,
    excludes: &[String],
) -> Result<(), ErrorReply> {
    let read_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(top, ".", read_flags, Mode::empty())
        .map_err(|e| errno_reply("tar_out: open", ".", e))?;
    let st = rustix::fs::fstat(&fd).map_err(|e| errno_reply("tar_out: stat", ".", e))?;
    append(
        builder,
        &mut header(&st, EntryType::Directory),
        b"./",
        None,
        io::empty(),
    )
    .map_err(|e| io_error("tar_out:", "write", e))?;
    let names = read_names(&fd, b".")?;
    let mut stack = vec![Level {
        fd,
        rel: b".".to_vec(),
        names,
    }];
    let mut links: HashMap<(u64, u64), Vec<u8>> = HashMap::new();
    while let Some(level) = stack.last_mut() {
        let Some(name) = level.names.next() else {
            stack.pop();
            continue;
        };
        if builder.get_ref().cancelled() {
            return Err(ErrorReply::cancelled());
        }
        let rel = [&level.rel[..], b"/", &name].concat();
        let shown = String::from_utf8_lossy(&rel).into_owned();
        let name = OsStr::from_bytes(&name);
        if excluded(rel.get(2..).unwrap_or_default(), excludes) {
            continue;
        }
        let st = match rustix::fs::statat(&level.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Err(Errno::NOENT) => continue, // removed since the directory was read
            other => other.map_err(|e| errno_reply("tar_out: stat", &shown, e))?,
        };
        let write = |e| io_error("tar_out:", "write", e);
        match FileType::from_raw_mode(st.st_mode) {
            FileType::Directory => {
                let flags = read_flags | OFlags::NOFOLLOW;
                let fd = match rustix::fs::openat(&level.fd, name, flags, Mode::empty()) {
                    Err(Errno::NOENT) => continue,
                    other => other.map_err(|e| errno_reply("tar_out: open", &shown, e))?,
                };
                let mut dir_name = rel.clone();
                dir_name.push(b'/');
                append(
                    builder,
                    &mut header(&st, EntryType::Directory),
                    &dir_name,
                    None,
                    io::empty(),
                )
                .map_err(write)?;
                let names = read_names(&fd, &rel)?;
                stack.push(Level { fd, rel, names });
            }
            FileType::RegularFile => {
                let key = (st.st_dev, st.st_ino);
                if st.st_nlink > 1 {
                    if let Some(first) = links.get(&key) {
                        let mut h = header(&st, EntryType::Link);
                        h.set_size(0);
                        append(builder, &mut h, &rel, Some(first), io::empty()).map_err(write)?;
                        continue;
                    }
                    links.insert(key, rel.clone());
                }
                // NONBLOCK: if a fifo took the file's place, opening it must
                // not hang; it is then skipped by the check below.
                let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY;
                let file = match rustix::fs::openat(
                    &level.fd,
                    name,
                    flags | OFlags::CLOEXEC,
                    Mode::empty(),
                ) {
                    Err(Errno::NOENT) => continue,
                    other => {
                        File::from(other.map_err(|e| errno_reply("tar_out: open", &shown, e))?)
                    }
                };
                let st = rustix::fs::fstat(&file)
                    .map_err(|e| errno_reply("tar_out: stat", &shown, e))?;
                if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
                    continue;
                }
                let size = u64::try_from(st.st_size).unwrap_or(0);
                let data = Exact {
                    inner: file,
                    left: size,
                };
                append(
                    builder,
                    &mut header(&st, EntryType::Regular),
                    &rel,
                    None,
                    data,
                )
                .map_err(|e| io_error("tar_out: read or write", &shown, e))?;
            }
            FileType::Symlink => {
                let target = match rustix::fs::readlinkat(&level.fd, name, Vec::new()) {
                    Err(Errno::NOENT) => continue,
                    other => other.map_err(|e| errno_reply("tar_out: readlink", &shown, e))?,
                };
                let mut h = header(&st, EntryType::Symlink);
                h.set_size(0);
                append(builder, &mut h, &rel, Some(target.as_bytes()), io::empty())
                    .map_err(write)?;
            }
            kind @ (FileType::CharacterDevice | FileType::BlockDevice | FileType::Fifo) => {
                let entry_type = match kind {
                    FileType::CharacterDevice => EntryType::Char,
                    FileType::BlockDevice => EntryType::Block,
                    _ => EntryType::Fifo,
                };
                let mut h = header(&st, entry_type);
                h.set_size(0);
                if kind != FileType::Fifo {
                    let rdev = st.st_rdev;
                    h.set_device_major(rustix::fs::major(rdev)).map_err(write)?;
                    h.set_device_minor(rustix::fs::minor(rdev)).map_err(write)?;
                }
                append(builder, &mut h, &rel, None, io::empty()).map_err(write)?;
            }
            _ => {} // sockets: skipped, as GNU tar does
        }
    }
    Ok(())
}

/// The names in a directory, sorted (a stable archive order).
fn read_names(fd: &OwnedFd, rel: &[u8]) -> Result<std::vec::IntoIter<Vec<u8>>, ErrorReply> {
    let shown = || String::from_utf8_lossy(rel).into_owned();
    let dir =
        rustix::fs::Dir::read_from(fd).map_err(|e| errno_reply("tar_out: opendir", &shown(), e))?;
    let mut names = Vec::new();
    for entry in dir {
        let entry = entry.map_err(|e| errno_reply("tar_out: readdir", &shown(), e))?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(name.to_vec());
        }
    }
    names.sort();
    Ok(names.into_iter())
}

/// A header with the inode's metadata; owners numeric, no names.
fn header(st: &Stat, kind: EntryType) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(st.st_mode & 0o7777);
    h.set_uid(st.st_uid.into());
    h.set_gid(st.st_gid.into());
    h.set_mtime(u64::try_from(st.st_mtime).unwrap_or(0));
    h.set_size(if kind == EntryType::Regular {
        u64::try_from(st.st_size).unwrap_or(0)
    } else {
        0
    });
    h
}

/// Appends an entry named `name` (and `link`), using GNU long-name
/// records for names beyond the header's 100 bytes.
fn append(
    builder: &mut Builder,
    h: &mut Header,
    name: &[u8],
    link: Option<&[u8]>,
    data: impl Read,
) -> io::Result<()> {
    if name.len() > 100 {
        long_record(builder, EntryType::GNULongName, name)?;
    }
    if let Some(link) = link.filter(|l| l.len() > 100) {
        long_record(builder, EntryType::GNULongLink, link)?;
    }
    let old = h.as_old_mut();
    copy_truncated(&mut old.name, name);
    copy_truncated(&mut old.linkname, link.unwrap_or_default());
    h.set_cksum();
    builder.append(h, data)
}

fn copy_truncated(field: &mut [u8], value: &[u8]) {
    field.fill(0);
    let n = field.len().min(value.len());
    if let (Some(dst), Some(src)) = (field.get_mut(..n), value.get(..n)) {
        dst.copy_from_slice(src);
    }
}

fn long_record(builder: &mut Builder, kind: EntryType, value: &[u8]) -> io::Result<()> {
    let mut h = Header::new_gnu();
    copy_truncated(&mut h.as_old_mut().name, b"././@LongLink");
    h.set_entry_type(kind);
    h.set_mode(0o644);
    h.set_size(value.len() as u64 + 1);
    h.set_cksum();
    builder.append(&h, value.chain(&[0u8][..]))
}

/// Exactly `left` bytes of a file, zero-padded if it shrank meanwhile
/// (the header already gave its size), cut if it grew.
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let Some(buf) = buf.get_mut(..max) else {
            return Ok(0);
        };
        if max == 0 {
            return Ok(0);
        }
        let mut n = self.inner.read(buf)?;
        if n == 0 {
            buf.fill(0);
            n = max;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// GNU tar's `--exclude` default: the pattern matches the whole relative
/// name or any tail of it that starts at a component; `*` and `?` also
/// match `/`.
pub(super) fn excluded(rel: &[u8], patterns: &[String]) -> bool {
    patterns.iter().any(|pattern| {
        let p = pattern.as_bytes();
        let p = p.strip_prefix(b"./").unwrap_or(p);
        let p = p.strip_suffix(b"/").unwrap_or(p);
        let tails = rel
            .iter()
            .enumerate()
            .filter(|(_, &b)| b == b'/')
            .map(|(i, _)| i + 1);
        std::iter::once(0)
            .chain(tails)
            .any(|start| glob(p, rel.get(start..).unwrap_or_default()))
    })
}

/// `*` and `?` wildcard matching, with single-star backtracking (linear
/// in practice, never exponential).
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || Some(&c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|&c| c == b'*')
}
