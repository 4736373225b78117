//! virtio devices over the virtio-mmio transport (virtio 1.x, register
//! layout version 2). Queue notifications arrive on ioeventfds and
//! interrupts leave through irqfds, so the vCPU thread only sees the
//! occasional register access.

pub(crate) mod console;
pub(crate) mod guard;
pub(crate) mod mmio;
#[cfg(any(test, feature = "test-utils"))]
#[cfg(any(test, feature = "test-utils"))]
pub(crate) mod rings;
pub(crate) mod scsi;
pub(crate) mod slices;
pub(crate) mod worker_thread;

use std::sync::atomic::{AtomicU32, Ordering};

use vm_memory::GuestMemoryMmap;
use vmm_sys_util::eventfd::EventFd;

/// VIRTIO_F_VERSION_1: every device here is a modern (1.x) device.
pub(crate) const VIRTIO_F_VERSION_1: u64 = 1 << 32;
/// InterruptStatus bit 0: a used buffer was added.
pub(crate) const INT_USED_RING: u32 = 1;

/// The device's half of the interrupt line: a status word the driver reads
/// through the transport and an irqfd that raises the pin.
pub(crate) struct Interrupt {
    status: AtomicU32,
    irqfd: EventFd,
}

impl Interrupt {
    pub(crate) fn new(irqfd: EventFd) -> Interrupt {
        Interrupt {
            status: AtomicU32::new(0),
            irqfd,
        }
    }

    /// Tells the driver a queue has new used buffers.
    pub(crate) fn signal_used(&self) {
        self.status.fetch_or(INT_USED_RING, Ordering::SeqCst);
        if let Err(e) = self.irqfd.write(1) {
            tracing::warn!("virtio interrupt: {e}");
        }
    }

    pub(crate) fn status(&self) -> u32 {
        self.status.load(Ordering::SeqCst)
    }

    pub(crate) fn ack(&self, bits: u32) {
        self.status.fetch_and(!bits, Ordering::SeqCst);
    }
}

/// A queue handed to a device at activation, with the eventfd that fires
/// when the driver notifies it. The device drives it only through the
/// write guard ([`guard::GuardedQueue`]).
pub(crate) struct ActiveQueue {
    pub(crate) queue: guard::GuardedQueue,
    pub(crate) notify: EventFd,
}

impl ActiveQueue {
    /// Makes the device's worker come back to this queue: after a pass that
    /// ran out of budget with chains left, so other queues and the stop
    /// request get their turn first.
    pub(crate) fn kick_again(&self) {
        if let Err(e) = self.notify.write(1) {
            tracing::warn!("virtio queue notify: {e}");
        }
    }
}

/// The name the write guard logs for a device type.
pub(crate) fn device_name(device_type: u32) -> &'static str {
    match device_type {
        3 => "virtio-console",
        8 => "virtio-scsi",
        _ => "virtio",
    }
}

/// What the transport needs from a device model.
pub(crate) trait VirtioDevice: Send {
    fn device_type(&self) -> u32;
    /// Maximum size of each queue; the length is the number of queues.
    fn queue_max_sizes(&self) -> &[u16];
    fn features(&self) -> u64;
    fn read_config(&self, offset: u64, data: &mut [u8]);
    fn write_config(&mut self, offset: u64, data: &[u8]);
    /// The driver set DRIVER_OK: start serving `queues`.
    fn activate(
        &mut self,
        mem: GuestMemoryMmap,
        queues: Vec<ActiveQueue>,
        interrupt: std::sync::Arc<Interrupt>,
    ) -> Result<(), String>;
    /// The driver reset the device: stop serving and forget the queues.
    fn reset(&mut self);
}

/// Reads `data.len()` bytes of a config structure at `offset`, zero past its end.
pub(crate) fn read_config_bytes(config: &[u8], offset: u64, data: &mut [u8]) {
    data.fill(0);
    let Ok(start) = usize::try_from(offset) else {
        return;
    };
    if let Some(src) = config.get(start..) {
        let n = src.len().min(data.len());
        data[..n].copy_from_slice(&src[..n]);
    }
}
