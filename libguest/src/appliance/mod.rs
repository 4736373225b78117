//! The appliance: our kernel plus an initramfs holding guest-init.
//! Both are cached outside the source tree, keyed by their inputs.

mod cache;
pub mod cpio;
mod initramfs;
mod kernel;
pub mod tools;

use std::path::PathBuf;

pub use cache::cache_dir;
pub use initramfs::{build_initramfs, GUEST_INIT};
pub use kernel::{build_kernel, find_kernel, KERNEL_FRAGMENT};

use crate::error::Result;

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

/// Files the VMM boots.
#[derive(Debug, Clone)]
pub struct Appliance {
    pub kernel: PathBuf,
    pub initramfs: PathBuf,
}

impl Appliance {
    /// Finds the kernel and builds (or reuses) the initramfs.
    pub fn locate(kernel_override: Option<&std::path::Path>) -> Result<Appliance> {
        Ok(Appliance {
            kernel: find_kernel(kernel_override)?,
            initramfs: build_initramfs()?,
        })
    }
}
