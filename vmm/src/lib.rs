//! A minimal KVM VMM that runs inside the caller's process.
//!
//! It boots an uncompressed `vmlinux` through the PVH entry point with an
//! initramfs, a serial console and a reset line, and nothing else. Devices
//! are added by later layers (virtio-mmio). Everything the guest can write
//! (port I/O, MMIO, console bytes) is treated as hostile: it is mapped to
//! errors or ignored, never to a panic of the host process.
#![warn(missing_docs)]

mod boot;
mod console;
mod cpu;
mod devices;
mod error;
mod exit_stats;
pub mod host;
mod kill;
pub mod layout;
mod run_state;
#[cfg(feature = "test-utils")]
pub mod testing;
mod vcpu;
mod vm;

pub use console::{
    ConsoleFile, ConsoleLog, ConsoleRecorder, ConsoleSnapshot, DEFAULT_CONSOLE_FILE_LIMIT,
    MIN_CONSOLE_FILE_LIMIT,
};
pub use devices::virtio::console::port::{ChannelError, ChannelHost as Channel};
/// Violations the virtio write guard saw in this process (debug builds;
/// always 0 in release builds).
pub use devices::virtio::guard::violations as guard_violations;
pub use error::{Error, Result};
pub use exit_stats::ExitStats;
pub use host::KvmStatus;
pub use kill::KillSwitch;
pub use run_state::{ExitReason, LineWait};
pub use vm::{Device, ScsiDisk, Vm, VmConfig, MAX_MEM_MIB, MAX_VCPUS, MIN_MEM_MIB};
