//! Where the appliance runs. The main path is [`kvm`]: our VMM inside this
//! process. [`qemu`] runs the same kernel, initramfs and device types
//! (virtio-scsi, a virtio-console port) under `qemu-system-x86_64 -M
//! microvm -accel tcg`: a slow fallback for hosts whose KVM cannot run
//! Linux, never started where KVM works unless asked for.

pub(crate) mod kvm;
pub(crate) mod qemu;

use std::path::PathBuf;
use std::sync::Arc;

use vmm::{ConsoleLog, ExitReason};

use crate::drive::Drive;

/// Name of the virtio-console port guest-init serves the API on
/// (/dev/virtio-ports/<name> in the appliance).
pub(crate) const CHANNEL_PORT: &str = "org.libguest.channel.0";

/// Which hypervisor runs the appliance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// KVM in this process when /dev/kvm can run Linux, otherwise qemu TCG
    /// with a one-line warning on stderr.
    #[default]
    Auto,
    /// Only KVM: launch fails if it cannot serve.
    Kvm,
    /// qemu-system-x86_64 with TCG (software emulation): slow, but runs
    /// anywhere qemu does.
    Tcg,
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Backend, String> {
        match s {
            "auto" | "" => Ok(Backend::Auto),
            "kvm" | "direct" => Ok(Backend::Kvm),
            "tcg" | "qemu" => Ok(Backend::Tcg),
            other => Err(format!(
                "unknown backend {other:?} (expected auto, kvm or tcg)"
            )),
        }
    }
}

/// The channel's byte stream to and from guest-init.
pub(crate) trait ChannelIo: Send + Sync {
    /// Reads at least one byte, waiting as long as it takes; `Err` once the
    /// channel is closed or the appliance has stopped.
    fn read(&self, buf: &mut [u8]) -> std::io::Result<usize>;
    /// Writes all of `data`; `Err` once the channel is closed.
    fn write_all(&self, data: &[u8]) -> std::io::Result<()>;
    /// Closes the channel: blocked and later reads and writes fail.
    fn close(&self);
}

/// Everything a backend needs to boot the appliance.
pub(crate) struct LaunchSpec<'a> {
    pub kernel: PathBuf,
    pub initramfs: PathBuf,
    /// Without device announcements: each backend adds its own.
    pub cmdline: String,
    pub mem_mib: u64,
    pub vcpus: u8,
    pub console_file: Option<PathBuf>,
    pub drives: &'a [Drive],
}

/// A running appliance.
pub(crate) trait Appliance: Send {
    /// The console log; it stays readable after the appliance stops.
    fn console(&self) -> ConsoleLog;
    fn channel(&self) -> Arc<dyn ChannelIo>;
    /// Guest exits to the hypervisor so far, where the backend can tell
    /// (a booting guest that makes none was never run).
    fn exit_count(&self) -> Option<u64>;
    /// Stops the appliance at once and waits until it is gone; returns why
    /// it stopped (its own reason if it had stopped already).
    fn stop(&mut self) -> ExitReason;
    fn name(&self) -> &'static str;
}
