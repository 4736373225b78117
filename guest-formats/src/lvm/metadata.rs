//! A volume group as its metadata text describes it: the VG, its PVs and
//! its LVs with their segments. Only what activation needs is kept; the
//! status and flag lists are kept whole, so that [`super::mapping`] can
//! refuse what it does not know.

use super::config::{parse, Section, Value};
use super::{error, plain_id, LvmError};

/// LVs and PVs in one VG, at most.
pub const MAX_VOLUMES: usize = 4096;
/// Segments in one LV, at most.
pub const MAX_SEGMENTS: usize = 4096;
/// Stripes in one segment, at most (LVM allows 128).
pub const MAX_STRIPES: usize = 128;

/// A volume group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeGroup {
    /// Its name.
    pub name: String,
    /// Its UUID, without dashes.
    pub id: String,
    /// The metadata's sequence number (higher is newer).
    pub seqno: u64,
    /// The extent size, in 512-byte sectors.
    pub extent_size: u64,
    /// `status`, e.g. RESIZEABLE, READ, WRITE.
    pub status: Vec<String>,
    /// `flags`.
    pub flags: Vec<String>,
    /// `system_id` (empty if none).
    pub system_id: String,
    /// `lock_type` (empty if none).
    pub lock_type: String,
    /// Its PVs.
    pub pvs: Vec<PhysicalVolume>,
    /// Its LVs.
    pub lvs: Vec<LogicalVolume>,
}

/// A PV as the VG records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhysicalVolume {
    /// The metadata's key for it (`pv0`), which segments name.
    pub key: String,
    /// Its UUID, without dashes.
    pub id: String,
    /// `status`, e.g. ALLOCATABLE.
    pub status: Vec<String>,
    /// `flags`, e.g. MISSING.
    pub flags: Vec<String>,
    /// Where the first extent starts, in sectors.
    pub pe_start: u64,
    /// How many extents it has.
    pub pe_count: u64,
}

/// An LV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalVolume {
    /// Its name.
    pub name: String,
    /// Its UUID, without dashes.
    pub id: String,
    /// `status`, e.g. READ, WRITE, VISIBLE.
    pub status: Vec<String>,
    /// `flags`.
    pub flags: Vec<String>,
    /// Its segments, as written.
    pub segments: Vec<Segment>,
}

/// A segment of an LV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The LV extent it starts at.
    pub start_extent: u64,
    /// How many LV extents it covers.
    pub extent_count: u64,
    /// `type`: "striped" (linear is one stripe), "thin", "raid1"…
    pub kind: String,
    /// The stripe size in sectors (0 for one stripe).
    pub stripe_size: u64,
    /// For striped segments: (PV key, first PV extent) per stripe.
    pub stripes: Vec<(String, u64)>,
}

fn strings(s: &Section, key: &str, what: &str) -> Result<Vec<String>, LvmError> {
    match s.strings(key) {
        Some(list) => Ok(list.into_iter().map(str::to_owned).collect()),
        None => error(format!("{what}: {key} is not a list of strings")),
    }
}

fn unsigned(s: &Section, key: &str, what: &str) -> Result<u64, LvmError> {
    match s.int(key).map(u64::try_from) {
        Some(Ok(v)) => Ok(v),
        _ => error(format!("{what}: {key} is missing or not a count")),
    }
}

fn id(s: &Section, what: &str) -> Result<String, LvmError> {
    match s.str("id").and_then(plain_id) {
        Some(id) => Ok(id),
        None => error(format!("{what}: id is missing or not an LVM identifier")),
    }
}

impl VolumeGroup {
    /// The VG a metadata text describes: its one top-level section.
    pub fn from_text(text: &str) -> Result<VolumeGroup, LvmError> {
        let top = parse(text)?;
        let mut sections = top.sections();
        let (Some((name, vg)), None) = (sections.next(), sections.next()) else {
            return error("the text does not describe exactly one volume group");
        };
        let what = format!("volume group {name:?}");
        let mut pvs = Vec::new();
        if let Some(list) = vg.section("physical_volumes") {
            for (key, pv) in list.sections() {
                let what = format!("{what}, PV {key:?}");
                pvs.push(PhysicalVolume {
                    key: key.to_owned(),
                    id: id(pv, &what)?,
                    status: strings(pv, "status", &what)?,
                    flags: strings(pv, "flags", &what)?,
                    pe_start: unsigned(pv, "pe_start", &what)?,
                    pe_count: unsigned(pv, "pe_count", &what)?,
                });
            }
        }
        let mut lvs = Vec::new();
        if let Some(list) = vg.section("logical_volumes") {
            for (lv_name, lv) in list.sections() {
                lvs.push(logical_volume(lv_name, lv, &what)?);
            }
        }
        if pvs.len() > MAX_VOLUMES || lvs.len() > MAX_VOLUMES {
            return error(format!("{what}: more than {MAX_VOLUMES} PVs or LVs"));
        }
        Ok(VolumeGroup {
            name: name.to_owned(),
            id: id(vg, &what)?,
            seqno: unsigned(vg, "seqno", &what)?,
            extent_size: unsigned(vg, "extent_size", &what)?,
            status: strings(vg, "status", &what)?,
            flags: strings(vg, "flags", &what)?,
            system_id: vg.str("system_id").unwrap_or_default().to_owned(),
            lock_type: vg.str("lock_type").unwrap_or_default().to_owned(),
            pvs,
            lvs,
        })
    }
}

fn kind_is_striped(segments: &[Segment]) -> bool {
    segments.last().is_some_and(|s| s.kind == "striped")
}

fn logical_volume(name: &str, lv: &Section, vg: &str) -> Result<LogicalVolume, LvmError> {
    let what = format!("{vg}, LV {name:?}");
    let mut segments = Vec::new();
    for (key, seg) in lv.sections() {
        if !key.starts_with("segment") {
            continue;
        }
        if segments.len() >= MAX_SEGMENTS {
            return error(format!("{what}: more than {MAX_SEGMENTS} segments"));
        }
        let what = format!("{what}, {key}");
        let kind = seg.str("type").unwrap_or_default().to_owned();
        let mut stripes = Vec::new();
        if let Some(Value::List(items)) = seg.value("stripes") {
            if items.len() % 2 != 0 || items.len() / 2 > MAX_STRIPES {
                return error(format!(
                    "{what}: stripes is not a list of (PV, extent) pairs"
                ));
            }
            for pair in items.chunks(2) {
                match pair {
                    [Value::Str(pv), Value::Int(pe)] if *pe >= 0 => {
                        stripes.push((pv.clone(), *pe as u64));
                    }
                    _ => {
                        return error(format!(
                            "{what}: stripes is not a list of (PV, extent) pairs"
                        ))
                    }
                }
            }
        }
        segments.push(Segment {
            start_extent: unsigned(seg, "start_extent", &what)?,
            extent_count: unsigned(seg, "extent_count", &what)?,
            stripe_size: seg
                .int("stripe_size")
                .and_then(|v| u64::try_from(v).ok())
                .unwrap_or(0),
            kind,
            stripes,
        });
        if kind_is_striped(&segments) {
            let count = seg.int("stripe_count").unwrap_or(-1);
            let last = segments.last().map(|s| s.stripes.len()).unwrap_or_default();
            if usize::try_from(count).ok() != Some(last) {
                return error(format!("{what}: stripe_count {count} but {last} stripes"));
            }
        }
    }
    Ok(LogicalVolume {
        name: name.to_owned(),
        id: id(lv, &what)?,
        status: strings(lv, "status", &what)?,
        flags: strings(lv, "flags", &what)?,
        segments,
    })
}
