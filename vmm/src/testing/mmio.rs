//! Fuzz entry point for the virtio-mmio transport: arbitrary register
//! sequences (feature negotiation, queue setup with hostile addresses and
//! sizes, status resets, notifies) against a real device model, whose
//! worker thread then serves whatever queues the input set up.

use std::sync::Arc;

use disk::BlockBackend;
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};
use vmm_sys_util::eventfd::EventFd;

use super::console::Input;
use super::MemDisk;
use crate::devices::virtio::console::device::ConsoleDevice;
use crate::devices::virtio::guard;
use crate::devices::virtio::mmio::{MmioTransport, QUEUE_NOTIFY};
use crate::devices::virtio::scsi::ScsiDevice;
use crate::devices::virtio::{Interrupt, VirtioDevice};

const MEM_SIZE: u64 = 2 << 20;
/// Sane rings of queue q start at RINGS + q * RING_STRIDE: descriptors,
/// then the avail ring at +0x1000, the used ring at +0x2000 (room for 256
/// entries each, no overlap).
const RINGS: u64 = 0x1_0000;
const RING_STRIDE: u64 = 0x4000;
/// Where posted buffers point.
const DATA: u64 = 0x10_0000;

const STATUS: u64 = 0x70;

struct Rig {
    t: MmioTransport,
    /// Queue sizes the input set with sane rings, by queue.
    sane: Vec<Option<u16>>,
}

impl Rig {
    fn w(&mut self, off: u64, v: u32) {
        self.t.write(off, &v.to_le_bytes());
    }

    fn r(&self, off: u64) -> u32 {
        let mut b = [0u8; 4];
        self.t.read(off, &mut b);
        u32::from_le_bytes(b)
    }

    fn set_rings(&mut self, desc: u64, avail: u64, used: u64) {
        for (reg, addr) in [(0x80, desc), (0x90, avail), (0xa0, used)] {
            self.w(reg, addr as u32);
            self.w(reg + 4, (addr >> 32) as u32);
        }
    }
}

/// Posts a one-descriptor chain on queue `q`, if its rings are the sane ones.
fn post(mem: &GuestMemoryMmap, rig: &Rig, q: usize, input: &mut Input<'_>) {
    let Some(Some(size)) = rig.sane.get(q).copied() else {
        return;
    };
    let base = RINGS + q as u64 * RING_STRIDE;
    let index = input.u16() % size;
    let addr = DATA + u64::from(input.u16()) * 8;
    let len = u32::from(input.u16());
    let flags = u16::from(input.u8() & 7);
    let next = input.u16() % size;
    let at = base + u64::from(index) * 16;
    let _ = mem.write_obj(addr, GuestAddress(at));
    let _ = mem.write_obj(len, GuestAddress(at + 8));
    let _ = mem.write_obj(flags, GuestAddress(at + 12));
    let _ = mem.write_obj(next, GuestAddress(at + 14));
    let avail = base + 0x1000;
    let idx: u16 = mem.read_obj(GuestAddress(avail + 2)).unwrap_or(0);
    let slot = avail + 4 + u64::from(idx % size) * 2;
    let _ = mem.write_obj(index, GuestAddress(slot));
    let _ = mem.write_obj(idx.wrapping_add(1), GuestAddress(avail + 2));
}

/// Runs the input as a driver of one device (byte 0 picks virtio-scsi or
/// virtio-console). Panics only if something panics or the write guard
/// caught the device writing where it must not.
pub fn fuzz_mmio(data: &[u8]) {
    let before = guard::violations();
    let mut input = Input::new(data);
    let Ok(mem) = GuestMemoryMmap::from_ranges(&[(GuestAddress(0), MEM_SIZE as usize)]) else {
        return;
    };
    let device: Box<dyn VirtioDevice> = if input.u8() & 1 == 0 {
        let backend: Arc<dyn BlockBackend> = MemDisk::new(64 << 10, false);
        let unmap = input.u8() & 1 == 0;
        Box::new(ScsiDevice::new(vec![crate::vm::ScsiDisk {
            backend,
            unmap,
        }]))
    } else {
        Box::new(ConsoleDevice::new("org.libguest.fuzz").0)
    };
    let nqueues = device.queue_max_sizes().len();
    let (Ok(irq), Ok(notifies)) = (
        EventFd::new(libc::EFD_NONBLOCK),
        (0..nqueues)
            .map(|_| EventFd::new(libc::EFD_NONBLOCK))
            .collect::<Result<Vec<_>, _>>(),
    ) else {
        return;
    };
    let interrupt = Arc::new(Interrupt::new(irq));
    let Ok(t) = MmioTransport::new(device, mem.clone(), interrupt, notifies) else {
        return;
    };
    let mut rig = Rig {
        t,
        sane: vec![None; nqueues],
    };
    let mut steps = 0;
    while !input.is_empty() && steps < 512 {
        steps += 1;
        match input.u8() % 12 {
            0 => {
                let (off, v) = (u64::from(input.u8() % 0x40) * 4, input.u32());
                rig.w(off, v);
            }
            1 => {
                let off = u64::from(input.u8() % 0x40) * 4;
                let _ = rig.r(off);
            }
            2 => {
                let off = 0x100 + u64::from(input.u8());
                let len = [1, 2, 4, 8][usize::from(input.u8() % 4)];
                let bytes = input.bytes(len).to_vec();
                rig.t.write(off, &bytes);
                let mut back = vec![0u8; len];
                rig.t.read(off, &mut back);
            }
            3 => {
                // The usual negotiation, with the input's feature bits.
                let (lo, hi) = (input.u32(), input.u32() | 1);
                for (sel, v) in [(0, lo), (1, hi)] {
                    rig.w(0x24, sel);
                    rig.w(0x20, v);
                }
                for s in [1, 3, 11] {
                    rig.w(STATUS, s);
                }
            }
            4 => {
                let q = usize::from(input.u8()) % nqueues;
                let size = 1u16 << (input.u8() % 9);
                rig.w(0x30, q as u32);
                rig.w(0x38, u32::from(size));
                let base = RINGS + q as u64 * RING_STRIDE;
                rig.set_rings(base, base + 0x1000, base + 0x2000);
                rig.w(0x44, 1);
                if let Some(s) = rig.sane.get_mut(q) {
                    *s = Some(size);
                }
            }
            5 => {
                // Hostile rings: any addresses, any size.
                let q = input.u8();
                rig.w(0x30, u32::from(q));
                rig.w(0x38, u32::from(input.u16()));
                let (d, a, u) = (input.u64(), input.u64(), input.u64());
                rig.set_rings(d, a, u);
                rig.w(0x44, u32::from(input.u8() & 1));
                if let Some(s) = rig.sane.get_mut(usize::from(q)) {
                    *s = None;
                }
            }
            6 => {
                let status = rig.r(STATUS);
                rig.w(STATUS, status | 4);
            }
            7 => rig.w(QUEUE_NOTIFY, u32::from(input.u8() % 8)),
            8 => {
                let at = u64::from(input.u32()) % MEM_SIZE;
                let len = usize::from(input.u8());
                let _ = mem.write_slice(input.bytes(len), GuestAddress(at));
            }
            9 => {
                rig.w(STATUS, 0);
                rig.sane.iter_mut().for_each(|s| *s = None);
            }
            10 => {
                let q = usize::from(input.u8()) % nqueues;
                post(&mem, &rig, q, &mut input);
                rig.w(QUEUE_NOTIFY, q as u32);
            }
            _ => rig.w(0x64, input.u32()),
        }
    }
    // Stops the device's worker, so every write it did is counted.
    drop(rig);
    assert_eq!(
        guard::violations(),
        before,
        "the write guard caught a virtio device writing where it must not"
    );
}
