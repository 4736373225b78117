//! COM1 (16550A from vm-superio). Output goes to the bounded console log;
//! input is how the host types into the guest's console.

use std::io;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};

use vm_superio::{Serial, Trigger};
use vmm_sys_util::eventfd::EventFd;

use crate::console::Shared;

pub(crate) const COM1_BASE: u16 = 0x3f8;
pub(crate) const COM1_PORTS: RangeInclusive<u16> = 0x3f8..=0x3ff;
pub(crate) const COM1_IRQ: u32 = 4;
/// IIR bit 0: no interrupt pending.
const IIR_NONE: u8 = 0x01;

/// Raises the serial interrupt through an irqfd.
pub(crate) struct IrqTrigger(pub(crate) EventFd);

impl Trigger for IrqTrigger {
    type E = io::Error;
    fn trigger(&self) -> io::Result<()> {
        self.0.write(1)
    }
}

/// Receives the bytes the guest transmits.
pub(crate) struct ConsoleSink(pub(crate) Arc<Shared>);

impl io::Write for ConsoleSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.append_console(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub(crate) struct SerialConsole {
    uart: Mutex<Serial<IrqTrigger, vm_superio::serial::NoEvents, ConsoleSink>>,
}

impl SerialConsole {
    pub(crate) fn new(irq: EventFd, shared: Arc<Shared>) -> SerialConsole {
        SerialConsole {
            uart: Mutex::new(Serial::new(IrqTrigger(irq), ConsoleSink(shared))),
        }
    }

    fn uart(
        &self,
    ) -> std::sync::MutexGuard<'_, Serial<IrqTrigger, vm_superio::serial::NoEvents, ConsoleSink>>
    {
        self.uart.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn read(&self, offset: u8, data: &mut [u8]) {
        if let Some(first) = data.first_mut() {
            *first = self.uart().read(offset);
        }
    }

    pub(crate) fn write(&self, offset: u8, data: &[u8]) {
        if let Some(&value) = data.first() {
            if let Err(e) = self.uart().write(offset, value) {
                tracing::debug!("serial write at offset {offset}: {e}");
            }
        }
    }

    /// Called when the guest EOIs the serial interrupt: a 16550's interrupt
    /// output is a level, so while an enabled condition is still pending the
    /// line is raised again. Without this an edge lost while the guest had
    /// the pin masked stalls the console for good (IIR stays set, no new
    /// edge comes).
    pub(crate) fn resample(&self) {
        let uart = self.uart();
        if uart.state().interrupt_identification & IIR_NONE != 0 {
            return;
        }
        if let Err(e) = uart.interrupt_evt().trigger() {
            tracing::debug!("serial interrupt: {e}");
        }
    }

    /// Queues input bytes; returns how many fit in the receive FIFO.
    pub(crate) fn enqueue_input(&self, bytes: &[u8]) -> usize {
        let mut uart = self.uart();
        let room = uart.fifo_capacity();
        let n = room.min(bytes.len());
        if n == 0 {
            return 0;
        }
        match uart.enqueue_raw_bytes(&bytes[..n]) {
            Ok(n) => n,
            Err(e) => {
                tracing::debug!("serial input: {e}");
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transmitted_bytes_reach_the_log_and_input_is_bounded() {
        let shared = Shared::new(1024, None);
        let irq = EventFd::new(libc::EFD_NONBLOCK).unwrap();
        let serial = SerialConsole::new(irq, shared.clone());
        for &b in b"hello\r\n" {
            serial.write(0, &[b]);
        }
        assert_eq!(shared.lock().console.contents(), "hello\n");
        let big = vec![b'x'; 1000];
        let n = serial.enqueue_input(&big);
        assert!(n > 0 && n < 1000);
        // Reading RBR returns the queued bytes.
        let mut b = [0u8];
        serial.read(0, &mut b);
        assert_eq!(b[0], b'x');
        // Empty writes and reads do not panic.
        serial.write(0, &[]);
        serial.read(0, &mut []);
    }

    #[test]
    fn resample_reraises_only_while_an_interrupt_is_pending() {
        let shared = Shared::new(64, None);
        let irq = EventFd::new(libc::EFD_NONBLOCK).unwrap();
        let probe = irq.try_clone().unwrap();
        let serial = SerialConsole::new(irq, shared);
        serial.write(1, &[0x02]); // IER: THR empty interrupt on -> pending
        assert_eq!(probe.read().unwrap(), 1);
        serial.resample();
        assert_eq!(probe.read().unwrap(), 1, "still pending: raised again");
        let mut iir = [0u8];
        serial.read(2, &mut iir); // reading IIR acknowledges
        serial.resample();
        assert!(probe.read().is_err(), "nothing pending: line stays low");
    }
}
