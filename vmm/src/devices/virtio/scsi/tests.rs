//! The device model driven through a mock queue: every command family,
//! and malformed chains that must fail alone.

use std::sync::Arc;

use disk::BlockBackend;
use vm_memory::{Bytes, GuestAddress};

use super::execute::{VIRTIO_SCSI_S_BAD_TARGET, VIRTIO_SCSI_S_FAILURE, VIRTIO_SCSI_S_OK};
use super::request::{REQ_HEADER_SIZE, RESP_HEADER_SIZE};
use super::test_utils::*;

const CHECK: u8 = 2;
const MIB: usize = 1 << 20;

fn read10(lba: u32, blocks: u16) -> Vec<u8> {
    let mut c = vec![0x28, 0];
    c.extend_from_slice(&lba.to_be_bytes());
    c.push(0);
    c.extend_from_slice(&blocks.to_be_bytes());
    c.push(0);
    c
}

fn write10(lba: u32, blocks: u16) -> Vec<u8> {
    let mut c = read10(lba, blocks);
    c[0] = 0x2a;
    c
}

fn disks(read_only: bool) -> (Arc<MemDisk>, Vec<Arc<dyn BlockBackend>>) {
    let d = MemDisk::new(MIB, read_only);
    (d.clone(), vec![d as Arc<dyn BlockBackend>])
}

#[test]
fn inquiry_capacity_and_unit_ready() {
    let h = Harness::new();
    let mock = h.mock();
    let (_, backends) = disks(false);
    let mut w = h.worker(&mock, backends);

    h.add_command(&mock, 0, &[0x12, 0, 0, 0, 96, 0], 0, 96);
    w.process_requests();
    assert_eq!(h.response(), (VIRTIO_SCSI_S_OK, 0, 0, 0));
    let inquiry = h.data_in(96);
    assert_eq!(&inquiry[8..16], b"LIBGUEST");

    h.add_command(&mock, 0, &[0x00, 0, 0, 0, 0, 0], 0, 0);
    w.process_requests();
    assert_eq!(h.response().1, 0);

    h.add_command(&mock, 0, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0, 8);
    w.process_requests();
    let cap = h.data_in(8);
    assert_eq!(
        u32::from_be_bytes(cap[..4].try_into().unwrap()),
        (MIB / 512 - 1) as u32
    );
    assert_eq!(u32::from_be_bytes(cap[4..].try_into().unwrap()), 512);
    assert_eq!(w.violations(), 0);
}

#[test]
fn write_then_read_moves_data_through_guest_memory() {
    let h = Harness::new();
    let mock = h.mock();
    let (disk, backends) = disks(false);
    let mut w = h.worker(&mock, backends);

    let pattern: Vec<u8> = (0..1024u32).map(|i| (i * 7 % 251) as u8).collect();
    h.mem
        .write_slice(&pattern, GuestAddress(DATA_OUT_ADDR))
        .unwrap();
    h.add_command(&mock, 0, &write10(4, 2), 1024, 0);
    w.process_requests();
    assert_eq!(h.response(), (VIRTIO_SCSI_S_OK, 0, 0, 0));
    assert_eq!(&disk.bytes.lock().unwrap()[2048..3072], &pattern[..]);

    h.add_command(&mock, 0, &read10(4, 2), 0, 1024);
    w.process_requests();
    assert_eq!(h.response().1, 0);
    assert_eq!(h.data_in(1024), pattern);
    assert_eq!(h.used_len(&mock, 1), (RESP_HEADER_SIZE + 1024) as u32);

    // SYNCHRONIZE CACHE(10) reaches the backend.
    h.add_command(&mock, 0, &[0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0, 0);
    w.process_requests();
    assert_eq!(*disk.flushes.lock().unwrap(), 1);
    assert_eq!(w.violations(), 0);
}

#[test]
fn read_only_drive_refuses_writes_and_reports_write_protect() {
    let h = Harness::new();
    let mock = h.mock();
    let (disk, backends) = disks(true);
    let mut w = h.worker(&mock, backends);
    h.add_command(&mock, 0, &write10(0, 1), 512, 0);
    w.process_requests();
    assert_eq!(h.response(), (VIRTIO_SCSI_S_OK, CHECK, 0x7, 0x27));
    assert!(disk.bytes.lock().unwrap().iter().all(|&b| b == 0));

    // MODE SENSE(6): WP bit in the device-specific parameter.
    h.add_command(&mock, 0, &[0x1a, 0, 0x3f, 0, 255, 0], 0, 255);
    w.process_requests();
    assert_eq!(h.response().1, 0);
    assert_ne!(h.data_in(4)[2] & 0x80, 0);

    // REQUEST SENSE after a good command reports no sense.
    h.add_command(&mock, 0, &[0x03, 0, 0, 0, 18, 0], 0, 18);
    w.process_requests();
    assert_eq!(h.data_in(18)[2] & 0xf, 0);
    assert_eq!(w.violations(), 0);
}

#[test]
fn out_of_range_and_oversized_transfers_fail_cleanly() {
    let h = Harness::new();
    let mock = h.mock();
    let (_, backends) = disks(false);
    let mut w = h.worker(&mock, backends);
    let blocks = (MIB / 512) as u32;

    // Last block: fine. One past: LBA out of range.
    h.add_command(&mock, 0, &read10(blocks - 1, 1), 0, 512);
    w.process_requests();
    assert_eq!(h.response().1, 0);
    h.add_command(&mock, 0, &read10(blocks - 1, 2), 0, 1024);
    w.process_requests();
    assert_eq!(h.response(), (VIRTIO_SCSI_S_OK, CHECK, 0x5, 0x21));

    // The CDB asks for more than the guest's buffer holds.
    h.add_command(&mock, 0, &read10(0, 8), 0, 512);
    w.process_requests();
    assert_eq!(h.response(), (VIRTIO_SCSI_S_OK, CHECK, 0x5, 0x24));

    // A zero-length transfer is a no-op.
    h.add_command(&mock, 0, &read10(0, 0), 0, 0);
    w.process_requests();
    assert_eq!(h.response().1, 0);

    // Unknown opcode.
    h.add_command(&mock, 0, &[0xff, 0, 0, 0, 0, 0], 0, 0);
    w.process_requests();
    assert_eq!(h.response(), (VIRTIO_SCSI_S_OK, CHECK, 0x5, 0x20));
    assert_eq!(w.violations(), 0);
}

#[test]
fn bad_targets_and_malformed_chains_fail_alone() {
    let h = Harness::new();
    let mock = h.mock();
    let (_, backends) = disks(false);
    let mut w = h.worker(&mock, backends);
    let good = |h: &Harness, w: &mut super::event_handler::Worker| {
        h.add_command(&mock, 0, &[0x00, 0, 0, 0, 0, 0], 0, 0);
        w.process_requests();
        assert_eq!(
            h.response(),
            (VIRTIO_SCSI_S_OK, 0, 0, 0),
            "the next good request works"
        );
    };

    // A target that does not exist.
    h.add_command(&mock, 7, &[0x00, 0, 0, 0, 0, 0], 0, 0);
    w.process_requests();
    assert_eq!(h.response().0, VIRTIO_SCSI_S_BAD_TARGET);
    good(&h, &mut w);

    // Header too short: answered with a failure response.
    h.write_header(0, &[0]);
    h.add_chain(
        &mock,
        &[
            (HEADER_ADDR, 10, false),
            (RESP_ADDR, RESP_HEADER_SIZE as u32, true),
        ],
    );
    w.process_requests();
    assert_eq!(h.response().0, VIRTIO_SCSI_S_FAILURE);
    good(&h, &mut w);

    // No room for a response: nothing written.
    let before = h.next_desc.get();
    h.add_chain(
        &mock,
        &[
            (HEADER_ADDR, REQ_HEADER_SIZE as u32, false),
            (RESP_ADDR, 8, true),
        ],
    );
    w.process_requests();
    assert_eq!(h.used_len(&mock, before), 0);
    good(&h, &mut w);

    // Readable after writable.
    h.add_chain(
        &mock,
        &[
            (HEADER_ADDR, REQ_HEADER_SIZE as u32, false),
            (RESP_ADDR, RESP_HEADER_SIZE as u32, true),
            (DATA_OUT_ADDR, 512, false),
        ],
    );
    w.process_requests();
    good(&h, &mut w);

    // A buffer outside guest memory.
    h.add_chain(
        &mock,
        &[
            (HEADER_ADDR, REQ_HEADER_SIZE as u32, false),
            (0xffff_ffff_0000, RESP_HEADER_SIZE as u32, true),
        ],
    );
    w.process_requests();
    good(&h, &mut w);

    // An oversized descriptor (4 GiB - 1) that runs off guest memory.
    h.add_chain(
        &mock,
        &[
            (HEADER_ADDR, REQ_HEADER_SIZE as u32, false),
            (RESP_ADDR, u32::MAX, true),
        ],
    );
    w.process_requests();
    good(&h, &mut w);
    assert_eq!(w.violations(), 0);
}

#[test]
fn descriptor_loop_does_not_hang() {
    use virtio_queue::desc::{split::Descriptor as SplitDescriptor, RawDescriptor};
    let h = Harness::new();
    let mock = h.mock();
    let (_, backends) = disks(false);
    let mut w = h.worker(&mock, backends);
    // Descriptor 0 chains to itself forever.
    let looped = RawDescriptor::from(SplitDescriptor::new(
        HEADER_ADDR,
        REQ_HEADER_SIZE as u32,
        VRING_DESC_F_NEXT,
        0,
    ));
    mock.add_desc_chains(&[looped], 0).unwrap();
    w.process_requests();
    assert_eq!(h.used_len(&mock, 0), 0);
    assert_eq!(w.violations(), 0);
}

#[test]
fn a_bad_avail_index_serves_nothing_and_does_not_panic() {
    let h = Harness::new();
    let mock = h.mock();
    let (_, backends) = disks(false);
    let mut w = h.worker(&mock, backends);
    let avail_idx = GuestAddress(mock.avail_addr().0 + 2);
    let used_idx = || -> u16 { h.mem.read_obj(GuestAddress(USED_RING + 2)).unwrap() };
    // Far more chains than the queue holds: refused, not served.
    h.mem.write_obj(0x8000u16, avail_idx).unwrap();
    w.process_requests();
    assert_eq!(used_idx(), 0);
    // The driver puts its index back: the next command is served.
    h.mem.write_obj(0u16, avail_idx).unwrap();
    h.add_command(&mock, 0, &[0; 6], 0, 0); // TEST UNIT READY
    w.process_requests();
    assert_eq!(used_idx(), 1);
    assert_eq!(h.response().0, VIRTIO_SCSI_S_OK);
    // Kicks were off during the pass and are armed while the worker waits.
    let used_flags: u16 = h.mem.read_obj(GuestAddress(USED_RING)).unwrap();
    assert_eq!(used_flags, 0, "VRING_USED_F_NO_NOTIFY left set");
    assert_eq!(w.violations(), 0);
}

/// WRITE SAME(16) with UNMAP over `blocks` blocks at `lba`.
fn write_same_unmap(lba: u64, blocks: u32) -> Vec<u8> {
    let mut c = vec![0x93, 0x08];
    c.extend_from_slice(&lba.to_be_bytes());
    c.extend_from_slice(&blocks.to_be_bytes());
    c.extend_from_slice(&[0, 0]);
    c
}

/// A disk whose discards are ignored (libguestfs's `discard:disable`)
/// still offers them, answers GOOD, and keeps its data; one that passes
/// them through zeroes the range.
#[test]
fn ignored_discards_succeed_and_change_nothing() {
    for unmap in [false, true] {
        let h = Harness::new();
        let mock = h.mock();
        let disk = MemDisk::new(MIB, false);
        disk.bytes.lock().unwrap().fill(0xa5);
        let scsi = crate::vm::ScsiDisk {
            backend: disk.clone(),
            unmap,
        };
        let mut w = h.worker_with(&mock, vec![scsi]);

        // VPD 0xb2: LBPU and LBPWS either way.
        h.add_command(&mock, 0, &[0x12, 0x01, 0xb2, 0, 8, 0], 0, 8);
        w.process_requests();
        assert_eq!(h.response().1, 0);
        assert_eq!(h.data_in(8)[5] & 0xc0, 0xc0, "unmap {unmap}");

        h.add_command(&mock, 0, &write_same_unmap(8, 16), 512, 0);
        w.process_requests();
        assert_eq!(h.response(), (VIRTIO_SCSI_S_OK, 0, 0, 0));
        let bytes = disk.bytes.lock().unwrap();
        let range = &bytes[8 * 512..24 * 512];
        if unmap {
            assert!(range.iter().all(|&b| b == 0));
        } else {
            assert!(range.iter().all(|&b| b == 0xa5));
        }
        assert!(bytes[..8 * 512].iter().all(|&b| b == 0xa5));
        drop(bytes);
        assert_eq!(w.violations(), 0);
    }
}
