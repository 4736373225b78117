//! The virtio-mmio transport: registers the driver reads and writes on the
//! vCPU thread. It owns the queues until the driver sets DRIVER_OK, then
//! hands them to the device.

use std::sync::Arc;

use virtio_queue::{Queue, QueueT};
use vm_memory::GuestMemoryMmap;
use vmm_sys_util::eventfd::EventFd;

use super::guard::GuardedQueue;
use super::{device_name, ActiveQueue, Interrupt, VirtioDevice, VIRTIO_F_VERSION_1};

const MAGIC: u32 = 0x7472_6976; // "virt"
const VERSION: u32 = 2;
const VENDOR: u32 = 0x4c47_5354; // "LGST"
pub(crate) const MMIO_SIZE: u64 = 0x1000;
pub(crate) const QUEUE_NOTIFY: u64 = 0x50;
const CONFIG_START: u64 = 0x100;

const STATUS_ACKNOWLEDGE: u32 = 1;
const STATUS_DRIVER: u32 = 2;
const STATUS_DRIVER_OK: u32 = 4;
const STATUS_FEATURES_OK: u32 = 8;
const STATUS_FAILED: u32 = 0x80;

pub(crate) struct MmioTransport {
    device: Box<dyn VirtioDevice>,
    mem: GuestMemoryMmap,
    interrupt: Arc<Interrupt>,
    queues: Vec<Queue>,
    notifies: Vec<EventFd>,
    status: u32,
    device_features_sel: u32,
    driver_features_sel: u32,
    driver_features: u64,
    queue_sel: u32,
    active: bool,
}

impl MmioTransport {
    /// `notifies[i]` must already be registered as the ioeventfd of queue i.
    pub(crate) fn new(
        device: Box<dyn VirtioDevice>,
        mem: GuestMemoryMmap,
        interrupt: Arc<Interrupt>,
        notifies: Vec<EventFd>,
    ) -> Result<MmioTransport, String> {
        let queues = device
            .queue_max_sizes()
            .iter()
            .map(|&max| Queue::new(max).map_err(|e| format!("queue of size {max}: {e:?}")))
            .collect::<Result<Vec<_>, _>>()?;
        if notifies.len() != queues.len() {
            return Err("one notify eventfd per queue is required".into());
        }
        Ok(MmioTransport {
            device,
            mem,
            interrupt,
            queues,
            notifies,
            status: 0,
            device_features_sel: 0,
            driver_features_sel: 0,
            driver_features: 0,
            queue_sel: 0,
            active: false,
        })
    }

    fn features(&self) -> u64 {
        self.device.features() | VIRTIO_F_VERSION_1
    }

    fn selected_queue(&mut self) -> Option<&mut Queue> {
        // Queues are configurable only before the driver is done.
        if self.status & STATUS_DRIVER_OK != 0 {
            return None;
        }
        self.queues.get_mut(self.queue_sel as usize)
    }

    pub(crate) fn read(&self, offset: u64, data: &mut [u8]) {
        if offset >= CONFIG_START {
            self.device.read_config(offset - CONFIG_START, data);
            return;
        }
        if data.len() != 4 {
            data.fill(0);
            return;
        }
        let queue = self.queues.get(self.queue_sel as usize);
        let value: u32 = match offset {
            0x00 => MAGIC,
            0x04 => VERSION,
            0x08 => self.device.device_type(),
            0x0c => VENDOR,
            0x10 => match self.device_features_sel {
                0 => self.features() as u32,
                1 => (self.features() >> 32) as u32,
                _ => 0,
            },
            0x34 => queue.map_or(0, |q| u32::from(q.max_size())),
            0x44 => queue.map_or(0, |q| u32::from(q.ready())),
            0x60 => self.interrupt.status(),
            0x70 => self.status,
            0xfc => 0, // config generation: the config never changes
            _ => 0,
        };
        data.copy_from_slice(&value.to_le_bytes());
    }

    pub(crate) fn write(&mut self, offset: u64, data: &[u8]) {
        if offset >= CONFIG_START {
            self.device.write_config(offset - CONFIG_START, data);
            return;
        }
        let Ok(bytes) = <[u8; 4]>::try_from(data) else {
            return;
        };
        let value = u32::from_le_bytes(bytes);
        match offset {
            0x14 => self.device_features_sel = value,
            // Features are fixed once FEATURES_OK is set.
            0x20 if self.status & STATUS_FEATURES_OK == 0 => {
                let shift = match self.driver_features_sel {
                    0 => 0,
                    1 => 32,
                    _ => return,
                };
                let offered = self.features();
                self.driver_features &= !(0xffff_ffffu64 << shift);
                self.driver_features |= (u64::from(value) << shift) & offered;
            }
            0x24 => self.driver_features_sel = value,
            0x30 => self.queue_sel = value,
            0x38 => {
                // A size above u16::MAX must not wrap to a valid one.
                if let (Some(q), Ok(size)) = (self.selected_queue(), u16::try_from(value)) {
                    q.set_size(size);
                }
            }
            0x44 => {
                if let Some(q) = self.selected_queue() {
                    q.set_ready(value == 1);
                }
            }
            QUEUE_NOTIFY => {
                // Normally caught by the ioeventfd; handled here too.
                if let Some(fd) = self.notifies.get(value as usize) {
                    let _ = fd.write(1);
                }
            }
            0x64 => self.interrupt.ack(value),
            0x70 => self.set_status(value),
            0x80 => self.with_queue(|q| q.set_desc_table_address(Some(value), None)),
            0x84 => self.with_queue(|q| q.set_desc_table_address(None, Some(value))),
            0x90 => self.with_queue(|q| q.set_avail_ring_address(Some(value), None)),
            0x94 => self.with_queue(|q| q.set_avail_ring_address(None, Some(value))),
            0xa0 => self.with_queue(|q| q.set_used_ring_address(Some(value), None)),
            0xa4 => self.with_queue(|q| q.set_used_ring_address(None, Some(value))),
            _ => {}
        }
    }

    fn with_queue(&mut self, f: impl FnOnce(&mut Queue)) {
        if let Some(q) = self.selected_queue() {
            f(q);
        }
    }

    fn set_status(&mut self, value: u32) {
        if value == 0 {
            self.reset();
            return;
        }
        let adding = value & !self.status;
        // The driver only ever adds bits, in order; anything else is ignored.
        if value & self.status != self.status {
            return;
        }
        if adding & STATUS_FEATURES_OK != 0
            && (self.driver_features & VIRTIO_F_VERSION_1 == 0
                || self.status & (STATUS_ACKNOWLEDGE | STATUS_DRIVER)
                    != STATUS_ACKNOWLEDGE | STATUS_DRIVER)
        {
            // Legacy drivers are not supported: leave FEATURES_OK clear.
            self.status |= value & !STATUS_FEATURES_OK;
            return;
        }
        if adding & STATUS_DRIVER_OK != 0 {
            if self.status & STATUS_FEATURES_OK == 0 {
                return;
            }
            if let Err(e) = self.activate() {
                tracing::warn!(
                    "virtio device type {} failed to activate: {e}",
                    self.device.device_type()
                );
                self.status |= STATUS_FAILED;
                return;
            }
        }
        self.status = value;
    }

    fn activate(&mut self) -> Result<(), String> {
        // Devices here use every queue they offer, so all must be set up.
        if let Some(i) = self
            .queues
            .iter()
            .position(|q| !q.ready() || !q.is_valid(&self.mem))
        {
            return Err(format!(
                "queue {i} is not ready or not valid in guest memory"
            ));
        }
        let mut queues = Vec::with_capacity(self.queues.len());
        let name = device_name(self.device.device_type());
        for (i, (q, notify)) in self.queues.iter_mut().zip(&self.notifies).enumerate() {
            let notify = notify.try_clone().map_err(|e| e.to_string())?;
            // The device owns the queue from now on; the transport keeps a
            // fresh one that the next reset would have produced anyway.
            let fresh = Queue::new(q.max_size()).map_err(|e| format!("{e:?}"))?;
            queues.push(ActiveQueue {
                queue: GuardedQueue::new(std::mem::replace(q, fresh), name, i as u16),
                notify,
            });
        }
        self.device
            .activate(self.mem.clone(), queues, self.interrupt.clone())?;
        self.active = true;
        Ok(())
    }

    fn reset(&mut self) {
        if self.active {
            self.device.reset();
            self.active = false;
        }
        for q in &mut self.queues {
            q.reset();
        }
        self.status = 0;
        self.driver_features = 0;
        self.queue_sel = 0;
        self.interrupt.ack(u32::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dummy {
        sizes: Vec<u16>,
        activated: Option<usize>,
    }

    impl VirtioDevice for Dummy {
        fn device_type(&self) -> u32 {
            8
        }
        fn queue_max_sizes(&self) -> &[u16] {
            &self.sizes
        }
        fn features(&self) -> u64 {
            0
        }
        fn read_config(&self, offset: u64, data: &mut [u8]) {
            super::super::read_config_bytes(&[1, 2, 3, 4], offset, data);
        }
        fn write_config(&mut self, _: u64, _: &[u8]) {}
        fn activate(
            &mut self,
            _: GuestMemoryMmap,
            q: Vec<ActiveQueue>,
            _: Arc<Interrupt>,
        ) -> Result<(), String> {
            self.activated = Some(q.len());
            Ok(())
        }
        fn reset(&mut self) {
            self.activated = None;
        }
    }

    fn transport() -> MmioTransport {
        let mem = GuestMemoryMmap::from_ranges(&[(vm_memory::GuestAddress(0), 1 << 20)]).unwrap();
        let irq = Arc::new(Interrupt::new(EventFd::new(libc::EFD_NONBLOCK).unwrap()));
        let dev = Box::new(Dummy {
            sizes: vec![8, 8],
            activated: None,
        });
        let fds = (0..2)
            .map(|_| EventFd::new(libc::EFD_NONBLOCK).unwrap())
            .collect();
        MmioTransport::new(dev, mem, irq, fds).unwrap()
    }

    fn r(t: &MmioTransport, off: u64) -> u32 {
        let mut b = [0u8; 4];
        t.read(off, &mut b);
        u32::from_le_bytes(b)
    }

    fn w(t: &mut MmioTransport, off: u64, v: u32) {
        t.write(off, &v.to_le_bytes());
    }

    #[test]
    fn identifies_as_virtio_mmio_v2() {
        let t = transport();
        assert_eq!(r(&t, 0), MAGIC);
        assert_eq!(r(&t, 4), 2);
        assert_eq!(r(&t, 8), 8);
        assert_eq!(r(&t, 0x34), 8);
        let mut b = [0u8; 2];
        t.read(0x102, &mut b);
        assert_eq!(b, [3, 4]);
        t.read(0x1000_0000, &mut b);
        assert_eq!(b, [0, 0]);
    }

    #[test]
    fn negotiation_and_activation() {
        let mut t = transport();
        w(&mut t, 0x70, STATUS_ACKNOWLEDGE);
        w(&mut t, 0x70, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        w(&mut t, 0x24, 1);
        w(&mut t, 0x20, 1); // VERSION_1 (bit 32)
        w(
            &mut t,
            0x70,
            STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK,
        );
        assert_ne!(r(&t, 0x70) & STATUS_FEATURES_OK, 0);
        for (sel, base) in [(0u32, 0x1000u32), (1, 0x4000)] {
            w(&mut t, 0x30, sel);
            w(&mut t, 0x38, 8);
            w(&mut t, 0x80, base);
            w(&mut t, 0x90, base + 0x100);
            w(&mut t, 0xa0, base + 0x200);
            w(&mut t, 0x44, 1);
        }
        w(
            &mut t,
            0x70,
            STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK,
        );
        assert!(t.active);
        // Queue registers are frozen after DRIVER_OK.
        w(&mut t, 0x38, 2);
        w(&mut t, 0x70, 0);
        assert!(!t.active);
        assert_eq!(r(&t, 0x70), 0);
    }

    #[test]
    fn legacy_driver_does_not_get_features_ok() {
        let mut t = transport();
        w(&mut t, 0x70, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        w(
            &mut t,
            0x70,
            STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK,
        );
        assert_eq!(r(&t, 0x70) & STATUS_FEATURES_OK, 0);
    }

    #[test]
    fn hostile_register_accesses_do_not_panic() {
        let mut t = transport();
        for off in (0..0x200u64).chain([u64::MAX - 3, 0x1000]) {
            for len in [0usize, 1, 2, 3, 4, 8] {
                let mut b = vec![0xffu8; len];
                t.read(off, &mut b);
                t.write(off, &b);
            }
        }
        w(&mut t, 0x30, u32::MAX);
        w(&mut t, 0x38, u32::MAX);
        w(&mut t, QUEUE_NOTIFY, u32::MAX);
        w(&mut t, 0x70, u32::MAX);
    }
}
