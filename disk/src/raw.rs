//! Raw images: regular files and block devices, I/O with preadv/pwritev into guest memory.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use vm_memory::VolatileSlice;

use crate::iov::{self, IoVecs};
use crate::{check_range, BlockBackend, DiskError};

// <linux/fs.h>: _IOR(0x12, 114, size_t) and _IO(0x12, 119).
const BLKGETSIZE64: libc::Ioctl = 0x8008_1272;
const BLKDISCARD: libc::Ioctl = 0x1277;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    BlockDevice,
}

/// A raw image file, block device or unlinked temporary file.
#[derive(Debug)]
pub(crate) struct RawBackend {
    file: File,
    size: u64,
    read_only: bool,
    kind: Kind,
    discard: bool,
}

impl RawBackend {
    /// Serves a descriptor that [`crate::chain::open_checked`] opened (O_RDONLY when
    /// `read_only`) and found to be a regular file or block device.
    pub(crate) fn from_checked(
        file: File,
        path: &Path,
        read_only: bool,
    ) -> Result<Self, DiskError> {
        let meta = file
            .metadata()
            .map_err(|e| DiskError::open(path, !read_only, e))?;
        let file_type = meta.file_type();
        let (kind, size) = if file_type.is_file() {
            (Kind::File, meta.len())
        } else if file_type.is_block_device() {
            let size = block_device_size(&file).map_err(|e| DiskError::open(path, false, e))?;
            (Kind::BlockDevice, size)
        } else {
            return Err(DiskError::NotADisk {
                path: path.to_path_buf(),
                what: "not a regular file",
            });
        };
        let discard = !read_only
            && match kind {
                Kind::File => true,
                Kind::BlockDevice => block_device_discards(meta.rdev()),
            };
        Ok(RawBackend {
            file,
            size,
            read_only,
            kind,
            discard,
        })
    }

    /// Wraps an already open, writable regular file (scratch disks, overlay stores).
    pub(crate) fn from_file(file: File, size: u64) -> Self {
        RawBackend {
            file,
            size,
            read_only: false,
            kind: Kind::File,
            discard: true,
        }
    }

    fn punch_hole(&self, offset: u64, len: u64) -> io::Result<()> {
        let (off, len) = (to_off_t(offset)?, to_off_t(len)?);
        retry_eintr(|| {
            // SAFETY: fallocate only acts on our own fd; no memory is passed.
            unsafe {
                libc::fallocate(
                    self.file.as_raw_fd(),
                    libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                    off,
                    len,
                ) as isize
            }
        })
        .map(drop)
    }

    fn blkdiscard(&self, offset: u64, len: u64) -> io::Result<()> {
        let range: [u64; 2] = [offset, len];
        retry_eintr(|| {
            // SAFETY: BLKDISCARD reads two u64 from the pointer, which points at `range`.
            unsafe { libc::ioctl(self.file.as_raw_fd(), BLKDISCARD, range.as_ptr()) as isize }
        })
        .map(drop)
    }
}

impl BlockBackend for RawBackend {
    fn size(&self) -> u64 {
        self.size
    }

    fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn supports_discard(&self) -> bool {
        self.discard
    }

    fn read_vectored(&self, offset: u64, bufs: &[VolatileSlice<'_>]) -> Result<(), DiskError> {
        check_range(offset, iov::total_len(bufs), self.size)?;
        let mut iovecs = IoVecs::for_read(bufs);
        let mut pos = offset;
        while !iovecs.is_empty() {
            let batch = iovecs.next_batch();
            let off = to_off_t(pos).map_err(|e| DiskError::io("read", e))?;
            let n = retry_eintr(|| {
                // SAFETY: the iovecs point into guest memory kept mapped by `iovecs`' guards and
                // the kernel writes at most their lengths; `batch.len()` <= IOV_MAX fits c_int.
                unsafe {
                    libc::preadv(
                        self.file.as_raw_fd(),
                        batch.as_ptr(),
                        batch.len() as libc::c_int,
                        off,
                    )
                }
            })
            .map_err(|e| DiskError::io("read", e))?;
            if n == 0 {
                // The file is shorter than the disk: the rest reads as zeroes.
                iovecs.zero_remaining();
                break;
            }
            iovecs.advance(n);
            pos += n as u64;
        }
        Ok(())
    }

    fn write_vectored(&self, offset: u64, bufs: &[VolatileSlice<'_>]) -> Result<(), DiskError> {
        if self.read_only {
            return Err(DiskError::ReadOnly);
        }
        check_range(offset, iov::total_len(bufs), self.size)?;
        let mut iovecs = IoVecs::for_write(bufs);
        let mut pos = offset;
        while !iovecs.is_empty() {
            let batch = iovecs.next_batch();
            let off = to_off_t(pos).map_err(|e| DiskError::io("write", e))?;
            let n = retry_eintr(|| {
                // SAFETY: the iovecs point into guest memory kept mapped by `iovecs`' guards; the
                // kernel only reads from them; `batch.len()` <= IOV_MAX fits c_int.
                unsafe {
                    libc::pwritev(
                        self.file.as_raw_fd(),
                        batch.as_ptr(),
                        batch.len() as libc::c_int,
                        off,
                    )
                }
            })
            .map_err(|e| DiskError::io("write", e))?;
            if n == 0 {
                return Err(DiskError::io("write", io::ErrorKind::WriteZero.into()));
            }
            iovecs.advance(n);
            pos += n as u64;
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), DiskError> {
        if self.read_only {
            return Ok(());
        }
        self.file.sync_data().map_err(|e| DiskError::io("flush", e))
    }

    fn discard(&self, offset: u64, len: u64) -> Result<(), DiskError> {
        if self.read_only {
            return Err(DiskError::ReadOnly);
        }
        check_range(offset, Some(len), self.size)?;
        if len == 0 {
            return Ok(());
        }
        let result = match self.kind {
            Kind::File => self.punch_hole(offset, len),
            Kind::BlockDevice => self.blkdiscard(offset, len),
        };
        result.map_err(|e| match e.raw_os_error() {
            Some(libc::EOPNOTSUPP) => DiskError::Unsupported("discard on this file or device"),
            // Unaligned to the device's logical block size: nothing we can do for that range.
            Some(libc::EINVAL) if self.kind == Kind::BlockDevice => {
                DiskError::Unsupported("discard of a range not aligned to the device's blocks")
            }
            _ => DiskError::io("discard", e),
        })
    }
}

/// Discards every block of a block device (disk_create on a device, as
/// libguestfs does it).
pub(crate) fn discard_device(file: &File) -> io::Result<()> {
    let range: [u64; 2] = [0, block_device_size(file)?];
    retry_eintr(|| {
        // SAFETY: BLKDISCARD reads two u64 from the pointer, which points at `range`.
        unsafe { libc::ioctl(file.as_raw_fd(), BLKDISCARD, range.as_ptr()) as isize }
    })
    .map(drop)
}

/// Size in bytes of a block device.
fn block_device_size(file: &File) -> io::Result<u64> {
    let mut size: u64 = 0;
    // SAFETY: BLKGETSIZE64 writes one u64 to the pointer, which points at `size`.
    let ret = unsafe { libc::ioctl(file.as_raw_fd(), BLKGETSIZE64, &mut size as *mut u64) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(size)
}

/// Whether the kernel advertises discard for a block device (partitions inherit the disk's queue).
fn block_device_discards(rdev: u64) -> bool {
    let (major, minor) = (libc::major(rdev), libc::minor(rdev));
    let dev = format!("/sys/dev/block/{major}:{minor}");
    [
        format!("{dev}/queue/discard_max_bytes"),
        format!("{dev}/../queue/discard_max_bytes"),
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())
    .and_then(|s| s.trim().parse::<u64>().ok())
    .is_some_and(|max| max > 0)
}

fn to_off_t(v: u64) -> io::Result<libc::off_t> {
    libc::off_t::try_from(v).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// Runs a syscall until it does not fail with EINTR; returns its non-negative result.
fn retry_eintr(mut f: impl FnMut() -> isize) -> io::Result<usize> {
    loop {
        let ret = f();
        if ret >= 0 {
            return Ok(ret as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}
