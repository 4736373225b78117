//! Helpers for driving the virtio-scsi device with virtio-queue's mock
//! queue and an in-memory disk: no KVM, no files.

// Under `test-utils` only part of this is used (by `testing`), and plain unit
// tests do not use what only `testing` needs.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use disk::{BlockBackend, DiskError, VolatileSlice};
use virtio_queue::desc::{split::Descriptor as SplitDescriptor, RawDescriptor};
use virtio_queue::mock::MockSplitQueue;
use virtio_queue::{Queue, QueueT};
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};
use vmm_sys_util::eventfd::EventFd;

use super::event_handler::Worker;
use super::execute::Lun;
use super::request::{CDB_SIZE, REQ_HEADER_SIZE, RESP_HEADER_SIZE};
use crate::devices::virtio::guard::GuardedQueue;
use crate::devices::virtio::rings::Rings;
use crate::devices::virtio::{ActiveQueue, Interrupt};
use crate::vm::ScsiDisk;

pub(crate) const VRING_DESC_F_NEXT: u16 = 1;
const QUEUE_LEN: u16 = 256;
pub(crate) const VRING_DESC_F_WRITE: u16 = 2;

/// A disk in a Vec, with a switch for read-only.
#[derive(Debug)]
pub struct MemDisk {
    pub(crate) bytes: Mutex<Vec<u8>>,
    pub(crate) read_only: bool,
    pub(crate) flushes: Mutex<u32>,
}

impl MemDisk {
    /// A zero-filled disk of `size` bytes. With `read_only` it reports
    /// itself read-only and panics if a write still reaches it (the device
    /// must refuse those).
    pub fn new(size: usize, read_only: bool) -> Arc<MemDisk> {
        Arc::new(MemDisk {
            bytes: Mutex::new(vec![0; size]),
            read_only,
            flushes: Mutex::new(0),
        })
    }
}

fn range(
    offset: u64,
    bufs: &[VolatileSlice<'_>],
    size: usize,
) -> Result<(usize, usize), DiskError> {
    let len: usize = bufs.iter().map(|b| b.len()).sum();
    let start = usize::try_from(offset).map_err(|_| DiskError::OutOfRange {
        offset,
        len: len as u64,
        size: size as u64,
    })?;
    match start.checked_add(len) {
        Some(end) if end <= size => Ok((start, end)),
        _ => Err(DiskError::OutOfRange {
            offset,
            len: len as u64,
            size: size as u64,
        }),
    }
}

impl BlockBackend for MemDisk {
    fn size(&self) -> u64 {
        self.bytes.lock().unwrap().len() as u64
    }
    fn is_read_only(&self) -> bool {
        self.read_only
    }
    fn supports_discard(&self) -> bool {
        true
    }
    fn read_vectored(&self, offset: u64, bufs: &[VolatileSlice<'_>]) -> Result<(), DiskError> {
        let data = self.bytes.lock().unwrap();
        let (mut at, _) = range(offset, bufs, data.len())?;
        for b in bufs {
            b.write_slice(&data[at..at + b.len()], 0).unwrap();
            at += b.len();
        }
        Ok(())
    }
    fn write_vectored(&self, offset: u64, bufs: &[VolatileSlice<'_>]) -> Result<(), DiskError> {
        assert!(
            !self.read_only,
            "the device must refuse writes to read-only drives"
        );
        let mut data = self.bytes.lock().unwrap();
        let (mut at, _) = range(offset, bufs, data.len())?;
        for b in bufs {
            b.read_slice(&mut data[at..at + b.len()], 0).unwrap();
            at += b.len();
        }
        Ok(())
    }
    fn flush(&self) -> Result<(), DiskError> {
        *self.flushes.lock().unwrap() += 1;
        Ok(())
    }
    fn discard(&self, offset: u64, len: u64) -> Result<(), DiskError> {
        let mut data = self.bytes.lock().unwrap();
        let size = data.len();
        let (start, end) = (offset as usize, (offset + len) as usize);
        if end > size {
            return Err(DiskError::OutOfRange {
                offset,
                len,
                size: size as u64,
            });
        }
        data[start..end].fill(0);
        Ok(())
    }
}

/// The request queue's used ring: after the mock's descriptor table
/// (0..0x1000) and avail ring (0x1000..0x1206), before any buffer.
pub(crate) const USED_RING: u64 = 0x2000;

/// Addresses in the mock guest memory.
pub(crate) const HEADER_ADDR: u64 = 0x10_0000;
pub(crate) const DATA_OUT_ADDR: u64 = 0x20_0000;
pub(crate) const RESP_ADDR: u64 = 0x30_0000;
pub(crate) const DATA_IN_ADDR: u64 = 0x40_0000;

pub(crate) struct Harness {
    pub(crate) mem: GuestMemoryMmap,
    pub(crate) next_desc: std::cell::Cell<u16>,
    rings: std::cell::Cell<Option<(GuestAddress, GuestAddress)>>,
    avail_used_idx: std::cell::Cell<Option<(u16, u16)>>,
}

impl Harness {
    pub(crate) fn new() -> Harness {
        Harness {
            mem: GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 16 << 20)]).unwrap(),
            next_desc: std::cell::Cell::new(0),
            rings: std::cell::Cell::new(None),
            avail_used_idx: std::cell::Cell::new(None),
        }
    }

    /// A view of the request queue's descriptor table and avail ring.
    /// Creating the view zeroes the rings' indexes, so they are saved and put
    /// back: a later view continues where the previous one stopped. The used
    /// ring is not the mock's (which overlaps the avail ring's upper half)
    /// but its own, at [`USED_RING`].
    pub(crate) fn mock(&self) -> MockSplitQueue<'_, GuestMemoryMmap> {
        let probe = MockSplitQueue::new(&self.mem, QUEUE_LEN);
        let (avail, used) = (probe.avail_addr(), GuestAddress(USED_RING));
        let idx = |ring: GuestAddress| ring.0 + 2;
        let saved = self.avail_used_idx.get();
        let mock = MockSplitQueue::new(&self.mem, QUEUE_LEN);
        if let Some((a, u)) = saved {
            self.mem.write_obj(a, GuestAddress(idx(avail))).unwrap();
            self.mem.write_obj(u, GuestAddress(idx(used))).unwrap();
        }
        self.rings.set(Some((avail, used)));
        mock
    }

    /// Remembers the ring indexes so the next `mock()` view keeps them.
    pub(crate) fn save_rings(&self) {
        if let Some((avail, used)) = self.rings.get() {
            let a: u16 = self.mem.read_obj(GuestAddress(avail.0 + 2)).unwrap();
            let u: u16 = self.mem.read_obj(GuestAddress(used.0 + 2)).unwrap();
            self.avail_used_idx.set(Some((a, u)));
        }
    }

    /// A worker whose disks pass discards through.
    pub(crate) fn worker(
        &self,
        mock: &MockSplitQueue<'_, GuestMemoryMmap>,
        disks: Vec<Arc<dyn BlockBackend>>,
    ) -> Worker {
        let disks = disks
            .into_iter()
            .map(|backend| ScsiDisk {
                backend,
                unmap: true,
            })
            .collect();
        self.worker_with(mock, disks)
    }

    pub(crate) fn worker_with(
        &self,
        mock: &MockSplitQueue<'_, GuestMemoryMmap>,
        disks: Vec<ScsiDisk>,
    ) -> Worker {
        let queue = |q: Queue, index: u16| ActiveQueue {
            queue: GuardedQueue::new(q, "virtio-scsi", index),
            notify: EventFd::new(libc::EFD_NONBLOCK).unwrap(),
        };
        // Control and event queues live elsewhere so they never see the
        // request chains.
        let control = Rings::at(0x80_0000, 16).queue(&self.mem, 16);
        let event = Rings::at(0x90_0000, 16).queue(&self.mem, 16);
        let mut request: Queue = mock.create_queue().unwrap();
        request.set_used_ring_address(Some(USED_RING as u32), Some(0));
        Worker {
            mem: self.mem.clone(),
            control: queue(control, 0),
            event: queue(event, 1),
            request: queue(request, 2),
            luns: disks
                .into_iter()
                .enumerate()
                .map(|(i, d)| Lun::new(i as u32, d.backend, d.unmap))
                .collect(),
            interrupt: Arc::new(Interrupt::new(EventFd::new(libc::EFD_NONBLOCK).unwrap())),
            kill: EventFd::new(libc::EFD_NONBLOCK).unwrap(),
        }
    }

    /// Writes a request header for `target`/LUN 0 with `cdb`.
    pub(crate) fn write_header(&self, target: u8, cdb: &[u8]) {
        let mut h = vec![0u8; REQ_HEADER_SIZE];
        h[..4].copy_from_slice(&[1, target, 0x40, 0]);
        let cdb_at = 8 + 8 + 3;
        h[cdb_at..cdb_at + cdb.len().min(CDB_SIZE)]
            .copy_from_slice(&cdb[..cdb.len().min(CDB_SIZE)]);
        self.mem.write_slice(&h, GuestAddress(HEADER_ADDR)).unwrap();
    }

    /// Adds a chain made of (addr, len, writable) descriptors.
    pub(crate) fn add_chain(
        &self,
        mock: &MockSplitQueue<'_, GuestMemoryMmap>,
        descs: &[(u64, u32, bool)],
    ) {
        let first = self.next_desc.get();
        let raw: Vec<RawDescriptor> = descs
            .iter()
            .enumerate()
            .map(|(i, &(addr, len, write))| {
                let last = i + 1 == descs.len();
                let mut flags = if write { VRING_DESC_F_WRITE } else { 0 };
                if !last {
                    flags |= VRING_DESC_F_NEXT;
                }
                RawDescriptor::from(SplitDescriptor::new(addr, len, flags, first + i as u16 + 1))
            })
            .collect();
        for (i, d) in raw.iter().enumerate() {
            mock.desc_table().store(first + i as u16, *d).unwrap();
        }
        // The mock's own add_desc_chains does not wrap the avail ring, so
        // publish the head here, modulo the queue size.
        let avail = mock.avail_addr().0;
        let idx: u16 = self.mem.read_obj(GuestAddress(avail + 2)).unwrap();
        let slot = avail + 4 + u64::from(idx % QUEUE_LEN) * 2;
        self.mem.write_obj(first, GuestAddress(slot)).unwrap();
        self.mem
            .write_obj(idx.wrapping_add(1), GuestAddress(avail + 2))
            .unwrap();
        self.next_desc.set(first + descs.len() as u16);
    }

    /// A standard command: header, optional data-out, response, optional data-in.
    pub(crate) fn add_command(
        &self,
        mock: &MockSplitQueue<'_, GuestMemoryMmap>,
        target: u8,
        cdb: &[u8],
        data_out: u32,
        data_in: u32,
    ) {
        self.write_header(target, cdb);
        self.mem
            .write_slice(&[0xaa; RESP_HEADER_SIZE], GuestAddress(RESP_ADDR))
            .unwrap();
        let mut descs = vec![(HEADER_ADDR, REQ_HEADER_SIZE as u32, false)];
        if data_out > 0 {
            descs.push((DATA_OUT_ADDR, data_out, false));
        }
        descs.push((RESP_ADDR, RESP_HEADER_SIZE as u32, true));
        if data_in > 0 {
            descs.push((DATA_IN_ADDR, data_in, true));
        }
        self.add_chain(mock, &descs);
    }

    /// (response code, SCSI status, sense key, ASC) of the last response.
    pub(crate) fn response(&self) -> (u8, u8, u8, u8) {
        let mut r = [0u8; RESP_HEADER_SIZE];
        self.mem
            .read_slice(&mut r, GuestAddress(RESP_ADDR))
            .unwrap();
        (r[11], r[10], r[12 + 2] & 0xf, r[12 + 12])
    }

    pub(crate) fn data_in(&self, len: usize) -> Vec<u8> {
        let mut v = vec![0u8; len];
        self.mem
            .read_slice(&mut v, GuestAddress(DATA_IN_ADDR))
            .unwrap();
        v
    }

    /// The length the device reported for used-ring entry `i`.
    pub(crate) fn used_len(&self, _mock: &MockSplitQueue<'_, GuestMemoryMmap>, i: u16) -> u32 {
        let at = USED_RING + 4 + u64::from(i % QUEUE_LEN) * 8 + 4;
        self.mem.read_obj(GuestAddress(at)).unwrap()
    }
}
