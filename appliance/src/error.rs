//! Errors of the appliance layer: each names the file or directory and
//! says what to run or set.

use crate::cache::CacheError;

/// Why the appliance (kernel, initramfs or tools layer) cannot be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplianceError {
    /// No kernel to boot: none cached for this libguest's config fragment,
    /// and none named.
    #[error("no appliance kernel found (searched {searched}); build it with `kernel-config/build-kernel.sh appliance` or `libguest build-kernel` (Debian: apt-get install linux-source-6.12 build-essential bc flex bison libelf-dev libssl-dev cpio), or set LIBGUEST_KERNEL to a vmlinux built from kernel-config/appliance.config")]
    KernelNotFound {
        /// Where the lookup went.
        searched: String,
    },
    /// The kernel build script failed, or its cached record is unreadable.
    #[error("building the appliance kernel failed: {0}")]
    KernelBuild(String),
    /// Reading or writing one of the appliance's files failed.
    #[error("appliance {what}: {source}")]
    Io {
        /// The file or step, e.g. `kernel /boot/vmlinux`.
        what: String,
        /// The host's error.
        #[source]
        source: std::io::Error,
    },
    /// The cache is not trusted, or a file in it is not the one recorded.
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl ApplianceError {
    /// Wraps an I/O error about `what`.
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ApplianceError {
        let what = what.into();
        move |source| ApplianceError::Io { what, source }
    }
}

/// The appliance layer's result.
pub type Result<T> = std::result::Result<T, ApplianceError>;
