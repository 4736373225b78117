//! Loading the kernel, command line and initramfs, and describing memory to
//! the guest (PVH start info with an e820 map, MP table).

pub(crate) mod mptable;

use std::fs::File;
use std::path::Path;

use linux_loader::cmdline::Cmdline;
use linux_loader::configurator::pvh::PvhBootConfigurator;
use linux_loader::configurator::{BootConfigurator, BootParams};
use linux_loader::loader::elf::start_info::{
    hvm_memmap_table_entry, hvm_modlist_entry, hvm_start_info,
};
use linux_loader::loader::elf::{Elf, PvhBootCapability};
use linux_loader::loader::{load_cmdline, KernelLoader};
use vm_memory::{Address, Bytes, GuestAddress, GuestMemoryMmap};

use crate::error::{Error, Result};
use crate::layout::*;

/// `XEN_HVM_START_MAGIC_VALUE` from the PVH ABI.
const PVH_MAGIC: u32 = 0x336e_c578;

/// Where the kernel starts: the PVH entry point (32-bit protected mode, no
/// paging, %ebx = start info).
pub(crate) struct BootEntry {
    pub(crate) pvh_entry: GuestAddress,
}

/// Loads `kernel` (an ELF vmlinux) and `initramfs` into `mem`, writes the
/// command line and the PVH start info.
pub(crate) fn load(
    mem: &GuestMemoryMmap,
    mem_bytes: u64,
    kernel: &Path,
    initramfs: Option<&Path>,
    cmdline: &str,
) -> Result<BootEntry> {
    let mut file = File::open(kernel).map_err(|source| Error::KernelOpen {
        path: kernel.to_path_buf(),
        source,
    })?;
    let loaded =
        Elf::load(mem, None, &mut file, Some(HIGH_RAM_START)).map_err(|e| Error::KernelLoad {
            path: kernel.to_path_buf(),
            reason: e.to_string(),
        })?;
    let pvh_entry = match loaded.pvh_boot_cap {
        PvhBootCapability::PvhEntryPresent(addr) => addr,
        _ => {
            return Err(Error::KernelNoPvh {
                path: kernel.to_path_buf(),
            })
        }
    };

    let cmdline =
        Cmdline::try_from(cmdline, CMDLINE_MAX_SIZE).map_err(|e| Error::Cmdline(e.to_string()))?;
    load_cmdline(mem, CMDLINE_START, &cmdline).map_err(|e| Error::Cmdline(e.to_string()))?;

    let low_ram_end = mem_bytes.min(MMIO_HOLE_START);
    let mut modules = Vec::new();
    if let Some(path) = initramfs {
        let module = load_initramfs(mem, path, loaded.kernel_end, low_ram_end)?;
        modules.push(module);
    }

    let memmap = memory_map(mem_bytes);
    let start_info = hvm_start_info {
        magic: PVH_MAGIC,
        version: 1,
        nr_modules: modules.len() as u32,
        modlist_paddr: PVH_MODLIST_START.raw_value(),
        cmdline_paddr: CMDLINE_START.raw_value(),
        memmap_paddr: PVH_MEMMAP_START.raw_value(),
        memmap_entries: memmap.len() as u32,
        ..Default::default()
    };
    let mut params = BootParams::new::<hvm_start_info>(&start_info, PVH_INFO_START);
    params.set_sections::<hvm_memmap_table_entry>(&memmap, PVH_MEMMAP_START);
    if !modules.is_empty() {
        params.set_modules::<hvm_modlist_entry>(&modules, PVH_MODLIST_START);
    }
    PvhBootConfigurator::write_bootparams::<GuestMemoryMmap>(&params, mem)
        .map_err(|e| Error::BootData(e.to_string()))?;
    Ok(BootEntry { pvh_entry })
}

/// Copies the initramfs to the top of low RAM, page aligned, straight from
/// the file into guest memory.
fn load_initramfs(
    mem: &GuestMemoryMmap,
    path: &Path,
    kernel_end: u64,
    low_ram_end: u64,
) -> Result<hvm_modlist_entry> {
    let mut file = File::open(path).map_err(|source| Error::KernelOpen {
        path: path.to_path_buf(),
        source,
    })?;
    let size = file
        .metadata()
        .map_err(|source| Error::KernelOpen {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let addr = low_ram_end
        .checked_sub(size)
        .map(|a| a & !0xfff)
        .filter(|&a| a >= kernel_end)
        .ok_or(Error::InitramfsTooLarge { size })?;
    mem.read_exact_volatile_from(GuestAddress(addr), &mut file, size as usize)
        .map_err(|e| Error::BootData(format!("initramfs {}: {e}", path.display())))?;
    Ok(hvm_modlist_entry {
        paddr: addr,
        size,
        ..Default::default()
    })
}

/// The e820 map: RAM below the EBDA, the EBDA and BIOS area reserved (the MP
/// table lives there), RAM from 1 MiB, and RAM above the MMIO hole.
fn memory_map(mem_bytes: u64) -> Vec<hvm_memmap_table_entry> {
    let entry = |addr: u64, size: u64, type_: u32| hvm_memmap_table_entry {
        addr,
        size,
        type_,
        reserved: 0,
    };
    let mut map = vec![
        entry(0, EBDA_START, E820_RAM),
        entry(
            EBDA_START,
            HIGH_RAM_START.raw_value() - EBDA_START,
            E820_RESERVED,
        ),
    ];
    for (start, len) in ram_ranges(mem_bytes) {
        let (start, len) = if start.raw_value() == 0 {
            (HIGH_RAM_START.raw_value(), len - HIGH_RAM_START.raw_value())
        } else {
            (start.raw_value(), len)
        };
        map.push(entry(start, len, E820_RAM));
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_map_covers_ram_and_reserves_the_ebda() {
        let map = memory_map(256 << 20);
        assert_eq!(map.len(), 3);
        assert_eq!((map[0].addr, map[0].size), (0, EBDA_START));
        assert_eq!(map[1].type_, E820_RESERVED);
        assert_eq!(map[2].addr + map[2].size, 256 << 20);
        let big = memory_map(5 << 30);
        assert_eq!(big.len(), 4);
        assert_eq!(big[3].addr, MMIO_HOLE_END);
    }
}
