//! file and file_architecture: what a guest file is. `file` answers for
//! non-regular files itself, as libguestfs, and runs file(1) from the
//! tools layer (with libmagic's database) on regular ones;
//! `file_architecture` reads headers itself (see `arch`).

use std::ffi::OsStr;
use std::os::fd::AsRawFd;

use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{FileType, Mode, OFlags};

use super::mkfs::run::{failed, run};
use super::state::GuestDaemon;
use super::util::errno_reply;

mod arch;
#[cfg(test)]
mod tests;

pub(super) use arch::file_architecture;

/// libguestfs's answer for a file that is not regular (not followed if a
/// symlink).
fn type_name(ftype: FileType) -> &'static str {
    match ftype {
        FileType::Directory => "directory",
        FileType::CharacterDevice => "character device",
        FileType::BlockDevice => "block device",
        FileType::Fifo => "FIFO",
        FileType::Symlink => "symbolic link",
        FileType::Socket => "socket",
        _ => "unknown, not regular file",
    }
}

/// file -zb of a regular file. file(1) is given the daemon's own
/// /proc/PID/fd link to the inode resolved inside the guest root (with
/// -L to go through that link), so no guest path is walked again. A
/// `/dev/` path is an appliance device, as libguestfs's Dev_or_Path:
/// file -zbsL reads its contents.
pub(super) fn file(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::file::Args,
) -> Result<String, ErrorReply> {
    let path = args.path.as_str();
    if let Some(device) = path
        .starts_with("/dev/")
        .then(|| protocol::types::Device::new(path).ok())
        .flatten()
    {
        let file = super::blockdev::open_block("file", &device, false)?;
        return run_file(&file, "-zbsL");
    }
    let fd = d
        .root
        .open(&args.path, OFlags::PATH | OFlags::NOFOLLOW, Mode::empty())?;
    let st = rustix::fs::fstat(&fd).map_err(|e| errno_reply("lstat", path, e))?;
    let ftype = FileType::from_raw_mode(st.st_mode);
    if ftype != FileType::RegularFile {
        return Ok(type_name(ftype).to_owned());
    }
    run_file(&fd, "-zbL")
}

/// file(1) with `flags` on what `fd` holds open.
fn run_file(fd: &impl AsRawFd, flags: &str) -> Result<String, ErrorReply> {
    // Our descriptor is close-on-exec; the child reaches it through our
    // /proc entry, which it may read as the same (root) user.
    let link = format!("/proc/{}/fd/{}", std::process::id(), fd.as_raw_fd());
    let flags = OsStr::new(flags);
    let out = run(
        "file",
        "file",
        &[flags, OsStr::new("--"), OsStr::new(&link)],
    )?;
    if out.code != 0 {
        return Err(failed("file", "file", &out));
    }
    let text = out.text.strip_suffix('\n').unwrap_or(&out.text);
    Ok(text.to_owned())
}
