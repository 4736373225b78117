//! Parsing one virtio-scsi request chain: header, data-out, response and
//! data-in regions, as slices of guest memory. Parsing is apart from I/O so
//! it can be tested and fuzzed without KVM or disks.

use vm_memory::{ByteValued, GuestMemoryMmap};

use crate::devices::virtio::guard::{Chain, WriteList};
use crate::devices::virtio::slices::{self, SliceList};

pub(crate) const CDB_SIZE: usize = 32;
pub(crate) const SENSE_SIZE: usize = 96;

/// struct virtio_scsi_cmd_req with cdb_size = 32.
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub(crate) struct CmdReqHeader {
    pub(crate) lun: [u8; 8],
    pub(crate) tag: u64,
    pub(crate) task_attr: u8,
    pub(crate) prio: u8,
    pub(crate) crn: u8,
    pub(crate) cdb: [u8; CDB_SIZE],
}

/// struct virtio_scsi_cmd_resp with sense_size = 96.
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub(crate) struct CmdRespHeader {
    pub(crate) sense_len: u32,
    pub(crate) resid: u32,
    pub(crate) status_qualifier: u16,
    pub(crate) status: u8,
    pub(crate) response: u8,
    pub(crate) sense: [u8; SENSE_SIZE],
}

impl Default for CmdRespHeader {
    fn default() -> Self {
        CmdRespHeader {
            sense_len: 0,
            resid: 0,
            status_qualifier: 0,
            status: 0,
            response: 0,
            sense: [0; SENSE_SIZE],
        }
    }
}

// SAFETY: both are packed structs of integers and byte arrays: every bit
// pattern is valid and there is no padding.
unsafe impl ByteValued for CmdReqHeader {}
// SAFETY: as above.
unsafe impl ByteValued for CmdRespHeader {}

pub(crate) const REQ_HEADER_SIZE: usize = std::mem::size_of::<CmdReqHeader>();
pub(crate) const RESP_HEADER_SIZE: usize = std::mem::size_of::<CmdRespHeader>();

/// Why a chain is not a usable request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RequestError {
    #[error("descriptor points outside guest memory")]
    BadAddress,
    #[error("device-readable descriptor after a device-writable one")]
    WrongDirection,
    #[error("request header shorter than {REQ_HEADER_SIZE} bytes")]
    ShortHeader,
    #[error("response buffer shorter than {RESP_HEADER_SIZE} bytes")]
    ShortResponse,
    #[error("descriptor lengths overflow")]
    TooLong,
}

/// A request whose buffers are still in guest memory.
pub(crate) struct Request<'a> {
    pub(crate) header: CmdReqHeader,
    pub(crate) data_out: SliceList<'a>,
    pub(crate) response: WriteList<'a>,
    pub(crate) data_in: WriteList<'a>,
}

/// The readable and writable buffers of a chain, in order. The spec puts
/// every device-readable descriptor before the device-writable ones.
pub(crate) fn chain_buffers<'a>(
    mem: &'a GuestMemoryMmap,
    chain: &Chain,
) -> Result<(SliceList<'a>, WriteList<'a>), RequestError> {
    let descs = chain.descriptors();
    if let Some(first_writable) = descs.iter().position(|d| d.writable) {
        if descs[first_writable..].iter().any(|d| !d.writable) {
            return Err(RequestError::WrongDirection);
        }
    }
    let readable = chain.readable(mem).map_err(|_| RequestError::BadAddress)?;
    let writable = chain.writable(mem).map_err(|_| RequestError::BadAddress)?;
    if slices::total_len(&readable).is_none() {
        return Err(RequestError::TooLong);
    }
    Ok((readable, writable))
}

impl<'a> Request<'a> {
    /// Splits a command chain. On error the caller still gets the writable
    /// buffers, to answer in the response header if it fits.
    pub(crate) fn parse(
        readable: SliceList<'a>,
        writable: &WriteList<'a>,
    ) -> Result<Request<'a>, RequestError> {
        let (header_bytes, data_out) =
            slices::split_at(&readable, REQ_HEADER_SIZE).ok_or(RequestError::ShortHeader)?;
        let (response, data_in) = writable
            .split_at(RESP_HEADER_SIZE)
            .ok_or(RequestError::ShortResponse)?;
        let mut header = CmdReqHeader {
            lun: [0; 8],
            tag: 0,
            task_attr: 0,
            prio: 0,
            crn: 0,
            cdb: [0; CDB_SIZE],
        };
        if slices::read_into(&header_bytes, header.as_mut_slice()) != REQ_HEADER_SIZE {
            return Err(RequestError::BadAddress);
        }
        Ok(Request {
            header,
            data_out,
            response,
            data_in,
        })
    }
}

/// Where a request's LUN field points (virtio-scsi 5.6.6.1: byte 0 is 1,
/// byte 1 the target, bytes 2-3 the LUN in flat/peripheral format).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Address {
    pub(crate) target: u8,
    pub(crate) lun: u16,
}

pub(crate) fn decode_lun(lun: &[u8; 8]) -> Option<Address> {
    if lun[0] != 1 || lun[4..].iter().any(|&b| b != 0) {
        return None;
    }
    Some(Address {
        target: lun[1],
        lun: u16::from_be_bytes([lun[2], lun[3]]) & 0x3fff,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_sizes_match_the_spec() {
        assert_eq!(REQ_HEADER_SIZE, 51);
        assert_eq!(RESP_HEADER_SIZE, 108);
    }

    #[test]
    fn lun_decoding() {
        assert_eq!(
            decode_lun(&[1, 2, 0x40, 0, 0, 0, 0, 0]),
            Some(Address { target: 2, lun: 0 })
        );
        assert_eq!(
            decode_lun(&[1, 0, 0x40, 5, 0, 0, 0, 0]),
            Some(Address { target: 0, lun: 5 })
        );
        assert_eq!(decode_lun(&[0, 0, 0, 0, 0, 0, 0, 0]), None);
        assert_eq!(decode_lun(&[1, 0, 0, 0, 0, 0, 0, 1]), None);
    }
}
