//! LUKS (cryptsetup) and md RAID (mdadm) calls, run through the tools
//! layer, and what list_filesystems adds for them: the filesystems on md
//! arrays and on opened LUKS mappings.

mod assemble;
mod deprecated;
mod keys;
mod luks;
mod md;
mod overlay;
pub(super) use assemble::{assembly_pending, ensure_assembled};
pub(super) use overlay::OVERLAY_PREFIX;
#[cfg(test)]
mod tests;

use protocol::types::FsEntry;

pub(super) use deprecated::{luks_close, luks_open, luks_open_ro};
pub(super) use luks::{
    cryptsetup_close, cryptsetup_open, luks_add_key, luks_format, luks_format_cipher,
    luks_kill_slot, luks_uuid,
};
pub(super) use md::{list_md_devices, md_create, md_detail, md_stat, md_stop};

/// The environment cryptsetup and mdadm run in: the appliance has no
/// udev, so libdevmapper makes the /dev/mapper nodes itself and waits
/// for no udev event.
const NO_UDEV: &[(&str, &str)] = &[("DM_DISABLE_UDEV", "1")];

/// list_filesystems' entries for md arrays (assembled first, see
/// `assemble`) and opened LUKS mappings, in that order, as libguestfs
/// lists them after partitions.
pub(super) fn filesystem_candidates() -> Vec<FsEntry> {
    assemble::ensure_assembled();
    let mut out = md::filesystems();
    out.extend(luks::filesystems());
    out
}

/// `device` as list_filesystems lists it, by libguestfs's rules: its
/// filesystem type, or "unknown"; nothing for a partition table, a
/// RAID/LVM member or a LUKS container (their contents are listed).
fn fs_entry(device: &str) -> Option<FsEntry> {
    use guest_formats::probe::Content;
    let fstype = match super::devices::probe_device(device) {
        Ok(Content::Filesystem(fs)) if is_container(fs.fstype) => return None,
        Ok(Content::Filesystem(fs)) => fs.fstype,
        Ok(Content::PartitionTable(_)) => return None,
        _ => "unknown",
    };
    Some(FsEntry {
        device: device.to_owned(),
        fstype: fstype.to_owned(),
    })
}

/// Signatures list_filesystems leaves out, as libguestfs does: members of
/// a RAID or LVM set (`*_member`) and LUKS containers.
pub(super) fn is_container(fstype: &str) -> bool {
    fstype.ends_with("_member") || fstype == "crypto_LUKS"
}
