//! MBR (msdos), through `mbrman`. Before mbrman reads a disk, the MBR and
//! the EBR chain are checked (mbr_check.rs) where mbrman would overflow or
//! panic. mbrman computes an EBR's byte offset in 32 bits, wrong past
//! 4 GiB, so the EBR chain is written here; mbrman writes the MBR itself. Logical partitions are numbered from 5 in
//! chain order, as Linux numbers them.

use mbrman::{MBRPartitionEntry, BOOT_ACTIVE, BOOT_INACTIVE, CHS, MBR};
use protocol::types::Partition as PartEntry;
use protocol::ErrorReply;

use super::disk::{entry, Disk, Prlogex};
use super::mbr_check::{check_chain, SIGNATURE};

const LINUX: u8 = 0x83;
const EXTENDED: u8 = 0x05;

pub(crate) struct Mbr {
    pub(super) table: MBR,
}

/// Reads the MBR on the disk.
pub(crate) fn open(disk: &Disk) -> Result<Mbr, ErrorReply> {
    check_chain(disk)?;
    let mut file = &disk.file;
    let mut table = MBR::read_from(&mut file, sector_size(disk)?)
        .map_err(|e| disk.bad_table(format!("cannot read the MBR: {e}")))?;
    // Empty EBRs (an empty extended partition) hold no partition.
    table
        .logical_partitions
        .retain(|l| l.partition.is_used() && l.partition.sectors > 0);
    Ok(Mbr { table })
}

/// A new, empty MBR with a random disk signature, not yet written. Clears
/// the signatures of a GPT that was there.
pub(crate) fn create(disk: &Disk) -> Result<Mbr, ErrorReply> {
    let mut file = &disk.file;
    let signature = super::disk::random_bytes::<4>()?;
    let table = MBR::new_from(&mut file, sector_size(disk)?, signature)
        .map_err(|e| disk.bad_table(format!("cannot make an MBR: {e}")))?;
    for lba in [1, disk.sectors.saturating_sub(1)] {
        let mut sig = [0u8; 8];
        if lba > 0 && disk.read_at(disk.offset(lba)?, &mut sig).is_ok() && &sig == b"EFI PART" {
            disk.write_at(disk.offset(lba)?, &vec![0u8; disk.sector as usize])?;
        }
    }
    Ok(Mbr { table })
}

fn sector_size(disk: &Disk) -> Result<u32, ErrorReply> {
    u32::try_from(disk.sector).map_err(|_| disk.bad_table("sector size too large"))
}

/// The CHS address of a sector (255 heads, 63 sectors), or the largest
/// one past what CHS can address, as fdisk and parted write.
pub(super) fn chs(lba: u32) -> CHS {
    CHS::from_lba_exact(lba, 1023, 255, 63).unwrap_or(CHS::new(1023, 254, 63))
}

fn new_entry(sys: u8, start: u32, end: u32) -> MBRPartitionEntry {
    MBRPartitionEntry {
        boot: BOOT_INACTIVE,
        first_chs: chs(start),
        sys,
        last_chs: chs(end),
        starting_lba: start,
        sectors: end - start + 1,
    }
}

/// The last sector of an entry, which `check_extent` or `add` bounded.
pub(super) fn end_of(p: &MBRPartitionEntry) -> u32 {
    p.starting_lba.saturating_add(p.sectors.saturating_sub(1))
}

impl Mbr {
    /// The extended partition: number, first and last sector.
    pub(super) fn extended(&self) -> Option<(usize, u32, u32)> {
        self.table
            .header
            .iter()
            .find(|(_, p)| p.is_extended())
            .map(|(n, p)| (n, p.starting_lba, end_of(p)))
    }

    /// Adds a partition on sectors `first..=last`: primary or extended in
    /// the first free slot of the four, logical inside the extended one
    /// (its EBR in the sector before it).
    pub(crate) fn add(
        &mut self,
        disk: &Disk,
        kind: Prlogex,
        first: u64,
        last: u64,
    ) -> Result<usize, ErrorReply> {
        let limit = disk.sectors.saturating_sub(1).min(u64::from(u32::MAX) - 1);
        let (start, end) = match (u32::try_from(first), u32::try_from(last)) {
            (Ok(start), Ok(end)) if start > 0 && u64::from(end) <= limit => (start, end),
            _ => {
                return Err(disk.bad_arg(format!(
                    "sectors {first}-{last} are outside the disk: MBR partitions lie within sectors 1-{limit}"
                )))
            }
        };
        if kind == Prlogex::Logical {
            return self.add_logical(disk, start, end);
        }
        if kind == Prlogex::Extended {
            if let Some((n, _, _)) = self.extended() {
                return Err(disk.bad_arg(format!("there is already an extended partition ({n})")));
            }
        }
        if let Some((n, p)) = self
            .table
            .header
            .iter()
            .find(|(_, p)| p.is_used() && start <= end_of(p) && p.starting_lba <= end)
        {
            return Err(disk.bad_arg(format!(
                "sectors {first}-{last} overlap partition {n} (sectors {}-{})",
                p.starting_lba,
                end_of(p)
            )));
        }
        let slot = self.table.header.iter_mut().find(|(_, p)| p.is_unused());
        let Some((n, entry)) = slot else {
            return Err(disk.bad_arg(
                "all four primary partitions are used (use an extended partition for more)",
            ));
        };
        let sys = if kind == Prlogex::Extended {
            EXTENDED
        } else {
            LINUX
        };
        *entry = new_entry(sys, start, end);
        Ok(n)
    }

    fn add_logical(&mut self, disk: &Disk, start: u32, end: u32) -> Result<usize, ErrorReply> {
        let (_, ext_start, ext_end) = self.extended().ok_or_else(|| {
            disk.bad_arg(
                "a logical partition needs an extended partition (add one with prlogex \"e\")",
            )
        })?;
        if start <= ext_start || end > ext_end {
            return Err(disk.bad_arg(format!(
                "sectors {start}-{end} are not inside the extended partition after its first sector (sectors {}-{ext_end})",
                ext_start.saturating_add(1)
            )));
        }
        // Each logical partition holds its data and the EBR before it. The
        // first one's EBR is the extended partition's first sector, but
        // moves to the sector before its data if another one comes first.
        for (i, l) in self.table.logical_partitions.iter().enumerate() {
            let (data, last, ebr) = (
                l.partition.starting_lba,
                end_of(&l.partition),
                l.absolute_ebr_lba,
            );
            let (low, high) = if ebr == ext_start || ebr > data {
                (data.saturating_sub(1), last.max(ebr))
            } else {
                (ebr, last)
            };
            if start - 1 <= high && low <= end {
                return Err(disk.bad_arg(format!(
                    "sectors {start}-{end} (and the EBR sector before them) overlap partition {} (sectors {data}-{last})",
                    i + 5
                )));
            }
        }
        self.table.align = 1;
        self.table
            .push(LINUX, start - 1, end - start + 2)
            .map_err(|e| disk.bad_arg(format!("cannot add the logical partition: {e}")))?;
        let logicals = &mut self.table.logical_partitions;
        let mut new = logicals
            .pop()
            .ok_or_else(|| disk.bad_table("the new logical partition is missing"))?;
        new.partition.first_chs = chs(start);
        new.partition.last_chs = chs(end);
        let at = logicals
            .iter()
            .take_while(|l| l.partition.starting_lba < start)
            .count();
        logicals.insert(at, new);
        // The former first one now needs an EBR of its own.
        if let Some(next) = logicals
            .get_mut(at + 1)
            .filter(|l| l.absolute_ebr_lba == ext_start)
        {
            next.absolute_ebr_lba = next.partition.starting_lba - 1;
        }
        Ok(at + 5)
    }

    pub(crate) fn delete(&mut self, disk: &Disk, n: usize) -> Result<(), ErrorReply> {
        let missing = || disk.bad_arg(format!("there is no partition {n}"));
        if n >= 5 {
            if n - 5 >= self.table.logical_partitions.len() {
                return Err(missing());
            }
            self.table.logical_partitions.remove(n - 5);
            return Ok(());
        }
        let entry = self
            .table
            .header
            .get_mut(n)
            .filter(|p| p.is_used())
            .ok_or_else(missing)?;
        if entry.is_extended() {
            self.table.logical_partitions.clear();
        }
        *entry = MBRPartitionEntry::empty();
        Ok(())
    }

    /// Sets or clears the boot flag (0x80); setting it clears it on the
    /// others, as parted does.
    pub(crate) fn set_bootable(
        &mut self,
        disk: &Disk,
        n: usize,
        on: bool,
    ) -> Result<(), ErrorReply> {
        match self.table.get(n) {
            Some(p) if p.is_used() && !p.is_extended() => {}
            Some(p) if p.is_used() => {
                return Err(disk.bad_arg(format!("partition {n} is the extended partition")))
            }
            _ => return Err(disk.bad_arg(format!("there is no partition {n}"))),
        }
        for (i, p) in self.table.iter_mut() {
            if i == n {
                p.boot = if on { BOOT_ACTIVE } else { BOOT_INACTIVE };
            } else if on {
                p.boot = BOOT_INACTIVE;
            }
        }
        Ok(())
    }

    pub(crate) fn list(&self, disk: &Disk) -> Result<Vec<PartEntry>, ErrorReply> {
        self.table
            .iter()
            .filter(|(_, p)| p.is_used())
            .map(|(n, p)| {
                entry(
                    disk,
                    n as u64,
                    u64::from(p.starting_lba),
                    u64::from(end_of(p)),
                )
            })
            .collect()
    }

    /// Writes the MBR, then the EBR chain of the extended partition (an
    /// empty EBR when it holds no logical partition).
    pub(crate) fn write(&mut self, disk: &Disk) -> Result<(), ErrorReply> {
        let mut file = &disk.file;
        self.table
            .header
            .write_into(&mut file)
            .map_err(|e| disk.bad_table(format!("cannot write the MBR: {e}")))?;
        let Some((_, ext_start, _)) = self.extended() else {
            return Ok(());
        };
        let logicals = &mut self.table.logical_partitions;
        if let Some(first) = logicals.first_mut() {
            first.absolute_ebr_lba = ext_start;
        }
        if logicals.is_empty() {
            let mut sector = [0u8; 512];
            sector[510..512].copy_from_slice(&SIGNATURE);
            return disk.write_at(disk.offset(u64::from(ext_start))?, &sector);
        }
        let mut previous = None;
        for (i, l) in logicals.iter().enumerate() {
            let ebr = l.absolute_ebr_lba;
            let data = l.partition.starting_lba;
            if ebr < ext_start || ebr >= data || previous.is_some_and(|p| ebr <= p) {
                return Err(disk.bad_table(format!(
                    "cannot write the EBR of partition {} at sector {ebr} (data at sector {data})",
                    i + 5
                )));
            }
            previous = Some(ebr);
            let mut sector = [0u8; 512];
            sector[..446].copy_from_slice(&l.bootstrap_code);
            let own = MBRPartitionEntry {
                starting_lba: data - ebr,
                ..l.partition.clone()
            };
            put(&mut sector, 0, &own);
            if let Some(next) = logicals.get(i + 1) {
                let (next_ebr, next_end) = (next.absolute_ebr_lba, end_of(&next.partition));
                let link = MBRPartitionEntry {
                    boot: BOOT_INACTIVE,
                    first_chs: chs(next_ebr),
                    sys: EXTENDED,
                    last_chs: chs(next_end),
                    starting_lba: next_ebr.saturating_sub(ext_start),
                    sectors: next_end.saturating_sub(next_ebr) + 1,
                };
                put(&mut sector, 1, &link);
            }
            sector[510..512].copy_from_slice(&SIGNATURE);
            disk.write_at(disk.offset(u64::from(ebr))?, &sector)?;
        }
        Ok(())
    }
}

/// Encodes entry `i` of a (E)MBR sector.
fn put(sector: &mut [u8; 512], i: usize, p: &MBRPartitionEntry) {
    let chs = |c: CHS| {
        [
            c.head,
            ((c.cylinder >> 2) & 0xc0) as u8 | (c.sector & 0x3f),
            c.cylinder as u8,
        ]
    };
    let at = 446 + 16 * i;
    sector[at] = p.boot;
    sector[at + 1..at + 4].copy_from_slice(&chs(p.first_chs));
    sector[at + 4] = p.sys;
    sector[at + 5..at + 8].copy_from_slice(&chs(p.last_chs));
    sector[at + 8..at + 12].copy_from_slice(&p.starting_lba.to_le_bytes());
    sector[at + 12..at + 16].copy_from_slice(&p.sectors.to_le_bytes());
}
