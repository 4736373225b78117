//! copy_{device,file}_to_{device,file}: block copies between devices and
//! guest files, with libguestfs's optional arguments: `srcoffset` and
//! `destoffset` (bytes, default 0), `size` (default: to the end of the
//! source; a given size the source cannot supply is an error), `sparse`
//! (blocks of zeroes are not written) and `append` (for files only: the
//! copy goes after the file's current end instead of truncating it). A
//! file endpoint must be a regular file inside the guest tree.

use std::fs::File;

use protocol::types::{Device, Pathname};
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::OFlags;

use super::super::files::{open_read, open_write};
use super::super::state::GuestDaemon;
use super::super::util::{check_cancel, errno_reply, invalid, CHUNK};
use super::rw::{is_zero, read_full, write_full};
use super::{finish_write, open_block, Reply};

/// The optional arguments, the same for all four calls.
struct Opts {
    srcoffset: Option<i64>,
    destoffset: Option<i64>,
    size: Option<i64>,
    sparse: Option<bool>,
    append: Option<bool>,
}

macro_rules! opts {
    ($args:expr) => {
        Opts {
            srcoffset: $args.srcoffset,
            destoffset: $args.destoffset,
            size: $args.size,
            sparse: $args.sparse,
            append: $args.append,
        }
    };
}

enum Dest<'a> {
    Device(&'a Device),
    File(&'a Pathname),
}

fn non_negative(call: &str, what: &str, value: Option<i64>) -> Reply<Option<u64>> {
    value
        .map(|v| {
            u64::try_from(v)
                .map_err(|_| invalid(format!("{call}: {what} must not be negative (got {v})")))
        })
        .transpose()
}

fn open_src_file(call: &str, d: &GuestDaemon, path: &Pathname) -> Reply<File> {
    let (file, st) = open_read(d, path)?;
    regular(call, path, st.st_mode)?;
    Ok(file)
}

fn regular(call: &str, path: &Pathname, mode: u32) -> Reply<()> {
    if rustix::fs::FileType::from_raw_mode(mode) != rustix::fs::FileType::RegularFile {
        return Err(invalid(format!("{call}: {path} is not a regular file")));
    }
    Ok(())
}

/// The copy itself, once the source is open.
fn copy(
    call: &str,
    d: &GuestDaemon,
    io: &dyn CallIo,
    (src, src_name): (File, &str),
    dest: Dest,
    opts: Opts,
) -> Reply<()> {
    let srcoffset = non_negative(call, "srcoffset", opts.srcoffset)?.unwrap_or(0);
    let mut destoffset = non_negative(call, "destoffset", opts.destoffset)?.unwrap_or(0);
    let size = non_negative(call, "size", opts.size)?;
    let (sparse, append) = (opts.sparse.unwrap_or(false), opts.append.unwrap_or(false));
    let (out, dest_name) = match dest {
        Dest::Device(dev) => {
            if append {
                return Err(invalid(format!(
                    "{call}: the append flag cannot be set for a device ({dev})"
                )));
            }
            (open_block(call, dev, true)?, dev.as_str())
        }
        Dest::File(path) => {
            let flags = if append {
                OFlags::CREATE
            } else {
                OFlags::CREATE | OFlags::TRUNC
            };
            let file = open_write(d, path, flags)?;
            let st = rustix::fs::fstat(&file).map_err(|e| errno_reply("stat", path.as_str(), e))?;
            regular(call, path, st.st_mode)?;
            if append {
                // What O_APPEND would do, kept as an offset so that sparse
                // copies can leave holes.
                destoffset = u64::try_from(st.st_size).unwrap_or(0);
            }
            (file, path.as_str())
        }
    };
    let mut buf = vec![0u8; CHUNK];
    let mut done: u64 = 0;
    while size.is_none_or(|s| done < s) {
        check_cancel(io)?;
        let want = size.map_or(CHUNK as u64, |s| (s - done).min(CHUNK as u64)) as usize;
        let piece = buf.get_mut(..want).unwrap_or_default();
        let at = srcoffset.checked_add(done).ok_or_else(|| overflow(call))?;
        let got = read_full(call, &src, src_name, piece, at)?;
        if got == 0 {
            if size.is_some() {
                return Err(ErrorReply::errno(
                    libc::EIO,
                    format!("{call}: {src_name}: unexpected end of file"),
                ));
            }
            break;
        }
        let piece = piece.get(..got).unwrap_or_default();
        let to = destoffset.checked_add(done).ok_or_else(|| overflow(call))?;
        if !(sparse && is_zero(piece)) {
            write_full(call, &out, dest_name, piece, to)?;
        }
        done += got as u64;
    }
    match dest {
        Dest::Device(dev) => finish_write(call, &out, dev),
        Dest::File(path) => {
            // A sparse copy that ends in zeroes still makes the file as
            // long as the copy.
            let end = destoffset.checked_add(done).ok_or_else(|| overflow(call))?;
            let len = out
                .metadata()
                .map_err(|e| errno_reply("stat", path.as_str(), e))?
                .len();
            if len < end {
                out.set_len(end)
                    .map_err(|e| errno_reply("truncate", path.as_str(), e))?;
            }
            Ok(())
        }
    }
}

fn overflow(call: &str) -> ErrorReply {
    invalid(format!("{call}: offset + size overflows"))
}

pub(in crate::daemon) fn copy_device_to_device(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::copy_device_to_device::Args,
) -> Reply<()> {
    let call = "copy_device_to_device";
    let src = open_block(call, &args.src, false)?;
    let dest = Dest::Device(&args.dest);
    copy(call, d, io, (src, args.src.as_str()), dest, opts!(args))
}

pub(in crate::daemon) fn copy_device_to_file(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::copy_device_to_file::Args,
) -> Reply<()> {
    let call = "copy_device_to_file";
    let src = open_block(call, &args.src, false)?;
    let dest = Dest::File(&args.dest);
    copy(call, d, io, (src, args.src.as_str()), dest, opts!(args))
}

pub(in crate::daemon) fn copy_file_to_device(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::copy_file_to_device::Args,
) -> Reply<()> {
    let call = "copy_file_to_device";
    let src = open_src_file(call, d, &args.src)?;
    let dest = Dest::Device(&args.dest);
    copy(call, d, io, (src, args.src.as_str()), dest, opts!(args))
}

pub(in crate::daemon) fn copy_file_to_file(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::copy_file_to_file::Args,
) -> Reply<()> {
    let call = "copy_file_to_file";
    let src = open_src_file(call, d, &args.src)?;
    let dest = Dest::File(&args.dest);
    copy(call, d, io, (src, args.src.as_str()), dest, opts!(args))
}
