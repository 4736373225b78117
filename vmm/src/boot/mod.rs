//! Loading the kernel, command line and initramfs, and describing memory to
//! the guest (PVH start info with an e820 map, MP table).

pub(crate) mod mptable;

use std::fs::File;
use std::io::Cursor;
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

/// A kernel or initramfs to boot: a file the VMM opens, or bytes the
/// caller already read (and checked), which are then exactly what boots.
#[derive(Clone, Copy)]
pub(crate) enum Image<'a> {
    File(&'a Path),
    /// `name` only names the bytes in error messages.
    Bytes {
        name: &'a Path,
        bytes: &'a [u8],
    },
}

impl<'a> Image<'a> {
    fn name(&self) -> &'a Path {
        match *self {
            Image::File(path) | Image::Bytes { name: path, .. } => path,
        }
    }
}

/// Loads `kernel` (an ELF vmlinux) and `initramfs` into `mem`, writes the
/// command line and the PVH start info.
pub(crate) fn load(
    mem: &GuestMemoryMmap,
    mem_bytes: u64,
    kernel: Image<'_>,
    initramfs: Option<Image<'_>>,
    cmdline: &str,
) -> Result<BootEntry> {
    let path = kernel.name();
    let load_error = |e: linux_loader::loader::Error| Error::KernelLoad {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let loaded = match kernel {
        Image::File(path) => {
            let mut file = File::open(path).map_err(|source| Error::KernelOpen {
                path: path.to_path_buf(),
                source,
            })?;
            Elf::load(mem, None, &mut file, Some(HIGH_RAM_START)).map_err(load_error)?
        }
        Image::Bytes { bytes, .. } => {
            Elf::load(mem, None, &mut Cursor::new(bytes), Some(HIGH_RAM_START))
                .map_err(load_error)?
        }
    };
    let pvh_entry = match loaded.pvh_boot_cap {
        PvhBootCapability::PvhEntryPresent(addr) => addr,
        _ => {
            return Err(Error::KernelNoPvh {
                path: path.to_path_buf(),
            })
        }
    };

    let cmdline =
        Cmdline::try_from(cmdline, CMDLINE_MAX_SIZE).map_err(|e| Error::Cmdline(e.to_string()))?;
    load_cmdline(mem, CMDLINE_START, &cmdline).map_err(|e| Error::Cmdline(e.to_string()))?;

    let low_ram_end = mem_bytes.min(MMIO_HOLE_START);
    let mut modules = Vec::new();
    if let Some(image) = initramfs {
        let module = load_initramfs(mem, image, loaded.kernel_end, low_ram_end)?;
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
/// the file (or the caller's bytes) into guest memory.
fn load_initramfs(
    mem: &GuestMemoryMmap,
    image: Image<'_>,
    kernel_end: u64,
    low_ram_end: u64,
) -> Result<hvm_modlist_entry> {
    let place = |size: u64| {
        low_ram_end
            .checked_sub(size)
            .map(|a| a & !0xfff)
            .filter(|&a| a >= kernel_end)
            .ok_or(Error::InitramfsTooLarge { size })
    };
    let boot_data =
        |path: &Path, e: String| Error::BootData(format!("initramfs {}: {e}", path.display()));
    let (addr, size) = match image {
        Image::File(path) => {
            let open_error = |source| Error::KernelOpen {
                path: path.to_path_buf(),
                source,
            };
            let mut file = File::open(path).map_err(open_error)?;
            let size = file.metadata().map_err(open_error)?.len();
            let addr = place(size)?;
            mem.read_exact_volatile_from(GuestAddress(addr), &mut file, size as usize)
                .map_err(|e| boot_data(path, e.to_string()))?;
            (addr, size)
        }
        Image::Bytes { name, bytes } => {
            let size = bytes.len() as u64;
            let addr = place(size)?;
            mem.write_slice(bytes, GuestAddress(addr))
                .map_err(|e| boot_data(name, e.to_string()))?;
            (addr, size)
        }
    };
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

    /// A minimal ELF64 kernel: one PT_LOAD of `code` at 1 MiB and the PVH
    /// entry note pointing at it.
    fn tiny_pvh_elf(code: &[u8]) -> Vec<u8> {
        const LOAD_AT: u64 = 0x10_0000;
        let (phoff, note_at, code_at) = (64u64, 64 + 2 * 56, 0x1000u64);
        let mut elf = vec![0u8; code_at as usize];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[6] = 1; // EV_CURRENT
        let put = |elf: &mut Vec<u8>, at: usize, bytes: &[u8]| {
            elf[at..at + bytes.len()].copy_from_slice(bytes)
        };
        put(&mut elf, 0x10, &2u16.to_le_bytes()); // ET_EXEC
        put(&mut elf, 0x12, &62u16.to_le_bytes()); // EM_X86_64
        put(&mut elf, 0x14, &1u32.to_le_bytes());
        put(&mut elf, 0x18, &LOAD_AT.to_le_bytes()); // e_entry
        put(&mut elf, 0x20, &phoff.to_le_bytes());
        put(&mut elf, 0x34, &64u16.to_le_bytes()); // e_ehsize
        put(&mut elf, 0x36, &56u16.to_le_bytes()); // e_phentsize
        put(&mut elf, 0x38, &2u16.to_le_bytes()); // e_phnum
        let phdr = |p_type: u32, offset: u64, addr: u64, size: u64| {
            let mut p = Vec::with_capacity(56);
            p.extend_from_slice(&p_type.to_le_bytes());
            p.extend_from_slice(&5u32.to_le_bytes()); // R+X
            for v in [offset, addr, addr, size, size, 0x1000] {
                p.extend_from_slice(&v.to_le_bytes());
            }
            p
        };
        let note_len = 12 + 4 + 4;
        put(
            &mut elf,
            phoff as usize,
            &phdr(1, code_at, LOAD_AT, code.len() as u64),
        );
        put(
            &mut elf,
            phoff as usize + 56,
            &phdr(4, note_at, 0, note_len),
        );
        let mut note = Vec::new();
        for v in [4u32, 4, 18] {
            note.extend_from_slice(&v.to_le_bytes()); // namesz, descsz, PHYS32_ENTRY
        }
        note.extend_from_slice(b"Xen\0");
        note.extend_from_slice(&(LOAD_AT as u32).to_le_bytes());
        put(&mut elf, note_at as usize, &note);
        elf.extend_from_slice(code);
        elf
    }

    /// Bytes handed over by the caller boot exactly as the same file would.
    #[test]
    fn kernel_and_initramfs_load_from_bytes_as_from_files() {
        let code = b"\xf4 the kernel's first bytes";
        let kernel = tiny_pvh_elf(code);
        let initramfs = b"070701 an initramfs".repeat(300);
        let dir = tempfile::tempdir().unwrap();
        let (kernel_file, initramfs_file) = (dir.path().join("vmlinux"), dir.path().join("initrd"));
        std::fs::write(&kernel_file, &kernel).unwrap();
        std::fs::write(&initramfs_file, &initramfs).unwrap();
        let mem_bytes = 64 << 20;
        let boot = |k: Image<'_>, i: Image<'_>| {
            let mem =
                GuestMemoryMmap::from_ranges(&[(GuestAddress(0), mem_bytes as usize)]).unwrap();
            let entry = load(&mem, mem_bytes, k, Some(i), "console=ttyS0").unwrap();
            let mut loaded = vec![0u8; code.len()];
            mem.read_slice(&mut loaded, HIGH_RAM_START).unwrap();
            let at = (mem_bytes - initramfs.len() as u64) & !0xfff;
            let mut module = vec![0u8; initramfs.len()];
            mem.read_slice(&mut module, GuestAddress(at)).unwrap();
            (entry.pvh_entry, loaded, module)
        };
        let from_files = boot(Image::File(&kernel_file), Image::File(&initramfs_file));
        let from_bytes = boot(
            Image::Bytes {
                name: &kernel_file,
                bytes: &kernel,
            },
            Image::Bytes {
                name: &initramfs_file,
                bytes: &initramfs,
            },
        );
        assert_eq!(from_files, from_bytes);
        assert_eq!(from_bytes.0, HIGH_RAM_START);
        assert_eq!(from_bytes.1, code);
        assert_eq!(from_bytes.2, initramfs);
        // A bad image names what the caller called it.
        let mem = GuestMemoryMmap::from_ranges(&[(GuestAddress(0), mem_bytes as usize)]).unwrap();
        let bad = Image::Bytes {
            name: Path::new("/named/vmlinux"),
            bytes: b"not an ELF",
        };
        let err = load(&mem, mem_bytes, bad, None, "")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("/named/vmlinux"), "{err}");
    }
}
