//! Looking into file contents: checksum and grep. Both stream the file
//! in CHUNK reads and can be cancelled between them.

use std::fs::File;
use std::io::Read;

use protocol::{calls, CallIo, ErrorKind, ErrorReply};
use sha2::Digest;

use super::files::open_read;
use super::state::GuestDaemon;
use super::util::{check_cancel, errno_reply, invalid, Budget, CHUNK, MAX_DATA};

#[cfg(test)]
mod tests;

const CHECKSUMS: &str = "md5, sha1, sha224, sha256, sha384 or sha512";

/// Bounds on what a pattern may cost: its length (the parser's memory
/// grows with it) and its compiled size (regex's own limit).
const MAX_PATTERN: usize = 64 << 10;
const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// Reads the next piece; 0 at the end. EINTR retried.
fn read_chunk(file: &mut dyn Read, buf: &mut [u8], path: &str) -> Result<usize, ErrorReply> {
    loop {
        match file.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(errno_reply("read", path, e)),
        }
    }
}

fn hex_digest<D: Digest>(
    io: &dyn CallIo,
    file: &mut File,
    path: &str,
) -> Result<String, ErrorReply> {
    let mut hasher = D::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        check_cancel(io)?;
        let n = read_chunk(file, &mut buf, path)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

type Hasher = fn(&dyn CallIo, &mut File, &str) -> Result<String, ErrorReply>;

/// The hasher for a checksum type, matched without regard to case, as
/// libguestfs does; hashing is in lowercase hex, like md5sum and friends.
/// Shared with checksum_device.
pub(super) fn hasher(call: &str, csumtype: &str) -> Result<Hasher, ErrorReply> {
    Ok(match csumtype.to_ascii_lowercase().as_str() {
        "md5" => hex_digest::<md5::Md5>,
        "sha1" => hex_digest::<sha1::Sha1>,
        "sha224" => hex_digest::<sha2::Sha224>,
        "sha256" => hex_digest::<sha2::Sha256>,
        "sha384" => hex_digest::<sha2::Sha384>,
        "sha512" => hex_digest::<sha2::Sha512>,
        _ => {
            return Err(invalid(format!(
                "{call}: unknown checksum type {:?}; use {CHECKSUMS}",
                csumtype.chars().take(100).collect::<String>()
            )))
        }
    })
}

pub(super) fn checksum(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::checksum::Args,
) -> Result<calls::checksum::Ret, ErrorReply> {
    let hasher = hasher("checksum", &args.csumtype)?;
    let (mut file, _) = open_read(d, &args.path)?;
    hasher(io, &mut file, args.path.as_str())
}

fn build_regex(args: &calls::grep::Args) -> Result<regex::bytes::Regex, ErrorReply> {
    let fixed = args.fixed.unwrap_or(false);
    if fixed && args.extended.unwrap_or(false) {
        return Err(invalid("grep: extended and fixed cannot be used together"));
    }
    if args.regex.len() > MAX_PATTERN {
        return Err(invalid(format!(
            "grep: the pattern is {} bytes, over the {} KiB limit",
            args.regex.len(),
            MAX_PATTERN >> 10
        )));
    }
    let pattern = if fixed {
        regex::escape(&args.regex)
    } else {
        args.regex.clone()
    };
    regex::bytes::RegexBuilder::new(&pattern)
        .case_insensitive(args.insensitive.unwrap_or(false))
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            let mut text = e.to_string();
            if text.len() > 2000 {
                let mut cut = 2000;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
                text.push('…');
            }
            invalid(format!("grep: invalid regular expression: {text}"))
        })
}

/// The lines (without their `\n`) that match, in file order, like grep.
/// The pattern is Rust regex syntax whatever `extended` says (accepted for
/// libguestfs compatibility, it changes nothing); `fixed` takes it
/// literally; `insensitive` ignores case. Lines are bytes, so files that
/// are not UTF-8 can be searched; matches come back with invalid bytes
/// replaced. A line longer than the message limit is an error.
/// grep's `compressed`, as zgrep: gzip, bzip2 and xz by their magic
/// bytes, anything else read as it is. Only what matches is kept, and the
/// read is cancellable, so a file that inflates without end costs time,
/// not memory.
fn decompressed(file: File, path: &str) -> Result<Box<dyn Read>, ErrorReply> {
    use std::io::BufRead;
    let mut input = std::io::BufReader::new(file);
    let magic = input
        .fill_buf()
        .map_err(|e| errno_reply("read", path, e))?
        .to_vec();
    Ok(match magic.as_slice() {
        [0x1f, 0x8b, ..] => Box::new(flate2::read::MultiGzDecoder::new(input)),
        [b'B', b'Z', b'h', ..] => Box::new(bzip2::read::MultiBzDecoder::new(input)),
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => {
            Box::new(xz2::read::XzDecoder::new_multi_decoder(input))
        }
        _ => Box::new(input),
    })
}

pub(super) fn grep(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::grep::Args,
) -> Result<calls::grep::Ret, ErrorReply> {
    let re = build_regex(&args)?;
    let path = &args.path;
    let (file, _) = open_read(d, path)?;
    let mut file: Box<dyn Read> = match args.compressed {
        Some(true) => decompressed(file, path.as_str())?,
        _ => Box::new(file),
    };
    let mut budget = Budget::new("grep", path.as_str());
    let mut out = Vec::new();
    let mut matched = |line: &[u8]| -> Result<(), ErrorReply> {
        if re.is_match(line) {
            budget.add(line.len())?;
            out.push(String::from_utf8_lossy(line).into_owned());
        }
        Ok(())
    };
    let mut buf = vec![0u8; CHUNK];
    let mut line: Vec<u8> = Vec::new();
    loop {
        check_cancel(io)?;
        let n = read_chunk(&mut file, &mut buf, path.as_str())?;
        if n == 0 {
            break;
        }
        let mut rest = &buf[..n];
        while let Some(i) = rest.iter().position(|b| *b == b'\n') {
            if line.is_empty() {
                matched(&rest[..i])?;
            } else {
                line.extend_from_slice(&rest[..i]);
                matched(&line)?;
                line.clear();
            }
            rest = &rest[i + 1..];
        }
        line.extend_from_slice(rest);
        if line.len() > MAX_DATA {
            return Err(ErrorReply::new(
                ErrorKind::TooLarge,
                format!(
                    "grep {path}: a line is over the {} MiB message limit; use download",
                    protocol::frame::MAX_PAYLOAD >> 20
                ),
            ));
        }
    }
    if !line.is_empty() {
        matched(&line)?;
    }
    Ok(out)
}
