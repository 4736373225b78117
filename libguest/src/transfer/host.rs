//! Host files written from guest data outside extraction: the file that a
//! `download` or `tar_out` to a host path writes, and the file that
//! `copy_out` of a single guest file creates.
//!
//! Security rule: the path the user typed is theirs and is followed as
//! typed; what is *at* that path may have been put there by the guest (an
//! earlier copy-out can leave symlinks anywhere), so a link to a regular
//! file is never written through.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::path::Path;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, CWD};
use rustix::io::Errno;

use super::tree::link_reason;
use super::TransferError;

/// Opens `path`, named by the user, for a `download` or `tar_out`: created
/// (mode 0666 less the umask) or truncated.
///
/// If its last component is a symbolic link, it is followed only to
/// something that is not a regular file or directory (`/dev/stdout`,
/// `/dev/fd/N`, a FIFO, a terminal), which is opened without creating or
/// truncating anything. A link to a regular file, or a dangling one, is
/// refused: it may come from the guest (an earlier copy-out into the same
/// directory) and name any file of the user's.
pub fn create_output(path: &Path) -> io::Result<File> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC;
    match rustix::fs::openat(
        CWD,
        path,
        flags | OFlags::NOFOLLOW,
        Mode::from_raw_mode(0o666),
    ) {
        Ok(fd) => return Ok(File::from(fd)),
        Err(Errno::LOOP) => {}
        Err(e) => return Err(e.into()),
    }
    let target = std::fs::read_link(path)
        .map(|t| t.display().to_string())
        .unwrap_or_else(|_| "?".into());
    let refuse = |what: &str| {
        io::Error::other(format!(
            "it is a symbolic link to {what} `{target}`; a file named for download or tar-out \
             is not written through a link (one may come from the guest, by an earlier \
             copy-out): remove the link, or name `{target}` itself"
        ))
    };
    let fd = match rustix::fs::openat(CWD, path, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Err(refuse("the missing file")),
        Err(e) => return Err(e.into()),
    };
    let st = rustix::fs::fstat(&fd)?;
    match FileType::from_raw_mode(st.st_mode) {
        FileType::RegularFile | FileType::Directory => Err(refuse("the regular file")),
        _ => Ok(File::from(fd)),
    }
}

/// Creates `localdir/name` for `copy_out` of one guest file: `localdir` is
/// the user's directory (followed as typed), `name` must not be a symbolic
/// link, a directory or a special file; a regular file there is replaced
/// (unlinked first, so a hard link to it keeps its data), and the new file
/// is created `O_EXCL|O_NOFOLLOW`, mode 0666 less the umask.
pub fn create_fresh_file(localdir: &Path, name: &OsStr) -> Result<File, TransferError> {
    let path = localdir.join(name);
    let bad = |reason: String| TransferError::BadDestination {
        path: path.clone(),
        reason,
    };
    if Path::new(name).file_name() != Some(name) {
        return Err(bad("the name is not a single file name".into()));
    }
    let dir = rustix::fs::openat(
        CWD,
        localdir,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| bad(format!("its directory: {}", io::Error::from(e))))?;
    match rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Err(Errno::NOENT) => {}
        Ok(st) => match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile => rustix::fs::unlinkat(&dir, name, AtFlags::empty())
                .map_err(|e| bad(format!("cannot replace it: {}", io::Error::from(e))))?,
            FileType::Symlink => return Err(bad(link_reason(dir.as_fd(), name))),
            FileType::Directory => {
                return Err(bad(
                    "a directory is there; remove it or copy into another directory".into(),
                ))
            }
            _ => {
                return Err(bad(
                    "it exists and is not a regular file; remove it first".into()
                ))
            }
        },
        Err(e) => return Err(bad(io::Error::from(e).to_string())),
    }
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    rustix::fs::openat(&dir, name, flags, Mode::from_raw_mode(0o666))
        .map(File::from)
        .map_err(|e| bad(io::Error::from(e).to_string()))
}
