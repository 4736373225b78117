//! Raw reads and writes on devices: pread/pwrite, zeroing (skipping
//! blocks already zero, so thin disks stay thin), checking for zeroes,
//! discarding and checksumming. Long loops check for cancellation
//! between chunks.

use std::fs::File;
use std::os::unix::fs::FileExt;

use protocol::types::Device;
use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::super::search::hasher;
use super::super::state::GuestDaemon;
use super::super::util::{check_cancel, errno_reply, invalid, CHUNK, MAX_DATA};
use super::{finish_write, ioctl_ptr, open_block, size_of, Reply, BLKDISCARD};

/// What zero clears: 32 blocks of BUFSIZ (8 KiB), as libguestfs does;
/// past every partition table and superblock at the start of a disk.
const ZERO_START: u64 = 32 * 8192;

fn non_negative(call: &str, what: &str, value: i64) -> Reply<u64> {
    u64::try_from(value)
        .map_err(|_| invalid(format!("{call}: {what} must not be negative (got {value})")))
}

/// Reads into `buf` at `offset` until it is full or the device ends;
/// the bytes read.
pub(super) fn read_full(
    call: &str,
    file: &File,
    path: &str,
    buf: &mut [u8],
    offset: u64,
) -> Reply<usize> {
    let mut got = 0;
    while let Some(rest) = buf.get_mut(got..).filter(|r| !r.is_empty()) {
        match file.read_at(rest, offset.saturating_add(got as u64)) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(errno_reply(&format!("{call}: read"), path, e)),
        }
    }
    Ok(got)
}

pub(super) fn write_full(
    call: &str,
    file: &File,
    path: &str,
    buf: &[u8],
    offset: u64,
) -> Reply<()> {
    file.write_all_at(buf, offset)
        .map_err(|e| errno_reply(&format!("{call}: write"), path, e))
}

pub(super) fn is_zero(buf: &[u8]) -> bool {
    buf.iter().all(|&b| b == 0)
}

pub(in crate::daemon) fn pread_device(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::pread_device::Args,
) -> Reply<Vec<u8>> {
    let call = "pread_device";
    let count = non_negative(call, "count", args.count)?;
    let offset = non_negative(call, "offset", args.offset)?;
    if count > MAX_DATA as u64 {
        return Err(ErrorReply::new(
            ErrorKind::TooLarge,
            format!(
                "{call} {}: count {count} is over the {} MiB message limit; read in smaller pieces or use copy_device_to_file",
                args.device,
                protocol::frame::MAX_PAYLOAD >> 20
            ),
        ));
    }
    let file = open_block(call, &args.device, false)?;
    let mut data = vec![0u8; count as usize];
    let got = read_full(call, &file, args.device.as_str(), &mut data, offset)?;
    data.truncate(got);
    Ok(data)
}

pub(in crate::daemon) fn pwrite_device(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::pwrite_device::Args,
) -> Reply<i64> {
    let call = "pwrite_device";
    let offset = non_negative(call, "offset", args.offset)?;
    let file = open_block(call, &args.device, true)?;
    let mut done = 0;
    while let Some(rest) = args.content.get(done..).filter(|r| !r.is_empty()) {
        let at = offset
            .checked_add(done as u64)
            .ok_or_else(|| invalid(format!("{call} {}: offset + length overflows", args.device)))?;
        match file.write_at(rest, at) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // A short write already made is what pwrite(2) reports.
            Err(_) if done > 0 => break,
            Err(e) => {
                return Err(errno_reply(
                    &format!("{call}: write"),
                    args.device.as_str(),
                    e,
                ))
            }
        }
    }
    finish_write(call, &file, &args.device)?;
    Ok(done as i64)
}

/// Zeroes `[0, end)` of a device chunk by chunk, writing only the chunks
/// that are not zero already.
fn zero_range(call: &str, io: &dyn CallIo, device: &Device, end: Option<u64>) -> Reply<()> {
    let file = open_block(call, device, true)?;
    let size = size_of(call, &file, device)?;
    let end = end.map_or(size, |e| e.min(size));
    let path = device.as_str();
    let mut buf = vec![0u8; CHUNK];
    let mut offset = 0;
    while offset < end {
        check_cancel(io)?;
        let len = (end - offset).min(CHUNK as u64) as usize;
        let piece = buf.get_mut(..len).unwrap_or_default();
        let got = read_full(call, &file, path, piece, offset)?;
        if got == 0 {
            break;
        }
        let piece = piece.get_mut(..got).unwrap_or_default();
        if !is_zero(piece) {
            piece.fill(0);
            write_full(call, &file, path, piece, offset)?;
        }
        offset += got as u64;
    }
    finish_write(call, &file, device)
}

pub(in crate::daemon) fn zero(
    _d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::zero::Args,
) -> Reply<()> {
    zero_range("zero", io, &args.device, Some(ZERO_START))
}

pub(in crate::daemon) fn zero_device(
    _d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::zero_device::Args,
) -> Reply<()> {
    zero_range("zero_device", io, &args.device, None)
}

pub(in crate::daemon) fn is_zero_device(
    _d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::is_zero_device::Args,
) -> Reply<bool> {
    let call = "is_zero_device";
    let file = open_block(call, &args.device, false)?;
    let mut buf = vec![0u8; CHUNK];
    let mut offset = 0u64;
    loop {
        check_cancel(io)?;
        let got = read_full(call, &file, args.device.as_str(), &mut buf, offset)?;
        let Some(piece) = buf.get(..got).filter(|p| !p.is_empty()) else {
            return Ok(true);
        };
        if !is_zero(piece) {
            return Ok(false);
        }
        offset += got as u64;
    }
}

pub(in crate::daemon) fn blkdiscard(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::blkdiscard::Args,
) -> Reply<()> {
    let call = "blkdiscard";
    let file = open_block(call, &args.device, true)?;
    let size = size_of(call, &file, &args.device)?;
    let mut range: [u64; 2] = [0, size];
    // SAFETY: BLKDISCARD reads two u64s (start, length) from `range`.
    unsafe { ioctl_ptr(call, &file, &args.device, BLKDISCARD, range.as_mut_ptr())? };
    finish_write(call, &file, &args.device)
}

pub(in crate::daemon) fn checksum_device(
    _d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::checksum_device::Args,
) -> Reply<String> {
    let call = "checksum_device";
    let hasher = hasher(call, &args.csumtype)?;
    let mut file = open_block(call, &args.device, false)?;
    hasher(io, &mut file, args.device.as_str())
}
