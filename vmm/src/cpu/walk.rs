//! Guest-virtual to guest-physical translation through the guest's own
//! page tables (4- or 5-level, 4 KiB, 2 MiB and 1 GiB pages), for one job:
//! reading a stopped vCPU's stack into the console log, so that a hang
//! shows the return addresses that led to it. The tables are the guest's:
//! every read is bounds-checked through guest memory, and anything odd
//! (not present, outside RAM) is `None`, never a panic.

use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

const PRESENT: u64 = 1;
const PAGE_SIZE_BIT: u64 = 1 << 7;
/// Physical address bits 12..52 of an entry.
const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
/// CR4.LA57: five-level paging.
const CR4_LA57: u64 = 1 << 12;

/// The guest-physical address of `va` under `cr3`/`cr4`, if mapped.
pub(crate) fn translate(mem: &GuestMemoryMmap, cr3: u64, cr4: u64, va: u64) -> Option<u64> {
    let levels: u32 = if cr4 & CR4_LA57 != 0 { 5 } else { 4 };
    let mut table = cr3 & ADDR_MASK;
    for level in (1..=levels).rev() {
        let shift = 12 + 9 * (level - 1);
        let index = (va >> shift) & 0x1ff;
        let entry: u64 = mem.read_obj(GuestAddress(table + index * 8)).ok()?;
        if entry & PRESENT == 0 {
            return None;
        }
        // A large page at the PDPT (1 GiB) or directory (2 MiB) level.
        if (level == 2 || level == 3) && entry & PAGE_SIZE_BIT != 0 {
            let span = 1u64 << shift;
            return Some((entry & ADDR_MASK & !(span - 1)) + (va & (span - 1)));
        }
        table = entry & ADDR_MASK;
    }
    Some(table + (va & 0xfff))
}

/// `count` 8-byte words from `va` on, as far as they are mapped.
pub(crate) fn read_words(
    mem: &GuestMemoryMmap,
    cr3: u64,
    cr4: u64,
    va: u64,
    count: usize,
) -> Vec<u64> {
    let mut words = Vec::with_capacity(count);
    for i in 0..count as u64 {
        let Some(at) = va.checked_add(i * 8) else {
            break;
        };
        let Some(pa) = translate(mem, cr3, cr4, at) else {
            break;
        };
        match mem.read_obj::<u64>(GuestAddress(pa)) {
            Ok(w) => words.push(w),
            Err(_) => break,
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem() -> GuestMemoryMmap {
        GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 0x40_0000)]).unwrap()
    }

    fn put(mem: &GuestMemoryMmap, at: u64, v: u64) {
        mem.write_obj(v, GuestAddress(at)).unwrap();
    }

    const VA: u64 = 0xffff_c900_0000_1008;

    /// Four levels for VA down to a 4 KiB page at 0x5000.
    fn four_levels(mem: &GuestMemoryMmap) {
        let idx = |shift: u32| (VA >> shift) & 0x1ff;
        put(mem, 0x1000 + idx(39) * 8, 0x2000 | PRESENT);
        put(mem, 0x2000 + idx(30) * 8, 0x3000 | PRESENT);
        put(mem, 0x3000 + idx(21) * 8, 0x4000 | PRESENT);
        put(mem, 0x4000 + idx(12) * 8, 0x5000 | PRESENT);
    }

    #[test]
    fn four_kib_pages_and_words() {
        let m = mem();
        four_levels(&m);
        assert_eq!(translate(&m, 0x1000, 0, VA), Some(0x5008));
        put(&m, 0x5008, 0xffff_ffff_8100_0000);
        put(&m, 0x5010, 42);
        let words = read_words(&m, 0x1000, 0, VA, 2);
        assert_eq!(words, [0xffff_ffff_8100_0000, 42]);
        // The next page is not mapped: the read stops there.
        assert_eq!(read_words(&m, 0x1000, 0, VA, 600).len(), 511);
    }

    #[test]
    fn large_pages() {
        let m = mem();
        let idx = |shift: u32| (VA >> shift) & 0x1ff;
        put(&m, 0x1000 + idx(39) * 8, 0x2000 | PRESENT);
        put(&m, 0x2000 + idx(30) * 8, 0x3000 | PRESENT);
        put(
            &m,
            0x3000 + idx(21) * 8,
            0x20_0000 | PRESENT | PAGE_SIZE_BIT,
        );
        assert_eq!(
            translate(&m, 0x1000, 0, VA),
            Some(0x20_0000 + (VA & 0x1f_ffff))
        );
        put(&m, 0x2000 + idx(30) * 8, PRESENT | PAGE_SIZE_BIT);
        assert_eq!(translate(&m, 0x1000, 0, VA), Some(VA & 0x3fff_ffff));
    }

    #[test]
    fn hostile_tables_are_none() {
        let m = mem();
        // Nothing present.
        assert_eq!(translate(&m, 0x1000, 0, VA), None);
        // A table outside guest RAM.
        let idx = (VA >> 39) & 0x1ff;
        put(&m, 0x1000 + idx * 8, 0x000f_ffff_ffff_f000 | PRESENT);
        assert_eq!(translate(&m, 0x1000, 0, VA), None);
        // CR3 itself outside RAM.
        assert_eq!(translate(&m, u64::MAX, 0, VA), None);
        assert!(read_words(&m, 0x1000, 0, u64::MAX - 4, 4).is_empty());
        // Five levels: the extra top level is read first.
        four_levels(&m);
        assert_eq!(translate(&m, 0x1000, CR4_LA57, VA), None);
    }
}
