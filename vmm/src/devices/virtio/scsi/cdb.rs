//! What a SCSI command means (SPC-4 / SBC-4), decided from the CDB bytes
//! alone: no I/O here, so every path can be unit-tested and fuzzed.
//!
//! The guest is untrusted: any CDB (any length, any bytes) yields an
//! `Action`; arithmetic is checked; what is built is small and bounded, then
//! truncated to the CDB's allocation length.

use super::sense::Sense;

/// What the device knows about one logical unit (one drive).
#[derive(Debug, Clone)]
pub(crate) struct LunInfo {
    /// Disk size; capacity = size_bytes / 512 blocks.
    pub size_bytes: u64,
    pub read_only: bool,
    /// Thin provisioning: UNMAP / WRITE SAME(16) UNMAP supported.
    pub discard: bool,
    /// Unit serial number (VPD 0x80); sanitized to printable ASCII and capped.
    pub serial: String,
    /// Drive index (target number), used for the VPD 0x83 identifier.
    pub index: u32,
}

pub(crate) const BLOCK_SIZE: u64 = 512;

/// Largest READ/WRITE, in blocks (8 MiB), as advertised in VPD 0xb0.
pub(crate) const MAX_TRANSFER_BLOCKS: u32 = (8 << 20) / BLOCK_SIZE as u32;
/// UNMAP limits advertised in VPD 0xb0 and enforced by `parse_unmap_parameters`.
pub(crate) const MAX_UNMAP_DESCRIPTORS: u32 = 256;
pub(crate) const MAX_UNMAP_BLOCKS: u32 = 1 << 22; // 2 GiB per command
/// WRITE SAME(16) limit (VPD 0xb0 MAXIMUM WRITE SAME LENGTH).
pub(crate) const MAX_WRITE_SAME_BLOCKS: u32 = 1 << 22;
/// Longest serial number reported (VPD 0x80, 0x83).
const MAX_SERIAL_LEN: usize = 64;

const VENDOR: &[u8; 8] = b"LIBGUEST";
const PRODUCT: &[u8; 16] = b"APPLIANCE DISK  ";
const REVISION: &[u8; 4] = b"0001";
/// Peripheral qualifier 3, device type 0x1f: no logical unit here.
const NO_DEVICE: u8 = 0x7f;

/// The device's next step for one CDB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Return these bytes as data-in (already truncated to the allocation length), status GOOD.
    DataIn(Vec<u8>),
    /// No data transfer, status GOOD.
    Good,
    /// Read `len` bytes at byte `offset` into the data-in buffers.
    Read { offset: u64, len: u64 },
    /// Write `len` bytes from the data-out buffers at byte `offset`; `fua`: flush after.
    Write { offset: u64, len: u64, fua: bool },
    /// SYNCHRONIZE CACHE(10/16).
    Flush,
    /// UNMAP: the parameter list (`param_len` bytes) comes in the data-out buffers.
    Unmap { param_len: u32 },
    /// WRITE SAME(16) with the UNMAP bit: deallocate [offset, offset+len).
    Discard { offset: u64, len: u64 },
    /// CHECK CONDITION with this sense.
    Check(Sense),
}

mod op {
    pub const TEST_UNIT_READY: u8 = 0x00;
    pub const REQUEST_SENSE: u8 = 0x03;
    pub const READ_6: u8 = 0x08;
    pub const WRITE_6: u8 = 0x0a;
    pub const INQUIRY: u8 = 0x12;
    pub const MODE_SENSE_6: u8 = 0x1a;
    pub const READ_CAPACITY_10: u8 = 0x25;
    pub const READ_10: u8 = 0x28;
    pub const WRITE_10: u8 = 0x2a;
    pub const SYNCHRONIZE_CACHE_10: u8 = 0x35;
    pub const UNMAP: u8 = 0x42;
    pub const MODE_SENSE_10: u8 = 0x5a;
    pub const READ_16: u8 = 0x88;
    pub const WRITE_16: u8 = 0x8a;
    pub const SYNCHRONIZE_CACHE_16: u8 = 0x91;
    pub const WRITE_SAME_16: u8 = 0x93;
    pub const SERVICE_ACTION_IN_16: u8 = 0x9e;
    pub const REPORT_LUNS: u8 = 0xa0;
    pub const READ_12: u8 = 0xa8;
    pub const WRITE_12: u8 = 0xaa;
}
const SAI_READ_CAPACITY_16: u8 = 0x10;

type Result<T> = std::result::Result<T, Sense>;

/// Decides what to do with `cdb`. A CDB shorter than its opcode's length gets
/// INVALID_FIELD_IN_CDB. `lun_present` = false: only INQUIRY (which reports
/// "no device") and REPORT LUNS work, the rest gets LUN_NOT_SUPPORTED.
/// `last_sense` is what REQUEST SENSE returns.
pub(crate) fn decode(cdb: &[u8], lun: &LunInfo, lun_present: bool, last_sense: Sense) -> Action {
    match decode_inner(cdb, lun, lun_present, last_sense) {
        Ok(action) => action,
        Err(sense) => Action::Check(sense),
    }
}

fn decode_inner(cdb: &[u8], lun: &LunInfo, present: bool, last_sense: Sense) -> Result<Action> {
    let Some(&opcode) = cdb.first() else {
        return Err(Sense::INVALID_OPCODE);
    };
    if !present && opcode != op::INQUIRY && opcode != op::REPORT_LUNS {
        return Err(Sense::LUN_NOT_SUPPORTED);
    }
    match opcode {
        op::TEST_UNIT_READY => need(cdb, 6).map(|_| Action::Good),
        op::REQUEST_SENSE => {
            need(cdb, 6)?;
            if cdb[1] & 0x01 != 0 {
                return Err(Sense::INVALID_FIELD_IN_CDB); // descriptor format: unsupported
            }
            Ok(data_in(last_sense.to_fixed().to_vec(), cdb[4].into()))
        }
        op::INQUIRY => inquiry(cdb, lun, present),
        op::REPORT_LUNS => report_luns(cdb),
        op::READ_CAPACITY_10 => read_capacity_10(cdb, lun),
        op::SERVICE_ACTION_IN_16 => {
            need(cdb, 16)?;
            if cdb[1] & 0x1f != SAI_READ_CAPACITY_16 {
                return Err(Sense::INVALID_FIELD_IN_CDB);
            }
            Ok(data_in(read_capacity_16(lun), be(&cdb[10..14])))
        }
        op::MODE_SENSE_6 | op::MODE_SENSE_10 => mode_sense(cdb, lun),
        op::READ_6 | op::READ_10 | op::READ_12 | op::READ_16 => read_write(cdb, lun, false),
        op::WRITE_6 | op::WRITE_10 | op::WRITE_12 | op::WRITE_16 => read_write(cdb, lun, true),
        op::SYNCHRONIZE_CACHE_10 => need(cdb, 10).map(|_| Action::Flush),
        op::SYNCHRONIZE_CACHE_16 => need(cdb, 16).map(|_| Action::Flush),
        op::UNMAP => {
            need(cdb, 10)?;
            if !lun.discard {
                return Err(Sense::INVALID_OPCODE);
            }
            if lun.read_only {
                return Err(Sense::WRITE_PROTECTED);
            }
            if cdb[1] & 0x01 != 0 {
                return Err(Sense::INVALID_FIELD_IN_CDB); // ANCHOR: ANC_SUP is 0
            }
            match be(&cdb[7..9]) as u32 {
                0 => Ok(Action::Good),
                param_len => Ok(Action::Unmap { param_len }),
            }
        }
        op::WRITE_SAME_16 => write_same_16(cdb, lun),
        _ => Err(Sense::INVALID_OPCODE),
    }
}

/// The CDB must hold at least `len` bytes.
fn need(cdb: &[u8], len: usize) -> Result<()> {
    if cdb.len() < len {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    Ok(())
}

/// Big-endian unsigned integer of up to 8 bytes.
fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

fn data_in(mut bytes: Vec<u8>, alloc_len: u64) -> Action {
    bytes.truncate(usize::try_from(alloc_len).unwrap_or(usize::MAX));
    Action::DataIn(bytes)
}

fn capacity(lun: &LunInfo) -> u64 {
    lun.size_bytes / BLOCK_SIZE
}

/// [lba, lba + blocks) must lie within the disk; returns it in bytes.
fn byte_range(lun: &LunInfo, lba: u64, blocks: u64) -> Result<(u64, u64)> {
    match lba.checked_add(blocks) {
        Some(end) if end <= capacity(lun) => {}
        _ => return Err(Sense::LBA_OUT_OF_RANGE),
    }
    // Within capacity, so within size_bytes: these cannot overflow.
    let offset = lba.checked_mul(BLOCK_SIZE).ok_or(Sense::LBA_OUT_OF_RANGE)?;
    let len = blocks
        .checked_mul(BLOCK_SIZE)
        .ok_or(Sense::LBA_OUT_OF_RANGE)?;
    Ok((offset, len))
}

fn inquiry(cdb: &[u8], lun: &LunInfo, present: bool) -> Result<Action> {
    need(cdb, 6)?;
    let evpd = cdb[1] & 0x01 != 0;
    let page = cdb[2];
    if cdb[1] & 0x02 != 0 || (!evpd && page != 0) {
        return Err(Sense::INVALID_FIELD_IN_CDB); // CMDDT, or a page without EVPD
    }
    let mut data = if evpd {
        vpd_page(page, lun)?
    } else {
        let mut d = vec![0u8; 36];
        d[2] = 0x06; // SPC-4
        d[3] = 0x12; // HISUP, response data format 2
        d[4] = 36 - 5;
        d[7] = 0x02; // CMDQUE
        d[8..16].copy_from_slice(VENDOR);
        d[16..32].copy_from_slice(PRODUCT);
        d[32..36].copy_from_slice(REVISION);
        d
    };
    if !present {
        data[0] = NO_DEVICE;
    }
    Ok(data_in(data, be(&cdb[3..5])))
}

/// The serial as printable ASCII, at most MAX_SERIAL_LEN bytes.
fn serial(lun: &LunInfo) -> Vec<u8> {
    let s = lun.serial.bytes().filter(|b| (0x20..0x7f).contains(b));
    s.take(MAX_SERIAL_LEN).collect()
}

/// A VPD page: 4-byte header (device type 0, page code, page length), then `body`.
fn vpd(page: u8, body: &[u8]) -> Vec<u8> {
    let len = body.len() as u16; // bodies are at most a few hundred bytes
    let mut v = vec![0, page, (len >> 8) as u8, len as u8];
    v.extend_from_slice(body);
    v
}

fn put_u32(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

fn vpd_page(page: u8, lun: &LunInfo) -> Result<Vec<u8>> {
    Ok(match page {
        0x00 => vpd(page, &[0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2]),
        0x80 => vpd(page, &serial(lun)),
        0x83 => {
            // T10 vendor ID designator: ASCII, LU association, type 1.
            let mut t10 = VENDOR.to_vec();
            t10.extend_from_slice(&serial(lun));
            let mut body = vec![0x02, 0x01, 0x00, t10.len() as u8];
            body.extend_from_slice(&t10);
            // NAA designator: binary, LU association, type 3; NAA 3 = locally assigned.
            let naa = (0x3u64 << 60) | (0x4c_4755u64 << 32) | u64::from(lun.index);
            body.extend_from_slice(&[0x01, 0x03, 0x00, 0x08]);
            body.extend_from_slice(&naa.to_be_bytes());
            vpd(page, &body)
        }
        0xb0 => {
            let mut b = [0u8; 0x3c];
            b[0] = 0x01; // WSNZ: WRITE SAME with zero blocks is refused
            put_u32(&mut b, 4, MAX_TRANSFER_BLOCKS); // maximum transfer length
            put_u32(&mut b, 8, MAX_TRANSFER_BLOCKS); // optimal transfer length
            if lun.discard {
                put_u32(&mut b, 16, MAX_UNMAP_BLOCKS);
                put_u32(&mut b, 20, MAX_UNMAP_DESCRIPTORS);
                put_u32(&mut b, 24, 8); // optimal unmap granularity: 4 KiB
                b[32..40].copy_from_slice(&u64::from(MAX_WRITE_SAME_BLOCKS).to_be_bytes());
            }
            vpd(page, &b)
        }
        0xb1 => {
            let mut b = [0u8; 0x3c];
            b[1] = 0x01; // medium rotation rate 1: non-rotating
            vpd(page, &b)
        }
        0xb2 => {
            let mut b = [0u8; 4];
            if lun.discard {
                // LBPU, LBPWS. No LBPRZ: a block device's BLKDISCARD need not zero,
                // so the guest must not use discard to write zeroes.
                b[1] = 0x80 | 0x40;
                b[2] = 0x02; // provisioning type: thin
            }
            vpd(page, &b)
        }
        _ => return Err(Sense::INVALID_FIELD_IN_CDB),
    })
}

fn report_luns(cdb: &[u8]) -> Result<Action> {
    need(cdb, 12)?;
    let alloc = be(&cdb[6..10]);
    if alloc < 16 {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    let mut data = vec![0u8; 16]; // list length 8, then LUN 0
    match cdb[2] {
        0x00 | 0x02 => data[3] = 8,
        0x01 => data.truncate(8), // well-known LUs only: none
        _ => return Err(Sense::INVALID_FIELD_IN_CDB),
    }
    Ok(data_in(data, alloc))
}

fn last_lba(lun: &LunInfo) -> u64 {
    capacity(lun).saturating_sub(1)
}

fn read_capacity_10(cdb: &[u8], lun: &LunInfo) -> Result<Action> {
    need(cdb, 10)?;
    if cdb[8] & 0x01 == 0 && be(&cdb[2..6]) != 0 {
        return Err(Sense::INVALID_FIELD_IN_CDB); // LBA given without PMI
    }
    let mut d = vec![0u8; 8];
    put_u32(&mut d, 0, u32::try_from(last_lba(lun)).unwrap_or(u32::MAX));
    put_u32(&mut d, 4, BLOCK_SIZE as u32);
    Ok(Action::DataIn(d))
}

fn read_capacity_16(lun: &LunInfo) -> Vec<u8> {
    let mut d = vec![0u8; 32];
    d[0..8].copy_from_slice(&last_lba(lun).to_be_bytes());
    put_u32(&mut d, 8, BLOCK_SIZE as u32);
    if lun.discard {
        d[14] = 0x80; // LBPME (no LBPRZ, see VPD 0xb2)
    }
    d
}

fn read_write(cdb: &[u8], lun: &LunInfo, write: bool) -> Result<Action> {
    let (lba, blocks) = match cdb[0] {
        op::READ_6 | op::WRITE_6 => {
            need(cdb, 6)?;
            let blocks = if cdb[4] == 0 { 256 } else { u64::from(cdb[4]) };
            (be(&cdb[1..4]) & 0x1f_ffff, blocks)
        }
        op::READ_10 | op::WRITE_10 => need(cdb, 10).map(|_| (be(&cdb[2..6]), be(&cdb[7..9])))?,
        op::READ_12 | op::WRITE_12 => need(cdb, 12).map(|_| (be(&cdb[2..6]), be(&cdb[6..10])))?,
        _ => need(cdb, 16).map(|_| (be(&cdb[2..10]), be(&cdb[10..14])))?,
    };
    let six = matches!(cdb[0], op::READ_6 | op::WRITE_6);
    // RDPROTECT / WRPROTECT: there is no protection information.
    if !six && cdb[1] & 0xe0 != 0 {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    if blocks > u64::from(MAX_TRANSFER_BLOCKS) {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    if write && lun.read_only {
        return Err(Sense::WRITE_PROTECTED);
    }
    let (offset, len) = byte_range(lun, lba, blocks)?;
    Ok(match (len, write) {
        (0, _) => Action::Good,
        (_, false) => Action::Read { offset, len },
        (_, true) => Action::Write {
            offset,
            len,
            fua: !six && cdb[1] & 0x08 != 0,
        },
    })
}

fn write_same_16(cdb: &[u8], lun: &LunInfo) -> Result<Action> {
    need(cdb, 16)?;
    // Only the UNMAP form, no WRPROTECT, no ANCHOR.
    if cdb[1] & 0x08 == 0 || cdb[1] & 0xf0 != 0 || !lun.discard {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    if lun.read_only {
        return Err(Sense::WRITE_PROTECTED);
    }
    let blocks = be(&cdb[10..14]);
    if blocks == 0 || blocks > u64::from(MAX_WRITE_SAME_BLOCKS) {
        return Err(Sense::INVALID_FIELD_IN_CDB); // WSNZ is set
    }
    let (offset, len) = byte_range(lun, be(&cdb[2..10]), blocks)?;
    Ok(Action::Discard { offset, len })
}

/// Mode pages, in ascending order for page 0x3f; `changeable`: the masks (all zero).
fn mode_page(page: u8, changeable: bool) -> Option<Vec<u8>> {
    let mut p = match page {
        0x08 => {
            let mut p = vec![0u8; 20]; // caching
            p[2] = 0x04; // WCE
            p
        }
        0x0a => vec![0u8; 12], // control: all defaults
        0x3f => {
            let mut all = mode_page(0x08, changeable)?;
            all.extend(mode_page(0x0a, changeable)?);
            return Some(all);
        }
        _ => return None,
    };
    p[0] = page;
    p[1] = (p.len() - 2) as u8;
    if changeable {
        p[2..].fill(0);
    }
    Some(p)
}

fn mode_sense(cdb: &[u8], lun: &LunInfo) -> Result<Action> {
    let ten = cdb[0] == op::MODE_SENSE_10;
    need(cdb, if ten { 10 } else { 6 })?;
    let dbd = cdb[1] & 0x08 != 0;
    let long_lba = ten && cdb[1] & 0x10 != 0;
    let (pc, page, subpage) = (cdb[2] >> 6, cdb[2] & 0x3f, cdb[3]);
    if pc == 3 {
        return Err(Sense::SAVING_PARAMETERS_NOT_SUPPORTED);
    }
    if !(subpage == 0 || (page == 0x3f && subpage == 0xff)) {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    let pages = mode_page(page, pc == 1).ok_or(Sense::INVALID_FIELD_IN_CDB)?;
    let blocks = capacity(lun);
    let block_desc = match (dbd, long_lba) {
        (true, _) => vec![],
        (false, false) => {
            let mut d = vec![0u8; 8];
            put_u32(&mut d, 0, u32::try_from(blocks).unwrap_or(u32::MAX));
            put_u32(&mut d, 4, BLOCK_SIZE as u32); // byte 4 reserved, 5..8 length
            d
        }
        (false, true) => {
            let mut d = vec![0u8; 16];
            d[0..8].copy_from_slice(&blocks.to_be_bytes());
            put_u32(&mut d, 12, BLOCK_SIZE as u32);
            d
        }
    };
    // Device-specific parameter: WP, DPOFUA.
    let dev_spec = 0x10 | if lun.read_only { 0x80 } else { 0 };
    let mut data = if ten {
        vec![
            0,
            0,
            0,
            dev_spec,
            u8::from(long_lba),
            0,
            0,
            block_desc.len() as u8,
        ]
    } else {
        vec![0, 0, dev_spec, block_desc.len() as u8]
    };
    data.extend(block_desc);
    data.extend(pages);
    // Mode data length excludes itself; everything here is < 100 bytes.
    let alloc = if ten {
        let n = (data.len() - 2) as u16;
        data[0..2].copy_from_slice(&n.to_be_bytes());
        be(&cdb[7..9])
    } else {
        data[0] = (data.len() - 1) as u8;
        u64::from(cdb[4])
    };
    Ok(data_in(data, alloc))
}

/// Parses an UNMAP parameter list (SBC-4 5.30) into (byte offset, byte length)
/// ranges; zero-length descriptors are skipped, an incomplete last one is ignored.
pub(crate) fn parse_unmap_parameters(data: &[u8], lun: &LunInfo) -> Result<Vec<(u64, u64)>> {
    if data.len() < 8 {
        return Err(Sense::PARAMETER_LIST_LENGTH_ERROR);
    }
    let unmap_len = be(&data[0..2]) as usize;
    let desc_len = be(&data[2..4]) as usize;
    if unmap_len + 2 > data.len() || desc_len + 8 > data.len() {
        return Err(Sense::PARAMETER_LIST_LENGTH_ERROR);
    }
    let count = desc_len / 16;
    if count > MAX_UNMAP_DESCRIPTORS as usize {
        return Err(Sense::INVALID_FIELD_IN_PARAMETER_LIST);
    }
    let mut ranges = Vec::with_capacity(count);
    let mut total: u64 = 0;
    for d in data[8..8 + count * 16].chunks_exact(16) {
        let blocks = be(&d[8..12]);
        total += blocks; // at most 256 * u32::MAX: no overflow
        if total > u64::from(MAX_UNMAP_BLOCKS) {
            return Err(Sense::INVALID_FIELD_IN_PARAMETER_LIST);
        }
        let range = byte_range(lun, be(&d[0..8]), blocks)?;
        if blocks != 0 {
            ranges.push(range);
        }
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCKS: u64 = 1000;

    fn lun() -> LunInfo {
        LunInfo {
            size_bytes: BLOCKS * 512 + 100, // a partial last block is not addressable
            read_only: false,
            discard: true,
            serial: "libguest-0".into(),
            index: 7,
        }
    }

    fn ro() -> LunInfo {
        LunInfo {
            read_only: true,
            discard: false,
            ..lun()
        }
    }

    fn dec(cdb: &[u8], l: &LunInfo) -> Action {
        decode(cdb, l, true, Sense::NO_SENSE)
    }

    fn data(a: Action) -> Vec<u8> {
        match a {
            Action::DataIn(d) => d,
            other => panic!("expected DataIn, got {other:?}"),
        }
    }

    fn check(a: Action) -> Sense {
        match a {
            Action::Check(s) => s,
            other => panic!("expected Check, got {other:?}"),
        }
    }

    fn inquiry(evpd: bool, page: u8, alloc: u16) -> [u8; 6] {
        let a = alloc.to_be_bytes();
        [0x12, u8::from(evpd), page, a[0], a[1], 0]
    }

    fn vpd(page: u8, l: &LunInfo) -> Vec<u8> {
        let d = data(dec(&inquiry(true, page, 0xffff), l));
        assert_eq!(d[1], page);
        assert_eq!(be(&d[2..4]) as usize, d.len() - 4, "page {page:#x} length");
        d
    }

    fn rw16(opcode: u8, flags: u8, lba: u64, blocks: u32) -> [u8; 16] {
        let mut c = [0u8; 16];
        c[0] = opcode;
        c[1] = flags;
        c[2..10].copy_from_slice(&lba.to_be_bytes());
        c[10..14].copy_from_slice(&blocks.to_be_bytes());
        c
    }

    fn rw10(opcode: u8, flags: u8, lba: u32, blocks: u16) -> [u8; 10] {
        let mut c = [0u8; 10];
        c[0] = opcode;
        c[1] = flags;
        c[2..6].copy_from_slice(&lba.to_be_bytes());
        c[7..9].copy_from_slice(&blocks.to_be_bytes());
        c
    }

    fn rw12(opcode: u8, flags: u8, lba: u32, blocks: u32) -> [u8; 12] {
        let mut c = [0u8; 12];
        c[0] = opcode;
        c[1] = flags;
        c[2..6].copy_from_slice(&lba.to_be_bytes());
        c[6..10].copy_from_slice(&blocks.to_be_bytes());
        c
    }

    #[test]
    fn empty_and_unknown_opcodes() {
        assert_eq!(check(dec(&[], &lun())), Sense::INVALID_OPCODE);
        for opc in [0x01, 0x1b, 0x1e, 0x2f, 0x41, 0x85, 0xa1, 0xa3, 0xff] {
            assert_eq!(check(dec(&[opc; 16], &lun())), Sense::INVALID_OPCODE);
        }
    }

    #[test]
    fn test_unit_ready() {
        assert_eq!(dec(&[0; 6], &lun()), Action::Good);
        assert_eq!(dec(&[0; 6], &ro()), Action::Good);
    }

    #[test]
    fn inquiry_standard() {
        let d = data(dec(&inquiry(false, 0, 255), &lun()));
        assert_eq!(d.len(), 36);
        assert_eq!(d[0], 0x00);
        assert_eq!(d[2], 0x06);
        assert_eq!(d[3] & 0x0f, 2);
        assert_eq!(d[4] as usize, d.len() - 5);
        assert_eq!(d[7] & 0x02, 0x02);
        assert_eq!(&d[8..16], b"LIBGUEST");
        assert_eq!(&d[16..32], b"APPLIANCE DISK  ");
        assert_eq!(&d[32..36], b"0001");
        assert_eq!(data(dec(&inquiry(false, 0, 5), &lun())), d[..5].to_vec());
        assert_eq!(data(dec(&inquiry(false, 0, 0), &lun())), Vec::<u8>::new());
    }

    #[test]
    fn inquiry_bad_fields() {
        let bad = Sense::INVALID_FIELD_IN_CDB;
        assert_eq!(check(dec(&inquiry(false, 0x80, 255), &lun())), bad);
        for page in [0x01, 0x81, 0x86, 0x89, 0xb3, 0xff] {
            assert_eq!(check(dec(&inquiry(true, page, 255), &lun())), bad);
        }
        assert_eq!(check(dec(&[0x12, 0x02, 0, 0, 255, 0], &lun())), bad); // CMDDT
    }

    #[test]
    fn vpd_supported_pages_and_truncation() {
        let d = vpd(0x00, &lun());
        assert_eq!(&d[4..], &[0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2]);
        for page in [0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2] {
            let full = vpd(page, &lun());
            for alloc in [0u16, 1, 3, 4, 7] {
                let d = data(dec(&inquiry(true, page, alloc), &lun()));
                assert_eq!(d, full[..full.len().min(alloc as usize)].to_vec());
            }
        }
    }

    #[test]
    fn vpd_serial_is_sanitized_and_capped() {
        assert_eq!(&vpd(0x80, &lun())[4..], b"libguest-0");
        let l = LunInfo {
            serial: "a\u{1}b\u{e9}c\n".into(),
            ..lun()
        };
        assert_eq!(&vpd(0x80, &l)[4..], b"abc");
        let l = LunInfo {
            serial: "x".repeat(10_000),
            ..lun()
        };
        assert_eq!(vpd(0x80, &l).len(), 4 + MAX_SERIAL_LEN);
        assert!(vpd(0x83, &l).len() < 255);
    }

    #[test]
    fn vpd_device_identification() {
        let d = vpd(0x83, &lun());
        let mut i = 4;
        let mut found = Vec::new();
        while i < d.len() {
            let len = d[i + 3] as usize;
            found.push((d[i] & 0x0f, d[i + 1], d[i + 4..i + 4 + len].to_vec()));
            i += 4 + len;
        }
        assert_eq!(i, d.len());
        assert_eq!(found[0], (2, 0x01, b"LIBGUESTlibguest-0".to_vec()));
        assert_eq!((found[1].0, found[1].1), (1, 0x03));
        assert_eq!(found[1].2.len(), 8);
        assert_eq!(found[1].2[0] >> 4, 3); // NAA locally assigned
        assert_eq!(be(&found[1].2[4..8]), 7); // the index
        let other = vpd(0x83, &LunInfo { index: 8, ..lun() });
        assert_ne!(d, other);
    }

    #[test]
    fn vpd_block_limits() {
        let d = vpd(0xb0, &lun());
        assert_eq!(d.len(), 64);
        assert_eq!(be(&d[8..12]), 16384); // max transfer: 8 MiB
        assert_eq!(be(&d[12..16]), 16384);
        assert_eq!(be(&d[20..24]), u64::from(MAX_UNMAP_BLOCKS));
        assert_eq!(be(&d[24..28]), 256);
        assert_eq!(be(&d[36..44]), u64::from(MAX_WRITE_SAME_BLOCKS));
        let d = vpd(0xb0, &ro());
        assert_eq!(be(&d[8..12]), 16384);
        assert_eq!(be(&d[20..28]), 0);
        assert_eq!(be(&d[36..44]), 0);
    }

    #[test]
    fn vpd_characteristics_and_provisioning() {
        let d = vpd(0xb1, &lun());
        assert_eq!(d.len(), 64);
        assert_eq!(be(&d[4..6]), 1);
        let d = vpd(0xb2, &lun());
        assert_eq!(d.len(), 8);
        assert_eq!(d[5] & 0xc0, 0xc0); // LBPU, LBPWS
        assert_eq!(d[6] & 0x07, 2); // thin
        let d = vpd(0xb2, &ro());
        assert_eq!((d[5], d[6]), (0, 0));
    }

    #[test]
    fn report_luns() {
        let mut c = [0u8; 12];
        c[0] = 0xa0;
        c[9] = 255;
        let d = data(dec(&c, &lun()));
        assert_eq!(d, [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        c[9] = 16;
        assert_eq!(data(dec(&c, &lun())).len(), 16);
        c[9] = 15;
        assert_eq!(check(dec(&c, &lun())), Sense::INVALID_FIELD_IN_CDB);
        c[6] = 1; // huge allocation length: still 16 bytes
        assert_eq!(data(dec(&c, &lun())), d);
        c[2] = 1;
        assert_eq!(data(dec(&c, &lun())), vec![0u8; 8]);
        c[2] = 0x10;
        assert_eq!(check(dec(&c, &lun())), Sense::INVALID_FIELD_IN_CDB);
    }

    #[test]
    fn read_capacity_10() {
        let d = data(dec(&[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], &lun()));
        assert_eq!(d, [0, 0, 0x03, 0xe7, 0, 0, 2, 0]); // last LBA 999, 512
        let big = LunInfo {
            size_bytes: (1u64 << 32) * 512,
            ..lun()
        };
        let d = data(dec(&[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], &big));
        assert_eq!(&d[..4], &[0xff; 4]);
        let bad = [0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0]; // LBA without PMI
        assert_eq!(check(dec(&bad, &lun())), Sense::INVALID_FIELD_IN_CDB);
        let empty = LunInfo {
            size_bytes: 0,
            ..lun()
        };
        let d = data(dec(&[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], &empty));
        assert_eq!(d, [0, 0, 0, 0, 0, 0, 2, 0]);
    }

    #[test]
    fn read_capacity_16() {
        let mut c = [0u8; 16];
        c[0] = 0x9e;
        c[1] = 0x10;
        c[13] = 32;
        let d = data(dec(&c, &lun()));
        assert_eq!(d.len(), 32);
        assert_eq!(be(&d[0..8]), BLOCKS - 1);
        assert_eq!(be(&d[8..12]), 512);
        assert_eq!(d[14] & 0xc0, 0x80); // LBPME, no LBPRZ
        assert_eq!(data(dec(&c, &ro()))[14], 0);
        c[13] = 12;
        assert_eq!(data(dec(&c, &lun())), d[..12].to_vec());
        c[10] = 0xff; // huge allocation length
        assert_eq!(data(dec(&c, &lun())), d);
        c[1] = 0x11;
        assert_eq!(check(dec(&c, &lun())), Sense::INVALID_FIELD_IN_CDB);
    }

    #[test]
    fn read_write_boundaries() {
        let l = lun();
        let last = BLOCKS - 1;
        let read = Action::Read {
            offset: last * 512,
            len: 512,
        };
        assert_eq!(dec(&rw16(0x88, 0, last, 1), &l), read);
        assert_eq!(dec(&rw10(0x28, 0, last as u32, 1), &l), read);
        assert_eq!(dec(&rw12(0xa8, 0, last as u32, 1), &l), read);
        assert_eq!(dec(&[0x08, 0, 0x03, 0xe7, 1, 0], &l), read);
        let oor = Sense::LBA_OUT_OF_RANGE;
        assert_eq!(check(dec(&rw16(0x88, 0, last, 2), &l)), oor);
        assert_eq!(check(dec(&rw16(0x8a, 0, BLOCKS, 1), &l)), oor);
        assert_eq!(check(dec(&rw10(0x2a, 0, BLOCKS as u32, 1), &l)), oor);
        assert_eq!(check(dec(&rw16(0x88, 0, u64::MAX, 1), &l)), oor);
        assert_eq!(check(dec(&rw16(0x88, 0, u64::MAX - 1, 2), &l)), oor);
        assert_eq!(check(dec(&rw16(0x8a, 0, u64::MAX, 16384), &l)), oor);
        let whole = Action::Read {
            offset: 0,
            len: BLOCKS * 512,
        };
        assert_eq!(dec(&rw16(0x88, 0, 0, BLOCKS as u32), &l), whole);
    }

    #[test]
    fn zero_length_and_limits() {
        let l = lun();
        assert_eq!(dec(&rw10(0x28, 0, 5, 0), &l), Action::Good);
        assert_eq!(dec(&rw16(0x8a, 0, BLOCKS, 0), &l), Action::Good);
        let oor = Sense::LBA_OUT_OF_RANGE;
        assert_eq!(check(dec(&rw16(0x88, 0, BLOCKS + 1, 0), &l)), oor);
        let bad = Sense::INVALID_FIELD_IN_CDB;
        assert_eq!(check(dec(&rw16(0x88, 0, 0, 16385), &l)), bad);
        assert_eq!(check(dec(&rw12(0xa8, 0, 0, u32::MAX), &l)), bad);
        assert_eq!(check(dec(&rw10(0x28, 0x20, 0, 1), &l)), bad); // RDPROTECT
        assert_eq!(check(dec(&rw16(0x8a, 0x80, 0, 1), &l)), bad); // WRPROTECT
    }

    #[test]
    fn read6_and_write6() {
        let l = lun();
        // Length 0 means 256 blocks; the LBA has 21 bits (the top 3 bits of byte 1 are ignored).
        let r = Action::Read {
            offset: 2 * 512,
            len: 256 * 512,
        };
        assert_eq!(dec(&[0x08, 0xe0, 0, 2, 0, 0], &l), r);
        let w = Action::Write {
            offset: 2 * 512,
            len: 256 * 512,
            fua: false,
        };
        assert_eq!(dec(&[0x0a, 0, 0, 2, 0, 0], &l), w);
        let oor = Sense::LBA_OUT_OF_RANGE;
        assert_eq!(check(dec(&[0x08, 0x1f, 0xff, 0xff, 1, 0], &l)), oor);
        assert_eq!(check(dec(&[0x08, 0, 0x03, 0x00, 0, 0], &l)), oor); // 768 + 256 > 1000
    }

    #[test]
    fn writes_and_fua() {
        let l = lun();
        let w = |fua| Action::Write {
            offset: 512,
            len: 1024,
            fua,
        };
        assert_eq!(dec(&rw10(0x2a, 0, 1, 2), &l), w(false));
        assert_eq!(dec(&rw10(0x2a, 0x08, 1, 2), &l), w(true));
        assert_eq!(dec(&rw12(0xaa, 0x08, 1, 2), &l), w(true));
        assert_eq!(dec(&rw16(0x8a, 0x08, 1, 2), &l), w(true));
        assert_eq!(dec(&rw16(0x8a, 0x10, 1, 2), &l), w(false)); // DPO only
    }

    #[test]
    fn read_only_refuses_writes() {
        let r = ro();
        let wp = Sense::WRITE_PROTECTED;
        assert_eq!(check(dec(&[0x0a, 0, 0, 1, 1, 0], &r)), wp);
        assert_eq!(check(dec(&rw10(0x2a, 0, 1, 1), &r)), wp);
        assert_eq!(check(dec(&rw12(0xaa, 0, 1, 1), &r)), wp);
        assert_eq!(check(dec(&rw16(0x8a, 0, 1, 1), &r)), wp);
        assert_eq!(check(dec(&rw16(0x8a, 0, 1, 0), &r)), wp);
        assert!(matches!(dec(&rw16(0x88, 0, 1, 1), &r), Action::Read { .. }));
    }

    #[test]
    fn synchronize_cache() {
        assert_eq!(dec(&[0x35; 10], &ro()), Action::Flush);
        assert_eq!(dec(&[0x91; 16], &lun()), Action::Flush);
    }

    fn mode6(flags: u8, page: u8, sub: u8, alloc: u8) -> [u8; 6] {
        [0x1a, flags, page, sub, alloc, 0]
    }

    fn mode10(flags: u8, page: u8, sub: u8, alloc: u16) -> [u8; 10] {
        let a = alloc.to_be_bytes();
        [0x5a, flags, page, sub, 0, 0, 0, a[0], a[1], 0]
    }

    #[test]
    fn mode_sense_6() {
        let d = data(dec(&mode6(0, 0x3f, 0, 255), &lun()));
        assert_eq!(d[0] as usize, d.len() - 1);
        assert_eq!(d[2] & 0x80, 0);
        assert_eq!(d[3], 8); // one block descriptor
        assert_eq!(be(&d[4..8]), BLOCKS);
        assert_eq!(be(&d[9..12]), 512);
        assert_eq!(&d[12..14], &[0x08, 0x12]);
        assert_eq!(d[14] & 0x04, 0x04); // WCE
        assert_eq!(&d[32..34], &[0x0a, 0x0a]);
        assert_eq!(d.len(), 44);
        let d = data(dec(&mode6(0x08, 0x08, 0, 255), &ro()));
        assert_eq!(d[2] & 0x80, 0x80); // WP
        assert_eq!(d[3], 0); // DBD
        assert_eq!(&d[4..6], &[0x08, 0x12]);
        assert_eq!(d.len(), 24);
        let d = data(dec(&mode6(0x08, 0x0a, 0, 255), &lun()));
        assert_eq!(d.len(), 16);
        let full = data(dec(&mode6(0, 0x3f, 0xff, 255), &ro()));
        assert_eq!(data(dec(&mode6(0, 0x3f, 0, 4), &ro())), full[..4].to_vec());
        assert_eq!(data(dec(&mode6(0, 0x3f, 0, 0), &ro())), Vec::<u8>::new());
    }

    #[test]
    fn mode_sense_10() {
        let d = data(dec(&mode10(0, 0x3f, 0, 0xffff), &ro()));
        assert_eq!(be(&d[0..2]) as usize, d.len() - 2);
        assert_eq!(d[3] & 0x80, 0x80); // WP
        assert_eq!(be(&d[6..8]), 8);
        assert_eq!(be(&d[8..12]), BLOCKS);
        assert_eq!(d.len(), 8 + 8 + 20 + 12);
        let d = data(dec(&mode10(0x10, 0x08, 0, 0xffff), &lun())); // LLBAA
        assert_eq!(d[3] & 0x80, 0);
        assert_eq!(d[4] & 1, 1);
        assert_eq!(be(&d[6..8]), 16);
        assert_eq!(be(&d[8..16]), BLOCKS);
        assert_eq!(be(&d[20..24]), 512);
        assert_eq!(d.len(), 8 + 16 + 20);
        let d = data(dec(&mode10(0x08, 0x08, 0, 10), &lun()));
        assert_eq!(d.len(), 10);
        assert_eq!(be(&d[0..2]), 26);
    }

    #[test]
    fn mode_sense_errors_and_page_control() {
        let bad = Sense::INVALID_FIELD_IN_CDB;
        for page in [0x00, 0x01, 0x1c, 0x3e] {
            assert_eq!(check(dec(&mode6(0, page, 0, 255), &lun())), bad);
        }
        assert_eq!(check(dec(&mode6(0, 0x08, 1, 255), &lun())), bad);
        assert_eq!(check(dec(&mode10(0, 0x08, 0xff, 255), &lun())), bad);
        let saved = Sense::SAVING_PARAMETERS_NOT_SUPPORTED;
        assert_eq!(check(dec(&mode6(0, 0xc8, 0, 255), &lun())), saved);
        let d = data(dec(&mode6(0x08, 0x48, 0, 255), &lun())); // changeable
        assert_eq!(&d[4..6], &[0x08, 0x12]);
        assert!(d[6..].iter().all(|&b| b == 0));
        let d = data(dec(&mode6(0x08, 0x88, 0, 255), &lun())); // default
        assert_eq!(d[6] & 0x04, 0x04);
    }

    #[test]
    fn request_sense() {
        let s = Sense::LBA_OUT_OF_RANGE;
        let d = data(decode(&[0x03, 0, 0, 0, 252, 0], &lun(), true, s));
        assert_eq!(d, s.to_fixed().to_vec());
        let d = data(decode(&[0x03, 0, 0, 0, 8, 0], &lun(), true, s));
        assert_eq!(d, s.to_fixed()[..8].to_vec());
        let desc = decode(&[0x03, 1, 0, 0, 252, 0], &lun(), true, s);
        assert_eq!(check(desc), Sense::INVALID_FIELD_IN_CDB);
    }

    #[test]
    fn unmap_command() {
        let c = [0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0];
        assert_eq!(dec(&c, &lun()), Action::Unmap { param_len: 24 });
        let z = [0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(dec(&z, &lun()), Action::Good);
        let no_discard = LunInfo {
            discard: false,
            ..lun()
        };
        assert_eq!(check(dec(&c, &no_discard)), Sense::INVALID_OPCODE);
        let ro_discard = LunInfo {
            read_only: true,
            ..lun()
        };
        assert_eq!(check(dec(&c, &ro_discard)), Sense::WRITE_PROTECTED);
        let anchor = [0x42, 1, 0, 0, 0, 0, 0, 0, 24, 0];
        assert_eq!(check(dec(&anchor, &lun())), Sense::INVALID_FIELD_IN_CDB);
    }

    #[test]
    fn write_same_16() {
        let l = lun();
        let d = Action::Discard {
            offset: 10 * 512,
            len: 990 * 512,
        };
        assert_eq!(dec(&rw16(0x93, 0x08, 10, 990), &l), d);
        assert_eq!(dec(&rw16(0x93, 0x09, 10, 990), &l), d); // NDOB
        let bad = Sense::INVALID_FIELD_IN_CDB;
        assert_eq!(check(dec(&rw16(0x93, 0, 10, 1), &l)), bad); // no UNMAP
        assert_eq!(check(dec(&rw16(0x93, 0x18, 10, 1), &l)), bad); // ANCHOR
        assert_eq!(check(dec(&rw16(0x93, 0x08, 10, 0), &l)), bad); // WSNZ
        assert_eq!(check(dec(&rw16(0x93, 0x08, 10, 1), &ro())), bad); // no discard
        let oor = Sense::LBA_OUT_OF_RANGE;
        assert_eq!(check(dec(&rw16(0x93, 0x08, 10, 991), &l)), oor);
        assert_eq!(check(dec(&rw16(0x93, 0x08, u64::MAX, 1), &l)), oor);
        let ro_discard = LunInfo {
            read_only: true,
            ..lun()
        };
        let wp = Sense::WRITE_PROTECTED;
        assert_eq!(check(dec(&rw16(0x93, 0x08, 10, 1), &ro_discard)), wp);
    }

    fn unmap_list(descs: &[(u64, u32)]) -> Vec<u8> {
        let n = descs.len() * 16;
        let mut v = vec![0u8; 8];
        v[0..2].copy_from_slice(&((n + 6) as u16).to_be_bytes());
        v[2..4].copy_from_slice(&(n as u16).to_be_bytes());
        for &(lba, count) in descs {
            v.extend_from_slice(&lba.to_be_bytes());
            v.extend_from_slice(&count.to_be_bytes());
            v.extend_from_slice(&[0; 4]);
        }
        v
    }

    #[test]
    fn unmap_parameters() {
        let l = lun();
        let p = unmap_list(&[(0, 8), (5, 0), (992, 8)]);
        let r = parse_unmap_parameters(&p, &l);
        assert_eq!(r, Ok(vec![(0, 4096), (992 * 512, 4096)]));
        assert_eq!(parse_unmap_parameters(&unmap_list(&[]), &l), Ok(vec![]));
        let mut partial = unmap_list(&[(1, 1)]);
        partial[3] = 20; // an incomplete last descriptor is ignored
        partial[1] = 26;
        partial.extend_from_slice(&[0xff; 4]);
        assert_eq!(parse_unmap_parameters(&partial, &l), Ok(vec![(512, 512)]));
    }

    #[test]
    fn unmap_parameter_errors() {
        let l = lun();
        let plle = Err(Sense::PARAMETER_LIST_LENGTH_ERROR);
        assert_eq!(parse_unmap_parameters(&[], &l), plle);
        assert_eq!(parse_unmap_parameters(&[0, 6, 0, 0, 0, 0, 0], &l), plle);
        let p = unmap_list(&[(0, 8)]);
        assert_eq!(parse_unmap_parameters(&p[..20], &l), plle);
        let mut big = p.clone();
        big[0] = 0xff;
        assert_eq!(parse_unmap_parameters(&big, &l), plle);
        let oor = Err(Sense::LBA_OUT_OF_RANGE);
        assert_eq!(parse_unmap_parameters(&unmap_list(&[(993, 8)]), &l), oor);
        assert_eq!(
            parse_unmap_parameters(&unmap_list(&[(u64::MAX, 1)]), &l),
            oor
        );
        let ifpl = Err(Sense::INVALID_FIELD_IN_PARAMETER_LIST);
        let many = vec![(0, 1); 257];
        assert_eq!(parse_unmap_parameters(&unmap_list(&many), &l), ifpl);
        assert_eq!(
            parse_unmap_parameters(&unmap_list(&many[..256]), &l).map(|v| v.len()),
            Ok(256)
        );
        let huge = LunInfo {
            size_bytes: 1 << 40,
            ..lun()
        };
        let p = unmap_list(&[(0, MAX_UNMAP_BLOCKS), (0, 1)]);
        assert_eq!(parse_unmap_parameters(&p, &huge), ifpl);
    }

    #[test]
    fn absent_lun() {
        let l = lun();
        let d = data(decode(&inquiry(false, 0, 255), &l, false, Sense::NO_SENSE));
        assert_eq!(d[0], 0x7f);
        assert_eq!(d.len(), 36);
        let d = data(decode(&inquiry(true, 0, 255), &l, false, Sense::NO_SENSE));
        assert_eq!(d[0], 0x7f);
        let rl = [0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0];
        let d = data(decode(&rl, &l, false, Sense::NO_SENSE));
        assert_eq!(d[3], 8);
        let nolun = Sense::LUN_NOT_SUPPORTED;
        let cdbs: [&[u8]; 7] = [
            &[0; 6],
            &[0x03, 0, 0, 0, 18, 0],
            &rw10(0x28, 0, 0, 1),
            &rw10(0x2a, 0, 0, 1),
            &[0x35; 10],
            &[0x25; 10],
            &[0xff; 4],
        ];
        for c in cdbs {
            assert_eq!(check(decode(c, &l, false, Sense::NO_SENSE)), nolun);
        }
    }

    const OPCODES: [(u8, usize); 22] = [
        (0x00, 6),
        (0x03, 6),
        (0x08, 6),
        (0x0a, 6),
        (0x12, 6),
        (0x1a, 6),
        (0x25, 10),
        (0x28, 10),
        (0x2a, 10),
        (0x35, 10),
        (0x42, 10),
        (0x5a, 10),
        (0x88, 16),
        (0x8a, 16),
        (0x91, 16),
        (0x93, 16),
        (0x9e, 16),
        (0xa0, 12),
        (0xa8, 12),
        (0xaa, 12),
        (0x88, 16),
        (0x8a, 16),
    ];

    #[test]
    fn short_cdbs_are_invalid_fields() {
        for (opc, len) in OPCODES {
            let mut c = [0u8; 32];
            c[0] = opc;
            for n in 1..len {
                let a = decode(&c[..n], &lun(), true, Sense::NO_SENSE);
                assert_eq!(
                    a,
                    Action::Check(Sense::INVALID_FIELD_IN_CDB),
                    "{opc:#x} {n}"
                );
            }
        }
    }

    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// The allocation length a command's data-in must respect, if it has one.
    fn alloc_len(c: &[u8]) -> Option<u64> {
        match (c.first()?, c.len()) {
            (0x03 | 0x1a, 6..) => Some(c[4].into()),
            (0x12, 6..) => Some(be(&c[3..5])),
            (0x5a, 10..) => Some(be(&c[7..9])),
            (0x9e, 16..) => Some(be(&c[10..14])),
            (0xa0, 12..) => Some(be(&c[6..10])),
            (0x25, 10..) => Some(8),
            _ => None,
        }
    }

    #[test]
    fn random_cdbs_never_panic() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let sizes = [0, 511, 512, 1000 * 512, 1 << 40, u64::MAX];
        for n in 0..200_000u64 {
            let len = (n % 33) as usize;
            let mut c = [0u8; 32];
            for b in c.iter_mut() {
                *b = rng.next() as u8;
            }
            if n & 1 == 0 {
                c[0] = OPCODES[(rng.next() % OPCODES.len() as u64) as usize].0;
            }
            if n % 3 == 1 {
                c[1..len.max(1)].iter_mut().for_each(|b| *b &= 0x0f); // likelier to pass checks
            }
            let r = rng.next();
            let l = LunInfo {
                size_bytes: sizes[(r % sizes.len() as u64) as usize],
                read_only: r & 0x100 != 0,
                discard: r & 0x200 != 0,
                serial: "s\u{0}\u{7f}erial".repeat((r >> 12) as usize % 20),
                index: (r >> 32) as u32,
            };
            let cdb = &c[..len];
            let a = decode(cdb, &l, r & 0x400 == 0, Sense::NO_SENSE);
            match a {
                Action::DataIn(d) => {
                    assert!(d.len() <= 256, "{cdb:02x?}");
                    let max = alloc_len(cdb).expect("DataIn without allocation length");
                    assert!(d.len() as u64 <= max, "{cdb:02x?}");
                }
                Action::Read { offset, len } | Action::Write { offset, len, .. } => {
                    assert!(len > 0 && len <= 8 << 20);
                    assert!(offset + len <= l.size_bytes);
                }
                Action::Discard { offset, len } => {
                    assert!(l.discard && !l.read_only);
                    assert!(offset + len <= l.size_bytes);
                }
                Action::Unmap { param_len } => assert!(param_len > 0 && l.discard),
                Action::Good | Action::Flush | Action::Check(_) => {}
            }
        }
    }

    #[test]
    fn random_unmap_parameters_never_panic() {
        let mut rng = XorShift(0x1234_5678_9abc_def1);
        let l = LunInfo {
            size_bytes: 1 << 30,
            ..lun()
        };
        for _ in 0..20_000 {
            let n = (rng.next() % 4200) as usize;
            let mut p: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            if n >= 8 && rng.next() & 1 == 0 {
                let d = ((n - 8) as u16).min(rng.next() as u16 % 4200);
                p[0..2].copy_from_slice(&((n - 2) as u16).to_be_bytes());
                p[2..4].copy_from_slice(&d.to_be_bytes());
                for chunk in p[8..].chunks_mut(16) {
                    let n = chunk.len().min(6);
                    chunk[..n].fill(0); // small LBAs
                }
            }
            if let Ok(ranges) = parse_unmap_parameters(&p, &l) {
                assert!(ranges.len() <= MAX_UNMAP_DESCRIPTORS as usize);
                let total: u64 = ranges.iter().map(|r| r.1).sum();
                assert!(total <= u64::from(MAX_UNMAP_BLOCKS) * 512);
                for (offset, len) in ranges {
                    assert!(len > 0 && offset + len <= l.size_bytes);
                }
            }
        }
    }
}
