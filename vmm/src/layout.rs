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

/// Where the GDT for the PVH entry is written (null, flat 32-bit code and
/// data, TSS); every vCPU's GDTR points here.
pub const GDT_START: GuestAddress = GuestAddress(0x500);
/// The PVH `hvm_start_info` structure; its address is passed to the kernel in
/// `%rbx` at the PVH entry.
pub const PVH_INFO_START: GuestAddress = GuestAddress(0x6000);
/// The PVH module list (one entry: the initramfs), right after
/// `hvm_start_info`.
pub const PVH_MODLIST_START: GuestAddress = GuestAddress(0x6040);
/// The PVH memory map (E820-style entries) the kernel reads its RAM from.
pub const PVH_MEMMAP_START: GuestAddress = GuestAddress(0x6100);
/// Where the NUL-terminated kernel command line is copied.
pub const CMDLINE_START: GuestAddress = GuestAddress(0x20000);
/// Longest kernel command line in bytes, including the terminating NUL; a
/// longer one fails the boot with [`crate::Error::Cmdline`].
pub const CMDLINE_MAX_SIZE: usize = 4096;
/// Start of the reserved EBDA/BIOS area (up to 1 MiB); the MP table is
/// written here, where Linux scans for it.
pub const EBDA_START: u64 = 0x9fc00;
/// RAM from 1 MiB: the lowest address the kernel is loaded at, and where the
/// usable RAM above the reserved BIOS area starts.
pub const HIGH_RAM_START: GuestAddress = GuestAddress(0x10_0000);
/// Start of the 32-bit MMIO hole: low RAM ends here, however large the guest.
pub const MMIO_HOLE_START: u64 = 0xc000_0000;
/// End of the MMIO hole (4 GiB): RAM beyond [`MMIO_HOLE_START`] bytes is
/// mapped from here.
pub const MMIO_HOLE_END: u64 = 0x1_0000_0000;
/// The IOAPIC's MMIO address, as KVM's in-kernel irqchip places it and as
/// the MP table reports it.
pub const IOAPIC_ADDR: u32 = 0xfec0_0000;
/// The local APICs' standard MMIO address (where KVM emulates them), as
/// reported in the MP table.
pub const LAPIC_ADDR: u32 = 0xfee0_0000;
/// Start of the MMIO window handed to virtio-mmio devices.
pub const DEVICE_MMIO_START: u64 = 0xd000_0000;
/// KVM needs three pages of guest-physical space for the TSS on Intel.
pub const KVM_TSS_ADDR: u64 = 0xfffb_d000;

/// E820 type of usable RAM in the PVH memory map.
pub const E820_RAM: u32 = 1;
/// E820 type of reserved memory (the EBDA and BIOS area) in the PVH memory
/// map.
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
