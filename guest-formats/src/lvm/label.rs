//! A physical volume's label (`LABELONE` in one of the first four
//! sectors, then the PV header with its data and metadata areas) and the
//! metadata text in each metadata area, as LVM's format_text writes them.

use super::{calc_crc, error, plain_id, LvmError, INITIAL_CRC};
use crate::bytes::{le32, le64, slice};
use crate::source::read_exact_at;
use crate::ReadAt;

const SECTOR: usize = 512;
/// The label is in one of the first four sectors.
const LABEL_SCAN_SECTORS: u64 = 4;
/// `mda_header`: checksum, magic, version, start, size, raw locations.
const MDA_HEADER_SIZE: u64 = 512;
const MDA_MAGIC: &[u8; 16] = b"\x20LVM2\x20x[5A%r0N*>";
/// `RAW_LOCN_IGNORED`: the area is kept but holds no metadata.
const RAW_LOCN_IGNORED: u32 = 1;
/// At most this many metadata areas are read per PV (LVM writes 0 to 2).
const MAX_METADATA_AREAS: usize = 4;
/// The largest metadata text read. LVM's default area is 1 MiB; a VG's
/// text is a few KiB per LV.
pub const MAX_METADATA_TEXT: u64 = 8 << 20;

/// What a PV's label says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PvLabel {
    /// The PV's UUID, 32 characters without dashes.
    pub pv_id: String,
    /// The device size the PV header records, in bytes.
    pub device_size: u64,
    /// The metadata text of each metadata area that holds one with a
    /// valid checksum, in the header's order (an orphan PV has none).
    pub metadata: Vec<String>,
}

/// The PV label of `src`: None where there is none. A label whose PV
/// header or metadata area is damaged is an error: lvm would not use it
/// as we would.
pub fn read_label(src: &dyn ReadAt) -> Result<Option<PvLabel>, LvmError> {
    let Some(head) = read_exact_at(src, 0, SECTOR * LABEL_SCAN_SECTORS as usize) else {
        return Ok(None);
    };
    for sector in 0..LABEL_SCAN_SECTORS {
        let base = sector as usize * SECTOR;
        let Some(lbl) = slice(&head, base, SECTOR) else {
            break;
        };
        if slice(lbl, 0, 8) != Some(b"LABELONE")
            || le64(lbl, 8) != Some(sector)
            || slice(lbl, 24, 8) != Some(b"LVM2 001")
        {
            continue;
        }
        let crc = le32(lbl, 16).unwrap_or_default();
        let covered = slice(lbl, 20, SECTOR - 20).unwrap_or_default();
        if calc_crc(INITIAL_CRC, covered) != crc {
            return error(format!(
                "the PV label in sector {sector} has a bad checksum"
            ));
        }
        return pv_header(src, lbl).map(Some);
    }
    Ok(None)
}

/// The PV header at the label's `offset_xl`: UUID, size, then two lists of
/// (offset, size) each ended by a zero entry: data areas, metadata areas.
fn pv_header(src: &dyn ReadAt, lbl: &[u8]) -> Result<PvLabel, LvmError> {
    let short = || LvmError("the PV header does not fit in its sector".into());
    let off = le32(lbl, 20).ok_or_else(short)? as usize;
    let raw_id = slice(lbl, off, 32).ok_or_else(short)?;
    let pv_id = std::str::from_utf8(raw_id)
        .ok()
        .and_then(plain_id)
        .ok_or_else(|| LvmError("the PV UUID is not an LVM identifier".into()))?;
    let device_size = le64(lbl, off + 32).ok_or_else(short)?;
    let mut at = off + 40;
    let mut lists: [Vec<(u64, u64)>; 2] = [Vec::new(), Vec::new()];
    for list in &mut lists {
        loop {
            let offset = le64(lbl, at).ok_or_else(short)?;
            let size = le64(lbl, at + 8).ok_or_else(short)?;
            at += 16;
            if offset == 0 && size == 0 {
                break;
            }
            list.push((offset, size));
        }
    }
    let [_data, metadata_areas] = lists;
    if metadata_areas.len() > MAX_METADATA_AREAS {
        return error(format!("{} metadata areas", metadata_areas.len()));
    }
    let mut metadata = Vec::new();
    for (offset, size) in metadata_areas {
        if let Some(text) = metadata_area(src, offset, size)? {
            metadata.push(text);
        }
    }
    Ok(PvLabel {
        pv_id,
        device_size,
        metadata,
    })
}

/// The current metadata text of the area at `start` (bytes) of `size`
/// bytes; None where the area holds none (new, or ignored).
fn metadata_area(src: &dyn ReadAt, start: u64, size: u64) -> Result<Option<String>, LvmError> {
    let Some(hdr) = read_exact_at(src, start, MDA_HEADER_SIZE as usize) else {
        return error(format!(
            "the metadata area at byte {start} is past the device's end"
        ));
    };
    let field64 = |o| le64(&hdr, o).unwrap_or_default();
    let covered = slice(&hdr, 4, hdr.len() - 4).unwrap_or_default();
    if slice(&hdr, 4, 16) != Some(MDA_MAGIC.as_slice())
        || le32(&hdr, 20) != Some(1)
        || calc_crc(INITIAL_CRC, covered) != le32(&hdr, 0).unwrap_or_default()
    {
        return error(format!(
            "the metadata area header at byte {start} is damaged"
        ));
    }
    if field64(24) != start || field64(32) != size || size <= MDA_HEADER_SIZE {
        return error(format!(
            "the metadata area header at byte {start} does not match the PV header"
        ));
    }
    // The first raw location is the committed metadata.
    let (offset, len) = (field64(40), field64(48));
    let checksum = le32(&hdr, 56).unwrap_or_default();
    let flags = le32(&hdr, 60).unwrap_or_default();
    if offset == 0 || len == 0 || flags & RAW_LOCN_IGNORED != 0 {
        return Ok(None);
    }
    if len > MAX_METADATA_TEXT || len > size - MDA_HEADER_SIZE {
        return error(format!("metadata text of {len} bytes"));
    }
    if offset < MDA_HEADER_SIZE || offset >= size {
        return error(format!(
            "metadata text at offset {offset} of a {size}-byte area"
        ));
    }
    // The text is in a ring after the header: it may wrap to the start.
    let first = len.min(size - offset);
    let mut text = read(src, start, offset, first)?;
    if first < len {
        text.extend(read(src, start, MDA_HEADER_SIZE, len - first)?);
    }
    if calc_crc(INITIAL_CRC, &text) != checksum {
        return error(format!(
            "the metadata text at byte {start} has a bad checksum"
        ));
    }
    while text.last() == Some(&0) {
        text.pop();
    }
    match String::from_utf8(text) {
        Ok(text) => Ok(Some(text)),
        Err(_) => error("the metadata text is not UTF-8"),
    }
}

fn read(src: &dyn ReadAt, start: u64, offset: u64, len: u64) -> Result<Vec<u8>, LvmError> {
    let at = start.checked_add(offset);
    let len = usize::try_from(len).ok();
    match at
        .zip(len)
        .and_then(|(at, len)| read_exact_at(src, at, len))
    {
        Some(bytes) => Ok(bytes),
        None => error(format!(
            "the metadata text at byte {start}+{offset} is past the device's end"
        )),
    }
}
