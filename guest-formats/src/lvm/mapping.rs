//! The device-mapper tables that activate a volume group, as lvm's
//! `vgchange -ay` loads them for linear and striped LVs: one device per
//! visible LV named `VG-LV` (each `-` in either name doubled), with the
//! uuid `LVM-` + VG UUID + LV UUID, and one target per segment.
//! Anything else is [`Unsupported`] and left to lvm.

use super::metadata::{LogicalVolume, VolumeGroup};
use super::Unsupported;

/// `DM_NAME_LEN` less the terminating NUL.
const MAX_DM_NAME: usize = 127;

/// VG status words we activate under.
const VG_STATUS: &[&str] = &["RESIZEABLE", "READ", "WRITE"];
/// PV status words we activate under.
const PV_STATUS: &[&str] = &["ALLOCATABLE"];
/// LV status words we activate under.
const LV_STATUS: &[&str] = &["READ", "WRITE", "VISIBLE"];
/// Parts of LV names that lvm keeps for its internal volumes.
const RESERVED: &[&str] = &[
    "_cdata", "_cmeta", "_corig", "_cpool", "_cvol", "_iorig", "_imeta", "_mimage", "_mlog",
    "_pmspare", "_rimage", "_rmeta", "_tdata", "_tmeta", "_vdata", "_vorigin", "_wcorig",
];

/// One device-mapper target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `linear DEV OFFSET`.
    Linear {
        /// First sector of the LV it maps.
        start: u64,
        /// Sectors.
        length: u64,
        /// Index into the VG's PVs.
        pv: usize,
        /// Sector on that PV.
        offset: u64,
    },
    /// `striped N CHUNK DEV OFFSET…`.
    Striped {
        /// First sector of the LV it maps.
        start: u64,
        /// Sectors.
        length: u64,
        /// Stripe size in sectors.
        chunk: u64,
        /// (PV index, sector on it) per stripe.
        stripes: Vec<(usize, u64)>,
    },
}

/// The table of one LV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LvTable {
    /// The LV's name.
    pub lv: String,
    /// The device-mapper name, `VG-LV`.
    pub dm_name: String,
    /// The device-mapper uuid, `LVM-<vg id><lv id>`.
    pub dm_uuid: String,
    /// Whether it is mapped read-only (the VG or LV lacks WRITE).
    pub read_only: bool,
    /// Its targets, in order.
    pub targets: Vec<Target>,
}

/// The dm name lvm gives an LV: each `-` in either name doubled.
pub fn dm_name(vg: &str, lv: &str) -> String {
    format!("{}-{}", vg.replace('-', "--"), lv.replace('-', "--"))
}

/// A name as lvm accepts it: `[A-Za-z0-9+_.-]`, not starting with `-`,
/// not `.` or `..`, at most 127 bytes.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 127
        && !name.starts_with('-')
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"+_.-".contains(&c))
}

fn only(words: &[String], allowed: &[&str]) -> Option<String> {
    words
        .iter()
        .find(|w| !allowed.contains(&w.as_str()))
        .cloned()
}

/// The tables for every LV of `vg`. `pv_sectors[i]` is the size in
/// sectors of the device holding `vg.pvs[i]`, None if no device does.
pub fn plan(vg: &VolumeGroup, pv_sectors: &[Option<u64>]) -> Result<Vec<LvTable>, Unsupported> {
    let no = |reason: String| Unsupported {
        vg: vg.name.clone(),
        reason,
    };
    if !valid_name(&vg.name) {
        return Err(no("not a name lvm accepts".into()));
    }
    if let Some(w) = only(&vg.status, VG_STATUS) {
        return Err(no(format!("status {w}")));
    }
    if !vg.status.iter().any(|s| s == "READ") {
        return Err(no("not readable".into()));
    }
    if let Some(f) = vg.flags.first() {
        return Err(no(format!("flag {f}")));
    }
    if !vg.system_id.is_empty() {
        return Err(no(format!("system ID {:?}", vg.system_id)));
    }
    if !matches!(vg.lock_type.as_str(), "" | "none") {
        return Err(no(format!("lock type {:?}", vg.lock_type)));
    }
    if vg.extent_size == 0 || pv_sectors.len() != vg.pvs.len() {
        return Err(no("no extent size".into()));
    }
    for (pv, sectors) in vg.pvs.iter().zip(pv_sectors) {
        if let Some(w) = only(&pv.status, PV_STATUS).or_else(|| pv.flags.first().cloned()) {
            return Err(no(format!("PV {} is {w}", pv.key)));
        }
        let Some(sectors) = sectors else {
            return Err(no(format!("PV {} ({}) is missing", pv.key, pv.id)));
        };
        let end = pv
            .pe_count
            .checked_mul(vg.extent_size)
            .and_then(|n| n.checked_add(pv.pe_start));
        if end.is_none_or(|end| end > *sectors) {
            return Err(no(format!("PV {}'s extents end past its device", pv.key)));
        }
    }
    let read_only = !vg.status.iter().any(|s| s == "WRITE");
    vg.lvs
        .iter()
        .map(|lv| lv_table(vg, lv, read_only).map_err(&no))
        .collect()
}

fn lv_table(vg: &VolumeGroup, lv: &LogicalVolume, vg_read_only: bool) -> Result<LvTable, String> {
    let name = &lv.name;
    if !valid_name(name) || name.starts_with("snapshot") || name.starts_with("pvmove") {
        return Err(format!("LV {name:?} is not a name lvm accepts"));
    }
    if RESERVED.iter().any(|r| name.contains(r)) {
        return Err(format!("LV {name:?} has a name lvm keeps for itself"));
    }
    if let Some(w) = only(&lv.status, LV_STATUS).or_else(|| lv.flags.first().cloned()) {
        return Err(format!("LV {name} is {w}"));
    }
    if !lv.status.iter().any(|s| s == "VISIBLE") || !lv.status.iter().any(|s| s == "READ") {
        return Err(format!("LV {name} is hidden or unreadable"));
    }
    let dm_name = dm_name(&vg.name, name);
    if dm_name.len() > MAX_DM_NAME {
        return Err(format!("LV {name}: its device-mapper name is too long"));
    }
    let sectors = |extents: u64| extents.checked_mul(vg.extent_size);
    let overflow = || format!("LV {name}: its extents overflow");
    let mut targets = Vec::new();
    let mut next = 0u64;
    for seg in &lv.segments {
        if seg.kind != "striped" {
            return Err(format!("LV {name} has a {:?} segment", seg.kind));
        }
        if seg.start_extent != next || seg.extent_count == 0 {
            return Err(format!("LV {name}: its segments leave a gap"));
        }
        next = next.checked_add(seg.extent_count).ok_or_else(overflow)?;
        let count = seg.stripes.len() as u64;
        if count == 0 || seg.extent_count % count != 0 {
            return Err(format!(
                "LV {name}: {count} stripes over {} extents",
                seg.extent_count
            ));
        }
        let per_stripe = seg.extent_count / count;
        let mut areas = Vec::new();
        for (key, pe) in &seg.stripes {
            let Some(index) = vg.pvs.iter().position(|p| &p.key == key) else {
                return Err(format!("LV {name} names PV {key:?}, which the VG lacks"));
            };
            let pv = &vg.pvs[index];
            if pe
                .checked_add(per_stripe)
                .is_none_or(|end| end > pv.pe_count)
            {
                return Err(format!("LV {name} maps past the end of PV {key}"));
            }
            let offset = sectors(*pe)
                .and_then(|s| s.checked_add(pv.pe_start))
                .ok_or_else(overflow)?;
            areas.push((index, offset));
        }
        let start = sectors(seg.start_extent).ok_or_else(overflow)?;
        let length = sectors(seg.extent_count).ok_or_else(overflow)?;
        targets.push(match areas.as_slice() {
            [(pv, offset)] => Target::Linear {
                start,
                length,
                pv: *pv,
                offset: *offset,
            },
            _ => {
                if seg.stripe_size == 0 || !seg.stripe_size.is_power_of_two() {
                    return Err(format!("LV {name}: stripe size {}", seg.stripe_size));
                }
                Target::Striped {
                    start,
                    length,
                    chunk: seg.stripe_size,
                    stripes: areas,
                }
            }
        });
    }
    if targets.is_empty() {
        return Err(format!("LV {name} has no segments"));
    }
    Ok(LvTable {
        lv: name.clone(),
        dm_name,
        dm_uuid: format!("LVM-{}{}", vg.id, lv.id),
        read_only: vg_read_only || !lv.status.iter().any(|s| s == "WRITE"),
        targets,
    })
}
