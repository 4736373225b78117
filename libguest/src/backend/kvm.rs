//! The main backend: libguest's own VMM, in this process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use vmm::{
    Channel, ChannelError, ConsoleLog, Device, ExitReason, KillSwitch, ScsiDisk, Vm, VmConfig,
};

use super::{Appliance, ChannelIo, Kill, LaunchSpec, CHANNEL_PORT};
use crate::error::Result;

pub(crate) struct KvmAppliance {
    vm: Vm,
    channel: Arc<KvmChannel>,
}

pub(crate) fn launch(spec: &LaunchSpec<'_>) -> Result<KvmAppliance> {
    let mut config = VmConfig::new(spec.kernel.name.clone(), spec.cmdline.clone());
    config.kernel_image = Some(spec.kernel.bytes.clone());
    config.initramfs = Some(spec.initramfs.name.clone());
    config.initramfs_image = Some(spec.initramfs.bytes.clone());
    config.mem_mib = spec.mem_mib;
    config.vcpus = spec.vcpus;
    config.console_file = spec.console_file.clone();
    config.console_file_limit = spec.console_file_limit;
    let disks: Vec<_> = spec
        .drives
        .iter()
        .map(|d| ScsiDisk {
            backend: d.backend.clone(),
            unmap: d.unmap,
        })
        .collect();
    let mut devices = Vec::new();
    if !disks.is_empty() {
        devices.push(Device::Scsi(disks));
    }
    devices.push(Device::Channel(CHANNEL_PORT.to_owned()));
    let vm = Vm::start(&config, &devices)?;
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

    fn kill_switch(&self) -> Arc<dyn Kill> {
        Arc::new(KvmKill(self.vm.kill_switch()))
    }

    fn exit_count(&self) -> Option<u64> {
        Some(self.vm.exit_count())
    }

    fn exit_stats(&self) -> Option<vmm::ExitStats> {
        self.vm.exit_stats()
    }

    fn stop(&mut self) -> ExitReason {
        self.channel.0.close();
        self.vm.stop()
    }

    fn name(&self) -> &'static str {
        "kvm"
    }

    fn process_id(&self) -> u32 {
        std::process::id()
    }
}

struct KvmKill(KillSwitch);

impl Kill for KvmKill {
    fn kill(&self) {
        self.0.kill();
    }
}

/// The channel port's rings, read and written from the caller's thread.
struct KvmChannel(Channel);

/// A wait without a deadline is bounded by the appliance's life (a
/// stopped or killed VM closes the channel).
fn until(deadline: Option<Instant>) -> Instant {
    deadline.unwrap_or_else(|| {
        let now = Instant::now();
        now.checked_add(Duration::from_secs(100 * 365 * 86_400))
            .unwrap_or(now)
    })
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
    fn read(&self, buf: &mut [u8], deadline: Option<Instant>) -> std::io::Result<usize> {
        self.0.read(buf, until(deadline)).map_err(io_error)
    }

    fn write_all(&self, data: &[u8], deadline: Option<Instant>) -> std::io::Result<()> {
        self.0.write_all(data, until(deadline)).map_err(io_error)
    }

    fn close(&self) {
        self.0.close();
    }
}
