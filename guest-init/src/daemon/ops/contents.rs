//! A regular file's contents copied to another open file: holes kept,
//! the kernel's copy_file_range where it can, cancellable between
//! pieces. Shared by cp (copy.rs) and cp -a's tree walk (tree.rs); it
//! works on descriptors the caller opened inside the guest tree.

use std::fs::File;
use std::os::unix::fs::FileExt;

use protocol::{CallIo, ErrorReply};
use rustix::fs::{SeekFrom, Stat};
use rustix::io::Errno;

use crate::daemon::util::{check_cancel, errno_reply, CHUNK};

/// Whether two stats are of the same inode.
pub(super) fn same_inode(a: &Stat, b: &Stat) -> bool {
    a.st_dev == b.st_dev && a.st_ino == b.st_ino
}

/// Copies `size` bytes, keeping holes (SEEK_DATA/SEEK_HOLE) and using
/// copy_file_range where the kernel can (same filesystem: reflinks on
/// xfs), else read/write. The destination ends up exactly `size` long.
pub(super) fn copy_data(
    io: &dyn CallIo,
    src: &File,
    dst: &File,
    size: u64,
    dshown: &str,
) -> Result<(), ErrorReply> {
    let mut kernel_copy = true;
    let mut buf = Vec::new();
    let mut off = 0u64;
    'segments: while off < size {
        check_cancel(io)?;
        let data = match rustix::fs::seek(src, SeekFrom::Data(off)) {
            Ok(pos) => pos,
            Err(Errno::NXIO) => break, // only a hole is left
            Err(_) => off,
        };
        if data >= size {
            break;
        }
        let hole = rustix::fs::seek(src, SeekFrom::Hole(data)).map_or(size, |h| h.min(size));
        let mut pos = data;
        while pos < hole {
            check_cancel(io)?;
            let len = (hole - pos).min(CHUNK as u64) as usize;
            let done = copy_range(src, dst, pos, len, &mut kernel_copy, &mut buf)
                .map_err(|e| errno_reply("copy", dshown, e))?;
            if done == 0 {
                break 'segments; // the source shrank
            }
            pos += done as u64;
        }
        off = pos.max(hole);
    }
    rustix::fs::ftruncate(dst, size).map_err(|e| errno_reply("truncate", dshown, e))
}

fn copy_range(
    src: &File,
    dst: &File,
    pos: u64,
    len: usize,
    kernel_copy: &mut bool,
    buf: &mut Vec<u8>,
) -> Result<usize, Errno> {
    if *kernel_copy {
        let (mut in_off, mut out_off) = (pos, pos);
        match rustix::fs::copy_file_range(src, Some(&mut in_off), dst, Some(&mut out_off), len) {
            Ok(n) => return Ok(n),
            Err(Errno::XDEV | Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP | Errno::BADF) => {
                *kernel_copy = false;
            }
            Err(e) => return Err(e),
        }
    }
    buf.resize(len, 0);
    let n = loop {
        match src.read_at(&mut buf[..len], pos) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Errno::from_io_error(&e).unwrap_or(Errno::IO)),
        }
    };
    dst.write_all_at(&buf[..n], pos)
        .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?;
    Ok(n)
}
