//! Port-I/O devices: the serial console and the few legacy ports a Linux
//! kernel touches on a PC without firmware.

pub(crate) mod legacy;
pub(crate) mod serial;

use std::sync::Arc;

use legacy::Action;

/// What the vCPU loop should do after a port write.
pub(crate) use legacy::Action as PortAction;

/// Every port-I/O device of the VM, dispatched by port number.
pub(crate) struct PortBus {
    pub(crate) serial: Arc<serial::SerialConsole>,
}

impl PortBus {
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
