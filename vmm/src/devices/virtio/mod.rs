//! virtio devices over the virtio-mmio transport.

pub(crate) mod scsi;
