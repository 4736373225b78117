//! The virtio-scsi device model: configuration space and activation.

use std::sync::Arc;

use vm_memory::GuestMemoryMmap;

use super::event_handler::Worker;
use super::execute::Lun;
use super::request::{CDB_SIZE, SENSE_SIZE};
use crate::devices::virtio::worker_thread::WorkerThread;
use crate::devices::virtio::{read_config_bytes, ActiveQueue, Interrupt, VirtioDevice};
use crate::vm::ScsiDisk;

pub(crate) const VIRTIO_ID_SCSI: u32 = 8;
pub(crate) const QUEUE_SIZE: u16 = 256;
/// control, event, one request queue.
const QUEUE_SIZES: [u16; 3] = [QUEUE_SIZE; 3];

pub(crate) struct ScsiDevice {
    luns: Option<Vec<Lun>>,
    targets: u16,
    worker: Option<WorkerThread<Vec<Lun>>>,
}

impl ScsiDevice {
    /// One target with one LUN per disk, in order: target i is /dev/sd(a+i).
    pub(crate) fn new(disks: Vec<ScsiDisk>) -> ScsiDevice {
        let targets = disks.len() as u16;
        let luns = disks
            .into_iter()
            .enumerate()
            .map(|(i, d)| Lun::new(i as u32, d.backend, d.unmap))
            .collect();
        ScsiDevice {
            luns: Some(luns),
            targets,
            worker: None,
        }
    }

    /// struct virtio_scsi_config.
    fn config(&self) -> [u8; 36] {
        let mut c = [0u8; 36];
        let mut put = |at: usize, v: &[u8]| c[at..at + v.len()].copy_from_slice(v);
        put(0, &1u32.to_le_bytes()); // num_queues
        put(4, &u32::from(QUEUE_SIZE - 2).to_le_bytes()); // seg_max
        put(8, &0xffffu32.to_le_bytes()); // max_sectors
        put(12, &128u32.to_le_bytes()); // cmd_per_lun
        put(16, &16u32.to_le_bytes()); // event_info_size
        put(20, &(SENSE_SIZE as u32).to_le_bytes());
        put(24, &(CDB_SIZE as u32).to_le_bytes());
        put(28, &0u16.to_le_bytes()); // max_channel
        put(30, &self.targets.saturating_sub(1).to_le_bytes()); // max_target
        put(32, &0u32.to_le_bytes()); // max_lun
        c
    }

    fn stop_worker(&mut self) {
        if let Some(worker) = self.worker.take() {
            // None only if the worker panicked: the drives are gone then.
            self.luns = worker.stop();
        }
    }
}

impl VirtioDevice for ScsiDevice {
    fn device_type(&self) -> u32 {
        VIRTIO_ID_SCSI
    }

    fn queue_max_sizes(&self) -> &[u16] {
        &QUEUE_SIZES
    }

    fn features(&self) -> u64 {
        0
    }

    fn read_config(&self, offset: u64, data: &mut [u8]) {
        read_config_bytes(&self.config(), offset, data);
    }

    /// The driver may write sense_size and cdb_size; the device keeps the
    /// defaults it offered (96 and 32), which Linux uses.
    fn write_config(&mut self, _offset: u64, _data: &[u8]) {}

    fn activate(
        &mut self,
        mem: GuestMemoryMmap,
        queues: Vec<ActiveQueue>,
        interrupt: Arc<Interrupt>,
    ) -> Result<(), String> {
        let mut queues = queues.into_iter();
        let (Some(control), Some(event), Some(request)) =
            (queues.next(), queues.next(), queues.next())
        else {
            return Err("virtio-scsi needs its control, event and request queues".into());
        };
        let luns = self.luns.take().ok_or("virtio-scsi activated twice")?;
        let worker = WorkerThread::spawn("libguest-scsi", move |kill| {
            Worker {
                mem,
                control,
                event,
                request,
                luns,
                interrupt,
                kill,
            }
            .run()
        })?;
        self.worker = Some(worker);
        Ok(())
    }

    fn reset(&mut self) {
        self.stop_worker();
    }
}

impl Drop for ScsiDevice {
    fn drop(&mut self) {
        self.stop_worker();
    }
}
