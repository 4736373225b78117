//! cpio_out's writer: the SVR4 "newc" format (magic 070701) or its
//! "crc" variant (070702, the header's check field the sum of the data
//! bytes), as `cd DIR && find | cpio -o -H newc` makes it: names `.`
//! and `./…`, parents first, symlinks stored as links, never followed.
//! Hard links are stored as separate files (nlink 1), which every
//! reader unpacks correctly.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;

use protocol::ErrorReply;
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};

use super::Out;
use crate::daemon::util::{errno_reply, invalid, CHUNK};

const CALL: &str = "cpio_out";

#[derive(Clone, Copy)]
pub(super) enum Format {
    Newc,
    Crc,
}

impl Format {
    pub(super) fn parse(name: Option<&str>) -> Result<Format, ErrorReply> {
        match name.unwrap_or("newc") {
            "newc" => Ok(Format::Newc),
            "crc" => Ok(Format::Crc),
            other => Err(invalid(format!(
                "{CALL}: format {:?} is not supported (use newc or crc)",
                other.chars().take(40).collect::<String>()
            ))),
        }
    }
}

/// A header field: 8 hex digits, so at most u32::MAX.
fn field(call_path: &str, what: &str, v: u64) -> Result<u32, ErrorReply> {
    u32::try_from(v).map_err(|_| {
        invalid(format!(
            "{CALL} {call_path}: the {what} ({v}) does not fit a cpio header (4 GiB at most); use tar_out"
        ))
    })
}

pub(super) struct Writer<'a> {
    out: Out<'a>,
    format: Format,
    buf: Vec<u8>,
}

fn write_err(e: std::io::Error) -> ErrorReply {
    crate::daemon::util::io_error(CALL, "write", e)
}

impl<'a> Writer<'a> {
    pub(super) fn new(out: Out<'a>, format: Format) -> Writer<'a> {
        Writer {
            out,
            format,
            buf: vec![0u8; CHUNK],
        }
    }

    fn header(&mut self, name: &[u8], st: &Stat, size: u64, check: u32) -> Result<(), ErrorReply> {
        let shown = String::from_utf8_lossy(name).into_owned();
        let ftype = FileType::from_raw_mode(st.st_mode);
        let nlink = if ftype == FileType::Directory {
            st.st_nlink
        } else {
            1
        };
        let magic = match self.format {
            Format::Newc => "070701",
            Format::Crc => "070702",
        };
        let fields = [
            // Truncated, as GNU cpio does: only a reader matching hard links looks.
            st.st_ino as u32,
            st.st_mode,
            st.st_uid,
            st.st_gid,
            field(&shown, "link count", nlink)?,
            u32::try_from(st.st_mtime.max(0)).unwrap_or(u32::MAX),
            field(&shown, "size", size)?,
            rustix::fs::major(st.st_dev),
            rustix::fs::minor(st.st_dev),
            rustix::fs::major(st.st_rdev),
            rustix::fs::minor(st.st_rdev),
            field(&shown, "name length", name.len() as u64 + 1)?,
            check,
        ];
        let mut h = String::with_capacity(110);
        h.push_str(magic);
        for f in fields {
            h.push_str(&format!("{f:08X}"));
        }
        self.out.write_all(h.as_bytes()).map_err(write_err)?;
        self.out.write_all(name).map_err(write_err)?;
        self.pad(110 + name.len() as u64, true)
    }

    /// After `written` bytes: the name's NUL (when `nul`), then zeroes up
    /// to a multiple of 4.
    fn pad(&mut self, written: u64, nul: bool) -> Result<(), ErrorReply> {
        let written = written + u64::from(nul);
        let pad = u64::from(nul) + (4 - written % 4) % 4;
        self.out
            .write_all(&[0u8; 4][..pad as usize])
            .map_err(write_err)
    }

    /// One entry below the directory `parent` (or `parent` itself for ".").
    pub(super) fn entry(
        &mut self,
        parent: &OwnedFd,
        name: &std::ffi::OsStr,
        archived: &[u8],
    ) -> Result<(), ErrorReply> {
        let shown = String::from_utf8_lossy(archived).into_owned();
        let st = rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| errno_reply(&format!("{CALL}: lstat"), &shown, e))?;
        match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile => self.file(parent, name, archived, &st),
            FileType::Symlink => {
                let target = rustix::fs::readlinkat(parent, name, Vec::new())
                    .map_err(|e| errno_reply(&format!("{CALL}: readlink"), &shown, e))?;
                let target = target.as_bytes();
                let check = sum(target);
                self.header(archived, &st, target.len() as u64, check)?;
                self.out.write_all(target).map_err(write_err)?;
                self.pad(target.len() as u64, false)
            }
            _ => self.header(archived, &st, 0, 0),
        }
    }

    fn file(
        &mut self,
        parent: &OwnedFd,
        name: &std::ffi::OsStr,
        archived: &[u8],
        st: &Stat,
    ) -> Result<(), ErrorReply> {
        let shown = String::from_utf8_lossy(archived).into_owned();
        let open = || {
            rustix::fs::openat(
                parent,
                name,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map(File::from)
            .map_err(|e| errno_reply(&format!("{CALL}: open"), &shown, e))
        };
        let size = st.st_size as u64;
        field(&shown, "size", size)?;
        let check = match self.format {
            Format::Newc => 0,
            Format::Crc => {
                let mut s = 0u32;
                self.copy(&mut open()?, size, &shown, |data| {
                    s = s.wrapping_add(sum(data))
                })?;
                s
            }
        };
        let mut file = open()?;
        self.header(archived, st, size, check)?;
        self.copy(&mut file, size, &shown, |_| {})?;
        self.pad(size, false)
    }

    /// Exactly `size` bytes of `file` through `each` and out (zeroes if
    /// it shrank meanwhile: the header is already written).
    fn copy(
        &mut self,
        file: &mut File,
        size: u64,
        shown: &str,
        mut each: impl FnMut(&[u8]),
    ) -> Result<(), ErrorReply> {
        let mut left = size;
        while left > 0 {
            if self.out.get_ref().cancelled() {
                return Err(ErrorReply::cancelled());
            }
            let want = (left.min(self.buf.len() as u64)) as usize;
            let n = loop {
                match file.read(&mut self.buf[..want]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(errno_reply(&format!("{CALL}: read"), shown, e)),
                }
            };
            let n = if n == 0 {
                self.buf[..want].fill(0);
                want
            } else {
                n
            };
            each(&self.buf[..n]);
            left -= n as u64;
            self.out.write_all(&self.buf[..n]).map_err(write_err)?;
        }
        Ok(())
    }

    /// The trailer, then the writer back.
    pub(super) fn finish(mut self) -> Result<Out<'a>, ErrorReply> {
        let st: Stat = {
            // SAFETY: Stat is a plain C struct for which all-zero bytes
            // are a valid value.
            unsafe { std::mem::zeroed() }
        };
        self.header(b"TRAILER!!!", &st, 0, 0)?;
        Ok(self.out)
    }
}

fn sum(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |s, &b| s.wrapping_add(u32::from(b)))
}
