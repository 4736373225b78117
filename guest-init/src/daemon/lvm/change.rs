//! The calls that change LVM: create, remove, resize and rename PVs, VGs
//! and LVs (metadata writes), and activation, scanning and the filter.

use protocol::types::Device;
use protocol::{calls, CallIo, ErrorReply};

use super::super::state::GuestDaemon;
use super::super::util::invalid;
use super::activate::{activate, mknodes};
use super::run::{lvm_ok, Mode};
use super::valid_name;

/// Runs a metadata-changing lvm command.
fn write(
    d: &GuestDaemon,
    call: &str,
    sub: &str,
    args: &[&str],
    what: &str,
) -> Result<(), ErrorReply> {
    lvm_ok(&d.lvm, call, Mode::Write, sub, args, what).map(drop)
}

/// A percentage argument, 0 to 100 as libguestfs takes it.
fn percent(call: &str, p: i64) -> Result<String, ErrorReply> {
    if !(0..=100).contains(&p) {
        return Err(invalid(format!(
            "{call}: percent {p} is not between 0 and 100"
        )));
    }
    Ok(format!("{p}%FREE"))
}

/// A size in MiB, more than 0.
fn mbytes(call: &str, m: i64) -> Result<String, ErrorReply> {
    if m <= 0 {
        return Err(invalid(format!("{call}: mbytes {m} must be more than 0")));
    }
    Ok(format!("{m}m"))
}

pub(in crate::daemon) fn pvcreate(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::pvcreate::Args,
) -> Result<calls::pvcreate::Ret, ErrorReply> {
    let dev = a.device.as_str();
    super::super::mkfs::refuse_mounted(d, "pvcreate", dev)?;
    write(d, "pvcreate", "pvcreate", &["--force", "--yes", dev], dev)
}

pub(in crate::daemon) fn vgcreate(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::vgcreate::Args,
) -> Result<calls::vgcreate::Ret, ErrorReply> {
    let call = "vgcreate";
    valid_name(call, "volume group", &a.volgroup)?;
    if a.physvols.is_empty() {
        return Err(invalid(format!(
            "{call} {}: no physical volumes given",
            a.volgroup
        )));
    }
    let pvs: Vec<Device> = a
        .physvols
        .iter()
        .map(Device::new)
        .collect::<Result<_, _>>()?;
    let mut args = vec!["--yes", a.volgroup.as_str()];
    args.extend(pvs.iter().map(Device::as_str));
    write(d, call, call, &args, &a.volgroup)
}

/// lvcreate with a size argument (`-L 10m` or `-l 50%FREE`).
fn create(
    d: &mut GuestDaemon,
    call: &str,
    lv: &str,
    vg: &str,
    size: [&str; 2],
) -> Result<(), ErrorReply> {
    valid_name(call, "volume group", vg)?;
    valid_name(call, "logical volume", lv)?;
    let what = format!("{vg}/{lv}");
    write(
        d,
        call,
        "lvcreate",
        &["--yes", size[0], size[1], "-n", lv, vg],
        &what,
    )?;
    mknodes(d, call)
}

pub(in crate::daemon) fn lvcreate(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::lvcreate::Args,
) -> Result<calls::lvcreate::Ret, ErrorReply> {
    let size = mbytes("lvcreate", a.mbytes)?;
    create(d, "lvcreate", &a.logvol, &a.volgroup, ["-L", &size])
}

pub(in crate::daemon) fn lvcreate_free(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::lvcreate_free::Args,
) -> Result<calls::lvcreate_free::Ret, ErrorReply> {
    let size = percent("lvcreate_free", a.percent)?;
    create(d, "lvcreate_free", &a.logvol, &a.volgroup, ["-l", &size])
}

pub(in crate::daemon) fn lvremove(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::lvremove::Args,
) -> Result<calls::lvremove::Ret, ErrorReply> {
    let dev = a.device.as_str();
    write(d, "lvremove", "lvremove", &["--force", dev], dev)
}

pub(in crate::daemon) fn vgremove(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::vgremove::Args,
) -> Result<calls::vgremove::Ret, ErrorReply> {
    valid_name("vgremove", "volume group", &a.vgname)?;
    write(
        d,
        "vgremove",
        "vgremove",
        &["--force", &a.vgname],
        &a.vgname,
    )
}

pub(in crate::daemon) fn pvremove(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::pvremove::Args,
) -> Result<calls::pvremove::Ret, ErrorReply> {
    let dev = a.device.as_str();
    // One --force: a PV still in a VG is refused, as libguestfs says.
    write(d, "pvremove", "pvremove", &["--force", "--yes", dev], dev)
}

pub(in crate::daemon) fn lvresize(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::lvresize::Args,
) -> Result<calls::lvresize::Ret, ErrorReply> {
    let size = mbytes("lvresize", a.mbytes)?;
    let dev = a.device.as_str();
    write(
        d,
        "lvresize",
        "lvresize",
        &["--force", "-L", &size, dev],
        dev,
    )
}

pub(in crate::daemon) fn lvresize_free(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::lvresize_free::Args,
) -> Result<calls::lvresize_free::Ret, ErrorReply> {
    let size = format!("+{}", percent("lvresize_free", a.percent)?);
    let dev = a.lv.as_str();
    write(d, "lvresize_free", "lvresize", &["-l", &size, dev], dev)
}

pub(in crate::daemon) fn pvresize(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::pvresize::Args,
) -> Result<calls::pvresize::Ret, ErrorReply> {
    let dev = a.device.as_str();
    write(d, "pvresize", "pvresize", &[dev], dev)
}

pub(in crate::daemon) fn lvrename(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::lvrename::Args,
) -> Result<calls::lvrename::Ret, ErrorReply> {
    let call = "lvrename";
    for name in [&a.logvol, &a.newlogvol] {
        Device::new(name.as_str())?;
    }
    write(d, call, call, &[&a.logvol, &a.newlogvol], &a.logvol)?;
    mknodes(d, call)
}

pub(in crate::daemon) fn vgrename(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::vgrename::Args,
) -> Result<calls::vgrename::Ret, ErrorReply> {
    let call = "vgrename";
    valid_name(call, "volume group", &a.volgroup)?;
    valid_name(call, "volume group", &a.newvolgroup)?;
    write(d, call, call, &[&a.volgroup, &a.newvolgroup], &a.volgroup)?;
    mknodes(d, call)
}

pub(in crate::daemon) fn vg_activate(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::vg_activate::Args,
) -> Result<calls::vg_activate::Ret, ErrorReply> {
    for vg in &a.volgroups {
        valid_name("vg_activate", "volume group", vg)?;
    }
    let flag = if a.activate { "y" } else { "n" };
    activate(d, "vg_activate", flag, &a.volgroups)
}

pub(in crate::daemon) fn vg_activate_all(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::vg_activate_all::Args,
) -> Result<calls::vg_activate_all::Ret, ErrorReply> {
    let flag = if a.activate { "y" } else { "n" };
    activate(d, "vg_activate_all", flag, &[])
}

pub(in crate::daemon) fn lvm_scan(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::lvm_scan::Args,
) -> Result<calls::lvm_scan::Ret, ErrorReply> {
    rescan(d, "lvm_scan", a.activate)
}

/// A scan (nothing cached to drop: lvm keeps no state between commands
/// here), then autoactivation if asked.
fn rescan(d: &mut GuestDaemon, call: &str, activate_found: bool) -> Result<(), ErrorReply> {
    lvm_ok(&d.lvm, call, Mode::Read, "vgscan", &[], "")?;
    if activate_found {
        activate(d, call, "ay", &[])?;
        d.lvm.activated = true;
    }
    Ok(())
}

/// Deactivates everything (so no LV stays active on a device the new
/// filter hides; fails while one is mounted), sets the filter, rescans
/// and activates what the new filter shows.
fn set_filter(
    d: &mut GuestDaemon,
    call: &str,
    filter: Option<Vec<String>>,
) -> Result<(), ErrorReply> {
    activate(d, call, "n", &[])?;
    d.lvm.filter = filter;
    rescan(d, call, true)
}

pub(in crate::daemon) fn lvm_set_filter(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::lvm_set_filter::Args,
) -> Result<calls::lvm_set_filter::Ret, ErrorReply> {
    let devices: Vec<Device> = a
        .devices
        .iter()
        .map(Device::new)
        .collect::<Result<_, _>>()?;
    let devices = devices.into_iter().map(String::from).collect();
    set_filter(d, "lvm_set_filter", Some(devices))
}

pub(in crate::daemon) fn lvm_clear_filter(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _a: calls::lvm_clear_filter::Args,
) -> Result<calls::lvm_clear_filter::Ret, ErrorReply> {
    set_filter(d, "lvm_clear_filter", None)
}
