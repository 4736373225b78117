//! Drives the virtio device models without KVM, for the benchmarks and
//! the fuzz targets (feature `test-utils`). Not part of the stable API.

mod channel;
mod console;
mod mmio;

pub use channel::ChannelModel;

pub use console::fuzz_console;
pub use mmio::fuzz_mmio;

use std::sync::Arc;

use disk::BlockBackend;
use vm_memory::{Bytes, GuestAddress};

use crate::devices::virtio::scsi::event_handler::Worker;
use crate::devices::virtio::scsi::test_utils::{Harness, DATA_IN_ADDR, HEADER_ADDR};

pub use crate::devices::virtio::scsi::test_utils::MemDisk;

/// Response headers of batched requests (64 slots of 128 bytes).
const RESP_SLOTS: u64 = 0x38_0000;

/// One virtio-scsi device over a mock split queue in 16 MiB of memory.
pub struct ScsiModel {
    harness: Harness,
    worker: Worker,
}

impl ScsiModel {
    /// A device serving `backend` as its only target, with its queue set up
    /// and ready for requests.
    pub fn new(backend: Arc<dyn BlockBackend>) -> ScsiModel {
        let harness = Harness::new();
        let worker = {
            let mock = harness.mock();
            let worker = harness.worker(&mock, vec![backend]);
            harness.save_rings();
            worker
        };
        ScsiModel { harness, worker }
    }

    /// One READ(16) of `blocks` 512-byte blocks at `lba` into guest memory
    /// (at most 8 MiB); returns the SCSI status byte (0 = GOOD).
    pub fn read(&mut self, lba: u64, blocks: u32) -> u8 {
        let mut cdb = vec![0x88, 0];
        cdb.extend_from_slice(&lba.to_be_bytes());
        cdb.extend_from_slice(&blocks.to_be_bytes());
        cdb.extend_from_slice(&[0, 0]);
        let mock = self.harness.mock();
        // Every chain is consumed before the next is added: reuse descriptors.
        self.harness.next_desc.set(0);
        self.harness.add_command(&mock, 0, &cdb, 0, blocks * 512);
        self.worker.process_requests();
        self.harness.save_rings();
        self.harness.response().1
    }

    /// Queues one READ(16) per `(lba, blocks)` (at most 64, at most 12 MiB
    /// in all), as a guest with that queue depth would, then lets the device
    /// serve them in one pass. Returns how many completed with GOOD status.
    pub fn read_batch(&mut self, reads: &[(u64, u32)]) -> usize {
        use crate::devices::virtio::scsi::request::{REQ_HEADER_SIZE, RESP_HEADER_SIZE};
        let h = &self.harness;
        let mock = h.mock();
        h.next_desc.set(0);
        let mut data_at = DATA_IN_ADDR;
        for (slot, &(lba, blocks)) in reads.iter().take(64).enumerate() {
            let slot = slot as u64;
            let header = HEADER_ADDR + slot * 64;
            let resp = RESP_SLOTS + slot * 128;
            let mut req = [0u8; REQ_HEADER_SIZE];
            req[..4].copy_from_slice(&[1, 0, 0x40, 0]);
            req[19] = 0x88;
            req[21..29].copy_from_slice(&lba.to_be_bytes());
            req[29..33].copy_from_slice(&blocks.to_be_bytes());
            let _ = h.mem.write_slice(&req, GuestAddress(header));
            let len = blocks * 512;
            h.add_chain(
                &mock,
                &[
                    (header, REQ_HEADER_SIZE as u32, false),
                    (resp, RESP_HEADER_SIZE as u32, true),
                    (data_at, len, true),
                ],
            );
            data_at += u64::from(len);
        }
        self.worker.process_requests();
        h.save_rings();
        (0..reads.len().min(64) as u64)
            .filter(|slot| {
                let mut status = [0u8; 2];
                let _ = h
                    .mem
                    .read_slice(&mut status, GuestAddress(RESP_SLOTS + slot * 128 + 10));
                status == [0, 0]
            })
            .count()
    }

    /// Copies `len` bytes of what the last read left in guest memory.
    pub fn data_in(&self, len: usize) -> Vec<u8> {
        self.harness.data_in(len)
    }
}

/// Fuzz entry point: the input becomes up to 16 raw descriptors and the
/// bytes they point at; the request and control queues then process them.
/// Whatever the input, this must return without panicking or hanging.
pub fn fuzz_queues(data: &[u8]) {
    use virtio_queue::desc::{split::Descriptor as SplitDescriptor, RawDescriptor};
    const REGIONS: [u64; 4] = [HEADER_ADDR, 0x20_0000, 0x30_0000, DATA_IN_ADDR];
    let Some((&count, rest)) = data.split_first() else {
        return;
    };
    let count = usize::from(count % 16) + 1;
    let (descs, payload) = rest.split_at(rest.len().min(count * 8));
    let harness = Harness::new();
    let mock = harness.mock();
    let disk = MemDisk::new(1 << 20, false);
    let mut worker = harness.worker(&mock, vec![disk as Arc<dyn BlockBackend>]);
    let raw: Vec<RawDescriptor> = descs
        .chunks(8)
        .map(|d| {
            let b = |i: usize| d.get(i).copied().unwrap_or(0);
            // Addresses mostly inside the data regions, sometimes anywhere.
            let addr = if b(0) & 0x80 != 0 {
                u64::from_le_bytes([b(1), b(2), b(3), b(4), b(0), 0, 0, 0]) << 8
            } else {
                REGIONS[usize::from(b(0) & 3)] + u64::from(u16::from_le_bytes([b(1), b(2)]))
            };
            let len = u32::from(u16::from_le_bytes([b(3), b(4)])) << (b(5) & 7);
            SplitDescriptor::new(addr, len, u16::from(b(6) & 7), u16::from(b(7) % 16)).into()
        })
        .collect();
    let _ = mock.add_desc_chains(&raw, 0);
    let _ = harness.mem.write_slice(payload, GuestAddress(HEADER_ADDR));
    worker.process_requests();
    worker.process_control();
}

/// Fuzz entry point for the command decoder: byte 0 picks the drive's
/// flags, bytes 1..9 its size, the next 32 bytes (or fewer) are the CDB and
/// the rest an UNMAP parameter list.
pub fn fuzz_cdb(data: &[u8]) {
    use crate::devices::virtio::scsi::cdb::{decode, parse_unmap_parameters, Action, LunInfo};
    use crate::devices::virtio::scsi::sense::Sense;
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (size, rest) = rest.split_at(rest.len().min(8));
    let mut size_bytes = [0u8; 8];
    size_bytes[..size.len()].copy_from_slice(size);
    let lun = LunInfo {
        size_bytes: u64::from_le_bytes(size_bytes),
        read_only: flags & 1 != 0,
        discard: flags & 2 != 0,
        serial: "fuzz".into(),
        index: u32::from(flags >> 4),
    };
    let (cdb, params) = rest.split_at(rest.len().min(32));
    let action = decode(cdb, &lun, flags & 4 == 0, Sense::NO_SENSE);
    if let Action::Unmap { .. } = action {
        let _ = parse_unmap_parameters(params, &lun);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_serves_many_requests_in_a_row() {
        let disk = MemDisk::new(4 << 20, false);
        disk.bytes.lock().unwrap()[512..1024].fill(7);
        let mut model = ScsiModel::new(disk);
        for i in 0..600u64 {
            assert_eq!(model.read(i % 8, 2), 0, "request {i}");
        }
        assert_eq!(model.read(1, 1), 0);
        assert_eq!(model.data_in(512), vec![7u8; 512]);
        assert_eq!(model.read(0, 2048), 0, "1 MiB read");
        let batch: Vec<(u64, u32)> = (0..64).map(|i| (i, 8)).collect();
        for _ in 0..10 {
            assert_eq!(model.read_batch(&batch), 64);
        }
        assert_eq!(model.read_batch(&[(1, 1)]), 1);
        assert_eq!(model.data_in(512), vec![7u8; 512]);
    }

    #[test]
    fn fuzz_entry_points_survive_garbage() {
        let mut s = 0x1234_5678_9abc_def0u64;
        for len in 0..300usize {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    s as u8
                })
                .collect();
            fuzz_queues(&data);
            fuzz_cdb(&data);
            fuzz_console(&data);
            fuzz_mmio(&data);
        }
    }
}
