//! Descriptor chains of the console's queues. Every receive queue wants
//! device-writable buffers only and every transmit queue device-readable
//! ones; a chain with anything else is refused whole.

use crate::devices::virtio::guard::Chain;

/// Why a chain was refused. The chain is returned used with length 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ChainError {
    #[error("descriptor points outside guest memory")]
    BadAddress,
    #[error("descriptor has the wrong direction for its queue")]
    WrongDirection,
}

impl From<vm_memory::GuestMemoryError> for ChainError {
    fn from(_: vm_memory::GuestMemoryError) -> ChainError {
        ChainError::BadAddress
    }
}

/// Which way the buffers of a queue go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Driver to device: device-readable buffers (transmit queues).
    FromGuest,
    /// Device to driver: device-writable buffers (receive queues).
    ToGuest,
}

/// Checks that every descriptor of `chain` goes the way of its queue;
/// returns the chain's total length (less than 4 GiB: the chain iterator
/// stops there).
pub(crate) fn check(chain: &Chain, dir: Direction) -> Result<usize, ChainError> {
    let mut total = 0usize;
    for d in chain.descriptors() {
        if d.writable != (dir == Direction::ToGuest) {
            return Err(ChainError::WrongDirection);
        }
        total = total.saturating_add(d.len as usize);
    }
    Ok(total)
}
