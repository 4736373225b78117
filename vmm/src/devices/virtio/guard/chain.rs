//! A chain taken from a guarded queue, and the write lists made from it.

use std::sync::Arc;

use virtio_queue::DescriptorChain;
use vm_memory::{GuestAddress, GuestMemory, GuestMemoryMmap, VolatileSlice};

use super::{enabled, Core, Violation};
use crate::devices::virtio::slices::{self, SliceList};

/// Host address ranges (start, length) of a chain's writable descriptors.
pub(crate) type HostRanges = smallvec::SmallVec<[(usize, usize); 4]>;

/// One descriptor as the guest wrote it when the chain was popped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Desc {
    pub(crate) addr: GuestAddress,
    pub(crate) len: u32,
    /// VIRTQ_DESC_F_WRITE: the device may write it.
    pub(crate) writable: bool,
}

/// A chain the device holds: its descriptors were read once, when popped
/// (the guest cannot change them under the device), and it goes back to
/// the guest only through [`super::Pass::add_used`], which consumes it.
pub(crate) struct Chain {
    head: u16,
    descs: smallvec::SmallVec<[Desc; 4]>,
    writable_bytes: u64,
    ticket: u64,
    core: Arc<Core>,
}

impl Chain {
    /// Reads the descriptors (at most the queue size, or one indirect
    /// table: the chain iterator stops loops and chains over 4 GiB).
    pub(super) fn new(
        chain: DescriptorChain<&GuestMemoryMmap>,
        mem: &GuestMemoryMmap,
        core: &Arc<Core>,
    ) -> Chain {
        let head = chain.head_index();
        let mut descs = smallvec::SmallVec::new();
        let mut writable_bytes = 0u64;
        for d in chain {
            if d.is_write_only() {
                writable_bytes += u64::from(d.len());
            }
            descs.push(Desc {
                addr: d.addr(),
                len: d.len(),
                writable: d.is_write_only(),
            });
        }
        let ticket = core
            .next_ticket
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let chain = Chain {
            head,
            descs,
            writable_bytes,
            ticket,
            core: core.clone(),
        };
        if enabled() {
            let mut ranges = HostRanges::new();
            for d in chain.descs.iter().filter(|d| d.writable) {
                if let Ok(iter) =
                    mem.get_slices(d.addr, d.len as usize, vm_memory::Permissions::ReadWrite)
                {
                    ranges.extend(
                        iter.flatten()
                            .map(|s| (s.ptr_guard().as_ptr() as usize, s.len())),
                    );
                }
            }
            core.in_flight().insert(ticket, (head, ranges));
        }
        chain
    }

    pub(crate) fn head(&self) -> u16 {
        self.head
    }

    pub(crate) fn descriptors(&self) -> &[Desc] {
        &self.descs
    }

    /// Bytes in the device-writable descriptors (at most 4 GiB).
    pub(crate) fn writable_bytes(&self) -> u64 {
        self.writable_bytes
    }

    pub(super) fn ticket(&self) -> u64 {
        self.ticket
    }

    pub(super) fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// The device-readable descriptors, in order, as guest memory.
    pub(crate) fn readable<'m>(
        &self,
        mem: &'m GuestMemoryMmap,
    ) -> Result<SliceList<'m>, vm_memory::GuestMemoryError> {
        let mut list = SliceList::new();
        for d in self.descs.iter().filter(|d| !d.writable) {
            slices::map_descriptor(mem, d.addr, d.len as usize, &mut list)?;
        }
        Ok(list)
    }

    /// The device-writable descriptors, in order: the only memory the
    /// device writes for this chain.
    pub(crate) fn writable<'m>(
        &self,
        mem: &'m GuestMemoryMmap,
    ) -> Result<WriteList<'m>, vm_memory::GuestMemoryError> {
        let mut list = SliceList::new();
        for d in self.descs.iter().filter(|d| d.writable) {
            slices::map_descriptor(mem, d.addr, d.len as usize, &mut list)?;
        }
        Ok(self.write_list(list))
    }

    fn write_list<'m>(&self, slices: SliceList<'m>) -> WriteList<'m> {
        WriteList {
            slices,
            head: self.head,
            ticket: self.ticket,
            core: self.core.clone(),
        }
    }

    /// A write list over any guest range, as a buggy device might build
    /// one: for the guard's own tests.
    #[cfg(test)]
    pub(crate) fn write_list_at<'m>(
        &self,
        mem: &'m GuestMemoryMmap,
        addr: u64,
        len: usize,
    ) -> WriteList<'m> {
        let mut list = SliceList::new();
        slices::map_descriptor(mem, GuestAddress(addr), len, &mut list).unwrap();
        self.write_list(list)
    }
}

/// Guest buffers of one chain that the device may write. Every write, by
/// the device or by a disk backend, goes through [`WriteList::write`] or
/// [`WriteList::for_io`], where the guard checks it.
pub(crate) struct WriteList<'m> {
    slices: SliceList<'m>,
    head: u16,
    ticket: u64,
    core: Arc<Core>,
}

impl<'m> WriteList<'m> {
    /// Total bytes (a chain holds less than 4 GiB).
    pub(crate) fn len(&self) -> usize {
        slices::total_len(&self.slices).unwrap_or(usize::MAX)
    }

    fn derived(&self, slices: SliceList<'m>) -> WriteList<'m> {
        WriteList {
            slices,
            head: self.head,
            ticket: self.ticket,
            core: self.core.clone(),
        }
    }

    /// (first `at` bytes, the rest); None if shorter than `at`.
    pub(crate) fn split_at(&self, at: usize) -> Option<(WriteList<'m>, WriteList<'m>)> {
        let (head, tail) = slices::split_at(&self.slices, at)?;
        Some((self.derived(head), self.derived(tail)))
    }

    /// The first `len` bytes (or all, if shorter).
    pub(crate) fn truncate(&self, len: usize) -> WriteList<'m> {
        self.derived(slices::truncate(&self.slices, len))
    }

    /// Copies `data` in; returns the bytes written (0 if the guard refused).
    pub(crate) fn write(&self, data: &[u8]) -> usize {
        if !self.check(data.len().min(self.len())) {
            return 0;
        }
        slices::write_from(&self.slices, data)
    }

    /// The slices for a backend to fill whole; None if the guard refused.
    pub(crate) fn for_io(&self) -> Option<&[VolatileSlice<'m>]> {
        self.check(self.len()).then_some(self.slices.as_slice())
    }

    /// The guard's check of a write of the first `len` bytes.
    fn check(&self, len: usize) -> bool {
        if !enabled() {
            return true;
        }
        let flights = self.core.in_flight();
        let Some((_, ranges)) = flights.get(&self.ticket) else {
            drop(flights);
            self.core.report(
                Violation::AfterUsed,
                self.head,
                &format!("write of {len} bytes after the chain went back to the guest"),
            );
            return false;
        };
        let mut left = len;
        for (i, s) in self.slices.iter().enumerate() {
            if left == 0 {
                break;
            }
            let start = s.ptr_guard().as_ptr() as usize;
            let n = s.len().min(left);
            left -= n;
            let inside = ranges.iter().any(|&(r, rlen)| {
                start >= r && start.checked_add(n).is_some_and(|end| end <= r + rlen)
            });
            if !inside {
                let writable: Vec<usize> = ranges.iter().map(|r| r.1).collect();
                drop(flights);
                self.core.report(
                    Violation::OutsideWritable,
                    self.head,
                    &format!(
                        "buffer {i} of the write ({n} of {len} bytes) lies outside the \
                         chain's writable descriptors (lengths {writable:?})"
                    ),
                );
                return false;
            }
        }
        true
    }
}
