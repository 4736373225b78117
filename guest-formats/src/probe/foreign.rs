//! Signatures from other systems: FAT (vfat), NTFS and ISO 9660. Checks
//! and field offsets follow libblkid's `superblocks/*.c`.

use super::common::{label, utf16_label, Device, Filesystem};
use crate::bytes::{array, le16, le32, le64, slice, u8at};

const FAT12_MAX: u32 = 0xFF4;
const FAT16_MAX: u32 = 0xFFF4;
const FAT32_MAX: u32 = 0x0FFF_FFF6;
const NO_NAME: &[u8] = b"NO NAME    ";

/// FAT12/16/32. The label is the root directory's volume-label entry as
/// blkid ≥ 2.36 reports it; when there is none, the boot sector's label
/// (what older blkid reported). The UUID is the volume serial, XXXX-XXXX.
pub(super) fn vfat(src: &Device) -> Option<Filesystem> {
    let bs = slice(&src.head, 0, 512)?;
    let at = |off: usize, magic: &[u8]| slice(bs, off, magic.len()).is_some_and(|m| m == magic);
    let named = at(0x52, b"MSWIN")
        || at(0x52, b"FAT32   ")
        || at(0x36, b"MSDOS")
        || [&b"FAT16   "[..], b"FAT12   ", b"FAT     "]
            .iter()
            .any(|m| at(0x36, m));
    if !named {
        // Only a jump instruction or 55 AA, as an MBR has: be stricter.
        if !at(0x1FE, b"\x55\xAA") {
            return None;
        }
        if at(0x36, b"JFS     ") || at(0x36, b"HPFS    ") {
            return None;
        }
    }
    let cluster_size = u32::from(u8at(bs, 0x0D)?);
    let reserved = u32::from(le16(bs, 0x0E)?);
    let fats = u32::from(u8at(bs, 0x10)?);
    let media = u8at(bs, 0x15)?;
    let sector_size = u32::from(le16(bs, 0x0B)?);
    if fats == 0
        || reserved == 0
        || !(media >= 0xF8 || media == 0xF0)
        || !cluster_size.is_power_of_two()
        || !sector_size.is_power_of_two()
        || !(512..=4096).contains(&sector_size)
    {
        return None;
    }
    let dir_entries = u32::from(le16(bs, 0x11)?);
    let mut sectors = u32::from(le16(bs, 0x13)?);
    if sectors == 0 {
        sectors = le32(bs, 0x20)?;
    }
    let fat16_length = u32::from(le16(bs, 0x16)?);
    let fat32_length = le32(bs, 0x24)?;
    let fat_length = if fat16_length == 0 {
        fat32_length
    } else {
        fat16_length
    };
    // u32 arithmetic that wraps, as in blkid: a wrapped count fails below.
    let fat_size = fat_length.wrapping_mul(fats);
    let dir_size = (dir_entries * 32).div_ceil(sector_size);
    let meta = reserved.wrapping_add(fat_size).wrapping_add(dir_size);
    let clusters = sectors.wrapping_sub(meta) / cluster_size;
    let max = if fat16_length == 0 && fat32_length != 0 {
        FAT32_MAX
    } else if clusters > FAT12_MAX {
        FAT16_MAX
    } else {
        FAT12_MAX
    };
    if clusters > max || slice(bs, 3, 8)? == b"-FVE-FS-" {
        return None; // too many clusters, or BitLocker
    }

    let (vol_label, boot_label, serial);
    if fat16_length != 0 {
        let root_start = reserved.wrapping_add(fat_size).wrapping_mul(sector_size);
        vol_label = search_fat_label(src, root_start.into(), dir_entries);
        boot_label = (u8at(bs, 0x26)? == 0x29)
            .then(|| slice(bs, 0x2B, 11))
            .flatten();
        serial = matches!(u8at(bs, 0x26)?, 0x28 | 0x29)
            .then(|| array::<4>(bs, 0x27))
            .flatten();
    } else if fat32_length != 0 {
        vol_label = fat32_root_label(src, bs, reserved, fat_size, sector_size, cluster_size);
        boot_label = (u8at(bs, 0x42)? == 0x29)
            .then(|| slice(bs, 0x47, 11))
            .flatten();
        serial = array::<4>(bs, 0x43);
        let fsinfo = u64::from(le16(bs, 0x30)?);
        if fsinfo != 0 {
            let info = src.at(fsinfo * u64::from(sector_size), 512)?;
            let sig1 = slice(&info, 0, 4)?;
            let sig2 = slice(&info, 484, 4)?;
            if ![&b"RRaA"[..], b"RRdA", b"\0\0\0\0"].contains(&sig1)
                || ![&b"rrAa"[..], b"\0\0\0\0"].contains(&sig2)
            {
                return None;
            }
        }
    } else {
        (vol_label, boot_label, serial) = (None, None, None);
    }
    let chosen = match (&vol_label, boot_label) {
        (Some(name), _) => Some(name.as_slice()),
        (None, Some(name)) if name != NO_NAME => Some(name),
        _ => None,
    };
    let uuid = match serial {
        Some([0, 0, 0, 0]) | None => String::new(),
        Some([a, b, c, d]) => format!("{d:02X}{c:02X}-{b:02X}{a:02X}"),
    };
    Some(Filesystem {
        fstype: "vfat",
        label: chosen.map(label).unwrap_or_default(),
        uuid,
    })
}

/// The volume-label entry among `entries` directory entries at `offset`.
fn search_fat_label(src: &Device, offset: u64, entries: u32) -> Option<Vec<u8>> {
    let dir = src.at(offset, usize::try_from(entries).ok()?.checked_mul(32)?)?;
    for ent in dir.chunks_exact(32) {
        let first = u8at(ent, 0)?;
        if first == 0 {
            break;
        }
        let attr = u8at(ent, 11)?;
        let cluster = le16(ent, 20)? != 0 || le16(ent, 26)? != 0;
        if first == 0xE5 || cluster || attr & 0x3F == 0x0F {
            continue;
        }
        if attr & (0x08 | 0x10) == 0x08 {
            let mut name = slice(ent, 0, 11)?.to_vec();
            if let Some(lead @ 0x05) = name.first_mut() {
                *lead = 0xE5; // 0x05 stands for a leading 0xE5 byte
            }
            return Some(name);
        }
    }
    None
}

/// FAT32 keeps its root directory in clusters: follow the chain a little
/// way (blkid's 100-step limit).
fn fat32_root_label(
    src: &Device,
    bs: &[u8],
    reserved: u32,
    fat_size: u32,
    sector_size: u32,
    cluster_size: u32,
) -> Option<Vec<u8>> {
    let entries = u64::from(le32(bs, 0x24)?) * u64::from(sector_size) / 4;
    let data_start = reserved.wrapping_add(fat_size);
    let per_cluster = cluster_size * sector_size / 32;
    let mut next = le32(bs, 0x2C)?;
    for _ in 0..99 {
        if next == 0 || u64::from(next) >= entries {
            break;
        }
        let sect = data_start.wrapping_add(next.wrapping_sub(2).wrapping_mul(cluster_size));
        let off = u64::from(sect) * u64::from(sector_size);
        if let Some(found) = search_fat_label(src, off, per_cluster) {
            return Some(found);
        }
        let entry = u64::from(reserved) * u64::from(sector_size) + u64::from(next) * 4;
        next = le32(&src.at(entry, 4)?, 0)? & 0x0FFF_FFFF;
    }
    None
}

/// NTFS: the boot sector's geometry checks, the MFT's $Volume record for
/// the label, the volume serial as a 16-digit UUID.
pub(super) fn ntfs(src: &Device) -> Option<Filesystem> {
    let bs = slice(&src.head, 0, 512)?;
    if slice(bs, 3, 8)? != b"NTFS    " {
        return None;
    }
    let sector_size = u64::from(le16(bs, 0x0B)?);
    if !(256..=4096).contains(&sector_size) || !sector_size.is_power_of_two() {
        return None;
    }
    let spc = match u8at(bs, 0x0D)? {
        n @ (1 | 2 | 4 | 8 | 16 | 32 | 64 | 128) => u64::from(n),
        n @ 240..=249 => 1u64 << (256 - u32::from(n)),
        _ => return None,
    };
    let cluster = sector_size * spc;
    if cluster > 2 << 20 {
        return None;
    }
    let unused_nonzero = le16(bs, 0x0E)? != 0
        || le16(bs, 0x11)? != 0
        || le16(bs, 0x13)? != 0
        || le16(bs, 0x16)? != 0
        || le32(bs, 0x20)? != 0
        || u8at(bs, 0x10)? != 0;
    if unused_nonzero {
        return None;
    }
    let per_record = u8at(bs, 0x40)? as i8;
    let record_size: u64 = match per_record {
        1 | 2 | 4 | 8 | 16 | 32 | 64 => u64::try_from(per_record).ok()? * cluster,
        -30..=-9 => 1u64 << -i32::from(per_record),
        _ => return None,
    };
    let clusters = le64(bs, 0x28)? / spc;
    let mft = le64(bs, 0x30)?;
    if mft > clusters || le64(bs, 0x38)? > clusters {
        return None;
    }
    let size = usize::try_from(record_size).ok()?;
    let mft_off = mft.checked_mul(cluster)?;
    if slice(&src.at(mft_off, size)?, 0, 4)? != b"FILE" {
        return None;
    }
    let record = src.at(mft_off.checked_add(3 * record_size)?, size)?;
    if slice(&record, 0, 4)? != b"FILE" {
        return None;
    }
    let serial = le64(bs, 0x48)?;
    let uuid = if serial == 0 {
        String::new()
    } else {
        format!("{serial:016X}")
    };
    Some(Filesystem {
        fstype: "ntfs",
        label: volume_name(&record).unwrap_or_default(),
        uuid,
    })
}

/// The $VOLUME_NAME (0x60) attribute of the $Volume MFT record.
fn volume_name(record: &[u8]) -> Option<String> {
    let allocated = u64::from(le32(record, 0x1C)?);
    let size = record.len() as u64;
    let mut off = u64::from(le16(record, 0x14)?);
    // Each step moves forward by a non-zero length, within the record.
    while off + 22 <= size && off <= allocated {
        let at = usize::try_from(off).ok()?;
        let (kind, len) = (le32(record, at)?, le32(record, at + 4)?);
        if len == 0 || kind == 0xFFFF_FFFF {
            return None;
        }
        if kind == 0x60 {
            let value_len = usize::try_from(le32(record, at + 0x10)?).ok()?;
            let value_off = usize::from(le16(record, at + 0x14)?);
            let value = slice(record, at.checked_add(value_off)?, value_len)?;
            return Some(utf16_label(value, false));
        }
        off += u64::from(len);
    }
    None
}

/// ISO 9660 (and High Sierra): the primary descriptor's volume id, or the
/// Joliet one when it says more; the UUID is the modification (else
/// creation) date, as blkid makes it.
pub(super) fn iso9660(src: &Device) -> Option<Filesystem> {
    let pvd = slice(&src.head, 0x8000, 2048)?;
    if slice(pvd, 9, 5)? == b"CDROM" {
        let label = label(slice(pvd, 48, 32)?);
        return Some(Filesystem {
            fstype: "iso9660",
            label,
            uuid: String::new(),
        });
    }
    if slice(pvd, 1, 5)? != b"CD001" {
        return None;
    }
    let volume_id = slice(pvd, 40, 32)?;
    let uuid = iso_date_uuid(slice(pvd, 830, 17)?)
        .or_else(|| iso_date_uuid(slice(pvd, 813, 17)?))
        .flatten()
        .unwrap_or_default();
    let mut text = label(volume_id);
    for i in 0..16 {
        let Some(vd) = slice(&src.head, 0x8800 + i * 2048, 2048) else {
            break;
        };
        let kind = u8at(vd, 0)?;
        if kind == 0xFF {
            break;
        }
        let escapes = slice(vd, 88, 3)?;
        if kind != 2 || ![&b"%/@"[..], b"%/C", b"%/E"].contains(&escapes) {
            continue;
        }
        let joliet = slice(vd, 40, 32)?;
        // Keep the primary label when Joliet only repeats it.
        let same = joliet
            .chunks_exact(2)
            .zip(volume_id)
            .all(|(unit, &ascii)| unit == [0, ascii]);
        if !same {
            text = utf16_label(joliet, true);
        }
        break;
    }
    Some(Filesystem {
        fstype: "iso9660",
        label: text,
        uuid,
    })
}

/// `YYYY-MM-DD-HH-MM-SS-CC` from a descriptor date; None when unset.
fn iso_date_uuid(date: &[u8]) -> Option<Option<String>> {
    let digits = slice(date, 0, 16)?;
    if digits.iter().all(|&b| b == b'0') && u8at(date, 16)? == 0 {
        return None;
    }
    if digits.iter().all(|&b| b == 0) {
        return Some(None); // blkid sets no UUID from an all-zero field
    }
    let part = |r: std::ops::Range<usize>| {
        String::from_utf8_lossy(digits.get(r).unwrap_or_default()).into_owned()
    };
    let parts = [0..4, 4..6, 6..8, 8..10, 10..12, 12..14, 14..16].map(part);
    Some(Some(parts.join("-")))
}
