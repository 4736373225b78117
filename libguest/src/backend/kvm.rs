//! The main backend: libguest's own VMM, in this process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use vmm::{Channel, ChannelError, ConsoleLog, ExitReason, Vm, VmConfig};

use super::{Appliance, ChannelIo, LaunchSpec, CHANNEL_PORT};
use crate::error::Result;

pub(crate) struct KvmAppliance {
    vm: Vm,
    channel: Arc<KvmChannel>,
}

pub(crate) fn launch(spec: &LaunchSpec<'_>) -> Result<KvmAppliance> {
    let mut config = VmConfig::new(spec.kernel.clone(), spec.cmdline.clone());
    config.initramfs = Some(spec.initramfs.clone());
    config.mem_mib = spec.mem_mib;
    config.vcpus = spec.vcpus;
    config.console_file = spec.console_file.clone();
    config.disks = spec.drives.iter().map(|d| d.backend.clone()).collect();
    config.channel = Some(CHANNEL_PORT.to_owned());
    let vm = Vm::start(&config)?;
    let channel = vm
        .channel()
        .ok_or_else(|| vmm::Error::Device("the VM was started without its API channel".into()))?;
    Ok(KvmAppliance {
        vm,
        channel: Arc::new(KvmChannel(channel)),
    })
}

impl Appliance for KvmAppliance {
    fn console(&self) -> ConsoleLog {
        self.vm.console()
    }

    fn channel(&self) -> Arc<dyn ChannelIo> {
        self.channel.clone()
    }

    fn exit_count(&self) -> Option<u64> {
        Some(self.vm.exit_count())
    }

    fn stop(&mut self) -> ExitReason {
        self.channel.0.close();
        self.vm.stop()
    }

    fn name(&self) -> &'static str {
        "kvm"
    }
}

/// The channel port's rings, read and written from the caller's thread.
struct KvmChannel(Channel);

/// Waits on the channel are bounded by the appliance's life (a stopped VM
/// closes the channel), not by a clock.
fn far_future() -> Instant {
    let now = Instant::now();
    now.checked_add(Duration::from_secs(100 * 365 * 86_400))
        .unwrap_or(now)
}

fn io_error(e: ChannelError) -> std::io::Error {
    let kind = match e {
        ChannelError::TimedOut => std::io::ErrorKind::TimedOut,
        ChannelError::Closed => std::io::ErrorKind::BrokenPipe,
        ChannelError::Queue(_) => std::io::ErrorKind::InvalidData,
    };
    std::io::Error::new(kind, e.to_string())
}

impl ChannelIo for KvmChannel {
    fn read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf, far_future()).map_err(io_error)
    }

    fn write_all(&self, data: &[u8]) -> std::io::Result<()> {
        self.0.write_all(data, far_future()).map_err(io_error)
    }

    fn close(&self) {
        self.0.close();
    }
}
