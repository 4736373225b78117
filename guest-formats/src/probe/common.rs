//! What the signature readers (linux.rs, foreign.rs) share: the device
//! they read (its head, and bounded reads beyond it), the filesystem they
//! report, and the decoding of labels, UUIDs and CRC-32C. A read past the
//! device or over [`MAX_READ`] is None, never an error or a panic.

use std::borrow::Cow;
use std::io;

use crate::bytes::{array, slice};
use crate::source::{read_up_to, ReadAt};

/// Read at once from offset 0: every superblock below lies in it (btrfs
/// at 64 KiB, swap signatures up to a 64 KiB page, iso9660 descriptors
/// from 32 KiB).
pub(super) const HEAD: usize = 128 << 10;
/// The largest read beyond the head (FAT root directory, NTFS record).
const MAX_READ: usize = 1 << 20;

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

/// The device's head, and bounded reads elsewhere.
pub(super) struct Device<'a> {
    dev: &'a dyn ReadAt,
    /// The first [`HEAD`] bytes (fewer on a smaller device).
    pub(super) head: Vec<u8>,
}

impl<'a> Device<'a> {
    /// Reads the head; errors are the reader's.
    pub(super) fn read(dev: &'a dyn ReadAt) -> io::Result<Device<'a>> {
        let head = read_up_to(dev, 0, HEAD)?;
        Ok(Device { dev, head })
    }

    /// The device's size in bytes.
    pub(super) fn size(&self) -> u64 {
        self.dev.size()
    }

    /// `len` bytes at `offset`, or None when out of the device or too big.
    pub(super) fn at(&self, offset: u64, len: usize) -> Option<Cow<'_, [u8]>> {
        if len > MAX_READ {
            return None;
        }
        let start = usize::try_from(offset).ok();
        if let Some(inside) = start.and_then(|s| slice(&self.head, s, len)) {
            return Some(Cow::Borrowed(inside));
        }
        let buf = read_up_to(self.dev, offset, len).ok()?;
        (buf.len() == len).then_some(Cow::Owned(buf))
    }
}

/// A label as blkid keeps it: up to the first NUL, trailing blanks cut.
pub(super) fn label(raw: &[u8]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    let text = String::from_utf8_lossy(raw.get(..end).unwrap_or_default());
    text.trim_end_matches(|c: char| c.is_ascii_whitespace())
        .to_owned()
}

/// A UTF-16 label (NTFS, Joliet), NUL-terminated, trailing blanks cut.
pub(super) fn utf16_label(raw: &[u8], big_endian: bool) -> String {
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
pub(super) fn uuid_at(b: &[u8], off: usize) -> String {
    let Some(u) = array::<16>(b, off) else {
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

/// CRC-32C (Castagnoli) without the final inversion.
pub(super) fn crc32c(crc: u32, data: &[u8]) -> u32 {
    crate::bytes::crc32_reflected(0x82F6_3B78, crc, data)
}
