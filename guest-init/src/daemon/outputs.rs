//! Streams out of (and base64 into) the guest tree: cpio_out,
//! base64_in, base64_out, compress_out, compress_device_out and
//! checksums_out. Everything moves in CHUNK pieces through the call's
//! FileIn/FileOut stream, cancellable between them; no file is held
//! whole in memory. Guest trees are walked without following symlinks.

mod base64;
mod compress;
mod cpio;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{BufWriter, Read, Write};

use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{FileType, Mode, OFlags};

use super::archive::stream::ChunkWriter;
use super::blockdev::open_block;
use super::files::{open_read, open_write};
use super::paths::walk::walk;
use super::search::hasher;
use super::state::GuestDaemon;
use super::util::{check_cancel, errno_reply, invalid, io_error, CHUNK};

type Out<'a> = BufWriter<ChunkWriter<'a>>;

/// Reads the next piece; 0 at the end. EINTR retried.
fn read_piece(
    file: &mut File,
    buf: &mut [u8],
    call: &str,
    path: &str,
) -> Result<usize, ErrorReply> {
    loop {
        match file.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(errno_reply(&format!("{call}: read"), path, e)),
        }
    }
}

/// A failed stream after the host cancelled is the cancel.
fn cancel_wins<T>(io: &dyn CallIo, r: Result<T, ErrorReply>) -> Result<T, ErrorReply> {
    if r.is_err() && io.cancelled() {
        return Err(ErrorReply::cancelled());
    }
    r
}

pub(super) fn cpio_out(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::cpio_out::Args,
) -> Result<calls::cpio_out::Ret, ErrorReply> {
    let format = cpio::Format::parse(args.format.as_deref())?;
    let top = args.directory.as_str();
    let open = || {
        d.root.open(
            &args.directory,
            OFlags::RDONLY | OFlags::DIRECTORY,
            Mode::empty(),
        )
    };
    let (dir, walked) = (open()?, open()?);
    let result = (|| {
        let mut w = cpio::Writer::new(
            BufWriter::with_capacity(CHUNK, ChunkWriter::new(&mut *io)),
            format,
        );
        w.entry(&dir, std::ffi::OsStr::new("."), b".")?;
        walk(walked, top, |parent, entry, rel, _| {
            let mut name = b"./".to_vec();
            name.extend_from_slice(rel);
            w.entry(parent, &entry.name, &name)
        })?;
        let out = w.finish()?;
        let out = out
            .into_inner()
            .map_err(|e| io_error("cpio_out", "write", e.into_error()))?;
        out.error.map_or(Ok(()), Err)
    })();
    cancel_wins(io, result)
}

pub(super) fn base64_in(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::base64_in::Args,
) -> Result<calls::base64_in::Ret, ErrorReply> {
    let path = args.filename.as_str();
    let (mut file, mut failure) =
        match open_write(d, &args.filename, OFlags::CREATE | OFlags::TRUNC) {
            Ok(f) => (Some(f), None),
            Err(e) => (None, Some(e)),
        };
    let mut decoder = base64::Decoder::default();
    let mut buf = Vec::with_capacity(CHUNK);
    let mut plain = Vec::with_capacity(CHUNK);
    let write = |file: &mut Option<File>, failure: &mut Option<ErrorReply>, plain: &mut Vec<u8>| {
        if let (Some(f), None) = (file.as_mut(), failure.as_ref()) {
            if let Err(e) = f.write_all(plain) {
                *failure = Some(errno_reply("base64_in: write", path, e));
            }
        }
        plain.clear();
    };
    loop {
        // The whole stream is read, even after a failure.
        let n = match io.read_chunk(&mut buf) {
            Ok(n) => n,
            Err(e) => return Err(failure.unwrap_or(e)),
        };
        if n == 0 {
            break;
        }
        if failure.is_none() {
            if let Err(e) = decoder.feed(buf.get(..n).unwrap_or(&buf), &mut plain) {
                failure = Some(invalid(format!("base64_in {path}: {e}")));
            }
            write(&mut file, &mut failure, &mut plain);
        }
    }
    if failure.is_none() {
        if let Err(e) = decoder.finish(&mut plain) {
            failure = Some(invalid(format!("base64_in {path}: {e}")));
        }
        write(&mut file, &mut failure, &mut plain);
    }
    failure.map_or(Ok(()), Err)
}

pub(super) fn base64_out(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::base64_out::Args,
) -> Result<calls::base64_out::Ret, ErrorReply> {
    let path = args.filename.as_str();
    let (mut file, _) = open_read(d, &args.filename)?;
    // Whole lines per piece; the rest waits for the next read.
    let piece = CHUNK / base64::LINE_BYTES * base64::LINE_BYTES;
    let mut buf = vec![0u8; piece];
    let mut have = 0;
    let mut coded = Vec::with_capacity(piece / 3 * 4 + piece / 57 + 8);
    loop {
        check_cancel(io)?;
        let n = read_piece(&mut file, &mut buf[have..], "base64_out", path)?;
        have += n;
        if n != 0 && have < piece {
            continue;
        }
        coded.clear();
        base64::encode_lines(&buf[..have], &mut coded);
        if !coded.is_empty() {
            io.write_chunk(&coded)?;
        }
        have = 0;
        if n == 0 {
            return Ok(());
        }
    }
}

pub(super) fn compress_out(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::compress_out::Args,
) -> Result<calls::compress_out::Ret, ErrorReply> {
    let method = compress::Method::parse("compress_out", &args.ctype, args.level)?;
    let (file, _) = open_read(d, &args.file)?;
    let result = method.run(io, "compress_out", file, args.file.as_str());
    cancel_wins(io, result)
}

pub(super) fn compress_device_out(
    _d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::compress_device_out::Args,
) -> Result<calls::compress_device_out::Ret, ErrorReply> {
    let call = "compress_device_out";
    let method = compress::Method::parse(call, &args.ctype, args.level)?;
    let file = open_block(call, &args.device, false)?;
    let result = method.run(io, call, file, args.device.as_str());
    cancel_wins(io, result)
}

/// A name as md5sum and friends print it: `\` and newline escaped, and
/// the line then marked with a leading `\`.
fn sum_line(hash: &str, name: &[u8], out: &mut Vec<u8>) {
    let escape = name.iter().any(|&b| b == b'\\' || b == b'\n');
    if escape {
        out.push(b'\\');
    }
    out.extend_from_slice(hash.as_bytes());
    out.extend_from_slice(b"  ");
    for &b in name {
        match b {
            b'\\' if escape => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
    out.push(b'\n');
}

pub(super) fn checksums_out(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::checksums_out::Args,
) -> Result<calls::checksums_out::Ret, ErrorReply> {
    let call = "checksums_out";
    let hash = hasher(call, &args.csumtype)?;
    let top = args.directory.as_str();
    let dir = d.root.open(
        &args.directory,
        OFlags::RDONLY | OFlags::DIRECTORY,
        Mode::empty(),
    )?;
    let mut lines: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
    walk(dir, top, |parent, entry, rel, ftype| {
        if ftype != FileType::RegularFile {
            return Ok(());
        }
        let mut name = b"./".to_vec();
        name.extend_from_slice(rel);
        let shown = String::from_utf8_lossy(&name).into_owned();
        let mut file = rustix::fs::openat(
            parent,
            &entry.name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map(File::from)
        .map_err(|e| errno_reply(&format!("{call}: open"), &shown, e))?;
        let sum = hash(&*io, &mut file, &shown)?;
        sum_line(&sum, &name, &mut lines);
        if lines.len() >= CHUNK {
            io.write_chunk(&lines)?;
            lines.clear();
        }
        Ok(())
    })?;
    if !lines.is_empty() {
        io.write_chunk(&lines)?;
    }
    Ok(())
}
