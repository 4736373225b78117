//! virtio-console with VIRTIO_CONSOLE_F_MULTIPORT (virtio 1.2, 5.3): the
//! channel between the host and the guest's init.
//!
//! Why this device: a named non-console port appears in the guest as a plain
//! character device (/dev/vport0p1, symlinked `/dev/virtio-ports/<name>`)
//! with no tty line discipline, so binary frames pass untouched; the host
//! end is just rings in guest memory read and written by this process (no
//! vsock connection/credit protocol, no socket layer).
//!
//! Port 0 is the console port (its output is discarded, its receive queue
//! never filled); port 1 is the named channel served by
//! [`port::ChannelHost`], which [`device::ConsoleDevice::new`] returns.
//!
//! Exits: the guest is asked not to kick port 1's queues while the host is
//! at their rings, and its transmit chains go back without an interrupt
//! unless it may be waiting for one (`port.rs`, `PortQueues::read`). A
//! `ping_daemon` round trip then costs the request's interrupt and the
//! reply's kick.
//!
//! Layout as in the virtio-scsi device: `control` is the control protocol
//! without I/O, `chain` turns descriptor chains into guest buffers, `port`
//! moves the channel's bytes in the caller's thread, `event_handler` is the
//! worker thread and `device` is the virtio model.

pub(crate) mod chain;
pub(crate) mod control;
pub(crate) mod device;
pub(crate) mod event_handler;
pub(crate) mod port;
#[cfg(any(test, feature = "test-utils"))]
pub(crate) mod test_utils;
#[cfg(test)]
mod tests;
