//! fill, fill_pattern and fill_dir: files made of repeated bytes, and
//! directories of many empty files (for tests and for filling a disk).

use std::io::Write;

use protocol::types::Pathname;
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{Mode, OFlags};

use super::state::GuestDaemon;
use super::util::{check_cancel, errno_reply, invalid, CHUNK};

#[cfg(test)]
mod tests;

/// The mode libguestfs's fill calls create files with (before the umask).
const FILL_MODE: u32 = 0o666;

fn length(call: &str, len: i64) -> Result<u64, ErrorReply> {
    u64::try_from(len).map_err(|_| invalid(format!("{call}: len {len} must not be negative")))
}

/// Writes `len` bytes of `pattern` repeated (the last copy cut short) to
/// a new or truncated file.
fn fill_with(
    d: &GuestDaemon,
    io: &dyn CallIo,
    path: &Pathname,
    pattern: &[u8],
    len: u64,
) -> Result<(), ErrorReply> {
    let mut file = d.root.open_file(
        path,
        OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::from_raw_mode(FILL_MODE),
    )?;
    // A whole number of patterns per piece, so pieces follow on.
    let copies = (CHUNK / pattern.len()).max(1);
    let piece = pattern.repeat(copies);
    let mut left = len;
    while left > 0 {
        check_cancel(io)?;
        let n = piece.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        file.write_all(&piece[..n])
            .map_err(|e| errno_reply("write", path.as_str(), e))?;
        left -= n as u64;
    }
    file.sync_data()
        .map_err(|e| errno_reply("fsync", path.as_str(), e))
}

/// len bytes of the octet c.
pub(super) fn fill(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::fill::Args,
) -> Result<(), ErrorReply> {
    let c = u8::try_from(args.c)
        .map_err(|_| invalid(format!("fill: c {} must be an octet, 0 to 255", args.c)))?;
    fill_with(d, io, &args.path, &[c], length("fill", args.len)?)
}

pub(super) fn fill_pattern(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::fill_pattern::Args,
) -> Result<(), ErrorReply> {
    let len = length("fill_pattern", args.len)?;
    if args.pattern.is_empty() {
        if len == 0 {
            return fill_with(d, io, &args.path, b"\0", 0);
        }
        return Err(invalid("fill_pattern: the pattern is empty"));
    }
    fill_with(d, io, &args.path, args.pattern.as_bytes(), len)
}

/// nr empty files 00000000, 00000001… in dir; an existing file of that
/// name is truncated, a symlink of that name is not followed (ELOOP).
pub(super) fn fill_dir(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::fill_dir::Args,
) -> Result<(), ErrorReply> {
    let nr = u64::try_from(args.nr)
        .map_err(|_| invalid(format!("fill_dir: nr {} must not be negative", args.nr)))?;
    let dir = d
        .root
        .open(&args.dir, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
    for i in 0..nr {
        if i % 1024 == 0 {
            check_cancel(io)?;
        }
        let name = format!("{i:08}");
        let flags = OFlags::WRONLY
            | OFlags::CREATE
            | OFlags::TRUNC
            | OFlags::NOFOLLOW
            | OFlags::NOCTTY
            | OFlags::NONBLOCK
            | OFlags::CLOEXEC;
        rustix::fs::openat(&dir, name.as_str(), flags, Mode::from_raw_mode(FILL_MODE)).map_err(
            |e| {
                let shown = format!("{}/{name}", args.dir.as_str().trim_end_matches('/'));
                errno_reply("create", &shown, e)
            },
        )?;
    }
    Ok(())
}
