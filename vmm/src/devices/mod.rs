//! Port-I/O devices: the serial console and the few legacy ports a Linux
//! kernel touches on a PC without firmware.

pub(crate) mod legacy;
pub(crate) mod poll;
pub(crate) mod resample;
pub(crate) mod serial;
pub(crate) mod virtio;

use std::sync::Arc;

use legacy::Action;

/// What the vCPU loop should do after a port write.
pub(crate) use legacy::Action as PortAction;

/// A virtio-mmio device and the guest-physical window it answers.
pub(crate) struct MmioDevice {
    pub(crate) base: u64,
    pub(crate) transport: std::sync::Mutex<virtio::mmio::MmioTransport>,
}

/// Every device the vCPUs reach by port or MMIO exit.
pub(crate) struct PortBus {
    pub(crate) serial: Arc<serial::SerialConsole>,
    pub(crate) mmio: Vec<MmioDevice>,
}

impl PortBus {
    fn mmio_device(&self, addr: u64) -> Option<(&MmioDevice, u64)> {
        self.mmio.iter().find_map(|d| {
            let offset = addr.checked_sub(d.base)?;
            (offset < virtio::mmio::MMIO_SIZE).then_some((d, offset))
        })
    }

    /// MMIO reads outside any device float high.
    pub(crate) fn mmio_read(&self, addr: u64, data: &mut [u8]) {
        match self.mmio_device(addr) {
            Some((dev, offset)) => dev
                .transport
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .read(offset, data),
            None => data.fill(0xff),
        }
    }

    pub(crate) fn mmio_write(&self, addr: u64, data: &[u8]) {
        if let Some((dev, offset)) = self.mmio_device(addr) {
            dev.transport
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .write(offset, data);
        }
    }

    pub(crate) fn read(&self, port: u16, data: &mut [u8]) {
        if serial::COM1_PORTS.contains(&port) {
            self.serial.read((port - serial::COM1_BASE) as u8, data);
        } else {
            legacy::read(port, data);
        }
    }

    pub(crate) fn write(&self, port: u16, data: &[u8]) -> Action {
        if serial::COM1_PORTS.contains(&port) {
            self.serial.write((port - serial::COM1_BASE) as u8, data);
            Action::Continue
        } else {
            legacy::write(port, data)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::Shared;
    use vmm_sys_util::eventfd::EventFd;

    /// Every port, every access width, any data: the bus answers and only
    /// the i8042 reset command stops the VM.
    #[test]
    fn hostile_port_io_never_panics() {
        let shared = Shared::new(4096, None);
        let irq = EventFd::new(libc::EFD_NONBLOCK).unwrap();
        let bus = PortBus {
            serial: Arc::new(serial::SerialConsole::new(irq, shared)),
            mmio: Vec::new(),
        };
        let mut seed: u32 = 0x1234_5678;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for port in 0..=u16::MAX {
            for width in [0usize, 1, 2, 4] {
                let mut buf = vec![0u8; width];
                bus.read(port, &mut buf);
                let data: Vec<u8> = (0..width).map(|_| next() as u8).collect();
                let action = bus.write(port, &data);
                let is_reset = port == legacy::I8042_COMMAND && data.first() == Some(&0xfe);
                assert_eq!(action == Action::Reset, is_reset, "port {port:#x} {data:?}");
            }
        }
    }
}
