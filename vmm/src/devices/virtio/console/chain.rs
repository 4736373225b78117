//! Descriptor chains of the console's queues as guest buffers. Every
//! receive queue wants device-writable buffers only and every transmit
//! queue device-readable ones; a chain with anything else is refused whole.

use virtio_queue::DescriptorChain;
use vm_memory::{GuestAddress, GuestMemoryMmap};

use crate::devices::virtio::slices::{self, SliceList};

/// Why a chain was refused. The chain is returned used with length 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ChainError {
    #[error("descriptor points outside guest memory")]
    BadAddress,
    #[error("descriptor has the wrong direction for its queue")]
    WrongDirection,
    #[error("descriptor lengths overflow")]
    TooLong,
}

/// Which way the buffers of a queue go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Driver to device: device-readable buffers (transmit queues).
    FromGuest,
    /// Device to driver: device-writable buffers (receive queues).
    ToGuest,
}

/// The non-empty buffers of a chain, as (address, length), in order.
/// Their number is bounded by the queue size (the chain's own limit).
#[derive(Debug, Clone, Default)]
pub(crate) struct Buffers {
    pub(crate) descs: Vec<(GuestAddress, usize)>,
    pub(crate) total: usize,
}

impl Buffers {
    /// Checks every descriptor of `chain` for `dir` and for lying inside
    /// guest memory. Zero-length descriptors are dropped.
    pub(crate) fn from_chain(
        mem: &GuestMemoryMmap,
        chain: DescriptorChain<&GuestMemoryMmap>,
        dir: Direction,
    ) -> Result<Buffers, ChainError> {
        let mut buffers = Buffers::default();
        for desc in chain {
            if desc.is_write_only() != (dir == Direction::ToGuest) {
                return Err(ChainError::WrongDirection);
            }
            let len = desc.len() as usize;
            if len == 0 {
                continue;
            }
            buffers.total = buffers.total.checked_add(len).ok_or(ChainError::TooLong)?;
            buffers.descs.push((desc.addr(), len));
        }
        // Map once to check the addresses; later maps of the same
        // descriptors succeed the same way (guest memory does not change).
        buffers.map(mem)?;
        Ok(buffers)
    }

    /// The buffers as slices of guest memory.
    pub(crate) fn map<'a>(&self, mem: &'a GuestMemoryMmap) -> Result<SliceList<'a>, ChainError> {
        let mut list = SliceList::with_capacity(self.descs.len());
        for &(addr, len) in &self.descs {
            slices::map_descriptor(mem, addr, len, &mut list)
                .map_err(|_| ChainError::BadAddress)?;
        }
        Ok(list)
    }
}
