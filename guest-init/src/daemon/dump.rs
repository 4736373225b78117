//! Looking at file contents as bytes: equal, is_zero, strings(1),
//! strings -e and hexdump -C, all read in pieces (cancel checked between
//! them) with results bounded by the message limit.

use std::fs::File;
use std::io::Read;

use protocol::{calls, CallIo, ErrorReply};

use super::files::open_read;
use super::state::GuestDaemon;
use super::util::{check_cancel, errno_reply, invalid, too_large, Budget, CHUNK, MAX_DATA};

mod hexdump;
mod strings;
#[cfg(test)]
mod tests;

/// Reads up to `buf.len()` bytes, fewer only at the end of the file.
fn read_full(file: &mut File, buf: &mut [u8], path: &str) -> Result<usize, ErrorReply> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(errno_reply("read", path, e)),
        }
    }
    Ok(got)
}

/// Whether two files (followed if symlinks) have the same bytes, as
/// cmp -s.
pub(super) fn equal(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::equal::Args,
) -> Result<bool, ErrorReply> {
    let (mut a, sta) = open_read(d, &args.file1)?;
    let (mut b, stb) = open_read(d, &args.file2)?;
    let regular = |st: &rustix::fs::Stat| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::RegularFile
    };
    if regular(&sta) && regular(&stb) && sta.st_size != stb.st_size {
        return Ok(false);
    }
    let (mut ba, mut bb) = (vec![0u8; CHUNK], vec![0u8; CHUNK]);
    loop {
        check_cancel(io)?;
        let na = read_full(&mut a, &mut ba, args.file1.as_str())?;
        let nb = read_full(&mut b, &mut bb, args.file2.as_str())?;
        if na != nb || ba[..na] != bb[..nb] {
            return Ok(false);
        }
        if na < CHUNK {
            return Ok(true);
        }
    }
}

/// True when the file holds only zero bytes (an empty one does).
pub(super) fn is_zero(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::is_zero::Args,
) -> Result<bool, ErrorReply> {
    let (mut f, _) = open_read(d, &args.path)?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        check_cancel(io)?;
        let n = read_full(&mut f, &mut buf, args.path.as_str())?;
        if buf[..n].iter().any(|b| *b != 0) {
            return Ok(false);
        }
        if n < CHUNK {
            return Ok(true);
        }
    }
}

/// Runs `feed` over the file's bytes in pieces.
fn each_piece(
    d: &GuestDaemon,
    io: &dyn CallIo,
    path: &protocol::types::Pathname,
    mut feed: impl FnMut(&[u8]) -> Result<(), ErrorReply>,
) -> Result<(), ErrorReply> {
    let (mut f, _) = open_read(d, path)?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        check_cancel(io)?;
        let n = read_full(&mut f, &mut buf, path.as_str())?;
        feed(&buf[..n])?;
        if n < CHUNK {
            return Ok(());
        }
    }
}

fn strings_with(
    d: &GuestDaemon,
    io: &dyn CallIo,
    call: &str,
    encoding: strings::Encoding,
    path: &protocol::types::Pathname,
) -> Result<Vec<String>, ErrorReply> {
    let mut budget = Budget::new(call, path.as_str());
    let mut out = Vec::new();
    let mut scanner = strings::Scanner::new(encoding);
    let mut emit = |s: &[u8]| -> Result<(), ErrorReply> {
        budget.add(s.len())?;
        out.push(String::from_utf8_lossy(s).into_owned());
        Ok(())
    };
    each_piece(d, io, path, |piece| scanner.feed(piece, &mut emit))?;
    scanner.finish(&mut emit)?;
    Ok(out)
}

/// strings -a: runs of at least 4 printable 7-bit characters.
pub(super) fn strings(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::strings::Args,
) -> Result<Vec<String>, ErrorReply> {
    strings_with(d, io, "strings", strings::Encoding::Seven, &args.path)
}

pub(super) fn strings_e(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::strings_e::Args,
) -> Result<Vec<String>, ErrorReply> {
    let encoding = strings::Encoding::from_letter(&args.encoding).ok_or_else(|| {
        invalid(format!(
            "strings_e: unknown encoding {:?}: use s, S, b, l, B or L (as strings -e)",
            args.encoding
        ))
    })?;
    strings_with(d, io, "strings_e", encoding, &args.path)
}

/// hexdump -C, byte for byte (repeated lines squeezed to `*`).
pub(super) fn hexdump(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::hexdump::Args,
) -> Result<String, ErrorReply> {
    let path = args.path.as_str();
    let mut dump = hexdump::Dumper::default();
    each_piece(d, io, &args.path, |piece| {
        dump.feed(piece);
        if dump.len() > MAX_DATA {
            return Err(too_large("hexdump", path, "the dump"));
        }
        Ok(())
    })?;
    Ok(dump.finish())
}
