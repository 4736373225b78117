//! Block devices by ioctl (guestfs(3) blockdev-*, blkdiscard…), and the
//! raw reads, writes and copies on them (`rw`, `copy`). A device argument
//! is a validated `Device`; it is opened only once stat says it is a
//! block device, so a name such as /dev/watchdog is refused before an
//! open could act on it. Writes to a device end with an fsync and a
//! re-read of its partition table, as the part_* calls do.

mod copy;
mod rw;
#[cfg(test)]
mod tests;

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

use protocol::types::Device;
use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::state::GuestDaemon;
use super::util::{errno_reply, invalid};

pub(super) use copy::{
    copy_device_to_device, copy_device_to_file, copy_file_to_device, copy_file_to_file,
};
pub(super) use rw::{
    blkdiscard, checksum_device, is_zero_device, pread_device, pwrite_device, zero, zero_device,
};

type Reply<T> = Result<T, ErrorReply>;

// The block ioctls (linux/fs.h); libc exports only BLKSSZGET of these.
// `_IO(0x12, n)` is 0x1200 | n.
const BLKROSET: libc::Ioctl = 0x125d;
const BLKROGET: libc::Ioctl = 0x125e;
const BLKRRPART: libc::Ioctl = 0x125f;
const BLKFLSBUF: libc::Ioctl = 0x1261;
const BLKRASET: libc::Ioctl = 0x1262;
const BLKSSZGET: libc::Ioctl = 0x1268;
const BLKDISCARD: libc::Ioctl = 0x1277;
const BLKDISCARDZEROES: libc::Ioctl = 0x127c;
/// `_IOR(0x12, 112, size_t)`; the kernel writes an int through it.
const BLKBSZGET: libc::Ioctl = 0x8008_1270;
/// `_IOR(0x12, 114, u64)`.
const BLKGETSIZE64: libc::Ioctl = 0x8008_1272;

/// Opens a block device, refusing anything else (checked before the open
/// and again on the descriptor).
pub(super) fn open_block(call: &str, device: &Device, write: bool) -> Reply<File> {
    let path = device.as_str();
    let not_block = || invalid(format!("{call}: {path} is not a block device"));
    let meta =
        std::fs::metadata(path).map_err(|e| errno_reply(&format!("{call}: stat"), path, e))?;
    if !meta.file_type().is_block_device() {
        return Err(not_block());
    }
    let file = OpenOptions::new()
        .read(true)
        .write(write)
        .custom_flags(libc::O_NOCTTY)
        .open(path)
        .map_err(|e| errno_reply(&format!("{call}: open"), path, e))?;
    let meta = file
        .metadata()
        .map_err(|e| errno_reply(&format!("{call}: stat"), path, e))?;
    if !meta.file_type().is_block_device() {
        return Err(not_block());
    }
    Ok(file)
}

/// An ioctl whose argument is a pointer to `T` (or a plain value cast to
/// a pointer, for BLKRASET).
///
/// # Safety
/// `request` must take a pointer to a `T` (reading or writing at most
/// `size_of::<T>()` bytes), or no pointer at all.
unsafe fn ioctl_ptr<T>(
    call: &str,
    file: &File,
    device: &Device,
    request: libc::Ioctl,
    arg: *mut T,
) -> Reply<()> {
    // SAFETY: the caller vouches for `request` and `arg`; `file` is open.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), request, arg) };
    if rc == 0 {
        Ok(())
    } else {
        Err(errno_reply(
            &format!("{call}: ioctl"),
            device.as_str(),
            std::io::Error::last_os_error(),
        ))
    }
}

/// An int-valued getter ioctl.
fn get_int(call: &str, device: &Device, request: libc::Ioctl) -> Reply<i64> {
    let file = open_block(call, device, false)?;
    // Room for a size_t: BLKBSZGET is declared with one and writes an int.
    let mut value = [0 as libc::c_int; 2];
    // SAFETY: the getters used here write one int (at most 8 bytes) to
    // the buffer, which is 8 bytes and alive for the call.
    unsafe { ioctl_ptr(call, &file, device, request, value.as_mut_ptr())? };
    Ok(i64::from(value[0]))
}

/// The size in bytes (BLKGETSIZE64).
pub(super) fn size_of(call: &str, file: &File, device: &Device) -> Reply<u64> {
    let mut size: u64 = 0;
    // SAFETY: BLKGETSIZE64 writes one u64 to `size`, alive for the call.
    unsafe { ioctl_ptr(call, file, device, BLKGETSIZE64, &mut size)? };
    Ok(size)
}

/// After writing to a device: flush it, and have the kernel re-read its
/// partition table when it is a whole disk that holds one. A partition
/// (or a disk that cannot be partitioned) answers EINVAL, and a disk with
/// a partition in use EBUSY: the data is written either way, and a raw
/// write next to a mounted partition is no error.
pub(super) fn finish_write(call: &str, file: &File, device: &Device) -> Reply<()> {
    file.sync_all()
        .map_err(|e| errno_reply(&format!("{call}: fsync"), device.as_str(), e))?;
    // SAFETY: BLKRRPART takes no argument.
    match unsafe { ioctl_ptr::<u8>(call, file, device, BLKRRPART, std::ptr::null_mut()) } {
        Err(e) if e.errno == libc::EINVAL || e.errno == libc::EBUSY => Ok(()),
        other => other,
    }
}

pub(super) fn blockdev_getss(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::blockdev_getss::Args,
) -> Reply<i64> {
    get_int("blockdev_getss", &args.device, BLKSSZGET)
}

pub(super) fn blockdev_getbsz(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::blockdev_getbsz::Args,
) -> Reply<i64> {
    get_int("blockdev_getbsz", &args.device, BLKBSZGET)
}

pub(super) fn blockdev_getsz(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::blockdev_getsz::Args,
) -> Reply<i64> {
    let file = open_block("blockdev_getsz", &args.device, false)?;
    let size = size_of("blockdev_getsz", &file, &args.device)?;
    i64::try_from(size / 512).map_err(|_| {
        ErrorReply::new(
            ErrorKind::Other,
            format!("blockdev_getsz {}: size {size} overflows", args.device),
        )
    })
}

pub(super) fn blockdev_getro(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::blockdev_getro::Args,
) -> Reply<bool> {
    Ok(get_int("blockdev_getro", &args.device, BLKROGET)? != 0)
}

pub(super) fn set_ro(call: &str, device: &Device, ro: bool) -> Reply<()> {
    let file = open_block(call, device, false)?;
    let mut value: libc::c_int = ro.into();
    // SAFETY: BLKROSET reads one int from `value`, alive for the call.
    unsafe { ioctl_ptr(call, &file, device, BLKROSET, &mut value) }
}

pub(super) fn blockdev_setro(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::blockdev_setro::Args,
) -> Reply<()> {
    set_ro("blockdev_setro", &args.device, true)
}

pub(super) fn blockdev_setrw(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::blockdev_setrw::Args,
) -> Reply<()> {
    set_ro("blockdev_setrw", &args.device, false)
}

pub(super) fn blockdev_flushbufs(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::blockdev_flushbufs::Args,
) -> Reply<()> {
    let call = "blockdev_flushbufs";
    let file = open_block(call, &args.device, false)?;
    // SAFETY: BLKFLSBUF takes no argument.
    unsafe { ioctl_ptr::<u8>(call, &file, &args.device, BLKFLSBUF, std::ptr::null_mut()) }
}

pub(super) fn blockdev_rereadpt(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::blockdev_rereadpt::Args,
) -> Reply<()> {
    let call = "blockdev_rereadpt";
    let file = open_block(call, &args.device, false)?;
    // SAFETY: BLKRRPART takes no argument.
    unsafe { ioctl_ptr::<u8>(call, &file, &args.device, BLKRRPART, std::ptr::null_mut()) }
}

pub(super) fn blockdev_setra(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::blockdev_setra::Args,
) -> Reply<()> {
    let call = "blockdev_setra";
    let sectors = libc::c_ulong::try_from(args.sectors)
        .ok()
        .filter(|s| *s <= libc::c_ulong::from(u32::MAX))
        .ok_or_else(|| {
            invalid(format!(
                "{call}: sectors {} is not a readahead in 512-byte sectors",
                args.sectors
            ))
        })?;
    let file = open_block(call, &args.device, false)?;
    // SAFETY: BLKRASET takes its value in the argument itself and
    // dereferences nothing.
    unsafe { ioctl_ptr::<u8>(call, &file, &args.device, BLKRASET, sectors as *mut u8) }
}

pub(super) fn blkdiscardzeroes(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::blkdiscardzeroes::Args,
) -> Reply<bool> {
    let call = "blkdiscardzeroes";
    let file = open_block(call, &args.device, false)?;
    let mut value: libc::c_uint = 0;
    // SAFETY: BLKDISCARDZEROES writes one unsigned int to `value`.
    unsafe { ioctl_ptr(call, &file, &args.device, BLKDISCARDZEROES, &mut value)? };
    Ok(value != 0)
}

fn devices(d: &mut GuestDaemon, io: &mut dyn CallIo) -> Reply<Vec<String>> {
    super::devices::list_devices(d, io, calls::list_devices::Args {})
}

pub(super) fn device_index(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::device_index::Args,
) -> Reply<i64> {
    let list = devices(d, io)?;
    let index = list.iter().position(|name| name == args.device.as_str());
    index.map(|i| i as i64).ok_or_else(|| {
        ErrorReply::errno(
            libc::ENOENT,
            format!("device_index: {}: device not found", args.device),
        )
    })
}

pub(super) fn is_whole_device(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::is_whole_device::Args,
) -> Reply<bool> {
    Ok(devices(d, io)?
        .iter()
        .any(|name| name == args.device.as_str()))
}

pub(super) fn nr_devices(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    _args: calls::nr_devices::Args,
) -> Reply<i64> {
    Ok(devices(d, io)?.len() as i64)
}
