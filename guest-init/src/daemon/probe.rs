//! What is on a block device: a filesystem (type, label, UUID) or a
//! partition table, read from the device's first blocks the way blkid
//! does (`blkid -p -o value -s TYPE|LABEL|UUID`), for `vfs_type`,
//! `list_filesystems` and `mount`.
//!
//! Our own prober rather than libblkid: guest-init is a static PID 1 with
//! no C dependencies, and these formats are simple. The device is hostile
//! input: one bounded read of its head plus a few bounded reads at fixed
//! offsets, every field read bounds-checked (`Option`), every loop capped.
//! The file uses nothing from the crate, so the `fs_probe` fuzz target can
//! include it with `#[path]`.

use std::borrow::Cow;
use std::io;

#[path = "probe/foreign.rs"]
mod foreign;
#[path = "probe/linux.rs"]
mod linux;
#[cfg(test)]
#[path = "probe/tests.rs"]
mod tests;

/// Read at once from offset 0: every superblock below lies in it (btrfs
/// at 64 KiB, swap signatures up to a 64 KiB page, iso9660 descriptors
/// from 32 KiB).
const HEAD: usize = 128 << 10;
/// The largest read beyond the head (FAT root directory, NTFS record).
const MAX_READ: usize = 1 << 20;

/// Positioned reads: a device or image file, or bytes in memory.
pub trait ReadAt {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
}

impl ReadAt for std::fs::File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }
}

/// An image in memory (`probe(&bytes.as_slice())`).
impl ReadAt for &[u8] {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let start = usize::try_from(offset).map_or(self.len(), |o| o.min(self.len()));
        let src = self.get(start..).unwrap_or_default();
        let n = buf.len().min(src.len());
        buf.get_mut(..n)
            .unwrap_or_default()
            .copy_from_slice(src.get(..n).unwrap_or_default());
        Ok(n)
    }
}

/// A recognised filesystem (or swap, LVM PV, LUKS volume).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filesystem {
    /// blkid's TYPE: `ext4`, `xfs`, `vfat`, `swap`…
    pub fstype: &'static str,
    /// "" when there is none.
    pub label: String,
    /// "" when there is none.
    pub uuid: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartTable {
    Dos,
    Gpt,
}

impl PartTable {
    /// blkid's PTTYPE.
    pub fn name(self) -> &'static str {
        match self {
            PartTable::Dos => "dos",
            PartTable::Gpt => "gpt",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Filesystem(Filesystem),
    PartitionTable(PartTable),
    Unknown,
}

/// Probes a device. Errors are only those of reading its first block.
pub fn probe(dev: &dyn ReadAt) -> io::Result<Content> {
    let head = read_full(dev, 0, HEAD)?;
    let src = Source { dev, head };
    // Filesystems first: a FAT or NTFS boot sector also ends in 55 AA.
    let probers: [fn(&Source) -> Option<Filesystem>; 9] = [
        linux::luks,
        linux::lvm2,
        linux::xfs,
        linux::ext,
        linux::btrfs,
        foreign::ntfs,
        foreign::vfat,
        foreign::iso9660,
        linux::swap,
    ];
    for prober in probers {
        if let Some(fs) = prober(&src) {
            return Ok(Content::Filesystem(fs));
        }
    }
    Ok(match partition_table(&src.head) {
        Some(table) => Content::PartitionTable(table),
        None => Content::Unknown,
    })
}

/// The type byte of primary partition `number` (1-4) when the device
/// holds a DOS (MBR) partition table.
pub fn mbr_partition_type(dev: &dyn ReadAt, number: u32) -> io::Result<Option<u8>> {
    let Some(index) = number.checked_sub(1).filter(|i| *i < 4) else {
        return Ok(None);
    };
    let sector = read_full(dev, 0, 512)?;
    if partition_table(&sector) != Some(PartTable::Dos) {
        return Ok(None);
    }
    Ok(u8at(&sector, 446 + 16 * index as usize + 4))
}

/// MBR extended-partition containers (DOS, W95 LBA, Linux): they hold
/// the logical partitions' table, never a filesystem.
pub fn is_extended(part_type: u8) -> bool {
    matches!(part_type, 0x05 | 0x0f | 0x85)
}

/// DOS or GPT, from the MBR sector (0x55AA, sane boot flags, a GPT
/// protective 0xEE entry). Only asked once no filesystem claimed it.
fn partition_table(head: &[u8]) -> Option<PartTable> {
    if slice(head, 510, 2)? != [0x55, 0xAA] {
        return None;
    }
    let mut protective = false;
    for i in 0..4 {
        let entry = 446 + 16 * i;
        if !matches!(u8at(head, entry)?, 0x00 | 0x80) {
            return None;
        }
        protective |= u8at(head, entry + 4)? == 0xEE;
    }
    // The header itself is at LBA 1, whose offset depends on the sector
    // size; the protective entry is what every GPT disk has.
    Some(if protective {
        PartTable::Gpt
    } else {
        PartTable::Dos
    })
}

/// The device's head, and bounded reads elsewhere.
struct Source<'a> {
    dev: &'a dyn ReadAt,
    head: Vec<u8>,
}

impl Source<'_> {
    /// `len` bytes at `offset`, or None when out of the device or too big.
    fn at(&self, offset: u64, len: usize) -> Option<Cow<'_, [u8]>> {
        if len > MAX_READ {
            return None;
        }
        let start = usize::try_from(offset).ok();
        if let Some(inside) = start.and_then(|s| slice(&self.head, s, len)) {
            return Some(Cow::Borrowed(inside));
        }
        let buf = read_full(self.dev, offset, len).ok()?;
        (buf.len() == len).then_some(Cow::Owned(buf))
    }
}

/// Up to `len` bytes from `offset`; shorter only at the end of the device.
fn read_full(dev: &dyn ReadAt, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; len];
    let mut done = 0;
    while done < len {
        let Some(pos) = offset.checked_add(done as u64) else {
            break;
        };
        let Some(rest) = buf.get_mut(done..) else {
            break;
        };
        match dev.read_at(rest, pos) {
            Ok(0) => break,
            Ok(n) => done += n.min(len - done),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(done);
    Ok(buf)
}

fn slice(b: &[u8], off: usize, len: usize) -> Option<&[u8]> {
    b.get(off..off.checked_add(len)?)
}

fn bytes<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    slice(b, off, N)?.try_into().ok()
}

fn u8at(b: &[u8], off: usize) -> Option<u8> {
    b.get(off).copied()
}

fn le16(b: &[u8], off: usize) -> Option<u16> {
    bytes(b, off).map(u16::from_le_bytes)
}

fn le32(b: &[u8], off: usize) -> Option<u32> {
    bytes(b, off).map(u32::from_le_bytes)
}

fn le64(b: &[u8], off: usize) -> Option<u64> {
    bytes(b, off).map(u64::from_le_bytes)
}

fn be16(b: &[u8], off: usize) -> Option<u16> {
    bytes(b, off).map(u16::from_be_bytes)
}

fn be32(b: &[u8], off: usize) -> Option<u32> {
    bytes(b, off).map(u32::from_be_bytes)
}

fn be64(b: &[u8], off: usize) -> Option<u64> {
    bytes(b, off).map(u64::from_be_bytes)
}

/// A label as blkid keeps it: up to the first NUL, trailing blanks cut.
fn label(raw: &[u8]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    let text = String::from_utf8_lossy(raw.get(..end).unwrap_or_default());
    text.trim_end_matches(|c: char| c.is_ascii_whitespace())
        .to_owned()
}

/// A UTF-16 label (NTFS, Joliet), NUL-terminated, trailing blanks cut.
fn utf16_label(raw: &[u8], big_endian: bool) -> String {
    let units: Vec<u16> = raw
        .chunks_exact(2)
        .map(|p| {
            let pair = [
                p.first().copied().unwrap_or(0),
                p.get(1).copied().unwrap_or(0),
            ];
            if big_endian {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            }
        })
        .take_while(|&u| u != 0)
        .collect();
    let text = String::from_utf16_lossy(&units);
    text.trim_end_matches(|c: char| c.is_ascii_whitespace())
        .to_owned()
}

/// A 16-byte UUID at `off` as 8-4-4-4-12 hex; "" when absent or zero.
fn uuid_at(b: &[u8], off: usize) -> String {
    let Some(u) = bytes::<16>(b, off) else {
        return String::new();
    };
    if u.iter().all(|&x| x == 0) {
        return String::new();
    }
    let hex: String = u.iter().map(|x| format!("{x:02x}")).collect();
    let part = |r: std::ops::Range<usize>| hex.get(r).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

/// CRC-32C (Castagnoli) without the final inversion; bitwise, as the
/// superblocks checked are at most a few KiB.
fn crc32c(mut crc: u32, data: &[u8]) -> u32 {
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    crc
}
