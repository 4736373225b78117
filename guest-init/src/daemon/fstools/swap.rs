//! Swap areas: mkswap through the tools layer; swapon and swapoff are
//! system calls, on a device, a guest file, or the area a label or UUID
//! names (found with our prober, as swapon -L finds it with blkid).

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;

use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{FileType, Mode, OFlags};

use super::super::mkfs::refuse_mounted;
use super::super::mkfs::run::run_ok;
use super::super::state::GuestDaemon;
use super::super::util::{errno_reply, invalid};
use super::blkid::find_device;
use super::{child_fd_path, os_args};

/// The swap header's label field.
const MAX_LABEL: usize = 16;

fn mkswap_on(
    d: &GuestDaemon,
    call: &str,
    device: &str,
    label: Option<&str>,
    uuid: Option<&str>,
) -> Result<(), ErrorReply> {
    refuse_mounted(d, call, device)?;
    let mut argv: Vec<OsString> = vec!["-f".into()];
    if let Some(label) = label {
        if label.len() > MAX_LABEL {
            return Err(invalid(format!(
                "{call}: the label {label:?} is longer than the {MAX_LABEL} bytes a swap label holds"
            )));
        }
        argv.extend(["-L".into(), label.into()]);
    }
    if let Some(uuid) = uuid {
        argv.extend(["-U".into(), uuid.into()]);
    }
    argv.push(device.into());
    run_ok(call, "mkswap", &os_args(&argv))?;
    Ok(())
}

pub(in crate::daemon) fn mkswap(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mkswap::Args,
) -> Result<calls::mkswap::Ret, ErrorReply> {
    let (label, uuid) = (args.label.as_deref(), args.uuid.as_deref());
    mkswap_on(d, "mkswap", args.device.as_str(), label, uuid)
}

#[allow(non_snake_case)] // libguestfs's name
pub(in crate::daemon) fn mkswap_L(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mkswap_L::Args,
) -> Result<calls::mkswap_L::Ret, ErrorReply> {
    mkswap_on(d, "mkswap_L", args.device.as_str(), Some(&args.label), None)
}

#[allow(non_snake_case)] // libguestfs's name
pub(in crate::daemon) fn mkswap_U(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mkswap_U::Args,
) -> Result<calls::mkswap_U::Ret, ErrorReply> {
    mkswap_on(d, "mkswap_U", args.device.as_str(), None, Some(&args.uuid))
}

/// Opens a guest file that can hold swap: a regular file (a device node
/// in the guest tree would reach the appliance's devices).
fn open_swapfile(
    d: &GuestDaemon,
    call: &str,
    path: &protocol::types::Pathname,
    flags: OFlags,
) -> Result<std::os::fd::OwnedFd, ErrorReply> {
    let fd = d.root.open(path, flags, Mode::empty())?;
    let st = rustix::fs::fstat(&fd).map_err(|e| errno_reply(call, path.as_str(), e))?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(invalid(format!(
            "{call} {path}: not a regular file (swap files must be regular files)"
        )));
    }
    Ok(fd)
}

pub(in crate::daemon) fn mkswap_file(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mkswap_file::Args,
) -> Result<calls::mkswap_file::Ret, ErrorReply> {
    let fd = open_swapfile(d, "mkswap_file", &args.path, OFlags::RDWR)?;
    let target = child_fd_path(&fd);
    run_ok(
        "mkswap_file",
        "mkswap",
        &[OsString::from("-f").as_os_str(), &target],
    )?;
    Ok(())
}

fn c_path(call: &str, path: &[u8]) -> Result<CString, ErrorReply> {
    CString::new(path).map_err(|_| invalid(format!("{call}: the path has a NUL byte")))
}

/// swapon(2) or swapoff(2) on `target`; `what` names it in errors.
fn swap_syscall(call: &str, on: bool, target: &[u8], what: &str) -> Result<(), ErrorReply> {
    let path = c_path(call, target)?;
    // SAFETY: `path` is a NUL-terminated string that outlives the call;
    // swapon/swapoff only read it.
    let rc = unsafe {
        if on {
            libc::swapon(path.as_ptr(), 0)
        } else {
            libc::swapoff(path.as_ptr())
        }
    };
    if rc != 0 {
        let op = if on { "swapon" } else { "swapoff" };
        return Err(errno_reply(op, what, std::io::Error::last_os_error()));
    }
    Ok(())
}

pub(in crate::daemon) fn swapon_device(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::swapon_device::Args,
) -> Result<calls::swapon_device::Ret, ErrorReply> {
    let dev = args.device.as_str();
    swap_syscall("swapon_device", true, dev.as_bytes(), dev)
}

pub(in crate::daemon) fn swapoff_device(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::swapoff_device::Args,
) -> Result<calls::swapoff_device::Ret, ErrorReply> {
    let dev = args.device.as_str();
    swap_syscall("swapoff_device", false, dev.as_bytes(), dev)
}

/// The kernel opens the file itself: it gets our descriptor's
/// /proc/self/fd path, so the guest path is resolved inside the root.
fn swap_file(
    d: &GuestDaemon,
    call: &str,
    on: bool,
    file: &protocol::types::Pathname,
) -> Result<(), ErrorReply> {
    let fd = open_swapfile(d, call, file, OFlags::PATH)?;
    let target = super::super::root::fd_path(&fd);
    swap_syscall(call, on, target.as_os_str().as_bytes(), file.as_str())
}

pub(in crate::daemon) fn swapon_file(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::swapon_file::Args,
) -> Result<calls::swapon_file::Ret, ErrorReply> {
    swap_file(d, "swapon_file", true, &args.file)
}

pub(in crate::daemon) fn swapoff_file(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::swapoff_file::Args,
) -> Result<calls::swapoff_file::Ret, ErrorReply> {
    swap_file(d, "swapoff_file", false, &args.file)
}

/// The swap area whose label (or UUID) matches, then the syscall on it.
fn swap_by(call: &str, on: bool, tag: &str, value: &str) -> Result<(), ErrorReply> {
    let device = find_device(call, tag, value, Some("swap"))?;
    swap_syscall(call, on, device.as_bytes(), &device)
}

pub(in crate::daemon) fn swapon_label(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::swapon_label::Args,
) -> Result<calls::swapon_label::Ret, ErrorReply> {
    swap_by("swapon_label", true, "LABEL", &args.label)
}

pub(in crate::daemon) fn swapoff_label(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::swapoff_label::Args,
) -> Result<calls::swapoff_label::Ret, ErrorReply> {
    swap_by("swapoff_label", false, "LABEL", &args.label)
}

pub(in crate::daemon) fn swapon_uuid(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::swapon_uuid::Args,
) -> Result<calls::swapon_uuid::Ret, ErrorReply> {
    swap_by("swapon_uuid", true, "UUID", &args.uuid)
}

pub(in crate::daemon) fn swapoff_uuid(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::swapoff_uuid::Args,
) -> Result<calls::swapoff_uuid::Ret, ErrorReply> {
    swap_by("swapoff_uuid", false, "UUID", &args.uuid)
}
