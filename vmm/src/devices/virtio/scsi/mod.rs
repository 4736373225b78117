//! virtio-scsi: one target and one LUN per drive, in the order the drives
//! were added, so the guest names them /dev/sda, /dev/sdb, ...
//!
//! Layout as in Firecracker's block device: `request` parses chains,
//! `cdb` decides what a command means, `execute` does the I/O,
//! `event_handler` runs the queues, `device` is the virtio model.

pub(crate) mod cdb;
pub(crate) mod device;
pub(crate) mod event_handler;
pub(crate) mod execute;
pub(crate) mod request;
pub(crate) mod sense;
#[cfg(any(test, feature = "test-utils"))]
pub(crate) mod test_utils;
#[cfg(test)]
mod tests;

pub(crate) use device::ScsiDevice;
