//! Carrying out one SCSI command against a drive: the CDB decides (see
//! `cdb`), this moves the data between the backend and guest memory and
//! fills in the response.

use std::sync::Arc;

use disk::BlockBackend;
use vm_memory::ByteValued;

use super::cdb::{self, Action, LunInfo};
use super::request::{CmdRespHeader, Request, SENSE_SIZE};
use super::sense::Sense;
use crate::devices::virtio::guard::WriteList;
use crate::devices::virtio::slices;

/// virtio-scsi response codes (5.6.6.1).
pub(crate) const VIRTIO_SCSI_S_OK: u8 = 0;
pub(crate) const VIRTIO_SCSI_S_BAD_TARGET: u8 = 3;
pub(crate) const VIRTIO_SCSI_S_FAILURE: u8 = 9;

/// SAM status CHECK CONDITION.
const CHECK_CONDITION: u8 = 0x02;
/// UNMAP parameter lists are small; a bigger claim is refused, not read.
const MAX_UNMAP_PARAMS: usize = 64 * 1024;

/// One drive as the device sees it.
pub(crate) struct Lun {
    pub(crate) backend: Arc<dyn BlockBackend>,
    pub(crate) info: LunInfo,
    /// What REQUEST SENSE reports: the sense of the last failed command.
    pub(crate) last_sense: Sense,
    /// Whether discards reach the backend (see `vmm::ScsiDisk::unmap`);
    /// if not, they are checked as usual and then succeed without effect.
    pub(crate) unmap: bool,
}

impl Lun {
    pub(crate) fn new(index: u32, backend: Arc<dyn BlockBackend>, unmap: bool) -> Lun {
        let info = LunInfo {
            size_bytes: backend.size(),
            read_only: backend.is_read_only(),
            discard: backend.supports_discard() && !backend.is_read_only(),
            serial: format!("libguest-{index}"),
            index,
        };
        Lun {
            backend,
            info,
            last_sense: Sense::NO_SENSE,
            unmap,
        }
    }
}

/// Runs `req` on `lun` (None: the addressed LUN does not exist) and writes
/// the response header. Returns the bytes written into the chain.
pub(crate) fn execute(req: &Request<'_>, lun: Option<&mut Lun>) -> u32 {
    let (resp, data_in_written) = match lun {
        Some(lun) => run(req, lun),
        None => {
            let absent = LunInfo {
                size_bytes: 0,
                read_only: true,
                discard: false,
                serial: String::new(),
                index: 0,
            };
            let action = cdb::decode(&req.header.cdb, &absent, false, Sense::NO_SENSE);
            match action {
                Action::DataIn(bytes) => data_in(req, &bytes),
                Action::Check(sense) => (check(sense), 0),
                _ => (check(Sense::LUN_NOT_SUPPORTED), 0),
            }
        }
    };
    write_response(req, &resp) + data_in_written
}

/// Writes a response header carrying only a virtio-scsi response code.
pub(crate) fn respond_with(response: &WriteList<'_>, code: u8) -> u32 {
    let resp = CmdRespHeader {
        response: code,
        ..Default::default()
    };
    response.write(resp.as_slice()) as u32
}

fn write_response(req: &Request<'_>, resp: &CmdRespHeader) -> u32 {
    req.response.write(resp.as_slice()) as u32
}

fn good() -> CmdRespHeader {
    CmdRespHeader {
        response: VIRTIO_SCSI_S_OK,
        ..Default::default()
    }
}

fn check(sense: Sense) -> CmdRespHeader {
    let fixed = sense.to_fixed();
    let mut resp = CmdRespHeader {
        status: CHECK_CONDITION,
        sense_len: fixed.len() as u32,
        ..Default::default()
    };
    let n = fixed.len().min(SENSE_SIZE);
    resp.sense[..n].copy_from_slice(&fixed[..n]);
    resp
}

fn with_resid(mut resp: CmdRespHeader, capacity: usize, used: usize) -> CmdRespHeader {
    resp.resid = u32::try_from(capacity.saturating_sub(used)).unwrap_or(u32::MAX);
    resp
}

fn data_in(req: &Request<'_>, bytes: &[u8]) -> (CmdRespHeader, u32) {
    let capacity = req.data_in.len();
    let written = req.data_in.write(bytes);
    (with_resid(good(), capacity, written), written as u32)
}

fn run(req: &Request<'_>, lun: &mut Lun) -> (CmdRespHeader, u32) {
    let action = cdb::decode(&req.header.cdb, &lun.info, true, lun.last_sense);
    let (resp, written) = match perform(req, lun, action) {
        Ok(done) => done,
        Err(sense) => (check(sense), 0),
    };
    lun.last_sense = if resp.status == CHECK_CONDITION {
        Sense::new(resp.sense[2] & 0x0f, resp.sense[12], resp.sense[13])
    } else {
        Sense::NO_SENSE
    };
    (resp, written)
}

fn perform(
    req: &Request<'_>,
    lun: &mut Lun,
    action: Action,
) -> Result<(CmdRespHeader, u32), Sense> {
    let backend = &lun.backend;
    match action {
        Action::DataIn(bytes) => Ok(data_in(req, &bytes)),
        Action::Good => Ok((good(), 0)),
        Action::Check(sense) => Err(sense),
        Action::Read { offset, len } => {
            let capacity = req.data_in.len();
            let len = transfer_len(capacity, len)?;
            let bufs = req.data_in.truncate(len);
            // None only if the write guard refused the buffers.
            let io = bufs.for_io().ok_or(Sense::UNRECOVERED_READ_ERROR)?;
            backend.read_vectored(offset, io).map_err(|e| {
                tracing::warn!("read of {len} bytes at {offset}: {e}");
                Sense::UNRECOVERED_READ_ERROR
            })?;
            Ok((with_resid(good(), capacity, len), len as u32))
        }
        Action::Write { offset, len, fua } => {
            let have = slices::total_len(&req.data_out).unwrap_or(0);
            let len = transfer_len(have, len)?;
            let bufs = slices::truncate(&req.data_out, len);
            backend.write_vectored(offset, &bufs).map_err(|e| {
                tracing::warn!("write of {len} bytes at {offset}: {e}");
                Sense::WRITE_ERROR
            })?;
            if fua {
                backend.flush().map_err(|_| Sense::WRITE_ERROR)?;
            }
            Ok((good(), 0))
        }
        Action::Flush => {
            backend.flush().map_err(|_| Sense::WRITE_ERROR)?;
            Ok((good(), 0))
        }
        Action::Unmap { param_len } => {
            let len = param_len as usize;
            if len > MAX_UNMAP_PARAMS || slices::total_len(&req.data_out).unwrap_or(0) < len {
                return Err(Sense::PARAMETER_LIST_LENGTH_ERROR);
            }
            let mut params = vec![0u8; len];
            slices::read_into(&req.data_out, &mut params);
            for (offset, len) in cdb::parse_unmap_parameters(&params, &lun.info)? {
                if lun.unmap {
                    discard(backend.as_ref(), offset, len)?;
                }
            }
            Ok((good(), 0))
        }
        Action::Discard { offset, len } => {
            if lun.unmap {
                discard(backend.as_ref(), offset, len)?;
            }
            Ok((good(), 0))
        }
    }
}

fn discard(backend: &dyn BlockBackend, offset: u64, len: u64) -> Result<(), Sense> {
    backend.discard(offset, len).map_err(|e| {
        tracing::warn!("discard of {len} bytes at {offset}: {e}");
        Sense::WRITE_ERROR
    })
}

/// The transfer must fit the guest's buffers; a shorter buffer than the
/// CDB asks for is a malformed request, not a partial transfer.
fn transfer_len(have: usize, len: u64) -> Result<usize, Sense> {
    if len > have as u64 {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    usize::try_from(len).map_err(|_| Sense::INVALID_FIELD_IN_CDB)
}
