//! Reading and changing single fields of a GPT: a partition's type, GUID,
//! attributes, name and end, the disk GUID, and moving the backup header
//! to the end of a grown disk. GUIDs are answered in upper case, as
//! sgdisk (which libguestfs runs) prints them.

use gpt::partition::{Partition, PartitionAttributes};
use protocol::ErrorReply;
use uuid::Uuid;

use super::disk::Disk;
use super::gpt_table::{is_guid, Gpt};

/// A GUID as sgdisk prints it.
pub(super) fn upper(guid: &Uuid) -> String {
    guid.hyphenated().to_string().to_ascii_uppercase()
}

/// Parses a GUID argument in the canonical 8-4-4-4-12 form.
pub(super) fn parse_guid(disk: &Disk, guid: &str) -> Result<Uuid, ErrorReply> {
    is_guid(guid)
        .then(|| Uuid::parse_str(guid).ok())
        .flatten()
        .ok_or_else(|| {
            disk.bad_arg(format!(
                "{:?} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                guid.chars().take(64).collect::<String>()
            ))
        })
}

impl Gpt<'_> {
    pub(crate) fn get(&self, disk: &Disk, n: u32) -> Result<&Partition, ErrorReply> {
        self.parts
            .get(&n)
            .ok_or_else(|| disk.bad_arg(format!("there is no partition {n}")))
    }

    pub(crate) fn set_guid(&mut self, disk: &Disk, n: u32, guid: &str) -> Result<(), ErrorReply> {
        let guid = parse_guid(disk, guid)?;
        self.get_mut(disk, n)?.part_guid = guid;
        Ok(())
    }

    pub(crate) fn set_attributes(
        &mut self,
        disk: &Disk,
        n: u32,
        attrs: u64,
    ) -> Result<(), ErrorReply> {
        self.get_mut(disk, n)?.flags = attrs;
        Ok(())
    }

    /// Attribute bit 2, "legacy BIOS bootable" (what part_set_bootable
    /// sets on GPT).
    pub(crate) fn bootable(&self, disk: &Disk, n: u32) -> Result<bool, ErrorReply> {
        Ok(self.get(disk, n)?.flags & PartitionAttributes::BOOTABLE.bits() != 0)
    }

    pub(crate) fn disk_guid(&self, disk: &Disk) -> Result<Uuid, ErrorReply> {
        Ok(match self.disk_guid {
            Some(guid) => guid,
            None => self.header(disk)?.disk_guid,
        })
    }

    /// Moves partition `n`'s last sector, keeping its first.
    pub(crate) fn resize(&mut self, disk: &Disk, n: u32, last: u64) -> Result<(), ErrorReply> {
        let h = self.header(disk)?;
        let first = self.get(disk, n)?.first_lba;
        if last < first || last > h.last_usable {
            return Err(disk.bad_arg(format!(
                "partition {n} starts at sector {first}: its new end {last} must lie within sectors {first}-{}",
                h.last_usable
            )));
        }
        if let Some((m, p)) = self
            .parts
            .iter()
            .find(|(m, p)| **m != n && first <= p.last_lba && p.first_lba <= last)
        {
            return Err(disk.bad_arg(format!(
                "sectors {first}-{last} overlap partition {m} (sectors {}-{})",
                p.first_lba, p.last_lba
            )));
        }
        self.get_mut(disk, n)?.last_lba = last;
        Ok(())
    }

    /// For part_expand_gpt: the backup header goes to the last sector and
    /// the usable sectors grow with it; the protective MBR is made to cover
    /// the disk, and the old backup header is wiped.
    pub(crate) fn expand(&mut self, disk: &Disk) -> Result<(), ErrorReply> {
        let h = self.header(disk)?;
        let old_backup = if h.current_lba < h.backup_lba {
            h.backup_lba
        } else {
            h.current_lba
        };
        let last = disk.sectors.saturating_sub(1);
        if old_backup > last {
            return Err(disk.bad_table(format!(
                "the backup GPT header at sector {old_backup} is beyond the disk's end ({last})"
            )));
        }
        self.expand = true;
        if old_backup != last {
            disk.write_at(disk.offset(old_backup)?, &vec![0u8; disk.sector as usize])?;
        }
        let mut mbr = [0u8; 512];
        disk.read_at(0, &mut mbr)?;
        let size = u32::try_from(last).unwrap_or(u32::MAX).to_le_bytes();
        for i in 0..4 {
            let at = 446 + 16 * i;
            if mbr.get(at + 4) == Some(&0xee) {
                disk.write_at((at + 12) as u64, &size)?;
            }
        }
        Ok(())
    }
}
