//! The MBR and EBR chain checked before `mbrman` reads them: it adds and
//! multiplies sector numbers in 32 bits without checks, and unwraps an
//! empty range when a used entry starts at sector 0. So a used entry at
//! sector 0, start + size past 2^32, or a chain that goes backwards or on
//! for ever is refused here as corrupt.

use mbrman::{BOOT_ACTIVE, BOOT_INACTIVE};
use protocol::ErrorReply;

use super::disk::Disk;

pub(crate) const SIGNATURE: [u8; 2] = [0x55, 0xaa];
/// Longest EBR chain read; a longer one is taken for a loop.
const MAX_LOGICAL: usize = 1024;

/// The partition types mbrman (and Linux) take for extended partitions.
fn is_extended(sys: u8) -> bool {
    matches!(sys, 0x05 | 0x0f | 0x85 | 0xc5 | 0xd5)
}

/// One entry as stored: boot flag, type, start, size.
fn raw(sector: &[u8; 512], i: usize) -> (u8, u8, u32, u32) {
    let at = 446 + 16 * i;
    let le = |o: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(&sector[at + o..at + o + 4]);
        u32::from_le_bytes(b)
    };
    (sector[at], sector[at + 4], le(8), le(12))
}

/// Walks the MBR and EBR chain as mbrman will, refusing what it cannot
/// take without overflowing. Checks that mbrman makes itself (signatures,
/// boot flags of the MBR) are left to it.
pub(crate) fn check_chain(disk: &Disk) -> Result<(), ErrorReply> {
    let mut mbr = [0u8; 512];
    disk.read_at(0, &mut mbr)?;
    for i in 0..4 {
        let (_, sys, start, sectors) = raw(&mbr, i);
        if sys != 0 {
            check_extent(disk, i + 1, start, sectors)?;
        }
    }
    let Some((_, _, ext_start, _)) = (0..4).map(|i| raw(&mbr, i)).find(|e| is_extended(e.1)) else {
        return Ok(());
    };
    let mut relative = 0u32;
    for number in 5.. {
        let corrupt = |why: String| disk.bad_table(format!("corrupt extended partition: {why}"));
        let ebr = ext_start
            .checked_add(relative)
            .ok_or_else(|| corrupt(format!("EBR beyond sector 2^32 (partition {number})")))?;
        let mut sector = [0u8; 512];
        let readable = u64::from(ebr) < disk.sectors
            && disk
                .read_at(disk.offset(u64::from(ebr))?, &mut sector)
                .is_ok();
        let valid = readable
            && sector[510..512] == SIGNATURE
            && [0, 1]
                .iter()
                .all(|i| matches!(raw(&sector, *i).0, BOOT_ACTIVE | BOOT_INACTIVE));
        if !valid {
            // An empty extended partition needs no EBR; a broken link does.
            if relative == 0 {
                return Ok(());
            }
            return Err(corrupt(format!(
                "no valid EBR at sector {ebr} (partition {number})"
            )));
        }
        let (_, sys, start, sectors) = raw(&sector, 0);
        // mbrman adds the EBR's sector to the start even of an empty entry.
        let absolute = ebr
            .checked_add(start)
            .ok_or_else(|| corrupt(format!("partition {number} starts beyond sector 2^32")))?;
        if sys != 0 {
            check_extent(disk, number, absolute, sectors)?;
        }
        let next = raw(&sector, 1).2;
        if next == 0 {
            return Ok(());
        }
        if next <= relative {
            return Err(corrupt(format!(
                "the EBR chain goes backwards at sector {ebr}"
            )));
        }
        if number >= 4 + MAX_LOGICAL {
            return Err(corrupt(format!(
                "more than {MAX_LOGICAL} logical partitions"
            )));
        }
        relative = next;
    }
    Ok(())
}

/// A used entry starts after the MBR, has a size, and ends before 2^32.
fn check_extent(disk: &Disk, number: usize, start: u32, sectors: u32) -> Result<(), ErrorReply> {
    if start == 0 || sectors == 0 || u64::from(start) + u64::from(sectors) > u64::from(u32::MAX) {
        return Err(disk.bad_table(format!(
            "corrupt MBR: partition {number} has start sector {start} and {sectors} sectors"
        )));
    }
    Ok(())
}
