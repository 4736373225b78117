//! The API port's host end over mock rings, for the channel bench: the
//! host's cost of one frame each way, under callgrind too, without KVM or
//! a guest. The driver side does what Linux's virtio_console does for a
//! port: one 4 KiB receive buffer posted at a time, one transmit chain per
//! write.

use std::time::{Duration, Instant};

use vm_memory::{Bytes, GuestAddress};

use crate::devices::virtio::console::event_handler::Worker;
use crate::devices::virtio::console::port::{ChannelError, ChannelHost};
use crate::devices::virtio::console::test_utils::{Harness, CHANNEL_RX, CHANNEL_TX, DATA};

/// The receive buffer Linux posts on a port (PAGE_SIZE).
const RX_BUF: u32 = 4096;
/// Where the driver's transmit data sits.
const TX_DATA: u64 = DATA + 0x10_0000;

/// One virtio-console device with its API port attached, in 16 MiB of
/// memory, driven from this thread.
pub struct ChannelModel {
    harness: Harness,
    // Kept for the queues it owns; the host end does the work.
    _worker: Worker,
    host: ChannelHost,
}

impl Default for ChannelModel {
    fn default() -> Self {
        Self::new()
    }
}

impl ChannelModel {
    /// A device whose API port is attached, with nothing posted yet.
    pub fn new() -> ChannelModel {
        let (harness, queues, interrupt) = Harness::new();
        let (worker, host) = harness.worker(queues, interrupt);
        ChannelModel {
            harness,
            _worker: worker,
            host,
        }
    }

    /// One round trip: `request` (at most 4 KiB) into a receive buffer the
    /// driver posted, then `reply` from one transmit chain into `buf`.
    /// Returns how many reply bytes were read.
    pub fn round_trip(
        &mut self,
        request: &[u8],
        reply: &[u8],
        buf: &mut [u8],
    ) -> Result<usize, ChannelError> {
        let deadline = Instant::now() + Duration::from_secs(1);
        let h = &mut self.harness;
        h.queues[CHANNEL_RX].add_chain(&h.mem, &[(DATA, RX_BUF, true)]);
        self.host.write_all(request, deadline)?;
        // The driver takes the request and posts the reply.
        let _ = h.queues[CHANNEL_RX].take_used(&h.mem);
        let len = u32::try_from(reply.len()).unwrap_or(u32::MAX);
        let _ = h.mem.write_slice(reply, GuestAddress(TX_DATA));
        h.queues[CHANNEL_TX].add_chain(&h.mem, &[(TX_DATA, len, false)]);
        let n = self.host.read(buf, deadline)?;
        let _ = h.queues[CHANNEL_TX].take_used(&h.mem);
        Ok(n)
    }

    /// The request bytes the driver received last.
    pub fn received(&self, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        let _ = self.harness.mem.read_slice(&mut out, GuestAddress(DATA));
        out
    }
}
