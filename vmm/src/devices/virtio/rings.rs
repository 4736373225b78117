//! Split-queue rings laid out in plain memory, for tests, benchmarks and
//! fuzzing.
//!
//! Not virtio-queue's `MockSplitQueue::create` layout: it starts the used
//! ring `len` bytes after the avail ring's entries, but each entry is two
//! bytes, so its used ring overlaps the upper half of the avail ring and a
//! device's used entries overwrite heads the driver published. Here each
//! ring has its own room.

use virtio_queue::{Queue, QueueT};
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

/// Where one queue's rings are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rings {
    pub(crate) desc: u64,
    pub(crate) avail: u64,
    pub(crate) used: u64,
}

impl Rings {
    /// Rings for a queue of `len` entries from `base` (16-byte aligned):
    /// descriptors, then the avail ring, then the used ring (4-aligned),
    /// ending before `base + Rings::size(len)`.
    pub(crate) fn at(base: u64, len: u16) -> Rings {
        let desc = base;
        let avail = desc + 16 * u64::from(len);
        let avail_end = avail + 6 + 2 * u64::from(len);
        let used = (avail_end + 3) & !3;
        Rings { desc, avail, used }
    }

    /// Bytes the rings of a `len`-entry queue take, with their padding.
    pub(crate) fn size(len: u16) -> u64 {
        let r = Rings::at(0, len);
        r.used + 6 + 8 * u64::from(len)
    }

    /// Zeroes the rings and returns a ready queue over them.
    pub(crate) fn queue(&self, mem: &GuestMemoryMmap, len: u16) -> Queue {
        let zero = vec![0u8; Rings::size(len) as usize];
        mem.write_slice(&zero, GuestAddress(self.desc))
            .expect("rings inside test memory");
        let mut q = Queue::new(len).expect("a power-of-two queue size");
        q.set_size(len);
        let split = |a: u64| (Some(a as u32), Some((a >> 32) as u32));
        let (lo, hi) = split(self.desc);
        q.set_desc_table_address(lo, hi);
        let (lo, hi) = split(self.avail);
        q.set_avail_ring_address(lo, hi);
        let (lo, hi) = split(self.used);
        q.set_used_ring_address(lo, hi);
        q.set_ready(true);
        assert!(q.is_valid(mem), "test rings must form a valid queue");
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_do_not_overlap() {
        for len in [1u16, 16, 64, 256, 32768] {
            let r = Rings::at(0x1000, len);
            assert!(r.avail >= r.desc + 16 * u64::from(len));
            assert!(r.used >= r.avail + 6 + 2 * u64::from(len));
            assert_eq!(r.used % 4, 0);
            assert_eq!(Rings::size(len), r.used - 0x1000 + 6 + 8 * u64::from(len));
        }
    }
}
