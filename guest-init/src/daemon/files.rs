//! Reading and writing the contents of guest files, and opening guest
//! files for reading without hanging on FIFOs (shared with the other
//! calls that read files).

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;

use protocol::types::Pathname;
use protocol::{calls, CallIo, ErrorKind, ErrorReply};
use rustix::fs::{FileType, Mode, OFlags, Timestamps};

use super::state::GuestDaemon;
use super::util::{check_cancel, errno_reply, invalid, too_large, Budget, CHUNK, MAX_DATA};

#[cfg(test)]
mod tests;

/// Mode of files that write, upload… create (before the umask).
const NEW_FILE_MODE: u32 = 0o644;

/// Opens a guest file for reading, following symlinks inside the root.
/// O_NONBLOCK at open so that a FIFO nobody writes to reads as empty
/// instead of hanging the daemon; kept only for FIFOs and character
/// devices.
pub(super) fn open_read(
    d: &GuestDaemon,
    path: &Pathname,
) -> Result<(File, rustix::fs::Stat), ErrorReply> {
    let fd = d.root.open(
        path,
        OFlags::RDONLY | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::empty(),
    )?;
    let st = rustix::fs::fstat(&fd).map_err(|e| errno_reply("stat", path.as_str(), e))?;
    let ftype = FileType::from_raw_mode(st.st_mode);
    if !matches!(ftype, FileType::Fifo | FileType::CharacterDevice) {
        let flags =
            rustix::fs::fcntl_getfl(&fd).map_err(|e| errno_reply("fcntl", path.as_str(), e))?;
        rustix::fs::fcntl_setfl(&fd, flags - OFlags::NONBLOCK)
            .map_err(|e| errno_reply("fcntl", path.as_str(), e))?;
    }
    Ok((File::from(fd), st))
}

/// Opens a guest file for writing (following symlinks inside the root).
/// O_NONBLOCK makes a FIFO without a reader fail (ENXIO) instead of
/// blocking; it does nothing to regular files.
pub(super) fn open_write(
    d: &GuestDaemon,
    path: &Pathname,
    flags: OFlags,
) -> Result<File, ErrorReply> {
    let mode = if flags.contains(OFlags::CREATE) {
        Mode::from_raw_mode(NEW_FILE_MODE)
    } else {
        Mode::empty()
    };
    d.root.open_file(
        path,
        OFlags::WRONLY | OFlags::NOCTTY | OFlags::NONBLOCK | flags,
        mode,
    )
}

/// Reads a whole file for a reply: refused early from its size, and
/// bounded while reading for files whose size says nothing (devices).
fn read_whole(d: &GuestDaemon, call: &str, path: &Pathname) -> Result<Vec<u8>, ErrorReply> {
    let (file, st) = open_read(d, path)?;
    if st.st_size > MAX_DATA as i64 {
        return Err(too_large(call, path.as_str(), "the file"));
    }
    let mut data = Vec::with_capacity(st.st_size.max(0) as usize);
    file.take(MAX_DATA as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| errno_reply("read", path.as_str(), e))?;
    if data.len() > MAX_DATA {
        return Err(too_large(call, path.as_str(), "the file"));
    }
    Ok(data)
}

fn not_utf8(call: &str, path: &Pathname) -> ErrorReply {
    ErrorReply::errno(
        libc::EILSEQ,
        format!("{call} {path}: the file is not UTF-8 text; use read_file for binary data"),
    )
}

pub(super) fn cat(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::cat::Args,
) -> Result<calls::cat::Ret, ErrorReply> {
    let data = read_whole(d, "cat", &args.path)?;
    String::from_utf8(data).map_err(|_| not_utf8("cat", &args.path))
}

pub(super) fn read_file(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::read_file::Args,
) -> Result<calls::read_file::Ret, ErrorReply> {
    read_whole(d, "read_file", &args.path)
}

/// Like libguestfs: lines split on LF, a trailing CR of each line dropped
/// (LF and CRLF endings), no empty last line for a final newline.
pub(super) fn read_lines(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::read_lines::Args,
) -> Result<calls::read_lines::Ret, ErrorReply> {
    let data = read_whole(d, "read_lines", &args.path)?;
    let text = std::str::from_utf8(&data).map_err(|_| not_utf8("read_lines", &args.path))?;
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut budget = Budget::new("read_lines", args.path.as_str());
    let mut lines = Vec::new();
    for line in body.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        budget.add(line.len())?;
        lines.push(line.to_owned());
    }
    Ok(lines)
}

fn non_negative(call: &str, what: &str, value: i64) -> Result<u64, ErrorReply> {
    u64::try_from(value)
        .map_err(|_| invalid(format!("{call}: {what} must not be negative (got {value})")))
}

pub(super) fn pread(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::pread::Args,
) -> Result<calls::pread::Ret, ErrorReply> {
    let count = non_negative("pread", "count", args.count)?;
    let mut offset = non_negative("pread", "offset", args.offset)?;
    if count > MAX_DATA as u64 {
        return Err(ErrorReply::new(
            ErrorKind::TooLarge,
            format!(
                "pread {}: count {count} is over the {} MiB message limit; read in smaller pieces or use download",
                args.path,
                protocol::frame::MAX_PAYLOAD >> 20
            ),
        ));
    }
    let (file, _) = open_read(d, &args.path)?;
    let mut data = vec![0u8; count as usize];
    let mut got = 0;
    while got < data.len() {
        match file.read_at(&mut data[got..], offset) {
            Ok(0) => break,
            Ok(n) => {
                got += n;
                offset = offset.saturating_add(n as u64);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(errno_reply("pread", args.path.as_str(), e)),
        }
    }
    data.truncate(got);
    Ok(data)
}

fn write_all(file: &mut File, data: &[u8], path: &Pathname) -> Result<(), ErrorReply> {
    file.write_all(data)
        .map_err(|e| errno_reply("write", path.as_str(), e))
}

pub(super) fn write(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::write::Args,
) -> Result<calls::write::Ret, ErrorReply> {
    let mut file = open_write(d, &args.path, OFlags::CREATE | OFlags::TRUNC)?;
    write_all(&mut file, &args.content, &args.path)
}

pub(super) fn write_append(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::write_append::Args,
) -> Result<calls::write_append::Ret, ErrorReply> {
    let mut file = open_write(d, &args.path, OFlags::CREATE | OFlags::APPEND)?;
    write_all(&mut file, &args.content, &args.path)
}

/// The file must exist, as in libguestfs (no O_CREAT).
pub(super) fn pwrite(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::pwrite::Args,
) -> Result<calls::pwrite::Ret, ErrorReply> {
    let offset = non_negative("pwrite", "offset", args.offset)?;
    let file = open_write(d, &args.path, OFlags::empty())?;
    let mut done = 0;
    while done < args.content.len() {
        let at = offset
            .checked_add(done as u64)
            .ok_or_else(|| invalid(format!("pwrite {}: offset + length overflows", args.path)))?;
        match file.write_at(&args.content[done..], at) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // A short write already made is what pwrite(2) reports.
            Err(_) if done > 0 => break,
            Err(e) => return Err(errno_reply("pwrite", args.path.as_str(), e)),
        }
    }
    Ok(done as i64)
}

pub(super) fn truncate(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::truncate::Args,
) -> Result<calls::truncate::Ret, ErrorReply> {
    truncate_size(
        d,
        io,
        calls::truncate_size::Args {
            path: args.path,
            size: 0,
        },
    )
}

/// The file must exist (truncate(2) does not create).
pub(super) fn truncate_size(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::truncate_size::Args,
) -> Result<calls::truncate_size::Ret, ErrorReply> {
    let size = non_negative("truncate_size", "size", args.size)?;
    let file = open_write(d, &args.path, OFlags::empty())?;
    rustix::fs::ftruncate(&file, size).map_err(|e| errno_reply("truncate", args.path.as_str(), e))
}

/// libguestfs's touch: only for regular files (a symlink, directory or
/// device is refused rather than followed or created through).
pub(super) fn touch(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::touch::Args,
) -> Result<calls::touch::Ret, ErrorReply> {
    let path = &args.path;
    match d
        .root
        .open(path, OFlags::PATH | OFlags::NOFOLLOW, Mode::empty())
    {
        Ok(fd) => {
            let st = rustix::fs::fstat(&fd).map_err(|e| errno_reply("stat", path.as_str(), e))?;
            if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
                return Err(invalid(format!(
                    "touch {path}: touch only works on regular files"
                )));
            }
        }
        Err(e) if e.errno == libc::ENOENT => {}
        Err(e) => return Err(e),
    }
    // NOFOLLOW: a symlink appearing since the check is not followed.
    let file = open_write(d, path, OFlags::CREATE | OFlags::NOFOLLOW)?;
    let now = rustix::fs::Timespec {
        tv_sec: 0,
        tv_nsec: rustix::fs::UTIME_NOW,
    };
    rustix::fs::futimens(
        &file,
        &Timestamps {
            last_access: now,
            last_modification: now,
        },
    )
    .map_err(|e| errno_reply("utimens", path.as_str(), e))
}

/// FileIn: the host's stream into a file created or truncated. Whatever
/// fails, the rest of the stream is read (the protocol requires the host's
/// stream to be consumed) and the first error is returned.
pub(super) fn upload(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::upload::Args,
) -> Result<calls::upload::Ret, ErrorReply> {
    let path = &args.remotefilename;
    let (mut file, mut failure) = match open_write(d, path, OFlags::CREATE | OFlags::TRUNC) {
        Ok(f) => (Some(f), None),
        Err(e) => (None, Some(e)),
    };
    let mut buf = Vec::with_capacity(CHUNK);
    loop {
        let n = match io.read_chunk(&mut buf) {
            Ok(n) => n,
            Err(e) => return Err(failure.unwrap_or(e)),
        };
        if n == 0 {
            break;
        }
        if failure.is_none() {
            if let Some(f) = file.as_mut() {
                let data = buf.get(..n).unwrap_or(&buf);
                if let Err(e) = f.write_all(data) {
                    failure = Some(errno_reply("write", path.as_str(), e));
                    file = None;
                }
            }
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// FileOut: the file in CHUNK pieces, cancellable between them.
pub(super) fn download(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::download::Args,
) -> Result<calls::download::Ret, ErrorReply> {
    let path = &args.remotefilename;
    let (mut file, _) = open_read(d, path)?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        check_cancel(io)?;
        let n = match file.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(errno_reply("read", path.as_str(), e)),
        };
        io.write_chunk(&buf[..n])?;
    }
}
