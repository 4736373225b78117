//! The multiport control protocol (virtio 1.2, 5.3.6.2), without I/O:
//! messages from the driver go in, messages for the driver come out of a
//! bounded queue that the worker drains into the control receive queue.

use std::collections::VecDeque;

/// struct virtio_console_control { le32 id; le16 event; le16 value; }
pub(crate) const CONTROL_SIZE: usize = 8;

pub(crate) const VIRTIO_CONSOLE_DEVICE_READY: u16 = 0;
pub(crate) const VIRTIO_CONSOLE_PORT_ADD: u16 = 1;
pub(crate) const VIRTIO_CONSOLE_PORT_READY: u16 = 3;
pub(crate) const VIRTIO_CONSOLE_CONSOLE_PORT: u16 = 4;
// 2 (PORT_REMOVE) and 5 (RESIZE) are never sent: no hot-unplug, no tty.
pub(crate) const VIRTIO_CONSOLE_PORT_OPEN: u16 = 6;
pub(crate) const VIRTIO_CONSOLE_PORT_NAME: u16 = 7;

/// Port 0: the console port.
pub(crate) const CONSOLE_PORT: u32 = 0;
/// Port 1: the named channel.
pub(crate) const CHANNEL_PORT: u32 = 1;
/// The ports this device has (config max_nr_ports).
pub(crate) const NR_PORTS: u32 = 2;

/// Messages for the driver kept while it has posted no buffer. A driver
/// that never posts any cannot make the device hold more than this.
pub(crate) const MAX_PENDING: usize = 64;

/// One control message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ControlMsg {
    pub(crate) id: u32,
    pub(crate) event: u16,
    pub(crate) value: u16,
}

impl ControlMsg {
    /// None if `bytes` is shorter than a control message; extra bytes are
    /// ignored (the driver sends none).
    pub(crate) fn parse(bytes: &[u8]) -> Option<ControlMsg> {
        let b = bytes.get(..CONTROL_SIZE)?;
        Some(ControlMsg {
            id: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            event: u16::from_le_bytes([b[4], b[5]]),
            value: u16::from_le_bytes([b[6], b[7]]),
        })
    }

    pub(crate) fn to_bytes(self) -> [u8; CONTROL_SIZE] {
        let mut b = [0u8; CONTROL_SIZE];
        b[..4].copy_from_slice(&self.id.to_le_bytes());
        b[4..6].copy_from_slice(&self.event.to_le_bytes());
        b[6..].copy_from_slice(&self.value.to_le_bytes());
        b
    }
}

/// What a driver message changed on the host side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    None,
    /// The guest opened (true) or closed (false) the channel port.
    ChannelOpen(bool),
}

/// Device-side state of the control protocol for one activation.
pub(crate) struct Control {
    name: Vec<u8>,
    ports_added: bool,
    pending: VecDeque<Vec<u8>>,
}

impl Control {
    pub(crate) fn new(port_name: &str) -> Control {
        Control {
            name: port_name.as_bytes().to_vec(),
            ports_added: false,
            pending: VecDeque::new(),
        }
    }

    /// Handles one message from the driver. Anything unknown, for a port
    /// that does not exist, or out of order is ignored.
    pub(crate) fn handle(&mut self, msg: ControlMsg) -> Effect {
        match (msg.event, msg.id) {
            (VIRTIO_CONSOLE_DEVICE_READY, _) => {
                if msg.value == 1 && !self.ports_added {
                    self.ports_added = true;
                    for id in 0..NR_PORTS {
                        self.send(id, VIRTIO_CONSOLE_PORT_ADD, 1, &[]);
                    }
                } else if msg.value != 1 {
                    tracing::warn!("virtio-console: the driver failed to set up");
                }
                Effect::None
            }
            (VIRTIO_CONSOLE_PORT_READY, id) if id < NR_PORTS => {
                if msg.value != 1 {
                    tracing::warn!("virtio-console: the driver failed to add port {id}");
                } else if id == CONSOLE_PORT {
                    self.send(id, VIRTIO_CONSOLE_CONSOLE_PORT, 1, &[]);
                    self.send(id, VIRTIO_CONSOLE_PORT_OPEN, 1, &[]);
                } else {
                    let name = std::mem::take(&mut self.name);
                    self.send(id, VIRTIO_CONSOLE_PORT_NAME, 1, &name);
                    self.name = name;
                    // The host side is always open.
                    self.send(id, VIRTIO_CONSOLE_PORT_OPEN, 1, &[]);
                }
                Effect::None
            }
            (VIRTIO_CONSOLE_PORT_OPEN, CHANNEL_PORT) => Effect::ChannelOpen(msg.value != 0),
            _ => {
                tracing::debug!("virtio-console: ignored control message {msg:?}");
                Effect::None
            }
        }
    }

    fn send(&mut self, id: u32, event: u16, value: u16, extra: &[u8]) {
        if self.pending.len() >= MAX_PENDING {
            tracing::debug!(
                "virtio-console: control queue full, message {event} for port {id} dropped"
            );
            return;
        }
        let mut bytes = Vec::with_capacity(CONTROL_SIZE + extra.len());
        bytes.extend_from_slice(&ControlMsg { id, event, value }.to_bytes());
        bytes.extend_from_slice(extra);
        self.pending.push_back(bytes);
    }

    /// The oldest message not yet given to the driver.
    pub(crate) fn front(&self) -> Option<&[u8]> {
        self.pending.front().map(Vec::as_slice)
    }

    pub(crate) fn pop_front(&mut self) {
        self.pending.pop_front();
    }

    #[cfg(test)]
    pub(crate) fn pending(&self) -> usize {
        self.pending.len()
    }
}
