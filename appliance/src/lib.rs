//! libguest's appliance: our kernel plus an initramfs holding guest-init
//! (built by this crate's build script and embedded in it), and the tools
//! layer loaded on demand. The `libguest` crate boots what this crate
//! returns; the e2e harness and the benchmarks use it directly.
//!
//! Security rule: what boots is checked bytes, never a path resolved
//! twice. The kernel and the tools layer come from the cache only if the
//! cache is ours ([`cache`]: owned by the current user, not writable by
//! others, no symbolic links inside) and their SHA-256 matches the
//! record written when they were built; the initramfs is built in memory
//! from the guest-init embedded in this library. [`BootImages::load`]
//! reads each once; the VMM boots those bytes and the TCG backend hands
//! qemu sealed in-memory copies of them.
#![warn(missing_docs)]

pub mod cache;
pub mod cpio;
mod error;
mod image;
mod initramfs;
mod kernel;
pub mod tools;

use std::path::{Path, PathBuf};

pub use cache::{cache_dir, trusted_dir, verified_file, CacheError, TrustedDir};
pub use error::{ApplianceError, Result};
pub use image::BootImage;
pub use initramfs::{build_initramfs, initramfs_image, GUEST_INIT};
pub use kernel::{build_kernel, find_kernel, load_kernel, KERNEL_FRAGMENT};

/// The appliance kernel's command line.
///
/// `reboot=k`: power-off goes through the i8042 reset line, which the VMM
/// sees. `panic=-1`: a panicking kernel resets at once instead of hanging,
/// and the console says why. `no_timer_check`: skips the IOAPIC timer
/// probe, which only finds broken chipsets.
pub fn kernel_cmdline(verbose: bool, append: Option<&str>) -> String {
    let mut cmdline =
        String::from("console=ttyS0 reboot=k panic=-1 8250.nr_uarts=1 no_timer_check");
    if !verbose {
        cmdline.push_str(" quiet");
    }
    if let Some(extra) = append {
        cmdline.push(' ');
        cmdline.push_str(extra);
    }
    cmdline
}

/// What the appliance boots, as checked bytes.
#[derive(Debug, Clone)]
pub struct BootImages {
    /// The kernel, verified against its cache record or read as named.
    pub kernel: BootImage,
    /// The initramfs, built in memory from the embedded guest-init.
    pub initramfs: BootImage,
}

impl BootImages {
    /// Reads (and verifies) the kernel and builds the initramfs.
    pub fn load(kernel_override: Option<&Path>) -> Result<BootImages> {
        Ok(BootImages {
            kernel: load_kernel(kernel_override)?,
            initramfs: initramfs_image()?,
        })
    }
}

/// The same appliance as files, for programs that take file names (the
/// benchmarks' qemu peer). The library boots [`BootImages`].
#[derive(Debug, Clone)]
pub struct Appliance {
    /// The kernel file (verified when it is a cached one).
    pub kernel: PathBuf,
    /// The initramfs file in the cache.
    pub initramfs: PathBuf,
}

impl Appliance {
    /// Finds (and verifies) the kernel and writes (or reuses) the initramfs.
    pub fn locate(kernel_override: Option<&Path>) -> Result<Appliance> {
        Ok(Appliance {
            kernel: find_kernel(kernel_override)?,
            initramfs: build_initramfs()?,
        })
    }
}
