//! LVM without lvm: the PV labels and VG metadata on the disks read by
//! `guest_formats::lvm`, and the linear and striped LVs activated through
//! the device-mapper ioctls with the names, uuids, tables and nodes lvm
//! gives them, so later lvm commands take them for their own. Inspecting
//! an LVM disk then loads no tools layer.
//!
//! Security rule: the metadata is hostile. It only ever maps sectors of
//! the PVs that carry it (each bounds-checked against its device), names
//! are lvm's charset only, and a VG whose `/dev/VG` already exists as
//! anything but a directory of links into /dev/mapper is left to lvm.
//! Whatever this module does not fully understand (see
//! `guest_formats::lvm::mapping`), or any duplicate PV or VG, makes the
//! whole activation lvm's, as before.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use guest_formats::lvm::{plan, read_label, LvTable, VolumeGroup};
use guest_formats::FileSource;

use super::super::state::GuestDaemon;
use super::activate::{dm_devices, is_lvm_uuid, pv_candidates, read_only};
use super::dm::{Control, Line};

/// A PV's device.
struct PvDevice {
    path: String,
    sectors: u64,
    dev: (u32, u32),
    read_only: bool,
}

/// A VG found on the disks, with the device of each of its PVs (in the
/// metadata's order; None where no disk holds it).
struct FoundVg {
    vg: VolumeGroup,
    pvs: Vec<Option<usize>>,
}

struct Scan {
    devices: Vec<PvDevice>,
    vgs: Vec<FoundVg>,
}

/// The devices native activation and listing look at: the filter's, or
/// those lvm's default filter accepts (no loop devices).
fn candidates(d: &GuestDaemon) -> Vec<String> {
    match &d.lvm.filter {
        Some(devices) => devices.clone(),
        None => pv_candidates()
            .into_iter()
            .filter(|dev| !dev.starts_with("/dev/loop"))
            .collect(),
    }
}

/// Reads every candidate's label and metadata. Err: why lvm must decide
/// (a damaged label, a PV on two devices, two VGs of one name, copies of
/// one VG's metadata that disagree).
fn scan(paths: &[String]) -> Result<Scan, String> {
    let mut devices: Vec<PvDevice> = Vec::new();
    let mut by_pv: BTreeMap<String, usize> = BTreeMap::new();
    let mut vgs: BTreeMap<String, VolumeGroup> = BTreeMap::new();
    for path in paths {
        let Ok(file) = File::open(path) else {
            continue;
        };
        let Ok(meta) = file.metadata() else {
            continue;
        };
        if !meta.file_type().is_block_device() {
            continue;
        }
        let Ok(src) = FileSource::new(file) else {
            continue;
        };
        let label = match read_label(&src) {
            Ok(Some(label)) => label,
            Ok(None) => continue,
            Err(e) => return Err(format!("{path}: {e}")),
        };
        if let Some(&other) = by_pv.get(&label.pv_id) {
            let other = &devices[other].path;
            return Err(format!("PV {} is on both {other} and {path}", label.pv_id));
        }
        let rdev = meta.rdev();
        by_pv.insert(label.pv_id.clone(), devices.len());
        devices.push(PvDevice {
            path: path.clone(),
            sectors: guest_formats::ReadAt::size(&src) / 512,
            dev: (rustix::fs::major(rdev), rustix::fs::minor(rdev)),
            read_only: read_only(path),
        });
        for text in &label.metadata {
            let vg = VolumeGroup::from_text(text).map_err(|e| format!("{path}: {e}"))?;
            match vgs.get(&vg.id) {
                Some(seen) if seen.seqno != vg.seqno => {
                    return Err(format!(
                        "VG {}'s metadata copies disagree (seqno {} and {})",
                        vg.name, seen.seqno, vg.seqno
                    ));
                }
                Some(_) => {}
                None => {
                    vgs.insert(vg.id.clone(), vg);
                }
            }
        }
    }
    let mut names: Vec<&str> = vgs.values().map(|vg| vg.name.as_str()).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("two volume groups are named {}", pair[0]));
    }
    let vgs = vgs
        .into_values()
        .map(|vg| FoundVg {
            pvs: vg.pvs.iter().map(|pv| by_pv.get(&pv.id).copied()).collect(),
            vg,
        })
        .collect();
    Ok(Scan { devices, vgs })
}

/// Every VG's tables, or why lvm must activate them.
fn tables(scan: &Scan) -> Result<Vec<(&FoundVg, Vec<LvTable>)>, String> {
    scan.vgs
        .iter()
        .map(|found| {
            let sizes: Vec<Option<u64>> = found
                .pvs
                .iter()
                .map(|i| i.map(|i| scan.devices[i].sectors))
                .collect();
            plan(&found.vg, &sizes)
                .map(|t| (found, t))
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// The public LVs as (VG, LV), sorted, as `lvs` lists them, read from the
/// metadata; None where lvm must answer (a filter, or a VG this module
/// does not fully understand).
pub(super) fn public_lvs(d: &GuestDaemon) -> Option<Vec<(String, String)>> {
    if d.lvm.filter.is_some() {
        return None;
    }
    listed(&candidates(d))
}

/// The public LVs of the VGs on `paths`, sorted; None as for
/// [`public_lvs`].
pub(super) fn listed(paths: &[String]) -> Option<Vec<(String, String)>> {
    let scan = scan(paths).ok()?;
    let mut out: Vec<(String, String)> = tables(&scan)
        .ok()?
        .into_iter()
        .flat_map(|(found, tables)| {
            tables
                .into_iter()
                .map(|t| (found.vg.name.clone(), t.lv))
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    Some(out)
}

/// Activates every LV on the disks as `vgchange -ay` would; false (with
/// the reason in the appliance's log) where lvm must do it instead.
pub(super) fn activate_all(d: &GuestDaemon) -> bool {
    match try_activate(d) {
        Ok(()) => true,
        Err(why) => {
            eprintln!("guest-init: LVM: left to lvm: {why}");
            false
        }
    }
}

fn try_activate(d: &GuestDaemon) -> Result<(), String> {
    activate_on(&candidates(d))
}

/// Activates the LVs of the VGs on `paths`, or says why lvm must.
pub(super) fn activate_on(paths: &[String]) -> Result<(), String> {
    let scan = scan(paths)?;
    let plans = tables(&scan)?;
    if plans.is_empty() {
        return Ok(());
    }
    for (found, _) in &plans {
        dev_dir_is_free(&found.vg.name)?;
    }
    let control = Control::open().map_err(|e| format!("/dev/mapper/control: {e}"))?;
    let active: Vec<String> = dm_devices()
        .into_iter()
        .filter(|(_, uuid)| is_lvm_uuid(uuid))
        .map(|(_, uuid)| uuid)
        .collect();
    for (found, tables) in &plans {
        for table in tables {
            if active.contains(&table.dm_uuid) {
                continue;
            }
            activate_lv(&control, &scan, found, table)?;
        }
    }
    Ok(())
}

fn activate_lv(control: &Control, scan: &Scan, found: &FoundVg, t: &LvTable) -> Result<(), String> {
    let vg = &found.vg.name;
    let what = |step: &str, e: std::io::Error| format!("{step} {vg}/{}: {e}", t.lv);
    let device = |pv: usize| {
        found
            .pvs
            .get(pv)
            .copied()
            .flatten()
            .map(|i| &scan.devices[i])
    };
    let lines: Vec<Line> = t
        .targets
        .iter()
        .map(|target| {
            Line::new(target, &|pv| match device(pv) {
                Some(dev) => format!("{}:{}", dev.dev.0, dev.dev.1),
                None => String::new(),
            })
        })
        .collect();
    // A read-only PV makes every LV on it read-only: as lvm's
    // read_only_volume_list for the VGs on read-only disks.
    let read_only = t.read_only
        || t.targets.iter().any(|target| {
            let pvs: Vec<usize> = match target {
                guest_formats::lvm::Target::Linear { pv, .. } => vec![*pv],
                guest_formats::lvm::Target::Striped { stripes, .. } => {
                    stripes.iter().map(|(pv, _)| *pv).collect()
                }
            };
            pvs.into_iter()
                .any(|pv| device(pv).is_some_and(|d| d.read_only))
        });
    let (major, minor) = control
        .create(&t.dm_name, &t.dm_uuid)
        .map_err(|e| what("create", e))?;
    let live = control
        .load(&t.dm_name, &lines, read_only)
        .and_then(|()| control.resume(&t.dm_name))
        .map_err(|e| what("load the table of", e));
    if let Err(e) = live.and_then(|()| nodes(vg, &t.lv, &t.dm_name, major, minor)) {
        let _ = control.remove(&t.dm_name);
        return Err(e);
    }
    Ok(())
}

/// Whether `/dev/VG` may hold our links: absent, or a non-empty
/// directory of links into /dev/mapper (an earlier activation's).
fn dev_dir_is_free(vg: &str) -> Result<(), String> {
    let dir = Path::new("/dev").join(vg);
    let Ok(meta) = std::fs::symlink_metadata(&dir) else {
        return Ok(());
    };
    let ours = meta.is_dir()
        && std::fs::read_dir(&dir).is_ok_and(|entries| {
            let mut any = false;
            let all = entries.into_iter().all(|e| {
                any = true;
                e.ok()
                    .and_then(|e| std::fs::read_link(e.path()).ok())
                    .is_some_and(|target| target.starts_with("/dev/mapper/"))
            });
            any && all
        });
    if ours {
        Ok(())
    } else {
        Err(format!(
            "{} exists and is not an LVM directory",
            dir.display()
        ))
    }
}

/// /dev/mapper/NAME and the /dev/VG/LV link to it, as vgmknodes makes
/// them without udev.
fn nodes(vg: &str, lv: &str, dm_name: &str, major: u32, minor: u32) -> Result<(), String> {
    use rustix::fs::{FileType, Mode};
    let node = format!("/dev/mapper/{dm_name}");
    let fail = |what: &str, e: rustix::io::Errno| format!("{what}: {e}");
    let _ = rustix::fs::unlink(&node);
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &node,
        FileType::BlockDevice,
        Mode::from_raw_mode(0o600),
        rustix::fs::makedev(major, minor),
    )
    .map_err(|e| fail(&node, e))?;
    let dir = format!("/dev/{vg}");
    match rustix::fs::mkdir(&dir, Mode::from_raw_mode(0o755)) {
        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
        Err(e) => return Err(fail(&dir, e)),
    }
    let link = format!("{dir}/{lv}");
    let _ = rustix::fs::unlink(&link);
    rustix::fs::symlink(&node, &link).map_err(|e| fail(&link, e))
}

/// The tables native activation would load, as `dmsetup table NAME`
/// prints them, by dm name: for the tests' comparisons with lvm.
#[cfg(test)]
pub(super) fn table_text(paths: &[String]) -> Result<Vec<(String, String)>, String> {
    let scan = scan(paths)?;
    let mut out = Vec::new();
    for (found, tables) in tables(&scan)? {
        for t in tables {
            let lines: Vec<String> = t
                .targets
                .iter()
                .map(|target| {
                    let l = Line::new(target, &|pv| {
                        let i = found.pvs[pv].expect("a present PV");
                        let (major, minor) = scan.devices[i].dev;
                        format!("{major}:{minor}")
                    });
                    format!("{} {} {} {}", l.start, l.length, l.kind, l.params)
                })
                .collect();
            out.push((t.dm_name, lines.join("\n")));
        }
    }
    out.sort();
    Ok(out)
}
