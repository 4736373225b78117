//! Where the appliance runs. The main path is [`kvm`]: our VMM inside this
//! process. [`qemu`] runs the same kernel, initramfs and device types
//! (virtio-scsi, a virtio-console port) under `qemu-system-x86_64 -M
//! microvm -accel tcg`: a slow fallback for hosts whose KVM cannot run
//! Linux, never started where KVM works unless asked for.

pub(crate) mod kvm;
pub(crate) mod qemu;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use vmm::{ConsoleLog, ExitReason};

use crate::drive::Drive;
use appliance::BootImage;

/// Name of the virtio-console port guest-init serves the API on
/// (/dev/virtio-ports/<name> in the appliance).
pub(crate) use protocol::CHANNEL_PORT;

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

/// A backend name that is not auto, kvm or tcg.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown backend {name:?} (expected auto, kvm or tcg)")]
pub struct UnknownBackend {
    /// The name as given.
    pub name: String,
}

impl std::str::FromStr for Backend {
    type Err = UnknownBackend;
    fn from_str(s: &str) -> Result<Backend, UnknownBackend> {
        match s {
            "auto" | "" => Ok(Backend::Auto),
            "kvm" | "direct" => Ok(Backend::Kvm),
            "tcg" | "qemu" => Ok(Backend::Tcg),
            other => Err(UnknownBackend { name: other.into() }),
        }
    }
}

/// The channel's byte stream to and from guest-init. Every wait ends at
/// its deadline (`None`: as long as the appliance lives) or when the
/// channel is closed, whatever the guest does.
pub(crate) trait ChannelIo: Send + Sync {
    /// Reads at least one byte. `ErrorKind::TimedOut` at the deadline
    /// with nothing read; another `Err` once the channel is closed or the
    /// appliance has stopped.
    fn read(&self, buf: &mut [u8], deadline: Option<Instant>) -> std::io::Result<usize>;
    /// Writes all of `data`; `Err` once the channel is closed.
    /// `ErrorKind::TimedOut` at the deadline, with some leading part of
    /// `data` perhaps written: the stream is then out of step.
    fn write_all(&self, data: &[u8], deadline: Option<Instant>) -> std::io::Result<()>;
    /// Closes the channel: blocked and later reads and writes fail.
    fn close(&self);
}

/// Stops an appliance from any thread, at once and without waiting for
/// its owner: the channel closes (blocked calls return) and the guest stops
/// running. The owner's [`Appliance::stop`] still reaps what is left.
/// Harmless once the appliance is gone.
pub(crate) trait Kill: Send + Sync {
    fn kill(&self);
}

/// Everything a backend needs to boot the appliance.
pub(crate) struct LaunchSpec<'a> {
    /// Checked bytes, booted as they are (see `appliance`).
    pub kernel: BootImage,
    pub initramfs: BootImage,
    /// Without device announcements: each backend adds its own.
    pub cmdline: String,
    pub mem_mib: u64,
    pub vcpus: u8,
    pub console_file: Option<PathBuf>,
    /// The console file's cap in bytes (vmm::ConsoleFile).
    pub console_file_limit: u64,
    pub drives: &'a [Drive],
}

/// A running appliance.
pub(crate) trait Appliance: Send {
    /// The console log; it stays readable after the appliance stops.
    fn console(&self) -> ConsoleLog;
    fn channel(&self) -> Arc<dyn ChannelIo>;
    fn kill_switch(&self) -> Arc<dyn Kill>;
    /// Guest exits to the hypervisor so far, where the backend can tell
    /// (a booting guest that makes none was never run).
    fn exit_count(&self) -> Option<u64>;
    /// KVM's exit counters by kind, where the backend runs on KVM here.
    fn exit_stats(&self) -> Option<vmm::ExitStats>;
    /// Stops the appliance at once and waits until it is gone; returns why
    /// it stopped (its own reason if it had stopped already).
    fn stop(&mut self) -> ExitReason;
    fn name(&self) -> &'static str;
    /// The process that runs the guest: qemu's, or this one for the VMM
    /// that runs in it.
    fn process_id(&self) -> u32;
}
