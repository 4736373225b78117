//! The device thread: waits on the queues' ioeventfds and serves them.
//! Requests are handled in order on this thread; the backend call is the
//! only blocking step.

use std::sync::Arc;

use vm_memory::GuestMemoryMmap;
use vmm_sys_util::eventfd::EventFd;

use super::execute::{execute, respond_with, Lun, VIRTIO_SCSI_S_BAD_TARGET, VIRTIO_SCSI_S_FAILURE};
use super::request::{chain_buffers, decode_lun, Request, RESP_HEADER_SIZE};
use crate::devices::poll::wait_readable;
use crate::devices::virtio::guard::{Chain, WriteList};
use crate::devices::virtio::slices;
use crate::devices::virtio::{ActiveQueue, Interrupt};

/// Control queue request types (5.6.6.2).
const VIRTIO_SCSI_T_TMF: u32 = 0;
const VIRTIO_SCSI_T_AN_QUERY: u32 = 1;
const VIRTIO_SCSI_T_AN_SUBSCRIBE: u32 = 2;
const VIRTIO_SCSI_S_FUNCTION_COMPLETE: u8 = 0;

pub(crate) struct Worker {
    pub(crate) mem: GuestMemoryMmap,
    pub(crate) control: ActiveQueue,
    pub(crate) event: ActiveQueue,
    pub(crate) request: ActiveQueue,
    pub(crate) luns: Vec<Lun>,
    pub(crate) interrupt: Arc<Interrupt>,
    pub(crate) kill: EventFd,
}

impl Worker {
    /// Serves until `kill` fires; returns the drives for a later activation.
    pub(crate) fn run(mut self) -> Vec<Lun> {
        loop {
            let ready = match wait_readable([
                &self.request.notify,
                &self.control.notify,
                &self.event.notify,
                &self.kill,
            ]) {
                Ok(ready) => ready,
                Err(e) => {
                    tracing::error!("virtio-scsi: poll failed: {e}");
                    return self.luns;
                }
            };
            if ready[3] {
                return self.luns;
            }
            if ready[0] {
                let _ = self.request.notify.read();
                self.process_requests();
            }
            if ready[1] {
                let _ = self.control.notify.read();
                self.process_control();
            }
            if ready[2] {
                // Event buffers are kept for events we never send (no hotplug).
                let _ = self.event.notify.read();
            }
        }
    }

    /// Serves the available request chains, at most a queue size of them
    /// per call (then the worker comes back after its other queues). Public
    /// to the crate so tests can drive it with a mock queue, without a
    /// thread or KVM.
    ///
    /// The guest is asked not to kick while the worker serves the ring
    /// (VRING_USED_F_NO_NOTIFY): requests it queues meanwhile are picked up
    /// by the next pass, each pass ending in one interrupt. Kicks are armed
    /// again before the worker goes back to wait, and the ring looked at
    /// once more, so a request published in between is not left waiting.
    pub(crate) fn process_requests(&mut self) {
        let mem = &self.mem;
        let mut empty_passes = 0;
        loop {
            self.request.queue.suppress_kicks(mem);
            let mut pass = self.request.queue.pass(mem, &self.interrupt);
            let mut served = 0u32;
            while let Some(chain) = pass.pop() {
                let len = handle_command(mem, &chain, &mut self.luns);
                if let Err(e) = pass.add_used(chain, len) {
                    tracing::warn!("virtio-scsi: add_used: {e:?}");
                }
                served += 1;
            }
            let again = pass.exhausted();
            drop(pass);
            if again {
                // Kicks stay off: the worker comes back by itself.
                self.request.kick_again();
                return;
            }
            if !self.request.queue.arm_kicks(mem) {
                return;
            }
            // "More" after arming: a request published while kicks were
            // off (its driver did not kick), served by the next pass. Two
            // passes in a row finding nothing although arming keeps saying
            // "more" is a ring with a bad avail index: wait, armed, rather
            // than spin.
            empty_passes = if served == 0 { empty_passes + 1 } else { 0 };
            if empty_passes == 2 {
                return;
            }
        }
    }

    pub(crate) fn process_control(&mut self) {
        let mem = &self.mem;
        let mut pass = self.control.queue.pass(mem, &self.interrupt);
        while let Some(chain) = pass.pop() {
            let len = match chain_buffers(mem, &chain) {
                Ok((readable, writable)) => control_reply(&readable, &writable),
                Err(e) => {
                    tracing::debug!("virtio-scsi control request: {e}");
                    0
                }
            };
            if let Err(e) = pass.add_used(chain, len) {
                tracing::warn!("virtio-scsi: add_used: {e:?}");
            }
        }
        let again = pass.exhausted();
        drop(pass);
        if again {
            self.control.kick_again();
        }
    }

    /// Write-guard violations on the queues this worker drives.
    #[cfg(test)]
    pub(crate) fn violations(&self) -> u64 {
        self.request.queue.violations() + self.control.queue.violations()
    }
}

/// Parses and executes one command chain; returns the bytes written into it.
pub(crate) fn handle_command(mem: &GuestMemoryMmap, chain: &Chain, luns: &mut [Lun]) -> u32 {
    let (readable, writable) = match chain_buffers(mem, chain) {
        Ok(buffers) => buffers,
        Err(e) => {
            tracing::debug!("virtio-scsi request: {e}");
            return 0;
        }
    };
    let req = match Request::parse(readable, &writable) {
        Ok(req) => req,
        Err(e) => {
            tracing::debug!("virtio-scsi request: {e}");
            return match writable.split_at(RESP_HEADER_SIZE) {
                Some((response, _)) => respond_with(&response, VIRTIO_SCSI_S_FAILURE),
                None => 0,
            };
        }
    };
    match decode_lun(&req.header.lun) {
        Some(addr) => match luns.get_mut(usize::from(addr.target)) {
            Some(lun) if addr.lun == 0 => execute(&req, Some(lun)),
            Some(_) => execute(&req, None),
            None => respond_with(&req.response, VIRTIO_SCSI_S_BAD_TARGET),
        },
        None => respond_with(&req.response, VIRTIO_SCSI_S_BAD_TARGET),
    }
}

/// Task management and async notification: there is nothing to abort (each
/// request completes before the next is read) and no events to report.
fn control_reply(readable: &slices::SliceList<'_>, writable: &WriteList<'_>) -> u32 {
    let mut kind = [0u8; 4];
    if slices::read_into(readable, &mut kind) != 4 {
        return 0;
    }
    match u32::from_le_bytes(kind) {
        VIRTIO_SCSI_T_TMF => writable.write(&[VIRTIO_SCSI_S_FUNCTION_COMPLETE]) as u32,
        VIRTIO_SCSI_T_AN_QUERY | VIRTIO_SCSI_T_AN_SUBSCRIBE => {
            // struct virtio_scsi_ctrl_an_resp: event_actual (none), response OK.
            writable.write(&[0, 0, 0, 0, 0]) as u32
        }
        _ => writable.write(&[VIRTIO_SCSI_S_FAILURE]) as u32,
    }
}
