//! Summaries of file contents: head, tail and their _n forms, and the wc
//! counts. Files are read in CHUNK pieces, cancellable between them; the
//! line lists are bounded by the message limit.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

use protocol::types::Pathname;
use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::files::open_read;
use super::state::GuestDaemon;
use super::util::{check_cancel, errno_reply, Budget, CHUNK, MAX_DATA};

#[cfg(test)]
mod tests;

/// Calls `f` on each piece of the file until the end.
fn each_chunk(
    io: &dyn CallIo,
    file: &mut File,
    path: &Pathname,
    mut f: impl FnMut(&[u8]) -> Result<bool, ErrorReply>,
) -> Result<(), ErrorReply> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        check_cancel(io)?;
        let n = match file.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(errno_reply("read", path.as_str(), e)),
        };
        if !f(&buf[..n])? {
            return Ok(());
        }
    }
}

/// Reads the file's lines (without `\n`; a last line without one counts)
/// and returns how many there are and those whose index is in `want`.
/// Stops at the end of `want` unless `count_all`.
fn lines(
    io: &dyn CallIo,
    call: &str,
    file: &mut File,
    path: &Pathname,
    want: Range<u64>,
    count_all: bool,
) -> Result<(u64, Vec<String>), ErrorReply> {
    let mut budget = Budget::new(call, path.as_str());
    let mut out = Vec::new();
    let mut index = 0u64;
    let mut line: Vec<u8> = Vec::new();
    // Whether the bytes since the last `\n` started a line.
    let mut open = false;
    let too_long = || {
        ErrorReply::new(
            ErrorKind::TooLarge,
            format!(
                "{call} {path}: a line is over the {} MiB message limit; use download",
                protocol::frame::MAX_PAYLOAD >> 20
            ),
        )
    };
    each_chunk(io, file, path, |mut rest| {
        while !rest.is_empty() {
            if !count_all && index >= want.end {
                return Ok(false);
            }
            let (piece, ends) = match rest.iter().position(|b| *b == b'\n') {
                Some(i) => (&rest[..i], Some(i)),
                None => (rest, None),
            };
            let wanted = want.contains(&index);
            if wanted {
                line.extend_from_slice(piece);
                if line.len() > MAX_DATA {
                    return Err(too_long());
                }
            }
            open = true;
            match ends {
                Some(i) => {
                    if wanted {
                        budget.add(line.len())?;
                        out.push(String::from_utf8_lossy(&line).into_owned());
                        line.clear();
                    }
                    index += 1;
                    open = false;
                    rest = &rest[i + 1..];
                }
                None => rest = &[],
            }
        }
        Ok(true)
    })?;
    if open {
        if want.contains(&index) {
            budget.add(line.len())?;
            out.push(String::from_utf8_lossy(&line).into_owned());
        }
        index += 1;
    }
    Ok((index, out))
}

/// The number of lines, then a second pass for those in the range that
/// count gives (files whose end must be known: regular files, disks).
fn lines_from_count(
    io: &dyn CallIo,
    call: &str,
    file: &mut File,
    path: &Pathname,
    range: impl Fn(u64) -> Range<u64>,
) -> Result<Vec<String>, ErrorReply> {
    let (count, _) = lines(io, call, file, path, 0..0, true)?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| errno_reply("seek", path.as_str(), e))?;
    Ok(lines(io, call, file, path, range(count), false)?.1)
}

fn head_lines(
    d: &GuestDaemon,
    io: &dyn CallIo,
    call: &str,
    nrlines: i64,
    path: &Pathname,
) -> Result<Vec<String>, ErrorReply> {
    let (mut file, _) = open_read(d, path)?;
    let n = nrlines.unsigned_abs();
    match nrlines {
        0 => Ok(Vec::new()),
        1.. => Ok(lines(io, call, &mut file, path, 0..n, false)?.1),
        _ => lines_from_count(io, call, &mut file, path, |count| {
            0..count.saturating_sub(n)
        }),
    }
}

fn tail_lines(
    d: &GuestDaemon,
    io: &dyn CallIo,
    call: &str,
    nrlines: i64,
    path: &Pathname,
) -> Result<Vec<String>, ErrorReply> {
    let (mut file, _) = open_read(d, path)?;
    let n = nrlines.unsigned_abs();
    match nrlines {
        0 => Ok(Vec::new()),
        // Lines from the -nrlines'th (counting from 1), like tail -n +N.
        ..0 => Ok(lines(io, call, &mut file, path, n - 1..u64::MAX, false)?.1),
        _ => lines_from_count(io, call, &mut file, path, |count| {
            count.saturating_sub(n)..count
        }),
    }
}

/// The first 10 lines.
pub(super) fn head(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::head::Args,
) -> Result<calls::head::Ret, ErrorReply> {
    head_lines(d, io, "head", 10, &args.path)
}

/// The first nrlines lines; with nrlines negative, all but the last
/// -nrlines; none for 0.
pub(super) fn head_n(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::head_n::Args,
) -> Result<calls::head_n::Ret, ErrorReply> {
    head_lines(d, io, "head_n", args.nrlines, &args.path)
}

/// The last 10 lines.
pub(super) fn tail(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::tail::Args,
) -> Result<calls::tail::Ret, ErrorReply> {
    tail_lines(d, io, "tail", 10, &args.path)
}

/// The last nrlines lines; with nrlines negative, the lines from the
/// -nrlines'th on; none for 0.
pub(super) fn tail_n(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::tail_n::Args,
) -> Result<calls::tail_n::Ret, ErrorReply> {
    tail_lines(d, io, "tail_n", args.nrlines, &args.path)
}

/// Counts over the whole file with `f`, which sees every piece.
fn count(
    d: &GuestDaemon,
    io: &dyn CallIo,
    path: &Pathname,
    mut f: impl FnMut(&[u8]),
) -> Result<(), ErrorReply> {
    let (mut file, _) = open_read(d, path)?;
    each_chunk(io, &mut file, path, |piece| {
        f(piece);
        Ok(true)
    })
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The number of `\n` characters, as wc -l.
pub(super) fn wc_l(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::wc_l::Args,
) -> Result<calls::wc_l::Ret, ErrorReply> {
    let mut n = 0u64;
    count(d, io, &args.path, |p| {
        n += p.iter().filter(|b| **b == b'\n').count() as u64
    })?;
    Ok(as_i64(n))
}

/// The number of words (runs of non-space bytes, C locale), as wc -w.
pub(super) fn wc_w(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::wc_w::Args,
) -> Result<calls::wc_w::Ret, ErrorReply> {
    let mut n = 0u64;
    let mut in_word = false;
    count(d, io, &args.path, |p| {
        for b in p {
            let space = matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
            if !space && !in_word {
                n += 1;
            }
            in_word = !space;
        }
    })?;
    Ok(as_i64(n))
}

/// The number of bytes, as wc -c.
pub(super) fn wc_c(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::wc_c::Args,
) -> Result<calls::wc_c::Ret, ErrorReply> {
    let mut n = 0u64;
    count(d, io, &args.path, |p| n += p.len() as u64)?;
    Ok(as_i64(n))
}
