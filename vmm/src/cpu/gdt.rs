//! GDT entries for the PVH entry state: flat 32-bit code and data.

use kvm_bindings::kvm_segment;

/// Packs a segment descriptor (Intel SDM vol. 3, 3.4.5).
pub(crate) const fn gdt_entry(flags: u16, base: u32, limit: u32) -> u64 {
    ((base as u64 & 0xff00_0000) << (56 - 24))
        | ((flags as u64 & 0x0000_f0ff) << 40)
        | ((limit as u64 & 0x000f_0000) << (48 - 16))
        | ((base as u64 & 0x00ff_ffff) << 16)
        | (limit as u64 & 0x0000_ffff)
}

fn base(entry: u64) -> u64 {
    ((entry & 0xff00_0000_0000_0000) >> 32)
        | ((entry & 0x0000_00ff_0000_0000) >> 16)
        | ((entry & 0x0000_0000_ffff_0000) >> 16)
}

fn limit(entry: u64) -> u32 {
    let raw = (((entry >> 32) & 0x000f_0000) | (entry & 0xffff)) as u32;
    if (entry >> 55) & 1 == 1 {
        (raw << 12) | 0xfff
    } else {
        raw
    }
}

/// The KVM view of descriptor `index` of a GDT whose entry is `entry`.
pub(crate) fn segment(entry: u64, index: u8) -> kvm_segment {
    let present = ((entry >> 47) & 1) as u8;
    kvm_segment {
        base: base(entry),
        limit: limit(entry),
        selector: u16::from(index) * 8,
        type_: ((entry >> 40) & 0xf) as u8,
        present,
        dpl: ((entry >> 45) & 0x3) as u8,
        db: ((entry >> 54) & 1) as u8,
        s: ((entry >> 44) & 1) as u8,
        l: ((entry >> 53) & 1) as u8,
        g: ((entry >> 55) & 1) as u8,
        avl: ((entry >> 52) & 1) as u8,
        unusable: u8::from(present == 0),
        padding: 0,
    }
}

/// Null, 32-bit code, 32-bit data, TSS.
pub(crate) const PVH_GDT: [u64; 4] = [
    0,
    gdt_entry(0xc09b, 0, 0xfffff),
    gdt_entry(0xc093, 0, 0xfffff),
    gdt_entry(0x008b, 0, 0x67),
];
pub(crate) const CODE_INDEX: u8 = 1;
pub(crate) const DATA_INDEX: u8 = 2;
pub(crate) const TSS_INDEX: u8 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_code_segment_decodes() {
        let s = segment(PVH_GDT[1], CODE_INDEX);
        assert_eq!((s.base, s.limit, s.selector), (0, 0xffff_ffff, 8));
        assert_eq!(
            (s.type_, s.present, s.db, s.s, s.g, s.l),
            (0xb, 1, 1, 1, 1, 0)
        );
        let tss = segment(PVH_GDT[3], TSS_INDEX);
        assert_eq!((tss.limit, tss.type_, tss.s), (0x67, 0xb, 0));
        assert_eq!(segment(0, 0).unusable, 1);
    }

    #[test]
    fn base_round_trips() {
        let e = gdt_entry(0xc093, 0x1234_5678, 0xabcde);
        assert_eq!(base(e), 0x1234_5678);
        assert_eq!(limit(e), (0xabcde << 12) | 0xfff);
    }
}
