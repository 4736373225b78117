//! Helpers for driving virtio-console as its driver would, over
//! virtio-queue's mock queues in plain memory: no KVM.

// Under `test-utils` only part of this is used (by `testing`).
#![cfg_attr(not(test), allow(dead_code))]

use std::collections::HashMap;
use std::sync::Arc;

use virtio_queue::Queue;
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};
use vmm_sys_util::eventfd::EventFd;

use super::control::{Control, ControlMsg, CONTROL_SIZE};
use super::device::NUM_QUEUES;
use super::event_handler::Worker;
use super::port::{ChannelHost, Shared};
use crate::devices::virtio::guard::GuardedQueue;
use crate::devices::virtio::rings::Rings;
use crate::devices::virtio::{ActiveQueue, Interrupt};

pub(crate) const VRING_DESC_F_NEXT: u16 = 1;
pub(crate) const VRING_DESC_F_WRITE: u16 = 2;
pub(crate) const VRING_USED_F_NO_NOTIFY: u16 = 1;
pub(crate) const QUEUE_LEN: u16 = 64;
pub(crate) const MEM_SIZE: u64 = 16 << 20;
pub(crate) const PORT_NAME: &str = "org.libguest.channel.0";

/// Queue indexes.
pub(crate) const CONSOLE_RX: usize = 0;
pub(crate) const CONSOLE_TX: usize = 1;
pub(crate) const CONTROL_RX: usize = 2;
pub(crate) const CONTROL_TX: usize = 3;
pub(crate) const CHANNEL_RX: usize = 4;
pub(crate) const CHANNEL_TX: usize = 5;

/// Where the driver's control buffers live.
const CONTROL_RX_BUFS: u64 = 0x10_0000;
const CONTROL_TX_BUFS: u64 = 0x11_0000;
pub(crate) const CONTROL_BUF_LEN: u32 = 256;
/// Free for tests' data buffers.
pub(crate) const DATA: u64 = 0x20_0000;

/// The driver's side of one split queue, over rings laid out by
/// [`Rings`] (not the mock's, whose used ring overlaps its avail ring);
/// descriptors and the avail ring are written here, modulo the queue size.
#[derive(Clone)]
pub(crate) struct DriverQueue {
    desc: u64,
    avail: u64,
    used: u64,
    next_desc: u16,
    seen_used: u16,
    /// First buffer address of each posted chain, by head.
    heads: HashMap<u16, u64>,
}

impl DriverQueue {
    fn new(mem: &GuestMemoryMmap, base: u64) -> (DriverQueue, Queue) {
        let rings = Rings::at(base, QUEUE_LEN);
        let queue = rings.queue(mem, QUEUE_LEN);
        let q = DriverQueue {
            desc: rings.desc,
            avail: rings.avail,
            used: rings.used,
            next_desc: 0,
            seen_used: 0,
            heads: HashMap::new(),
        };
        (q, queue)
    }

    /// Adds a chain made of (addr, len, device-writable) descriptors;
    /// returns its head.
    pub(crate) fn add_chain(&mut self, mem: &GuestMemoryMmap, descs: &[(u64, u32, bool)]) -> u16 {
        let first = self.next_desc;
        for (i, &(addr, len, write)) in descs.iter().enumerate() {
            let index = (first + i as u16) % QUEUE_LEN;
            let next = (index + 1) % QUEUE_LEN;
            let mut flags = if write { VRING_DESC_F_WRITE } else { 0 };
            if i + 1 < descs.len() {
                flags |= VRING_DESC_F_NEXT;
            }
            let at = self.desc + u64::from(index) * 16;
            mem.write_obj(addr, GuestAddress(at)).unwrap();
            mem.write_obj(len, GuestAddress(at + 8)).unwrap();
            mem.write_obj(flags, GuestAddress(at + 12)).unwrap();
            mem.write_obj(next, GuestAddress(at + 14)).unwrap();
        }
        self.publish(mem, first);
        self.heads.insert(first, descs.first().map_or(0, |d| d.0));
        self.next_desc = (first + descs.len() as u16) % QUEUE_LEN;
        first
    }

    /// Puts `head` in the avail ring and moves its index.
    pub(crate) fn publish(&self, mem: &GuestMemoryMmap, head: u16) {
        let idx: u16 = mem.read_obj(GuestAddress(self.avail + 2)).unwrap();
        let slot = self.avail + 4 + u64::from(idx % QUEUE_LEN) * 2;
        mem.write_obj(head, GuestAddress(slot)).unwrap();
        mem.write_obj(idx.wrapping_add(1), GuestAddress(self.avail + 2))
            .unwrap();
    }

    /// Writes raw descriptor `index` (for loops and other oddities).
    pub(crate) fn write_desc(
        &self,
        mem: &GuestMemoryMmap,
        index: u16,
        (addr, len, flags, next): (u64, u32, u16, u16),
    ) {
        let at = self.desc + u64::from(index % QUEUE_LEN) * 16;
        mem.write_obj(addr, GuestAddress(at)).unwrap();
        mem.write_obj(len, GuestAddress(at + 8)).unwrap();
        mem.write_obj(flags, GuestAddress(at + 12)).unwrap();
        mem.write_obj(next, GuestAddress(at + 14)).unwrap();
    }

    /// Sets the avail index to anything (a bad one, for hostile-ring tests).
    pub(crate) fn set_avail_idx(&self, mem: &GuestMemoryMmap, idx: u16) {
        mem.write_obj(idx, GuestAddress(self.avail + 2)).unwrap();
    }

    /// The used ring's flags: VRING_USED_F_NO_NOTIFY when the device asks
    /// for no kicks.
    pub(crate) fn used_flags(&self, mem: &GuestMemoryMmap) -> u16 {
        mem.read_obj(GuestAddress(self.used)).unwrap()
    }

    pub(crate) fn used_idx(&self, mem: &GuestMemoryMmap) -> u16 {
        mem.read_obj(GuestAddress(self.used + 2)).unwrap()
    }

    /// Used entries (head, len) not returned by an earlier call.
    pub(crate) fn take_used(&mut self, mem: &GuestMemoryMmap) -> Vec<(u16, u32)> {
        let end = self.used_idx(mem);
        let mut out = Vec::new();
        while self.seen_used != end {
            let at = self.used + 4 + u64::from(self.seen_used % QUEUE_LEN) * 8;
            let id: u32 = mem.read_obj(GuestAddress(at)).unwrap();
            let len: u32 = mem.read_obj(GuestAddress(at + 4)).unwrap();
            out.push((id as u16, len));
            self.seen_used = self.seen_used.wrapping_add(1);
        }
        out
    }

    pub(crate) fn head_addr(&self, head: u16) -> u64 {
        self.heads[&head]
    }
}

/// Guest memory, six queues and the driver's view of them.
pub(crate) struct Harness {
    pub(crate) mem: GuestMemoryMmap,
    pub(crate) queues: Vec<DriverQueue>,
    /// Clones of the notify eventfds handed to the device.
    pub(crate) notifies: Vec<EventFd>,
    pub(crate) irq: EventFd,
    control_rx_slot: u64,
    control_tx_slot: u64,
}

impl Harness {
    /// The harness and what activation hands the device.
    pub(crate) fn new() -> (Harness, Vec<ActiveQueue>, Arc<Interrupt>) {
        let mem = GuestMemoryMmap::from_ranges(&[(GuestAddress(0), MEM_SIZE as usize)]).unwrap();
        let mut queues = Vec::new();
        let mut active = Vec::new();
        let mut notifies = Vec::new();
        for i in 0..NUM_QUEUES {
            let (q, queue) = DriverQueue::new(&mem, 0x1_0000 * (i as u64 + 1));
            let notify = EventFd::new(libc::EFD_NONBLOCK).unwrap();
            notifies.push(notify.try_clone().unwrap());
            queues.push(q);
            active.push(ActiveQueue {
                queue: GuardedQueue::new(queue, "virtio-console", i as u16),
                notify,
            });
        }
        let irq = EventFd::new(libc::EFD_NONBLOCK).unwrap();
        let interrupt = Arc::new(Interrupt::new(irq.try_clone().unwrap()));
        let h = Harness {
            mem,
            queues,
            notifies,
            irq,
            control_rx_slot: 0,
            control_tx_slot: 0,
        };
        (h, active, interrupt)
    }

    /// A worker run by hand (no thread), with port 1's queues attached to
    /// the returned host end.
    pub(crate) fn worker(
        &self,
        queues: Vec<ActiveQueue>,
        interrupt: Arc<Interrupt>,
    ) -> (Worker, ChannelHost) {
        let shared = Shared::new();
        let [console_rx, console_tx, control_rx, control_tx, channel_rx, channel_tx]: [ActiveQueue;
            NUM_QUEUES] = queues.try_into().ok().unwrap();
        shared.attach(
            self.mem.clone(),
            channel_rx.queue,
            channel_tx.queue,
            interrupt.clone(),
        );
        let worker = Worker {
            mem: self.mem.clone(),
            console_rx,
            console_tx,
            control_rx,
            control_tx,
            channel_rx_notify: channel_rx.notify,
            channel_tx_notify: channel_tx.notify,
            control: Control::new(PORT_NAME),
            shared: shared.clone(),
            interrupt,
            kill: EventFd::new(libc::EFD_NONBLOCK).unwrap(),
        };
        (worker, ChannelHost::new(shared))
    }

    /// Tells the device queue `q` has new buffers.
    pub(crate) fn kick(&self, q: usize) {
        self.notifies[q].write(1).unwrap();
    }

    /// Posts `n` control receive buffers of CONTROL_BUF_LEN bytes.
    pub(crate) fn post_control_buffers(&mut self, n: usize) {
        for _ in 0..n {
            let addr = CONTROL_RX_BUFS + (self.control_rx_slot % 64) * u64::from(CONTROL_BUF_LEN);
            self.control_rx_slot += 1;
            self.mem
                .write_slice(&[0xee; CONTROL_BUF_LEN as usize], GuestAddress(addr))
                .unwrap();
            self.queues[CONTROL_RX].add_chain(&self.mem, &[(addr, CONTROL_BUF_LEN, true)]);
        }
    }

    /// Sends raw bytes as one control message chain.
    pub(crate) fn send_control_bytes(&mut self, bytes: &[u8]) {
        let addr = CONTROL_TX_BUFS + (self.control_tx_slot % 64) * 64;
        self.control_tx_slot += 1;
        self.mem.write_slice(bytes, GuestAddress(addr)).unwrap();
        self.queues[CONTROL_TX].add_chain(&self.mem, &[(addr, bytes.len() as u32, false)]);
    }

    pub(crate) fn send_control(&mut self, id: u32, event: u16, value: u16) {
        self.send_control_bytes(&ControlMsg { id, event, value }.to_bytes());
    }

    /// Control messages the device has put in the used ring since the last
    /// call, with the bytes after each header.
    pub(crate) fn received_control(&mut self) -> Vec<(ControlMsg, Vec<u8>)> {
        let used = self.queues[CONTROL_RX].take_used(&self.mem);
        used.into_iter()
            .filter(|&(_, len)| len as usize >= CONTROL_SIZE)
            .map(|(head, len)| {
                let addr = self.queues[CONTROL_RX].head_addr(head);
                let mut bytes = vec![0u8; len as usize];
                self.mem.read_slice(&mut bytes, GuestAddress(addr)).unwrap();
                let msg = ControlMsg::parse(&bytes).unwrap();
                (msg, bytes[CONTROL_SIZE..].to_vec())
            })
            .collect()
    }

    /// Waits (up to 5 s) for `cond`, for tests with the worker thread.
    pub(crate) fn wait_for(&mut self, mut cond: impl FnMut(&mut Harness) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !cond(self) {
            assert!(std::time::Instant::now() < deadline, "timed out");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}

/// A pattern that differs at every offset within a few KiB.
pub(crate) fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(31).wrapping_add(seed) % 251) as u8)
        .collect()
}
