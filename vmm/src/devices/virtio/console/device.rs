//! The virtio-console device model: configuration space and activation.

use crate::devices::virtio::worker_thread::WorkerThread;
use std::sync::Arc;

use vm_memory::GuestMemoryMmap;

use super::control::{Control, NR_PORTS};
use super::event_handler::Worker;
use super::port::{ChannelHost, Shared};
use crate::devices::virtio::{read_config_bytes, ActiveQueue, Interrupt, VirtioDevice};

pub(crate) const VIRTIO_ID_CONSOLE: u32 = 3;
/// VIRTIO_CONSOLE_F_MULTIPORT.
pub(crate) const VIRTIO_CONSOLE_F_MULTIPORT: u64 = 1 << 1;
pub(crate) const QUEUE_SIZE: u16 = 256;
/// port 0 rx/tx, control rx/tx, port 1 rx/tx.
pub(crate) const NUM_QUEUES: usize = 6;
const QUEUE_SIZES: [u16; NUM_QUEUES] = [QUEUE_SIZE; NUM_QUEUES];

pub(crate) struct ConsoleDevice {
    port_name: String,
    shared: Arc<Shared>,
    worker: Option<WorkerThread<()>>,
}

impl ConsoleDevice {
    /// The device, with port 1 named `port_name` (the guest's
    /// /dev/virtio-ports/<port_name>), and the host end of that port.
    pub(crate) fn new(port_name: &str) -> (ConsoleDevice, ChannelHost) {
        let shared = Shared::new();
        let device = ConsoleDevice {
            port_name: port_name.to_owned(),
            shared: shared.clone(),
            worker: None,
        };
        (device, ChannelHost::new(shared))
    }

    /// struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr.
    fn config() -> [u8; 12] {
        let mut c = [0u8; 12];
        c[4..8].copy_from_slice(&NR_PORTS.to_le_bytes());
        c
    }

    fn stop_worker(&mut self) {
        if let Some(worker) = self.worker.take() {
            worker.stop();
        }
    }
}

impl VirtioDevice for ConsoleDevice {
    fn device_type(&self) -> u32 {
        VIRTIO_ID_CONSOLE
    }

    fn queue_max_sizes(&self) -> &[u16] {
        &QUEUE_SIZES
    }

    fn features(&self) -> u64 {
        VIRTIO_CONSOLE_F_MULTIPORT
    }

    fn read_config(&self, offset: u64, data: &mut [u8]) {
        read_config_bytes(&Self::config(), offset, data);
    }

    /// Only emerg_wr is writable, and VIRTIO_CONSOLE_F_EMERG_WRITE is not
    /// offered: ignored.
    fn write_config(&mut self, _offset: u64, _data: &[u8]) {}

    fn activate(
        &mut self,
        mem: GuestMemoryMmap,
        queues: Vec<ActiveQueue>,
        interrupt: Arc<Interrupt>,
    ) -> Result<(), String> {
        let Ok([console_rx, console_tx, control_rx, control_tx, channel_rx, channel_tx]): Result<
            [ActiveQueue; NUM_QUEUES],
            _,
        > = queues.try_into() else {
            return Err(format!("virtio-console needs {NUM_QUEUES} queues"));
        };
        if self.worker.is_some() {
            return Err("virtio-console activated twice".into());
        }
        self.shared.attach(
            mem.clone(),
            channel_rx.queue,
            channel_tx.queue,
            interrupt.clone(),
        );
        let control = Control::new(&self.port_name);
        let shared = self.shared.clone();
        let worker = WorkerThread::spawn("libguest-console", move |kill| {
            Worker {
                mem,
                console_rx,
                console_tx,
                control_rx,
                control_tx,
                channel_rx_notify: channel_rx.notify,
                channel_tx_notify: channel_tx.notify,
                control,
                shared,
                interrupt,
                kill,
            }
            .run()
        });
        match worker {
            Ok(worker) => {
                self.worker = Some(worker);
                Ok(())
            }
            Err(e) => {
                self.shared.detach();
                Err(e)
            }
        }
    }

    fn reset(&mut self) {
        self.stop_worker();
        self.shared.detach();
    }
}

impl Drop for ConsoleDevice {
    fn drop(&mut self) {
        self.stop_worker();
        // No device, no channel: waiters must not wait for nothing.
        self.shared.close();
    }
}
