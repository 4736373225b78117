//! The appliance: our kernel plus an initramfs holding guest-init.
//! Both are cached outside the source tree, keyed by their inputs.

mod cache;
pub mod cpio;
mod initramfs;
mod kernel;

use std::path::PathBuf;

pub use cache::cache_dir;
pub use initramfs::{build_initramfs, GUEST_INIT};
pub use kernel::{build_kernel, find_kernel, KERNEL_FRAGMENT};

use crate::error::Result;

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
