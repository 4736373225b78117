//! The whole-disk device a partition call works on: the checks (a block
//! device, and not a partition), its logical sector size and count,
//! exclusive opening for changes, positioned I/O, which kind of table it
//! holds, and the commit (fsync, then BLKRRPART so the kernel sees the new
//! partitions); and what both table kinds share: the `prlogex` argument
//! and a partition as part_list gives it.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

use protocol::types::{Device, Partition as PartEntry};
use protocol::{ErrorKind, ErrorReply};

use crate::daemon::util::{errno_reply, invalid};

/// Where sysfs lists block devices by number (`MAJOR:MINOR`).
const SYS_DEV_BLOCK: &str = "/sys/dev/block";

/// BLKRRPART, `_IO(0x12, 95)`: re-read the partition table. Not in the
/// libc crate.
const BLKRRPART: libc::Ioctl = 0x125f;

/// The two kinds of partition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Gpt,
    Mbr,
}

impl Kind {
    /// `gpt` / `efi`, or `mbr` / `msdos` (libguestfs' names).
    pub(crate) fn parse(call: &str, parttype: &str) -> Result<Kind, ErrorReply> {
        match parttype {
            "gpt" | "efi" => Ok(Kind::Gpt),
            "mbr" | "msdos" => Ok(Kind::Mbr),
            other => Err(invalid(format!(
                "{call}: unsupported partition table type {other:?}: use gpt (efi) or mbr (msdos)"
            ))),
        }
    }

    /// The name part_get_parttype gives (parted's).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Gpt => "gpt",
            Kind::Mbr => "msdos",
        }
    }
}

/// `prlogex` of part_add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prlogex {
    Primary,
    Extended,
    Logical,
}

impl Prlogex {
    pub(crate) fn parse(s: &str) -> Result<Prlogex, ErrorReply> {
        match s {
            "p" | "primary" => Ok(Prlogex::Primary),
            "e" | "extended" => Ok(Prlogex::Extended),
            "l" | "logical" => Ok(Prlogex::Logical),
            other => Err(invalid(format!(
                "part_add: prlogex {other:?}: use p (primary), e (extended) or l (logical)"
            ))),
        }
    }
}

/// A partition as part_list gives it: bytes, end inclusive.
pub(crate) fn entry(
    disk: &Disk,
    number: u64,
    first: u64,
    last: u64,
) -> Result<PartEntry, ErrorReply> {
    let bytes = |v: Option<u64>| {
        v.and_then(|v| i64::try_from(v).ok())
            .ok_or_else(|| disk.bad_table(format!("partition {number} lies beyond any disk")))
    };
    let sectors = last.checked_sub(first).and_then(|s| s.checked_add(1));
    Ok(PartEntry {
        part_num: bytes(Some(number))?,
        part_start: bytes(first.checked_mul(disk.sector))?,
        part_end: bytes(
            last.checked_add(1)
                .and_then(|s| s.checked_mul(disk.sector))
                .and_then(|b| b.checked_sub(1)),
        )?,
        part_size: bytes(sectors.and_then(|s| s.checked_mul(disk.sector)))?,
    })
}

pub(crate) struct Disk {
    pub(crate) file: File,
    pub(crate) call: &'static str,
    pub(crate) path: String,
    /// Logical sector size in bytes (BLKSSZGET, else 512).
    pub(crate) sector: u64,
    /// Size in logical sectors.
    pub(crate) sectors: u64,
}

impl Disk {
    /// Opens a whole disk: read-only, or for changes (read-write and
    /// O_EXCL, which fails with EBUSY while a filesystem on the disk or on
    /// one of its partitions is mounted).
    pub(crate) fn open(
        call: &'static str,
        device: &Device,
        write: bool,
    ) -> Result<Disk, ErrorReply> {
        let path = device.as_str();
        let meta =
            std::fs::metadata(path).map_err(|e| errno_reply(&format!("{call}: stat"), path, e))?;
        if !meta.file_type().is_block_device() {
            return Err(invalid(format!("{call}: {path} is not a block device")));
        }
        check_whole_disk(call, path, Path::new(SYS_DEV_BLOCK), meta.rdev())?;
        let mut options = OpenOptions::new();
        options.read(true);
        if write {
            options.write(true).custom_flags(libc::O_EXCL);
        }
        let file = retry_busy(|| options.open(path)).map_err(|e| {
            if write && e.raw_os_error() == Some(libc::EBUSY) {
                busy(call, path, "it is in use: a filesystem on it or on one of its partitions is mounted; unmount it first")
            } else {
                errno_reply(&format!("{call}: open"), path, e)
            }
        })?;
        let sector = rustix::fs::ioctl_blksszget(&file)
            .ok()
            .map(u64::from)
            .filter(|s| s.is_power_of_two() && *s >= 512)
            .unwrap_or(512);
        let bytes = (&file)
            .seek(SeekFrom::End(0))
            .map_err(|e| errno_reply(&format!("{call}: seek"), path, e))?;
        Ok(Disk {
            file,
            call,
            path: path.to_owned(),
            sector,
            sectors: bytes / sector,
        })
    }

    /// An error about the table on this disk (its content, not a system
    /// call): `part_list /dev/sda: …`.
    pub(crate) fn bad_table(&self, what: impl std::fmt::Display) -> ErrorReply {
        ErrorReply::new(
            ErrorKind::Other,
            format!("{} {}: {what}", self.call, self.path),
        )
    }

    /// An error about the caller's arguments for this disk.
    pub(crate) fn bad_arg(&self, what: impl std::fmt::Display) -> ErrorReply {
        invalid(format!("{} {}: {what}", self.call, self.path))
    }

    pub(crate) fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ErrorReply> {
        self.file
            .read_exact_at(buf, offset)
            .map_err(|e| errno_reply(&format!("{}: read", self.call), &self.path, e))
    }

    pub(crate) fn write_at(&self, offset: u64, buf: &[u8]) -> Result<(), ErrorReply> {
        self.file
            .write_all_at(buf, offset)
            .map_err(|e| errno_reply(&format!("{}: write", self.call), &self.path, e))
    }

    /// The byte offset of a sector, for sectors read from the disk or
    /// already checked against its size.
    pub(crate) fn offset(&self, sector: u64) -> Result<u64, ErrorReply> {
        sector
            .checked_mul(self.sector)
            .ok_or_else(|| self.bad_table(format!("sector {sector} is beyond any disk")))
    }

    /// Which table the disk holds: a protective MBR (type 0xee), or a GPT
    /// header without one, is GPT; another valid MBR is msdos. A
    /// filesystem boot sector (FAT, NTFS, exFAT) has the MBR signature too
    /// but is no partition table.
    pub(crate) fn detect(&self) -> Result<Kind, ErrorReply> {
        let mut mbr = [0u8; 512];
        self.read_at(0, &mut mbr)?;
        let vbr = mbr.get(3..11) == Some(b"NTFS    ".as_slice())
            || mbr.get(3..11) == Some(b"EXFAT   ".as_slice())
            || mbr.get(54..57) == Some(b"FAT".as_slice())
            || mbr.get(82..87) == Some(b"FAT32".as_slice());
        if mbr[510..512] == [0x55, 0xaa] && !vbr {
            let protective = (0..4).any(|i| mbr.get(446 + 16 * i + 4) == Some(&0xee));
            return Ok(if protective { Kind::Gpt } else { Kind::Mbr });
        }
        if self.sectors > 2 {
            let mut signature = [0u8; 8];
            self.read_at(self.sector, &mut signature)?;
            if &signature == b"EFI PART" {
                return Ok(Kind::Gpt);
            }
        }
        Err(self.bad_table("no partition table (create one with part_init or part_disk)"))
    }

    /// Flushes the disk and has the kernel re-read its partition table.
    pub(crate) fn commit(self) -> Result<(), ErrorReply> {
        self.file
            .sync_all()
            .map_err(|e| errno_reply(&format!("{}: fsync", self.call), &self.path, e))?;
        let reread = || {
            // SAFETY: BLKRRPART takes no argument and only acts on the disk
            // behind the descriptor, which self.file keeps open for the call.
            let rc = unsafe { libc::ioctl(self.file.as_raw_fd(), BLKRRPART) };
            if rc == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        };
        let Err(e) = retry_busy(reread) else {
            return Ok(());
        };
        match e.raw_os_error() {
            // A device that cannot hold partitions (a loop device without
            // partition scanning): nothing for the kernel to re-read.
            Some(libc::EINVAL) => Ok(()),
            Some(libc::EBUSY) => Err(busy(
                self.call,
                &self.path,
                "the partition table was written but the kernel could not re-read it because a partition is in use: unmount it first",
            )),
            _ => Err(errno_reply(&format!("{}: re-read partition table (BLKRRPART)", self.call), &self.path, e)),
        }
    }
}

/// Retries `f` while it fails with EBUSY, for half a second: another
/// opener may hold the disk for a moment (a partition scan, losetup or
/// udev on a host), where a mounted partition holds it for good.
fn retry_busy<T>(mut f: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    let mut tries = 0;
    loop {
        match f() {
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries < 10 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

fn busy(call: &str, path: &str, why: &str) -> ErrorReply {
    ErrorReply::errno(libc::EBUSY, format!("{call} {path}: {why}"))
}

/// Refuses a partition (sysfs has `partition` in its directory), naming
/// its disk.
pub(crate) fn check_whole_disk(
    call: &str,
    path: &str,
    sys_dev_block: &Path,
    rdev: u64,
) -> Result<(), ErrorReply> {
    let dir = sys_dev_block.join(format!(
        "{}:{}",
        rustix::fs::major(rdev),
        rustix::fs::minor(rdev)
    ));
    if !dir.join("partition").exists() {
        return Ok(());
    }
    let disk = std::fs::canonicalize(&dir)
        .ok()
        .and_then(|p| {
            p.parent()?
                .file_name()
                .map(|n| n.to_string_lossy().replace('!', "/"))
        })
        .map(|n| format!(" (/dev/{n})"))
        .unwrap_or_default();
    Err(invalid(format!(
        "{call}: {path} is a partition, give the whole disk{disk}"
    )))
}

/// Random bytes from the kernel (disk signatures).
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], ErrorReply> {
    let mut buf = [0u8; N];
    let mut filled = 0;
    while filled < N {
        let rest = buf.get_mut(filled..).unwrap_or_default();
        // SAFETY: the pointer and length describe `rest`, a live, writable
        // part of `buf`; getrandom writes at most that many bytes.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        match usize::try_from(n) {
            Ok(n) => filled += n,
            Err(_) => {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() != Some(libc::EINTR) {
                    return Err(errno_reply("getrandom", "", e));
                }
            }
        }
    }
    Ok(buf)
}

/// CRC-32 (IEEE, as GPT uses).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}
