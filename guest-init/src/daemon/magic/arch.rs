//! file_architecture without file(1): the architecture from an ELF
//! header (executables, shared libraries, kernel modules, ELF kernels)
//! or a PE header (Windows .exe and .dll: i386 or x86_64), looking
//! through gzip, xz and zstd compression (`.ko.xz`, compressed ELF
//! vmlinuz) and into new-style initrds (cpio archives, compressed or
//! not, an uncompressed early-microcode archive first included) for one
//! of the binaries libguestfs looks for.
//!
//! Not covered, as in libguestfs: static libraries (`libfoo.a`), old
//! initrds that are compressed ext2 images, x86 bzImage kernels. Also not
//! here: bzip2, lzma, lz4 and lzo compression (no decoder in the
//! daemon), and kernels that are neither ELF nor compressed ELF (arm64
//! `Image`); those are an error, as any unknown file.

use std::io::{BufReader, Cursor, Read};

use guest_formats::binarch::{elf_arch, pe_arch};
use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use crate::daemon::files::open_read;
use crate::daemon::state::GuestDaemon;

/// Compression layers and concatenated archives looked through.
const MAX_NESTING: usize = 4;
/// Bytes read at most from each layer (an initrd is walked entry by
/// entry; a decompression bomb stops here).
const MAX_READ: u64 = 1 << 30;
/// Bytes of a file read for its header (a PE header is within them).
const HEAD: u64 = 4096;
/// Zero bytes of padding skipped after a cpio archive, looking for the
/// next one.
const MAX_PADDING: usize = 1 << 20;
/// The initrd members tried, as libguestfs's list of binaries.
const INITRD_BINARIES: &[&str] = &[
    "bin/ls",
    "bin/rm",
    "bin/modprobe",
    "sbin/modprobe",
    "bin/sh",
    "bin/bash",
    "bin/dash",
    "bin/socat",
    "bin/busybox",
    "usr/bin/ls",
    "usr/bin/rm",
    "usr/bin/modprobe",
    "usr/sbin/modprobe",
    "usr/bin/sh",
    "usr/bin/bash",
    "usr/bin/dash",
    "usr/bin/busybox",
    "lib/systemd/systemd",
    "usr/lib/systemd/systemd",
];

type Input<'a> = Box<dyn Read + 'a>;

pub(in crate::daemon) fn file_architecture(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::file_architecture::Args,
) -> Result<String, ErrorReply> {
    let path = args.filename.as_str();
    let (file, _) = open_read(d, &args.filename)?;
    let found = arch_of(io, Box::new(file.take(MAX_READ)), 0).map_err(|e| {
        let errno = e.raw_os_error().unwrap_or(libc::EIO);
        ErrorReply::errno(errno, format!("file_architecture {path}: {e}"))
    })?;
    found.map(str::to_owned).ok_or_else(|| {
        ErrorReply::new(
            ErrorKind::Other,
            format!(
                "file_architecture {path}: unknown architecture (not an ELF or PE binary, \
                 kernel module or initrd holding one)"
            ),
        )
    })
}

/// The first bytes, and the whole stream again (those bytes first).
fn head_of(mut r: Input<'_>) -> std::io::Result<(Vec<u8>, Input<'_>)> {
    let mut head = Vec::new();
    (&mut r).take(HEAD).read_to_end(&mut head)?;
    Ok((head.clone(), Box::new(Cursor::new(head).chain(r))))
}

fn arch_of(io: &dyn CallIo, r: Input<'_>, depth: usize) -> std::io::Result<Option<&'static str>> {
    if io.cancelled() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            "cancelled",
        ));
    }
    let (head, r) = head_of(r)?;
    if head.starts_with(b"\x7fELF") {
        return Ok(elf_arch(&head));
    }
    if head.starts_with(b"MZ") {
        return Ok(pe_arch(&head));
    }
    if depth >= MAX_NESTING {
        return Ok(None);
    }
    if head.starts_with(b"070701") || head.starts_with(b"070702") {
        return cpio(io, r, depth);
    }
    let decoded: Input<'_> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(r).take(MAX_READ))
    } else if head.starts_with(b"\xfd7zXZ\0") {
        Box::new(xz2::read::XzDecoder::new_multi_decoder(r).take(MAX_READ))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::stream::read::Decoder::new(r)?.take(MAX_READ))
    } else {
        return Ok(None);
    };
    arch_of(io, decoded, depth + 1)
}

fn skip(r: &mut impl Read, n: u64) -> std::io::Result<()> {
    let copied = std::io::copy(&mut r.take(n), &mut std::io::sink())?;
    if copied < n {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// A newc (070701) or crc (070702) cpio archive: the first listed binary
/// with an ELF architecture; after the trailer, the next archive.
fn cpio(io: &dyn CallIo, r: Input<'_>, depth: usize) -> std::io::Result<Option<&'static str>> {
    let mut r = BufReader::new(r);
    loop {
        if io.cancelled() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "cancelled",
            ));
        }
        let mut hdr = [0u8; 110];
        if r.read_exact(&mut hdr).is_err()
            || !(hdr.starts_with(b"070701") || hdr.starts_with(b"070702"))
        {
            return Ok(None);
        }
        let field = |i: usize| {
            std::str::from_utf8(&hdr[6 + 8 * i..14 + 8 * i])
                .ok()
                .and_then(|s| u64::from_str_radix(s, 16).ok())
        };
        let (Some(mode), Some(size), Some(namesize)) = (field(1), field(6), field(11)) else {
            return Ok(None);
        };
        if namesize > 4096 {
            return Ok(None);
        }
        // The name, NUL-terminated, then padding to 4 bytes.
        let mut name = vec![0u8; namesize as usize + (4 - (110 + namesize as usize) % 4) % 4];
        r.read_exact(&mut name)?;
        name.truncate(namesize as usize);
        let name = name.split(|b| *b == 0).next().unwrap_or(&[]);
        let name = name.strip_prefix(b"./").unwrap_or(name);
        let name = name.strip_prefix(b"/").unwrap_or(name);
        let padded = size + (4 - size % 4) % 4;
        if name == b"TRAILER!!!" {
            return next_archive(io, r, depth);
        }
        let regular = mode & 0o170000 == 0o100000;
        if regular && INITRD_BINARIES.iter().any(|b| b.as_bytes() == name) {
            let mut head = Vec::new();
            (&mut r).take(size.min(HEAD)).read_to_end(&mut head)?;
            if let Some(arch) = elf_arch(&head) {
                return Ok(Some(arch));
            }
            skip(&mut r, padded - head.len() as u64)?;
        } else {
            skip(&mut r, padded)?;
        }
    }
}

/// What follows a cpio trailer and its zero padding (the main archive
/// after an early-microcode one), if anything.
fn next_archive(
    io: &dyn CallIo,
    mut r: BufReader<Input<'_>>,
    depth: usize,
) -> std::io::Result<Option<&'static str>> {
    let mut byte = [0u8; 1];
    for _ in 0..MAX_PADDING {
        if r.read(&mut byte)? == 0 {
            return Ok(None);
        }
        if byte[0] != 0 {
            let rest: Input<'_> = Box::new(Cursor::new(byte.to_vec()).chain(r));
            return arch_of(io, rest, depth + 1);
        }
    }
    Ok(None)
}
