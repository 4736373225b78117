//! GPT, through the `gpt` crate. The crate trusts the headers it reads: an
//! entry size other than 128 trips an assert, a huge entry count makes a
//! huge allocation, odd LBAs overflow. So every header the crate would
//! accept (signature and CRC good) is checked here first, and partitions
//! outside the usable sectors are refused. The crate also packs the used
//! entries to the front of the array when it writes (deleting partition 1
//! would renumber 2 as 1): the array is written here, one slot per
//! partition number, with the crate's entry encoding, and the crate builds
//! the headers and writes them with their checksums.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Cursor;
use std::str::FromStr;

use gpt::disk::LogicalBlockSize;
use gpt::header::{Header, HeaderBuilder};
use gpt::mbr::ProtectiveMBR;
use gpt::partition::{Partition, PartitionAttributes};
use gpt::partition_types::{Type, LINUX_FS, UNUSED};
use gpt::{GptConfig, GptDisk};
use protocol::types::Partition as PartEntry;
use protocol::ErrorReply;

use super::disk::{crc32, entry, Disk};

/// The size of an entry the crate (and everyone) uses.
const ENTRY_SIZE: u32 = 128;
/// The most entries a header may declare (gdisk makes a few thousand).
const MAX_ENTRIES: u32 = 4096;
/// Longest name, in UTF-16 code units.
const NAME_UNITS: usize = 36;

pub(crate) struct Gpt<'a> {
    table: GptDisk<&'a File>,
    lb: LogicalBlockSize,
    /// The used partitions, by number (entry slot + 1).
    pub(super) parts: BTreeMap<u32, Partition>,
    /// A new table: write a protective MBR too.
    fresh: bool,
    /// A disk GUID to write instead of the one read.
    pub(super) disk_guid: Option<uuid::Uuid>,
    /// Write the backup header at the disk's last sector (part_expand_gpt).
    pub(super) expand: bool,
}

fn block_size(disk: &Disk) -> Result<LogicalBlockSize, ErrorReply> {
    LogicalBlockSize::try_from(disk.sector).map_err(|_| {
        disk.bad_table(format!(
            "GPT needs 512- or 4096-byte sectors; this disk has {}-byte sectors",
            disk.sector
        ))
    })
}

/// Reads the GPT on the disk.
pub(crate) fn open(disk: &Disk) -> Result<Gpt<'_>, ErrorReply> {
    let lb = block_size(disk)?;
    check_headers(disk)?;
    let table = GptConfig::new()
        .logical_block_size(lb)
        .open_from_device(&disk.file)
        .map_err(|e| disk.bad_table(format!("cannot read the GPT: {e}")))?;
    let parts: BTreeMap<u32, Partition> = table
        .partitions()
        .iter()
        .filter(|(_, p)| p.is_used())
        .map(|(n, p)| (*n, p.clone()))
        .collect();
    let gpt = Gpt {
        table,
        lb,
        parts,
        fresh: false,
        disk_guid: None,
        expand: false,
    };
    let (first, last) = gpt.usable(disk)?;
    for (n, p) in &gpt.parts {
        if p.first_lba < first || p.first_lba > p.last_lba || p.last_lba > last {
            return Err(disk.bad_table(format!(
                "corrupt GPT: partition {n} (sectors {}-{}) is not within the usable sectors {first}-{last}",
                p.first_lba, p.last_lba
            )));
        }
    }
    Ok(gpt)
}

/// A new, empty GPT for the disk (random disk GUID), not yet written.
pub(crate) fn create(disk: &Disk) -> Result<Gpt<'_>, ErrorReply> {
    let lb = block_size(disk)?;
    let table = GptConfig::new()
        .logical_block_size(lb)
        .create_from_device(&disk.file, None)
        .map_err(|e| disk.bad_table(format!("cannot make a GPT on this disk (too small?): {e}")))?;
    Ok(Gpt {
        table,
        lb,
        parts: BTreeMap::new(),
        fresh: true,
        disk_guid: None,
        expand: false,
    })
}

/// Refuses the disk if a header the crate would accept (signature and
/// CRC-32 of its 92 bytes good, as the crate checks) holds values it
/// cannot cope with. A header the crate rejects is its own business (it
/// falls back on the other one, or fails).
fn check_headers(disk: &Disk) -> Result<(), ErrorReply> {
    if disk.sectors < 3 {
        return Err(disk.bad_table("the disk is too small for a GPT"));
    }
    for lba in [1, disk.sectors - 1] {
        let mut h = [0u8; 92];
        disk.read_at(disk.offset(lba)?, &mut h)?;
        if h[..8] != *b"EFI PART" {
            continue;
        }
        let stored = le32(&h, 16);
        h[16..20].fill(0);
        if crc32(&h) != stored {
            continue;
        }
        if let Some(why) = header_problem(&h, disk) {
            return Err(disk.bad_table(format!("corrupt GPT header at sector {lba}: {why}")));
        }
    }
    Ok(())
}

fn header_problem(h: &[u8; 92], disk: &Disk) -> Option<String> {
    let (current, backup, first, last) = (le64(h, 24), le64(h, 32), le64(h, 40), le64(h, 48));
    let (start, count, size) = (le64(h, 72), le32(h, 80), le32(h, 84));
    let n = disk.sectors;
    if size != ENTRY_SIZE {
        return Some(format!("entry size {size}, not {ENTRY_SIZE}"));
    }
    if count == 0 || count > MAX_ENTRIES {
        return Some(format!("{count} entries (1 to {MAX_ENTRIES} expected)"));
    }
    if current >= n || backup >= n || current == backup {
        return Some(format!(
            "header sectors {current} and {backup} on a {n}-sector disk"
        ));
    }
    if first < 2 || first > last || last >= n {
        return Some(format!(
            "usable sectors {first}-{last} on a {n}-sector disk"
        ));
    }
    let array = (u64::from(count) * u64::from(size)).div_ceil(disk.sector);
    if start < 2 || start.checked_add(array).is_none_or(|end| end > n) {
        return Some(format!(
            "entry array at sector {start} on a {n}-sector disk"
        ));
    }
    None
}

fn le32(h: &[u8; 92], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&h[at..at + 4]);
    u32::from_le_bytes(b)
}

fn le64(h: &[u8; 92], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&h[at..at + 8]);
    u64::from_le_bytes(b)
}

impl Gpt<'_> {
    /// The header in use: the primary, else the backup.
    pub(super) fn header(&self, disk: &Disk) -> Result<Header, ErrorReply> {
        self.table
            .primary_header()
            .or_else(|_| self.table.backup_header())
            .cloned()
            .map_err(|e| disk.bad_table(format!("no valid GPT header: {e}")))
    }

    /// First and last usable sectors.
    pub(crate) fn usable(&self, disk: &Disk) -> Result<(u64, u64), ErrorReply> {
        let h = self.header(disk)?;
        Ok((h.first_usable, h.last_usable))
    }

    /// Adds a Linux filesystem partition with an empty name on sectors
    /// `first..=last`, numbered with the lowest free number.
    pub(crate) fn add(&mut self, disk: &Disk, first: u64, last: u64) -> Result<u32, ErrorReply> {
        let h = self.header(disk)?;
        if first < h.first_usable || last > h.last_usable {
            return Err(disk.bad_arg(format!(
                "sectors {first}-{last} are outside the GPT's usable sectors {}-{}",
                h.first_usable, h.last_usable
            )));
        }
        if let Some((n, p)) = self
            .parts
            .iter()
            .find(|(_, p)| first <= p.last_lba && p.first_lba <= last)
        {
            return Err(disk.bad_arg(format!(
                "sectors {first}-{last} overlap partition {n} (sectors {}-{})",
                p.first_lba, p.last_lba
            )));
        }
        let n = (1..=h.num_parts)
            .find(|n| !self.parts.contains_key(n))
            .ok_or_else(|| disk.bad_arg(format!("all {} GPT entries are used", h.num_parts)))?;
        self.table
            .add_partition_at("", n, first, last - first + 1, LINUX_FS, 0)
            .map_err(|e| disk.bad_arg(format!("cannot add the partition: {e}")))?;
        let part = self
            .table
            .partitions()
            .get(&n)
            .cloned()
            .ok_or_else(|| disk.bad_table("the new partition is missing from the table"))?;
        self.parts.insert(n, part);
        Ok(n)
    }

    pub(crate) fn delete(&mut self, disk: &Disk, n: u32) -> Result<(), ErrorReply> {
        self.parts
            .remove(&n)
            .map(drop)
            .ok_or_else(|| disk.bad_arg(format!("there is no partition {n}")))
    }

    pub(super) fn get_mut(&mut self, disk: &Disk, n: u32) -> Result<&mut Partition, ErrorReply> {
        self.parts
            .get_mut(&n)
            .ok_or_else(|| disk.bad_arg(format!("there is no partition {n}")))
    }

    pub(crate) fn set_name(&mut self, disk: &Disk, n: u32, name: &str) -> Result<(), ErrorReply> {
        if name.encode_utf16().count() > NAME_UNITS || name.contains('\0') {
            return Err(disk.bad_arg(format!(
                "a GPT partition name is at most {NAME_UNITS} UTF-16 units, without NUL: {name:?}"
            )));
        }
        self.get_mut(disk, n)?.name = name.to_owned();
        Ok(())
    }

    pub(crate) fn set_type(&mut self, disk: &Disk, n: u32, guid: &str) -> Result<(), ErrorReply> {
        let part_type = Type::from_str(guid)
            .ok()
            .filter(|t| t.guid != UNUSED.guid && is_guid(guid))
            .ok_or_else(|| {
                disk.bad_arg(format!(
                    "{guid:?} is not a partition type GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, not all zeros)"
                ))
            })?;
        self.get_mut(disk, n)?.part_type_guid = part_type;
        Ok(())
    }

    /// Sets or clears attribute bit 2, "legacy BIOS bootable".
    pub(crate) fn set_bootable(&mut self, disk: &Disk, n: u32, on: bool) -> Result<(), ErrorReply> {
        let p = self.get_mut(disk, n)?;
        let bit = PartitionAttributes::BOOTABLE.bits();
        p.flags = if on { p.flags | bit } else { p.flags & !bit };
        Ok(())
    }

    pub(crate) fn list(&self, disk: &Disk) -> Result<Vec<PartEntry>, ErrorReply> {
        self.parts
            .iter()
            .map(|(n, p)| entry(disk, u64::from(*n), p.first_lba, p.last_lba))
            .collect()
    }

    /// Writes the table: both entry arrays (each partition in the slot of
    /// its number), the backup header, the primary header, and for a new
    /// table the protective MBR. Both headers are built afresh from the
    /// one in use, as the crate's own write does.
    pub(crate) fn write(&self, disk: &Disk) -> Result<(), ErrorReply> {
        let source = self.header(disk)?;
        let build = |primary: bool| {
            let mut builder = HeaderBuilder::from_header(&source);
            if let Some(guid) = self.disk_guid {
                builder.disk_guid(guid);
            }
            if self.expand {
                // The crate then moves the last usable sector up too.
                builder.backup_lba(disk.sectors.saturating_sub(1));
            }
            builder
                .primary(primary)
                .build(self.lb)
                .map_err(|e| disk.bad_table(format!("cannot build the GPT headers: {e}")))
        };
        let (mut primary, mut backup) = (build(true)?, build(false)?);
        let len = usize::try_from(u64::from(primary.num_parts) * u64::from(primary.part_size))
            .map_err(|_| disk.bad_table("GPT entry array too large"))?;
        let mut array = Cursor::new(vec![0u8; len]);
        for (n, p) in &self.parts {
            let slot = n
                .checked_sub(1)
                .filter(|slot| *slot < primary.num_parts)
                .ok_or_else(|| disk.bad_table(format!("partition {n} has no entry in the GPT")))?;
            p.write_to_device(&mut array, u64::from(slot), 0, self.lb, primary.part_size)
                .map_err(|e| disk.bad_table(format!("cannot encode partition {n}: {e}")))?;
        }
        let array = array.into_inner();
        let mut file = &disk.file;
        if self.fresh {
            let size = u32::try_from(disk.sectors - 1).unwrap_or(u32::MAX);
            ProtectiveMBR::with_lb_size(size)
                .overwrite_lba0(&mut file)
                .map_err(|e| disk.bad_table(format!("cannot write the protective MBR: {e}")))?;
        }
        disk.write_at(disk.offset(primary.part_start)?, &array)?;
        disk.write_at(disk.offset(backup.part_start)?, &array)?;
        backup
            .write_backup(&mut file, self.lb)
            .map_err(|e| disk.bad_table(format!("cannot write the backup GPT header: {e}")))?;
        primary
            .write_primary(&mut file, self.lb)
            .map_err(|e| disk.bad_table(format!("cannot write the GPT header: {e}")))?;
        Ok(())
    }
}

/// The canonical GUID form, 8-4-4-4-12 hex digits (libguestfs accepts
/// only that; the crate would take other spellings too).
pub(super) fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}
