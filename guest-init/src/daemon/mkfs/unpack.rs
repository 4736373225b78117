//! Unpacks the tools layer: a cpio "newc" stream from the host, holding
//! directories and regular files at the tools' own host paths (so ELF
//! interpreters and libraries resolve). The host is trusted, but the
//! stream is still parsed with bounds, names are checked (relative, no
//! `..`, under a few system top-level directories: never /sysroot, /proc,
//! /init) and every path is walked with O_NOFOLLOW from the root.

#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::Path;

use protocol::{CallIo, ErrorKind, ErrorReply};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use crate::daemon::util::{errno_reply, invalid};

const MAGIC_NEWC: &[u8] = b"070701";
const MAGIC_CRC: &[u8] = b"070702";
const HEADER_LEN: usize = 110;
const TRAILER: &str = "TRAILER!!!";
const MAX_NAME: usize = 4096;
const MAX_ENTRIES: usize = 65_536;
const MAX_FILE: u64 = 512 << 20;
const MAX_TOTAL: u64 = 2 << 30;

/// The only top-level directories the layer may write.
use protocol::tools::LAYER_TOP_DIRS as ALLOWED_TOP;

const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;

/// What was unpacked.
#[derive(Debug, Default)]
pub(crate) struct Unpacked {
    pub(crate) files: usize,
    pub(crate) bytes: u64,
    /// Directories holding shared libraries ("/usr/lib/x86_64-linux-gnu"),
    /// as paths below the unpack root.
    pub(crate) library_dirs: Vec<String>,
}

fn bad(msg: impl Into<String>) -> ErrorReply {
    ErrorReply::new(
        ErrorKind::InvalidArgument,
        format!("internal_load_tools: {}", msg.into()),
    )
}

/// The FileIn stream, read in exact pieces.
struct Stream<'a> {
    io: &'a mut dyn CallIo,
    chunk: Vec<u8>,
    pos: usize,
    total: u64,
}

impl Stream<'_> {
    /// At least one unread byte, or false at the end of the stream.
    fn fill(&mut self) -> Result<bool, ErrorReply> {
        while self.pos == self.chunk.len() {
            if self.io.read_chunk(&mut self.chunk)? == 0 {
                return Ok(false);
            }
            self.pos = 0;
            self.total += self.chunk.len() as u64;
            if self.total > MAX_TOTAL {
                return Err(bad(format!("the stream is over {MAX_TOTAL} bytes")));
            }
        }
        Ok(true)
    }

    /// Hands `len` bytes to `sink` piece by piece.
    fn take(
        &mut self,
        mut len: usize,
        mut sink: impl FnMut(&[u8]) -> Result<(), ErrorReply>,
    ) -> Result<(), ErrorReply> {
        while len > 0 {
            if !self.fill()? {
                return Err(bad("the stream ends inside an entry"));
            }
            let n = len.min(self.chunk.len() - self.pos);
            sink(&self.chunk[self.pos..self.pos + n])?;
            self.pos += n;
            len -= n;
        }
        Ok(())
    }

    fn exact(&mut self, len: usize) -> Result<Vec<u8>, ErrorReply> {
        let mut out = Vec::with_capacity(len);
        self.take(len, |piece| {
            out.extend_from_slice(piece);
            Ok(())
        })?;
        Ok(out)
    }
}

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

fn hex_field(header: &[u8], index: usize) -> Result<u32, ErrorReply> {
    let start = 6 + index * 8;
    let text = header
        .get(start..start + 8)
        .and_then(|b| std::str::from_utf8(b).ok())
        .ok_or_else(|| bad("truncated header"))?;
    u32::from_str_radix(text, 16).map_err(|_| bad(format!("bad header field {text:?}")))
}

/// `usr/sbin/mke2fs` → its components, refusing anything that could leave
/// the allowed directories.
fn components(name: &str) -> Result<Vec<&str>, ErrorReply> {
    let rel = name.strip_prefix("./").unwrap_or(name);
    let rel = rel.trim_start_matches('/');
    let parts: Vec<&str> = rel.split('/').collect();
    let valid = parts
        .iter()
        .all(|c| !c.is_empty() && *c != "." && *c != "..");
    let allowed = parts.first().is_some_and(|top| ALLOWED_TOP.contains(top));
    if !valid || !allowed {
        return Err(bad(format!("refusing the entry name {name:?}")));
    }
    Ok(parts)
}

/// Walks (creating as needed) the directories `dirs` below `root`,
/// never following a symlink.
fn walk_dirs(root: &OwnedFd, dirs: &[&str]) -> Result<OwnedFd, ErrorReply> {
    let mut fd = rustix::fs::openat(
        root,
        ".",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| errno_reply("open", "/", e))?;
    for dir in dirs {
        match rustix::fs::mkdirat(&fd, *dir, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(errno_reply("mkdir", dir, e)),
        }
        fd = rustix::fs::openat(
            &fd,
            *dir,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| errno_reply("open directory", dir, e))?;
    }
    Ok(fd)
}

/// Reads the whole layer from `io` and writes it below `root`.
pub(crate) fn unpack(io: &mut dyn CallIo, root: &Path) -> Result<Unpacked, ErrorReply> {
    let root_fd = rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| errno_reply("open", &root.to_string_lossy(), e))?;
    let mut s = Stream {
        io,
        chunk: Vec::new(),
        pos: 0,
        total: 0,
    };
    let mut done = Unpacked::default();
    for _ in 0..MAX_ENTRIES {
        if s.io.cancelled() {
            return Err(ErrorReply::cancelled());
        }
        if !s.fill()? {
            return Err(bad("the stream ends without a trailer"));
        }
        let header = s.exact(HEADER_LEN)?;
        if !header.starts_with(MAGIC_NEWC) && !header.starts_with(MAGIC_CRC) {
            return Err(bad("not a cpio newc stream"));
        }
        let mode = hex_field(&header, 1)?;
        let size = u64::from(hex_field(&header, 6)?);
        let namesize = hex_field(&header, 11)? as usize;
        if namesize == 0 || namesize > MAX_NAME {
            return Err(bad(format!("entry name of {namesize} bytes")));
        }
        let raw = s.exact(namesize)?;
        s.exact(pad4(HEADER_LEN + namesize))?;
        let name = raw
            .strip_suffix(&[0])
            .and_then(|n| std::str::from_utf8(n).ok())
            .filter(|n| !n.contains('\0'))
            .ok_or_else(|| bad("an entry name is not NUL-terminated UTF-8"))?;
        if name == TRAILER {
            return Ok(done);
        }
        if size > MAX_FILE {
            return Err(bad(format!("{name}: {size} bytes is over the limit")));
        }
        let parts = components(name)?;
        let (last, dirs) = parts
            .split_last()
            .ok_or_else(|| bad("an empty entry name"))?;
        match mode & S_IFMT {
            S_IFDIR => {
                s.take(size as usize, |_| Ok(()))?;
                walk_dirs(&root_fd, &parts)?;
            }
            S_IFREG => {
                let dir = walk_dirs(&root_fd, dirs)?;
                write_file(&mut s, &dir, name, last, mode & 0o777, size as usize)?;
                done.files += 1;
                done.bytes += size;
                if last.contains(".so") {
                    let lib_dir = format!("/{}", dirs.join("/"));
                    if !done.library_dirs.contains(&lib_dir) {
                        done.library_dirs.push(lib_dir);
                    }
                }
            }
            _ => return Err(bad(format!("{name}: unsupported entry type {mode:o}"))),
        }
        s.exact(pad4(size as usize))?;
    }
    Err(invalid(format!(
        "internal_load_tools: more than {MAX_ENTRIES} entries"
    )))
}

/// Replaces `dir/last` with `size` bytes of the stream.
fn write_file(
    s: &mut Stream<'_>,
    dir: &OwnedFd,
    name: &str,
    last: &str,
    mode: u32,
    size: usize,
) -> Result<(), ErrorReply> {
    match rustix::fs::unlinkat(dir, last, rustix::fs::AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return Err(errno_reply("unlink", name, e)),
    }
    let fd = rustix::fs::openat(
        dir,
        last,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
    .map_err(|e| errno_reply("create", name, e))?;
    let mut file = File::from(fd);
    s.take(size, |piece| {
        file.write_all(piece)
            .map_err(|e| errno_reply("write", name, e))
    })?;
    // Exact mode, whatever the umask.
    rustix::fs::fchmod(&file, Mode::from_raw_mode(mode)).map_err(|e| errno_reply("chmod", name, e))
}
