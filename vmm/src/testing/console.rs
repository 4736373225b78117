//! Fuzz entry point for virtio-console: a hostile driver writes descriptor
//! tables, avail rings and buffers of all six queues while the device's
//! control worker and both host ends of the channel run over them.

use std::time::Instant;

use vm_memory::{Bytes, GuestAddress};

use crate::devices::virtio::console::control::ControlMsg;
use crate::devices::virtio::console::test_utils::{Harness, DATA, MEM_SIZE, QUEUE_LEN};
use crate::devices::virtio::guard;

/// Reads the input a few bytes at a time, zero past its end.
pub(super) struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub(super) fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub(super) fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    pub(super) fn u8(&mut self) -> u8 {
        self.bytes(1).first().copied().unwrap_or(0)
    }

    pub(super) fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub(super) fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub(super) fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }
}

/// A guest address: mostly in the data area, sometimes anywhere (the rings
/// themselves, past the end of memory, near u64::MAX).
fn address(input: &mut Input<'_>) -> u64 {
    match input.u8() {
        0..=199 => DATA + u64::from(input.u16()) * 16,
        200..=239 => u64::from(input.u32()) % MEM_SIZE,
        _ => input.u64(),
    }
}

fn length(input: &mut Input<'_>) -> u32 {
    match input.u8() {
        0..=219 => u32::from(input.u16()) % 8192,
        _ => input.u32(),
    }
}

/// Runs the input as a driver. Panics only if the write guard saw the
/// device write where it must not (or anything in the device panics).
pub fn fuzz_console(data: &[u8]) {
    let before = guard::violations();
    let mut input = Input::new(data);
    let (mut h, queues, interrupt) = Harness::new();
    let (mut worker, host) = h.worker(queues, interrupt);
    let mut steps = 0;
    while !input.is_empty() && steps < 256 {
        steps += 1;
        let op = input.u8();
        let q = usize::from(input.u8()) % h.queues.len();
        match op % 10 {
            0 => {
                let index = input.u16() % QUEUE_LEN;
                let (addr, len) = (address(&mut input), length(&mut input));
                let flags = u16::from(input.u8() & 7);
                let next = input.u16() % (QUEUE_LEN + 2);
                h.queues[q].write_desc(&h.mem, index, (addr, len, flags, next));
            }
            1 => {
                let head = input.u16() % (QUEUE_LEN + 2);
                h.queues[q].publish(&h.mem, head);
            }
            2 => {
                let n = usize::from(input.u8() % 4) + 1;
                let descs: Vec<_> = (0..n)
                    .map(|_| {
                        let (addr, len) = (address(&mut input), length(&mut input));
                        (addr, len, input.u8() & 1 != 0)
                    })
                    .collect();
                h.queues[q].add_chain(&h.mem, &descs);
            }
            3 => h.queues[q].set_avail_idx(&h.mem, input.u16()),
            4 => {
                let at = address(&mut input);
                let len = usize::from(input.u8());
                let _ = h.mem.write_slice(input.bytes(len), GuestAddress(at));
            }
            5 => {
                let (id, event, value) = (input.u32() % 3, input.u16() % 8, input.u16() % 2);
                h.send_control_bytes(&ControlMsg { id, event, value }.to_bytes());
            }
            6 => {
                worker.process_control_tx();
                worker.flush_control();
            }
            7 => worker.drain_console_tx(),
            8 => {
                let mut buf = vec![0u8; usize::from(input.u16())];
                let _ = host.read(&mut buf, Instant::now());
            }
            _ => {
                let len = usize::from(input.u16());
                let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let _ = host.write_all(&bytes, Instant::now());
            }
        }
    }
    assert_eq!(
        guard::violations(),
        before,
        "the write guard caught virtio-console writing where it must not"
    );
}
