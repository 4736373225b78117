//! Linux-native signatures: ext2/3/4, xfs, btrfs, squashfs, swap, LVM PVs, LUKS,
//! md RAID members.
//! Checks and field offsets follow libblkid's `superblocks/*.c`.

use super::common::{crc32c, label, uuid_at, Device, Filesystem};
use crate::bytes::{array, be16, be32, be64, le16, le32, le64, slice, u8at};

const EXT_COMPAT_HAS_JOURNAL: u32 = 0x0004;
const EXT_INCOMPAT_JOURNAL_DEV: u32 = 0x0008;
/// What ext2 understands (sparse_super, large_file, btree_dir; filetype,
/// meta_bg) and what ext3 adds (needs_recovery); anything else is ext4.
const EXT2_RO_COMPAT_SUPP: u32 = 0x0007;
const EXT2_INCOMPAT_SUPP: u32 = 0x0012;
const EXT3_RO_COMPAT_SUPP: u32 = 0x0007;
const EXT3_INCOMPAT_SUPP: u32 = 0x0016;
const EXT4_RO_COMPAT_METADATA_CSUM: u32 = 0x0400;
const EXT2_FLAGS_TEST_FILESYS: u32 = 0x0004;

/// ext2, ext3, ext4 (or ext4dev, or an external journal "jbd"), told
/// apart by feature flags as blkid does.
pub(super) fn ext(src: &Device) -> Option<Filesystem> {
    let sb = slice(&src.head, 1024, 1024)?;
    if le16(sb, 0x38)? != 0xEF53 {
        return None;
    }
    let compat = le32(sb, 0x5C)?;
    let incompat = le32(sb, 0x60)?;
    let ro_compat = le32(sb, 0x64)?;
    if ro_compat & EXT4_RO_COMPAT_METADATA_CSUM != 0
        && crc32c(!0, slice(sb, 0, 0x3FC)?) != le32(sb, 0x3FC)?
    {
        return None;
    }
    let fstype = if incompat & EXT_INCOMPAT_JOURNAL_DEV != 0 {
        "jbd"
    } else if le32(sb, 0x160)? & EXT2_FLAGS_TEST_FILESYS != 0 {
        "ext4dev"
    } else if ro_compat & !EXT3_RO_COMPAT_SUPP != 0 || incompat & !EXT3_INCOMPAT_SUPP != 0 {
        "ext4"
    } else if compat & EXT_COMPAT_HAS_JOURNAL != 0 {
        "ext3"
    } else if ro_compat & !EXT2_RO_COMPAT_SUPP == 0 && incompat & !EXT2_INCOMPAT_SUPP == 0 {
        "ext2"
    } else {
        return None;
    };
    Some(Filesystem {
        fstype,
        label: label(slice(sb, 0x78, 16)?),
        uuid: uuid_at(sb, 0x68),
    })
}

/// squashfs, as blkid names it: `squashfs` from version 4 on (always
/// little-endian), `squashfs3` before (either byte order). It has no label
/// or UUID.
pub(super) fn squashfs(src: &Device) -> Option<Filesystem> {
    let sb = &src.head;
    let fstype = match (slice(sb, 0, 4)?, le16(sb, 28)?, be16(sb, 28)?) {
        (b"hsqs", 4.., _) => "squashfs",
        (b"hsqs", 0..=3, _) | (b"sqsh", _, 0..=3) => "squashfs3",
        _ => return None,
    };
    Some(Filesystem {
        fstype,
        label: String::new(),
        uuid: String::new(),
    })
}

/// XFS: the sanity checks of blkid's `xfs_verify_sb`, and the CRC of v5
/// superblocks.
pub(super) fn xfs(src: &Device) -> Option<Filesystem> {
    let sb = &src.head;
    if slice(sb, 0, 4)? != b"XFSB" {
        return None;
    }
    let blocksize = be32(sb, 4)?;
    let dblocks = be64(sb, 8)?;
    let rextsize = be32(sb, 80)?;
    let agblocks = be32(sb, 84)?;
    let agcount = be32(sb, 88)?;
    let versionnum = be16(sb, 100)?;
    let sectsize = be16(sb, 102)?;
    let inodesize = be16(sb, 104)?;
    let [blocklog, sectlog, inodelog, inopblog] = array::<4>(sb, 120)?;
    let imax_pct = u8at(sb, 127)?;
    let features2 = be32(sb, 200)?;
    let log_ok =
        |log: u8, min: u8, max: u8, size: u64| (min..=max).contains(&log) && size == 1u64 << log;
    let rt_extent = rextsize.wrapping_mul(blocksize); // u32 in blkid too
    let sane = agcount > 0
        && log_ok(sectlog, 9, 15, sectsize.into())
        && log_ok(blocklog, 9, 16, blocksize.into())
        && log_ok(inodelog, 8, 11, inodesize.into())
        && i32::from(blocklog) - i32::from(inodelog) == i32::from(inopblog)
        && (4096..=1 << 30).contains(&rt_extent)
        && imax_pct <= 100
        && dblocks != 0
        && dblocks <= u64::from(agcount) * u64::from(agblocks)
        && dblocks >= u64::from(agcount - 1) * u64::from(agblocks) + 64;
    if !sane {
        return None;
    }
    if versionnum & 0x0f == 5 {
        if versionnum & 0x8000 == 0 || features2 & 0x100 == 0 {
            return None;
        }
        // The CRC covers the sector with its own field taken as zero.
        let sector = slice(sb, 0, sectsize.into())?;
        let crc = crc32c(!0, slice(sector, 0, 224)?);
        let crc = crc32c(crc, &[0; 4]);
        let crc = crc32c(crc, sector.get(228..)?);
        if crc ^ !0 != le32(sb, 224)? {
            return None;
        }
    }
    let fname = slice(sb, 108, 12)?;
    Some(Filesystem {
        fstype: "xfs",
        label: label(fname),
        uuid: uuid_at(sb, 32),
    })
}

/// btrfs: the primary superblock at 64 KiB (CRC-checked when its checksum
/// is crc32c, the default).
pub(super) fn btrfs(src: &Device) -> Option<Filesystem> {
    let sb = slice(&src.head, 0x10000, 4096)?;
    if slice(sb, 0x40, 8)? != b"_BHRfS_M" {
        return None;
    }
    if le16(sb, 0xC4)? == 0 && crc32c(!0, sb.get(0x20..)?) ^ !0 != le32(sb, 0)? {
        return None;
    }
    Some(Filesystem {
        fstype: "btrfs",
        label: label(slice(sb, 0x12B, 256)?),
        uuid: uuid_at(sb, 0x20),
    })
}

/// Linux swap (v0 and v1 headers) and hibernation images in swap.
pub(super) fn swap(src: &Device) -> Option<Filesystem> {
    let head = &src.head;
    // blkid's minimum: 10 pages.
    if head.len() < 10 * 4096 {
        return None;
    }
    const TUXONICE: &[u8] = b"\xed\xc3\x02\xe9\x98\x56\xe5\x0c";
    let tuxonice = slice(head, 0, 8)? == TUXONICE;
    for page in [0x1000, 0x2000, 0x4000, 0x8000, 0x10000] {
        let magic = slice(head, page - 10, 10)?;
        if !tuxonice && magic == b"SWAP-SPACE" {
            let (label, uuid) = (String::new(), String::new());
            return Some(Filesystem {
                fstype: "swap",
                label,
                uuid,
            });
        }
        if !tuxonice && magic == b"SWAPSPACE2" {
            return swap_v1(head, "swap", true);
        }
        let suspend = [&b"S1SUSPEND"[..], b"S2SUSPEND", b"ULSUSPEND"]
            .iter()
            .any(|m| magic.starts_with(m))
            || magic == b"LINHIB0001";
        if suspend {
            return swap_v1(head, "swsuspend", false);
        }
    }
    tuxonice
        .then(|| swap_v1(head, "swsuspend", false))
        .flatten()
}

/// The v1 header at 1 KiB: label and UUID when its padding is clean.
fn swap_v1(head: &[u8], fstype: &'static str, check_version: bool) -> Option<Filesystem> {
    let hdr = slice(head, 1024, 512)?;
    if check_version {
        let version = le32(hdr, 0)?;
        if version != 1 && version.swap_bytes() != 1 || le32(hdr, 4)? == 0 {
            return None;
        }
    }
    let mut fs = Filesystem {
        fstype,
        label: String::new(),
        uuid: String::new(),
    };
    if le32(hdr, 44 + 32 * 4)? == 0 && le32(hdr, 44 + 33 * 4)? == 0 {
        fs.label = label(slice(hdr, 28, 16)?);
        fs.uuid = uuid_at(hdr, 12);
    }
    Some(fs)
}

/// LUKS1/LUKS2 headers: the UUID is stored as text; LUKS2 has a label.
pub(super) fn luks(src: &Device) -> Option<Filesystem> {
    let hdr = &src.head;
    if slice(hdr, 0, 6)? != b"LUKS\xba\xbe" {
        return None;
    }
    let label_text = if be16(hdr, 6)? == 2 {
        label(slice(hdr, 24, 48)?)
    } else {
        String::new()
    };
    Some(Filesystem {
        fstype: "crypto_LUKS",
        label: label_text,
        uuid: label(slice(hdr, 168, 40)?),
    })
}

/// LVM2 physical volumes: a "LABELONE" label in one of the first four
/// sectors; the PV UUID is 32 characters shown 6-4-4-4-4-4-6.
pub(super) fn lvm2(src: &Device) -> Option<Filesystem> {
    for sector in 0..4u64 {
        let base = usize::try_from(sector * 512).ok()?;
        let lbl = slice(&src.head, base, 512)?;
        if slice(lbl, 0, 8)? != b"LABELONE"
            || le64(lbl, 8)? != sector
            || slice(lbl, 24, 8)? != b"LVM2 001"
        {
            continue;
        }
        let pv = usize::try_from(le32(lbl, 20)?).ok()?;
        let raw = slice(&src.head, base.checked_add(pv)?, 32)?;
        let mut uuid = String::new();
        for (i, &c) in raw.iter().enumerate() {
            if [6, 10, 14, 18, 22, 26].contains(&i) {
                uuid.push('-');
            }
            uuid.push(char::from(c));
        }
        let fstype = "LVM2_member";
        return Some(Filesystem {
            fstype,
            label: String::new(),
            uuid,
        });
    }
    None
}

const MD_MAGIC: u32 = 0xa92b_4efc;

/// md RAID members (blkid's `linux_raid_member`): a version-1 superblock
/// at the start (1.1), at 4 KiB (1.2) or 8 KiB before the end (1.0), or a
/// 0.90 one in the last 64 KiB-aligned 64 KiB. UUID is the array's, LABEL
/// its name (1.x only).
pub(super) fn md_raid(src: &Device) -> Option<Filesystem> {
    let size = src.size();
    let member = |uuid: String, label: String| Filesystem {
        fstype: "linux_raid_member",
        label,
        uuid,
    };
    let end_1_0 = (size / 512).checked_sub(16).map(|s| (s & !7) * 512);
    for off in [Some(0), Some(0x1000), end_1_0].into_iter().flatten() {
        let Some(sb) = src.at(off, 256) else { continue };
        // super_offset (sectors) names where the superblock is, as blkid checks.
        if le32(&sb, 0)? == MD_MAGIC && le32(&sb, 4)? == 1 && le64(&sb, 144)? == off / 512 {
            return Some(member(uuid_at(&sb, 16), label(slice(&sb, 32, 32)?)));
        }
    }
    if size >= 0x20000 {
        let sb = src.at((size & !0xffff) - 0x10000, 64)?;
        let magic = le32(&sb, 0)?;
        if magic == MD_MAGIC || magic.swap_bytes() == MD_MAGIC {
            // Four 32-bit words in the superblock's byte order, shown
            // most significant byte first, as blkid shows them.
            let word = |off: usize| {
                let w = le32(&sb, off)?;
                Some(if magic == MD_MAGIC { w } else { w.swap_bytes() }.to_be_bytes())
            };
            let mut raw = [0u8; 16];
            for (i, off) in [20, 52, 56, 60].into_iter().enumerate() {
                raw[i * 4..i * 4 + 4].copy_from_slice(&word(off)?);
            }
            return Some(member(uuid_at(&raw, 0), String::new()));
        }
    }
    None
}
