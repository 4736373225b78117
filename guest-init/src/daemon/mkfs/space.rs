//! zero_free_space and fstrim: no tool, just the filesystem.

#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;

use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use crate::daemon::state::GuestDaemon;
use crate::daemon::util::errno_reply;

/// Zeroes written per write(2), and polls of the cancel flag.
const ZERO_CHUNK: usize = 1 << 20;
/// vfat caps a file at 4 GiB: past that (EFBIG) another file is started.
const MAX_FILES: usize = 4096;

/// Fills the filesystem holding `directory` with zeroes, then frees them.
/// The files are unlinked as soon as they are created, so nothing is left
/// behind if the call is cancelled or the appliance dies.
pub(in crate::daemon) fn zero_free_space(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::zero_free_space::Args,
) -> Result<calls::zero_free_space::Ret, ErrorReply> {
    let path = args.directory.as_str();
    let dir = d.root.open(
        &args.directory,
        OFlags::PATH | OFlags::DIRECTORY,
        Mode::empty(),
    )?;
    let zeroes = vec![0u8; ZERO_CHUNK];
    let mut files: Vec<File> = Vec::new();
    for n in 0..MAX_FILES {
        let name = format!(".libguest-zero-{}-{n}", std::process::id());
        let fd = rustix::fs::openat(
            &dir,
            name.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| errno_reply("zero_free_space: create a file in", path, e))?;
        rustix::fs::unlinkat(&dir, name.as_str(), rustix::fs::AtFlags::empty())
            .map_err(|e| errno_reply("zero_free_space: unlink in", path, e))?;
        let mut file = File::from(fd);
        let full = fill(&mut file, &zeroes, io, path)?;
        // Kept open until synced: closing an unlinked file drops its
        // unwritten pages.
        files.push(file);
        if full {
            break;
        }
    }
    for file in &files {
        sync_ignoring_enospc(file, path)?;
    }
    Ok(())
}

/// Writes zeroes until the filesystem is full (true) or the file is at
/// its size limit (false).
fn fill(file: &mut File, zeroes: &[u8], io: &dyn CallIo, path: &str) -> Result<bool, ErrorReply> {
    loop {
        if io.cancelled() {
            return Err(ErrorReply::cancelled());
        }
        match file.write(zeroes) {
            Ok(0) => return Ok(true),
            Ok(_) => {}
            Err(e) => match e.raw_os_error() {
                Some(libc::ENOSPC) | Some(libc::EDQUOT) => return Ok(true),
                Some(libc::EFBIG) => return Ok(false),
                Some(libc::EINTR) => {}
                _ => return Err(errno_reply("zero_free_space: write in", path, e)),
            },
        }
    }
}

fn sync_ignoring_enospc(file: &File, path: &str) -> Result<(), ErrorReply> {
    match rustix::fs::fdatasync(file) {
        Ok(()) | Err(Errno::NOSPC) => Ok(()),
        Err(e) => Err(errno_reply("zero_free_space: sync in", path, e)),
    }
}

/// `struct fstrim_range` of <linux/fs.h>.
#[repr(C)]
struct FstrimRange {
    start: u64,
    len: u64,
    minlen: u64,
}

/// `_IOWR('X', 121, struct fstrim_range)`.
const FITRIM: libc::c_ulong = 0xc018_5879;

/// Discards the free blocks of the filesystem holding `mountpoint`.
pub(in crate::daemon) fn fstrim(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::fstrim::Args,
) -> Result<calls::fstrim::Ret, ErrorReply> {
    let path = args.mountpoint.as_str();
    // A real descriptor: ioctls do not work on O_PATH ones.
    let dir = d.root.open(
        &args.mountpoint,
        OFlags::RDONLY | OFlags::DIRECTORY,
        Mode::empty(),
    )?;
    // Blocks freed but not yet committed are not trimmed: commit first.
    rustix::fs::syncfs(&dir).map_err(|e| errno_reply("fstrim: sync", path, e))?;
    let mut range = FstrimRange {
        start: 0,
        len: u64::MAX,
        minlen: 0,
    };
    // SAFETY: FITRIM reads and writes one `struct fstrim_range`, which
    // `range` is (repr(C), same fields) and outlives the call; `dir` is open.
    let rc = unsafe { libc::ioctl(dir.as_raw_fd(), FITRIM, &mut range as *mut FstrimRange) };
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EOPNOTSUPP) {
            return Err(ErrorReply::errno(
                libc::EOPNOTSUPP,
                format!("fstrim {path}: the filesystem or its device does not support discard"),
            ));
        }
        return Err(errno_reply("fstrim", path, e));
    }
    Ok(())
}
