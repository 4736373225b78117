//! The device thread: waits on the queues' ioeventfds. It runs the control
//! protocol, drains the console port's output, and wakes the callers of
//! [`super::ChannelHost`] when the guest posts buffers on port 1; the
//! channel's bytes themselves are copied in those callers' threads.

use crate::devices::poll::wait_readable;
use std::sync::Arc;

use vm_memory::GuestMemoryMmap;
use vmm_sys_util::eventfd::EventFd;

use super::chain::{self, Direction};
use super::control::{Control, ControlMsg, Effect, CONTROL_SIZE};
use super::port::Shared;
use crate::devices::virtio::slices;
use crate::devices::virtio::{ActiveQueue, Interrupt};

pub(crate) struct Worker {
    pub(crate) mem: GuestMemoryMmap,
    /// Queue 0: never filled (the console port gets no input).
    pub(crate) console_rx: ActiveQueue,
    /// Queue 1: console output, dropped.
    pub(crate) console_tx: ActiveQueue,
    /// Queue 2: control messages to the driver.
    pub(crate) control_rx: ActiveQueue,
    /// Queue 3: control messages from the driver.
    pub(crate) control_tx: ActiveQueue,
    /// Notifies of queues 4 and 5; the queues live in `shared`.
    pub(crate) channel_rx_notify: EventFd,
    pub(crate) channel_tx_notify: EventFd,
    pub(crate) control: Control,
    pub(crate) shared: Arc<Shared>,
    pub(crate) interrupt: Arc<Interrupt>,
    pub(crate) kill: EventFd,
}

impl Worker {
    /// Serves until `kill` fires.
    pub(crate) fn run(mut self) {
        // Buffers posted before activation were notified already.
        self.process_control_tx();
        self.drain_console_tx();
        self.shared.wake();
        loop {
            let ready = match wait_readable([
                &self.control_tx.notify,
                &self.control_rx.notify,
                &self.channel_rx_notify,
                &self.channel_tx_notify,
                &self.console_tx.notify,
                &self.console_rx.notify,
                &self.kill,
            ]) {
                Ok(ready) => ready,
                Err(e) => {
                    tracing::error!("virtio-console: poll failed: {e}");
                    return;
                }
            };
            if ready[6] {
                return;
            }
            if ready[0] {
                let _ = self.control_tx.notify.read();
                self.process_control_tx();
            }
            if ready[1] {
                let _ = self.control_rx.notify.read();
                self.flush_control();
            }
            if ready[2] || ready[3] {
                if ready[2] {
                    let _ = self.channel_rx_notify.read();
                }
                if ready[3] {
                    let _ = self.channel_tx_notify.read();
                }
                self.shared.wake();
            }
            if ready[4] {
                let _ = self.console_tx.notify.read();
                self.drain_console_tx();
            }
            if ready[5] {
                // Receive buffers for the console port stay posted, unused.
                let _ = self.console_rx.notify.read();
            }
        }
    }

    /// Handles every control message the driver sent, then passes on the
    /// answers it can.
    pub(crate) fn process_control_tx(&mut self) {
        let mem = &self.mem;
        let mut pass = self.control_tx.queue.pass(mem, &self.interrupt);
        while let Some(chain) = pass.pop() {
            let mut bytes = [0u8; CONTROL_SIZE];
            let msg = match chain::check(&chain, Direction::FromGuest)
                .and_then(|_| Ok(chain.readable(mem)?))
            {
                Ok(list) => {
                    let n = slices::read_into(&list, &mut bytes);
                    ControlMsg::parse(&bytes[..n])
                }
                Err(e) => {
                    tracing::debug!("virtio-console control chain: {e}");
                    None
                }
            };
            if let Err(e) = pass.add_used(chain, 0) {
                tracing::warn!("virtio-console: add_used: {e}");
            }
            match msg.map(|m| self.control.handle(m)) {
                Some(Effect::ChannelOpen(open)) => self.shared.set_guest_open(open),
                Some(Effect::None) => {}
                None => tracing::debug!("virtio-console: short control message ignored"),
            }
        }
        let again = pass.exhausted();
        drop(pass);
        if again {
            self.control_tx.kick_again();
        }
        self.flush_control();
    }

    /// Puts pending control messages into buffers the driver posted, one
    /// message per buffer (a message that does not fit is cut short).
    pub(crate) fn flush_control(&mut self) {
        let mem = &self.mem;
        let mut pass = self.control_rx.queue.pass(mem, &self.interrupt);
        while let Some(msg) = self.control.front() {
            let Some(chain) = pass.pop() else {
                break;
            };
            // A buffer too short for a whole message header cannot carry
            // one: it goes back empty and the message waits for the next.
            let len = match chain::check(&chain, Direction::ToGuest)
                .and_then(|total| Ok((total, chain.writable(mem)?)))
            {
                Ok((total, list)) if total >= CONTROL_SIZE => {
                    let n = list.write(msg);
                    self.control.pop_front();
                    n
                }
                Ok(_) => 0,
                Err(e) => {
                    tracing::debug!("virtio-console control buffer: {e}");
                    0
                }
            };
            // len <= message length, which is small.
            let len = u32::try_from(len).unwrap_or(0);
            if let Err(e) = pass.add_used(chain, len) {
                tracing::warn!("virtio-console: add_used: {e}");
            }
        }
        let again = pass.exhausted() && self.control.front().is_some();
        drop(pass);
        if again {
            self.control_rx.kick_again();
        }
    }

    /// Console output: read and dropped.
    pub(crate) fn drain_console_tx(&mut self) {
        let mut pass = self.console_tx.queue.pass(&self.mem, &self.interrupt);
        while let Some(chain) = pass.pop() {
            if let Err(e) = pass.add_used(chain, 0) {
                tracing::warn!("virtio-console: add_used: {e}");
            }
        }
        let again = pass.exhausted();
        drop(pass);
        if again {
            self.console_tx.kick_again();
        }
    }

    /// Write-guard violations on the queues this worker drives.
    #[cfg(test)]
    pub(crate) fn violations(&self) -> u64 {
        [
            &self.console_rx,
            &self.console_tx,
            &self.control_rx,
            &self.control_tx,
        ]
        .iter()
        .map(|q| q.queue.violations())
        .sum()
    }
}
