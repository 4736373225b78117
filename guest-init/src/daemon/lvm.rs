//! LVM: the pvs/vgs/lvs reports (`report`), the calls that change PVs, VGs
//! and LVs (`change`), activation and the device-mapper listing
//! (`activate`), all through lvm from the tools layer (`run`: no udev,
//! only the appliance's disks, machine-readable reports, bounded output),
//! except activating and listing plain linear and striped LVs at start-up,
//! which `native` does from the metadata through device-mapper ioctls
//! (`dm`), so inspecting an LVM disk loads no tools layer.

mod activate;
mod change;
mod dm;
mod native;
mod report;
mod run;
#[cfg(test)]
mod tests;

use protocol::{calls, CallIo, ErrorReply};

pub(super) use activate::{
    filesystem_candidates, internal_lvm_activate, internal_lvm_activate_native,
    internal_lvm_pending, list_dm_devices,
};
pub(super) use change::{
    lvcreate, lvcreate_free, lvm_clear_filter, lvm_scan, lvm_set_filter, lvremove, lvrename,
    lvresize, lvresize_free, pvcreate, pvremove, pvresize, vg_activate, vg_activate_all, vgcreate,
    vgremove, vgrename,
};
pub(super) use report::{
    lvs, lvs_full, lvuuid, pvs, pvs_full, pvuuid, vglvuuids, vgpvuuids, vgs, vgs_full, vguuid,
};
pub(crate) use run::LvmState;

use super::state::GuestDaemon;
use super::util::invalid;

/// A VG or LV name as LVM allows it: `[A-Za-z0-9+_.-]`, not starting with
/// `-`, not `.` or `..`, at most 127 bytes.
fn valid_name(call: &str, what: &str, name: &str) -> Result<(), ErrorReply> {
    let ok = !name.is_empty()
        && name.len() <= 127
        && !name.starts_with('-')
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+_.-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{call}: {name:?} is not a valid {what} name (letters, digits, + _ . - only)"
        )))
    }
}

pub(super) fn is_lv(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::is_lv::Args,
) -> Result<calls::is_lv::Ret, ErrorReply> {
    Ok(activate::canonical(d, "is_lv", a.mountable.as_str())?.is_some())
}

pub(super) fn lvm_canonical_lv_name(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::lvm_canonical_lv_name::Args,
) -> Result<calls::lvm_canonical_lv_name::Ret, ErrorReply> {
    let call = "lvm_canonical_lv_name";
    let dev = a.lvname.as_str();
    activate::canonical(d, call, dev)?.ok_or_else(|| {
        ErrorReply::errno(
            libc::EINVAL,
            format!("{call} {dev}: not an LVM logical volume (lvs lists them)"),
        )
    })
}
