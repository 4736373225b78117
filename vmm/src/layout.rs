//! Guest physical memory layout (x86_64).
//!
//! ```text
//! 0x0000_0500  GDT used for the PVH entry
//! 0x0000_6000  hvm_start_info, then its memory map and module list
//! 0x0002_0000  kernel command line
//! 0x0009_fc00  MP table (in the reserved EBDA range, where Linux scans)
//! 0x0010_0000  RAM above 1 MiB: kernel (at its ELF physical address), initramfs at the top
//! 0xc000_0000  32-bit MMIO hole up to 4 GiB (virtio-mmio devices, IOAPIC, LAPIC)
//! 0x1_0000_0000 RAM above the hole, for guests larger than 3 GiB
//! ```

use vm_memory::GuestAddress;

pub const GDT_START: GuestAddress = GuestAddress(0x500);
pub const PVH_INFO_START: GuestAddress = GuestAddress(0x6000);
pub const PVH_MODLIST_START: GuestAddress = GuestAddress(0x6040);
pub const PVH_MEMMAP_START: GuestAddress = GuestAddress(0x6100);
pub const CMDLINE_START: GuestAddress = GuestAddress(0x20000);
pub const CMDLINE_MAX_SIZE: usize = 4096;
pub const EBDA_START: u64 = 0x9fc00;
pub const HIGH_RAM_START: GuestAddress = GuestAddress(0x10_0000);
pub const MMIO_HOLE_START: u64 = 0xc000_0000;
pub const MMIO_HOLE_END: u64 = 0x1_0000_0000;
pub const IOAPIC_ADDR: u32 = 0xfec0_0000;
pub const LAPIC_ADDR: u32 = 0xfee0_0000;
/// Start of the MMIO window handed to virtio-mmio devices.
pub const DEVICE_MMIO_START: u64 = 0xd000_0000;
/// KVM needs three pages of guest-physical space for the TSS on Intel.
pub const KVM_TSS_ADDR: u64 = 0xfffb_d000;

/// E820 types used in the PVH memory map.
pub const E820_RAM: u32 = 1;
pub const E820_RESERVED: u32 = 2;

/// The RAM ranges for a guest of `mem_bytes`: one below the MMIO hole and,
/// for large guests, one above 4 GiB.
pub fn ram_ranges(mem_bytes: u64) -> Vec<(GuestAddress, u64)> {
    if mem_bytes <= MMIO_HOLE_START {
        vec![(GuestAddress(0), mem_bytes)]
    } else {
        vec![
            (GuestAddress(0), MMIO_HOLE_START),
            (GuestAddress(MMIO_HOLE_END), mem_bytes - MMIO_HOLE_START),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_guest_is_one_range() {
        assert_eq!(ram_ranges(512 << 20), vec![(GuestAddress(0), 512 << 20)]);
    }

    #[test]
    fn large_guest_skips_the_hole() {
        let r = ram_ranges(4 << 30);
        assert_eq!(r[0], (GuestAddress(0), MMIO_HOLE_START));
        assert_eq!(
            r[1],
            (GuestAddress(MMIO_HOLE_END), (4 << 30) - MMIO_HOLE_START)
        );
    }
}
