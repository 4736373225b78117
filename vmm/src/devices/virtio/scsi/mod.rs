//! virtio-scsi: one target and one LUN per drive.

pub(crate) mod cdb;
pub(crate) mod sense;
