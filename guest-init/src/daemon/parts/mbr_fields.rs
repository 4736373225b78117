//! Reading and changing single fields of an MBR partition: its type (ID)
//! byte, its kind, its boot flag and its end.

use mbrman::{MBRPartitionEntry, BOOT_ACTIVE};
use protocol::ErrorReply;

use super::disk::Disk;
use super::mbr_table::{chs, end_of, Mbr};

/// Type bytes of extended partitions (DOS, Windows LBA, Linux).
fn is_extended(id: u8) -> bool {
    matches!(id, 0x05 | 0x0f | 0x85)
}

impl Mbr {
    fn entry(&self, disk: &Disk, n: usize) -> Result<&MBRPartitionEntry, ErrorReply> {
        self.table
            .get(n)
            .filter(|p| p.is_used())
            .ok_or_else(|| disk.bad_arg(format!("there is no partition {n}")))
    }

    pub(crate) fn mbr_id(&self, disk: &Disk, n: usize) -> Result<u8, ErrorReply> {
        Ok(self.entry(disk, n)?.sys)
    }

    /// Sets the type byte. An extended partition stays one (its type can
    /// change among the extended types) and no other becomes one: that
    /// would change what the EBR chain means.
    pub(crate) fn set_mbr_id(&mut self, disk: &Disk, n: usize, id: u8) -> Result<(), ErrorReply> {
        let old = self.entry(disk, n)?.sys;
        if id == 0 {
            return Err(disk.bad_arg("type byte 0 marks an unused entry; use part_del"));
        }
        if is_extended(old) != is_extended(id) {
            return Err(disk.bad_arg(format!(
                "partition {n} has type 0x{old:02x}: an extended partition cannot become another kind, nor another partition extended"
            )));
        }
        if let Some(p) = self.table.get_mut(n) {
            p.sys = id;
        }
        Ok(())
    }

    pub(crate) fn part_type(&self, disk: &Disk, n: usize) -> Result<&'static str, ErrorReply> {
        let p = self.entry(disk, n)?;
        Ok(if n >= 5 {
            "logical"
        } else if p.is_extended() {
            "extended"
        } else {
            "primary"
        })
    }

    pub(crate) fn bootable(&self, disk: &Disk, n: usize) -> Result<bool, ErrorReply> {
        Ok(self.entry(disk, n)?.boot == BOOT_ACTIVE)
    }

    /// Moves partition `n`'s last sector, keeping its first: a primary
    /// stays clear of the others and within the disk, an extended one
    /// keeps holding its logical partitions, a logical one stays inside
    /// the extended one and before the next one's EBR.
    pub(crate) fn resize(&mut self, disk: &Disk, n: usize, last: u64) -> Result<(), ErrorReply> {
        let p = self.entry(disk, n)?;
        let (first, extended) = (p.starting_lba, p.is_extended());
        let limit = disk.sectors.saturating_sub(1).min(u64::from(u32::MAX) - 1);
        let end = u32::try_from(last)
            .ok()
            .filter(|e| *e >= first && u64::from(*e) <= limit)
            .ok_or_else(|| {
                disk.bad_arg(format!(
                    "partition {n} starts at sector {first}: its new end {last} must lie within sectors {first}-{limit}"
                ))
            })?;
        let bad = |what: String| {
            Err(disk.bad_arg(format!("cannot end partition {n} at sector {end}: {what}")))
        };
        if n >= 5 {
            let (_, _, ext_end) = self
                .extended()
                .ok_or_else(|| disk.bad_table("a logical partition without an extended one"))?;
            if end > ext_end {
                return bad(format!("the extended partition ends at sector {ext_end}"));
            }
            if let Some(next) = self.table.logical_partitions.get(n - 4) {
                if end >= next.absolute_ebr_lba {
                    return bad(format!(
                        "partition {} has its EBR at sector {}",
                        n + 1,
                        next.absolute_ebr_lba
                    ));
                }
            }
            if let Some(l) = self.table.logical_partitions.get_mut(n - 5) {
                l.partition.sectors = end - first + 1;
                l.partition.last_chs = chs(end);
            }
            return Ok(());
        }
        if let Some((m, o)) =
            self.table.header.iter().find(|(m, o)| {
                *m != n && o.is_used() && first <= end_of(o) && o.starting_lba <= end
            })
        {
            return bad(format!(
                "it would overlap partition {m} (sectors {}-{})",
                o.starting_lba,
                end_of(o)
            ));
        }
        if extended {
            if let Some(l) = self
                .table
                .logical_partitions
                .iter()
                .find(|l| end_of(&l.partition) > end)
            {
                return bad(format!(
                    "a logical partition in it ends at sector {}",
                    end_of(&l.partition)
                ));
            }
        }
        if let Some(p) = self.table.get_mut(n) {
            p.sectors = end - first + 1;
            p.last_chs = chs(end);
        }
        Ok(())
    }
}
