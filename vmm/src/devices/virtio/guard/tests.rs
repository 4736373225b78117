//! Each kind of violation is caught, the write is not done and the queue
//! stops; normal traffic passes clean; hostile rings neither panic nor loop.

use std::sync::Arc;

use vm_memory::{Address, Bytes, GuestAddress, GuestMemoryMmap};
use vmm_sys_util::eventfd::EventFd;

use super::*;
use crate::devices::virtio::rings::Rings;
use crate::devices::virtio::{slices, Interrupt};

const SIZE: u16 = 16;

struct Rig {
    mem: GuestMemoryMmap,
    irq: Arc<Interrupt>,
    desc: u64,
    avail: u64,
    used: u64,
}

impl Rig {
    fn new() -> (Rig, GuardedQueue) {
        let mem = GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 1 << 20)]).unwrap();
        let rings = Rings::at(0x1000, SIZE);
        let queue = GuardedQueue::new(rings.queue(&mem, SIZE), "test", 0);
        let Rings { desc, avail, used } = rings;
        let irq = Arc::new(Interrupt::new(EventFd::new(libc::EFD_NONBLOCK).unwrap()));
        (
            Rig {
                mem,
                irq,
                desc,
                avail,
                used,
            },
            queue,
        )
    }

    /// A second queue object over the same rings.
    fn same_rings(&self) -> GuardedQueue {
        use virtio_queue::QueueT;
        let mut q = virtio_queue::Queue::new(SIZE).unwrap();
        q.set_size(SIZE);
        q.set_desc_table_address(Some(self.desc as u32), Some(0));
        q.set_avail_ring_address(Some(self.avail as u32), Some(0));
        q.set_used_ring_address(Some(self.used as u32), Some(0));
        q.set_ready(true);
        GuardedQueue::new(q, "test", 1)
    }

    fn desc(&self, index: u16, (addr, len, flags, next): (u64, u32, u16, u16)) {
        let at = GuestAddress(self.desc + u64::from(index) * 16);
        self.mem.write_obj(addr, at).unwrap();
        self.mem.write_obj(len, at.unchecked_add(8)).unwrap();
        self.mem.write_obj(flags, at.unchecked_add(12)).unwrap();
        self.mem.write_obj(next, at.unchecked_add(14)).unwrap();
    }

    /// Descriptors (addr, len, device-writable) from `first` on, published.
    fn add_chain(&self, first: u16, descs: &[(u64, u32, bool)]) {
        for (i, &(addr, len, write)) in descs.iter().enumerate() {
            let index = first + i as u16;
            let more = i + 1 < descs.len();
            let flags = (u16::from(write) * 2) | u16::from(more);
            self.desc(index, (addr, len, flags, index + 1));
        }
        self.publish(first);
    }

    fn publish(&self, head: u16) {
        let idx: u16 = self.mem.read_obj(GuestAddress(self.avail + 2)).unwrap();
        let slot = self.avail + 4 + u64::from(idx % SIZE) * 2;
        self.mem.write_obj(head, GuestAddress(slot)).unwrap();
        self.mem
            .write_obj(idx.wrapping_add(1), GuestAddress(self.avail + 2))
            .unwrap();
    }

    fn used_idx(&self) -> u16 {
        self.mem.read_obj(GuestAddress(self.used + 2)).unwrap()
    }

    fn used_len(&self, i: u16) -> u32 {
        let at = self.used + 4 + u64::from(i % SIZE) * 8 + 4;
        self.mem.read_obj(GuestAddress(at)).unwrap()
    }

    fn bytes(&self, addr: u64, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        self.mem.read_slice(&mut v, GuestAddress(addr)).unwrap();
        v
    }
}

/// After a violation the queue hands out nothing, even a valid chain.
fn assert_stopped(rig: &Rig, q: &mut GuardedQueue) {
    assert!(q.is_broken());
    rig.add_chain(10, &[(0x5_0000, 8, true)]);
    let mut pass = q.pass(&rig.mem, &rig.irq);
    assert!(pass.pop().is_none(), "a stopped queue served a chain");
    assert!(!pass.exhausted());
}

#[test]
fn normal_traffic_passes_clean() {
    let (rig, mut q) = Rig::new();
    rig.mem
        .write_slice(b"request!", GuestAddress(0x1_0000))
        .unwrap();
    for round in 0..3u16 {
        rig.add_chain(
            0,
            &[
                (0x1_0000, 8, false),
                (0x2_0000, 64, true),
                (0x3_0000, 32, true),
            ],
        );
        let mut pass = q.pass(&rig.mem, &rig.irq);
        let chain = pass.pop().unwrap();
        assert_eq!(chain.writable_bytes(), 96);
        let mut req = [0u8; 8];
        assert_eq!(
            slices::read_into(&chain.readable(&rig.mem).unwrap(), &mut req),
            8
        );
        assert_eq!(&req, b"request!");
        let list = chain.writable(&rig.mem).unwrap();
        let (head, tail) = list.split_at(60).unwrap();
        assert_eq!(head.write(&[7u8; 60]), 60);
        assert_eq!(tail.truncate(36).for_io().map(|s| s.len()), Some(2));
        assert_eq!(tail.write(&[9u8; 36]), 36);
        pass.add_used(chain, 96).unwrap();
        assert!(pass.pop().is_none());
        drop(pass);
        assert_eq!(rig.used_idx(), round + 1);
        assert_eq!(rig.used_len(round), 96);
    }
    assert_eq!(rig.bytes(0x2_0000 + 60, 4), [9, 9, 9, 9]);
    assert_eq!(rig.bytes(0x3_0000 + 31, 2), [9, 0]);
    assert_eq!(q.violations(), 0);
    assert!(!q.is_broken());
    assert_ne!(rig.irq.status(), 0, "the driver was told");
}

#[test]
fn write_outside_the_writable_descriptors_is_refused() {
    let (rig, mut q) = Rig::new();
    let before = violations();
    rig.add_chain(0, &[(0x1_0000, 16, false), (0x2_0000, 64, true)]);
    let mut pass = q.pass(&rig.mem, &rig.irq);
    let chain = pass.pop().unwrap();
    // Into the device-readable header, as a device mixing up its lists.
    let header = chain.write_list_at(&rig.mem, 0x1_0000, 16);
    assert_eq!(header.write(&[0xaa; 16]), 0);
    assert_eq!(rig.bytes(0x1_0000, 16), [0; 16], "the write was done");
    assert!(header.for_io().is_none());
    // One byte past the end of the writable buffer.
    let past = chain.write_list_at(&rig.mem, 0x2_0000, 65);
    assert_eq!(past.write(&[0xbb; 65]), 0);
    // Inside it, a shorter write of the same list is fine.
    let inside = chain.write_list_at(&rig.mem, 0x2_0000 + 4, 60);
    assert_eq!(inside.write(&[0xcc; 60]), 60);
    pass.add_used(chain, 64).unwrap();
    drop(pass);
    assert_eq!(q.violations(), 3);
    assert!(violations() >= before + 3);
    assert_stopped(&rig, &mut q);
}

#[test]
fn used_length_above_the_writable_bytes_is_caught_and_clamped() {
    let (rig, mut q) = Rig::new();
    rig.add_chain(0, &[(0x1_0000, 16, false), (0x2_0000, 64, true)]);
    let mut pass = q.pass(&rig.mem, &rig.irq);
    let chain = pass.pop().unwrap();
    pass.add_used(chain, 80).unwrap();
    drop(pass);
    assert_eq!(q.violations(), 1);
    assert_eq!(rig.used_idx(), 1);
    assert_eq!(rig.used_len(0), 64, "the guest must not be told 80");
    assert_stopped(&rig, &mut q);
}

#[test]
fn a_write_after_add_used_is_refused() {
    let (rig, mut q) = Rig::new();
    rig.add_chain(0, &[(0x2_0000, 64, true)]);
    let mut pass = q.pass(&rig.mem, &rig.irq);
    let chain = pass.pop().unwrap();
    let list = chain.writable(&rig.mem).unwrap();
    assert_eq!(list.write(b"ok"), 2);
    pass.add_used(chain, 2).unwrap();
    assert_eq!(list.write(b"late"), 0);
    assert!(list.for_io().is_none());
    drop(pass);
    assert_eq!(rig.bytes(0x2_0000, 4), *b"ok\0\0");
    assert_eq!(q.violations(), 2);
    assert_stopped(&rig, &mut q);
}

#[test]
fn a_chain_given_back_to_another_queue_is_caught() {
    let (rig, mut q) = Rig::new();
    let (rig2, mut other) = Rig::new();
    rig.add_chain(0, &[(0x2_0000, 64, true)]);
    let mut pass = q.pass(&rig.mem, &rig.irq);
    let chain = pass.pop().unwrap();
    let mut other_pass = other.pass(&rig2.mem, &rig2.irq);
    other_pass.add_used(chain, 0).unwrap();
    drop(other_pass);
    drop(pass);
    assert_eq!(rig2.used_idx(), 0, "a foreign head reached the used ring");
    assert_eq!(other.violations(), 1);
    assert_eq!(q.violations(), 0);
}

#[test]
fn a_worker_queue_driven_from_a_second_thread_is_caught() {
    let (rig, mut q) = Rig::new();
    rig.add_chain(0, &[(0x2_0000, 64, true)]);
    drop(q.pass(&rig.mem, &rig.irq));
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut pass = q.pass(&rig.mem, &rig.irq);
            assert!(pass.pop().is_none());
        });
    });
    assert_eq!(q.violations(), 1);
    assert!(q.is_broken());
}

#[test]
fn two_threads_on_one_used_ring_at_once_are_caught() {
    let (rig, mut q) = Rig::new();
    let mut twin = rig.same_rings();
    q.set_owner(Owner::Locked);
    twin.set_owner(Owner::Locked);
    rig.add_chain(0, &[(0x2_0000, 64, true)]);
    let pass = q.pass(&rig.mem, &rig.irq);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut pass = twin.pass(&rig.mem, &rig.irq);
            assert!(pass.pop().is_none());
        });
    });
    drop(pass);
    assert_eq!(twin.violations(), 1);
    assert_eq!(q.violations(), 0);
}

#[test]
fn a_locked_queue_may_change_threads_one_at_a_time() {
    let (rig, mut q) = Rig::new();
    q.set_owner(Owner::Locked);
    for i in 0..4u16 {
        rig.add_chain(2 * i, &[(0x2_0000, 64, true)]);
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut pass = q.pass(&rig.mem, &rig.irq);
                let chain = pass.pop().unwrap();
                let n = chain.writable(&rig.mem).unwrap().write(&[1; 10]);
                pass.add_used(chain, n as u32).unwrap();
            });
        });
    }
    assert_eq!(rig.used_idx(), 4);
    assert_eq!(q.violations(), 0);
}

#[test]
fn hostile_rings_neither_panic_nor_loop() {
    let (rig, mut q) = Rig::new();
    // A descriptor that chains to itself, and one past the table.
    rig.desc(0, (0x2_0000, 64, 2 | 1, 0));
    rig.desc(1, (0x2_0000, 64, 2 | 1, 999));
    // The whole avail ring points at them, again and again.
    for i in 0..SIZE {
        rig.publish(i % 2);
    }
    let mut pass = q.pass(&rig.mem, &rig.irq);
    let mut chains = Vec::new();
    while let Some(chain) = pass.pop() {
        assert!(chain.descriptors().len() <= usize::from(SIZE));
        chains.push(chain);
    }
    assert_eq!(chains.len(), usize::from(SIZE));
    assert!(pass.exhausted(), "a full ring ends the pass on its budget");
    for chain in chains {
        let n = chain.writable_bytes().min(64) as u32;
        pass.add_used(chain, n).unwrap();
    }
    drop(pass);
    assert_eq!(q.violations(), 0, "guest nonsense is not a device fault");
    // An avail index far ahead of the device's: nothing is popped.
    rig.mem
        .write_obj(0x8000u16, GuestAddress(rig.avail + 2))
        .unwrap();
    let mut pass = q.pass(&rig.mem, &rig.irq);
    assert!(pass.pop().is_none());
    assert!(!pass.exhausted());
}
