//! The reporting calls: pvs, vgs, lvs, their _full forms and the UUIDs,
//! parsed from lvm's `--noheadings --separator | --units b` reports.

use protocol::types::{LvmLv, LvmPv, LvmVg};
use protocol::{calls, CallIo, ErrorReply};

use super::super::state::GuestDaemon;
use super::run::{lvm_ok, rows, Mode, REPORT};
use super::valid_name;

/// Runs `lvm SUB REPORT -o FIELDS [extra…]` and returns its rows.
fn report(
    d: &GuestDaemon,
    call: &str,
    sub: &str,
    fields: &[&str],
    extra: &[&str],
    what: &str,
) -> Result<Vec<Vec<String>>, ErrorReply> {
    let joined = fields.join(",");
    let mut args: Vec<&str> = REPORT.to_vec();
    args.extend(["-o", &joined]);
    args.extend(extra);
    let text = lvm_ok(&d.lvm, call, Mode::Read, sub, &args, what)?;
    Ok(rows(call, &text, fields.len())?
        .into_iter()
        .map(|r| r.into_iter().map(str::to_owned).collect())
        .collect())
}

/// The public LVs, as libguestfs selects them: no thin pools, snapshot
/// or mirror internals, nor LVs never activated.
pub(super) const PUBLIC: &[&str] = &["-S", "lv_role=public && lv_skip_activation!=yes"];

/// The public LVs as (VG, LV), sorted.
pub(super) fn public_lvs(d: &GuestDaemon, call: &str) -> Result<Vec<(String, String)>, ErrorReply> {
    let rows = report(d, call, "lvs", &["vg_name", "lv_name"], PUBLIC, "")?;
    let mut out: Vec<(String, String)> = rows
        .into_iter()
        .map(|mut r| {
            let lv = r.pop().unwrap_or_default();
            let vg = r.pop().unwrap_or_default();
            (vg, lv)
        })
        .collect();
    out.sort();
    Ok(out)
}

fn names(d: &GuestDaemon, call: &str, sub: &str, field: &str) -> Result<Vec<String>, ErrorReply> {
    let mut out: Vec<String> = report(d, call, sub, &[field], &[], "")?
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .filter(|n| !n.is_empty())
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

pub(in crate::daemon) fn pvs(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _a: calls::pvs::Args,
) -> Result<calls::pvs::Ret, ErrorReply> {
    names(d, "pvs", "pvs", "pv_name")
}

pub(in crate::daemon) fn vgs(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _a: calls::vgs::Args,
) -> Result<calls::vgs::Ret, ErrorReply> {
    names(d, "vgs", "vgs", "vg_name")
}

pub(in crate::daemon) fn lvs(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _a: calls::lvs::Args,
) -> Result<calls::lvs::Ret, ErrorReply> {
    let lvs = public_lvs(d, "lvs")?;
    Ok(lvs
        .into_iter()
        .map(|(vg, lv)| format!("/dev/{vg}/{lv}"))
        .collect())
}

/// A number column: bytes, counts; "" (not applicable) is 0, as
/// libguestfs's parser leaves it.
fn int(s: &str) -> i64 {
    s.trim().parse().unwrap_or(0)
}

/// A signed number where LVM prints -1 for none.
fn int_or_none(s: &str) -> i64 {
    s.trim().parse().unwrap_or(-1)
}

/// A percentage; -1 where LVM reports none.
fn percent(s: &str) -> f32 {
    s.trim().parse().unwrap_or(-1.0)
}

/// libguestfs's structs hold LVM UUIDs as 32 characters, no hyphens.
fn uuid(s: &str) -> String {
    s.chars().filter(|&c| c != '-').collect()
}

const PV_FIELDS: &[&str] = &[
    "pv_name",
    "pv_uuid",
    "pv_fmt",
    "pv_size",
    "dev_size",
    "pv_free",
    "pv_used",
    "pv_attr",
    "pv_pe_count",
    "pv_pe_alloc_count",
    "pv_tags",
    "pe_start",
    "pv_mda_count",
    "pv_mda_free",
];

pub(in crate::daemon) fn pvs_full(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _a: calls::pvs_full::Args,
) -> Result<calls::pvs_full::Ret, ErrorReply> {
    let rows = report(d, "pvs_full", "pvs", PV_FIELDS, &[], "")?;
    Ok(rows
        .iter()
        .map(|r| LvmPv {
            pv_name: r[0].clone(),
            pv_uuid: uuid(&r[1]),
            pv_fmt: r[2].clone(),
            pv_size: int(&r[3]),
            dev_size: int(&r[4]),
            pv_free: int(&r[5]),
            pv_used: int(&r[6]),
            pv_attr: r[7].clone(),
            pv_pe_count: int(&r[8]),
            pv_pe_alloc_count: int(&r[9]),
            pv_tags: r[10].clone(),
            pe_start: int(&r[11]),
            pv_mda_count: int(&r[12]),
            pv_mda_free: int(&r[13]),
        })
        .collect())
}

const VG_FIELDS: &[&str] = &[
    "vg_name",
    "vg_uuid",
    "vg_fmt",
    "vg_attr",
    "vg_size",
    "vg_free",
    "vg_sysid",
    "vg_extent_size",
    "vg_extent_count",
    "vg_free_count",
    "max_lv",
    "max_pv",
    "pv_count",
    "lv_count",
    "snap_count",
    "vg_seqno",
    "vg_tags",
    "vg_mda_count",
    "vg_mda_free",
];

pub(in crate::daemon) fn vgs_full(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _a: calls::vgs_full::Args,
) -> Result<calls::vgs_full::Ret, ErrorReply> {
    let rows = report(d, "vgs_full", "vgs", VG_FIELDS, &[], "")?;
    Ok(rows
        .iter()
        .map(|r| LvmVg {
            vg_name: r[0].clone(),
            vg_uuid: uuid(&r[1]),
            vg_fmt: r[2].clone(),
            vg_attr: r[3].clone(),
            vg_size: int(&r[4]),
            vg_free: int(&r[5]),
            vg_sysid: r[6].clone(),
            vg_extent_size: int(&r[7]),
            vg_extent_count: int(&r[8]),
            vg_free_count: int(&r[9]),
            max_lv: int(&r[10]),
            max_pv: int(&r[11]),
            pv_count: int(&r[12]),
            lv_count: int(&r[13]),
            snap_count: int(&r[14]),
            vg_seqno: int(&r[15]),
            vg_tags: r[16].clone(),
            vg_mda_count: int(&r[17]),
            vg_mda_free: int(&r[18]),
        })
        .collect())
}

const LV_FIELDS: &[&str] = &[
    "lv_name",
    "lv_uuid",
    "lv_attr",
    "lv_major",
    "lv_minor",
    "lv_kernel_major",
    "lv_kernel_minor",
    "lv_size",
    "seg_count",
    "origin",
    "snap_percent",
    "copy_percent",
    "move_pv",
    "lv_tags",
    "mirror_log",
    "modules",
];

pub(in crate::daemon) fn lvs_full(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _a: calls::lvs_full::Args,
) -> Result<calls::lvs_full::Ret, ErrorReply> {
    let rows = report(d, "lvs_full", "lvs", LV_FIELDS, &[], "")?;
    Ok(rows
        .iter()
        .map(|r| LvmLv {
            lv_name: r[0].clone(),
            lv_uuid: uuid(&r[1]),
            lv_attr: r[2].clone(),
            lv_major: int_or_none(&r[3]),
            lv_minor: int_or_none(&r[4]),
            lv_kernel_major: int_or_none(&r[5]),
            lv_kernel_minor: int_or_none(&r[6]),
            lv_size: int(&r[7]),
            seg_count: int(&r[8]),
            origin: r[9].clone(),
            snap_percent: percent(&r[10]),
            copy_percent: percent(&r[11]),
            move_pv: r[12].clone(),
            lv_tags: r[13].clone(),
            mirror_log: r[14].clone(),
            modules: r[15].clone(),
        })
        .collect())
}

/// One field of one object (a UUID); an error if it is not there.
fn one(
    d: &GuestDaemon,
    call: &str,
    sub: &str,
    field: &str,
    object: &str,
) -> Result<String, ErrorReply> {
    let rows = report(d, call, sub, &[field], &["--", object], object)?;
    match rows.as_slice() {
        [row] => Ok(row[0].trim().to_owned()),
        _ => Err(super::super::util::invalid(format!(
            "{call} {object}: not exactly one LVM object of that name (lvs, vgs and pvs list them)"
        ))),
    }
}

/// A field of every row about one VG, empty ones dropped.
fn of_vg(
    d: &GuestDaemon,
    call: &str,
    sub: &str,
    field: &str,
    vg: &str,
) -> Result<Vec<String>, ErrorReply> {
    valid_name(call, "volume group", vg)?;
    let rows = report(d, call, sub, &[field], &["--", vg], vg)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}

pub(in crate::daemon) fn lvuuid(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::lvuuid::Args,
) -> Result<calls::lvuuid::Ret, ErrorReply> {
    one(d, "lvuuid", "lvs", "lv_uuid", a.device.as_str())
}

pub(in crate::daemon) fn vguuid(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::vguuid::Args,
) -> Result<calls::vguuid::Ret, ErrorReply> {
    valid_name("vguuid", "volume group", &a.vgname)?;
    one(d, "vguuid", "vgs", "vg_uuid", &a.vgname)
}

pub(in crate::daemon) fn pvuuid(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::pvuuid::Args,
) -> Result<calls::pvuuid::Ret, ErrorReply> {
    one(d, "pvuuid", "pvs", "pv_uuid", a.device.as_str())
}

pub(in crate::daemon) fn vglvuuids(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::vglvuuids::Args,
) -> Result<calls::vglvuuids::Ret, ErrorReply> {
    of_vg(d, "vglvuuids", "lvs", "lv_uuid", &a.vgname)
}

pub(in crate::daemon) fn vgpvuuids(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::vgpvuuids::Args,
) -> Result<calls::vgpvuuids::Ret, ErrorReply> {
    of_vg(d, "vgpvuuids", "vgs", "pv_uuid", &a.vgname)
}
