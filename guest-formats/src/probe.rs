//! What is on a block device: a filesystem (type, label, UUID) or a
//! partition table, read from the device's first blocks the way blkid
//! does (`blkid -p -o value -s TYPE|LABEL|UUID`), for guest-init's
//! `vfs_type`, `list_filesystems` and `mount`.
//!
//! Our own prober rather than libblkid: guest-init is a static PID 1 with
//! no C dependencies, and these formats are simple. The device is hostile
//! input: one bounded read of its head plus a few bounded reads at fixed
//! offsets, every field read bounds-checked (`Option`), every loop capped.
//! Errors are only the reader's own (an I/O error on the first block),
//! passed on unchanged so that the caller can report its errno.

use std::io;

use crate::bytes::{slice, u8at};
use crate::source::{read_up_to, ReadAt};
use common::Device;

mod common;
mod foreign;
mod linux;
#[cfg(test)]
mod tests;

pub use common::Filesystem;

/// A partition table found where no filesystem was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartTable {
    /// A DOS (MBR) table.
    Dos,
    /// A GPT (an MBR with a protective 0xEE entry).
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

/// What a device holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A filesystem, swap, LVM PV or LUKS volume.
    Filesystem(Filesystem),
    /// A partition table (and no filesystem over it).
    PartitionTable(PartTable),
    /// No known signature.
    Unknown,
}

/// Probes a device. Errors are only those of reading its first block.
pub fn probe(dev: &dyn ReadAt) -> io::Result<Content> {
    let src = Device::read(dev)?;
    // Filesystems first: a FAT or NTFS boot sector also ends in 55 AA.
    // RAID members first, as blkid: a 1.0 or 0.90 member of a mirror
    // also shows the filesystem at its start.
    let probers: [fn(&Device) -> Option<Filesystem>; 11] = [
        linux::md_raid,
        linux::luks,
        linux::lvm2,
        linux::xfs,
        linux::ext,
        linux::btrfs,
        foreign::ntfs,
        foreign::vfat,
        foreign::iso9660,
        linux::squashfs,
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
    let sector = read_up_to(dev, 0, 512)?;
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
