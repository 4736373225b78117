//! LV activation (by lvm; `native` first tries without it) and what needs no lvm: whether the disks hold PVs (our
//! own signature probe), the device-mapper devices (sysfs), and the LVs'
//! filesystems for list_filesystems.

use std::fs::File;
use std::os::fd::AsRawFd;

use guest_formats::probe::{Content, Filesystem};
use protocol::types::FsEntry;
use protocol::{calls, CallIo, ErrorReply};

use super::super::devices::probe_device;
use super::super::state::GuestDaemon;
use super::report::public_lvs;
use super::run::{lvm, lvm_ok, rows, Mode, REPORT};

const SYS_BLOCK: &str = "/sys/block";

/// `_IO(0x12, 94)`: whether a block device is read-only.
const BLKROGET: u32 = (0x12 << 8) | 94;

/// The device-mapper devices as (name, dm uuid), from sysfs.
pub(super) fn dm_devices() -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(SYS_BLOCK) else {
        return Vec::new();
    };
    let read = |path: std::path::PathBuf| {
        let mut s = std::fs::read_to_string(path).unwrap_or_default();
        s.truncate(s.trim_end().len());
        s
    };
    entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("dm-"))
        .map(|n| {
            let dm = std::path::Path::new(SYS_BLOCK).join(&n).join("dm");
            (read(dm.join("name")), read(dm.join("uuid")))
        })
        .filter(|(name, _)| !name.is_empty())
        .collect()
}

/// Whether a dm uuid is an LVM LV's (`LVM-` then the VG and LV UUIDs;
/// internal layers add a `-suffix`).
pub(super) fn is_lvm_uuid(uuid: &str) -> bool {
    uuid.starts_with("LVM-")
}

/// Every block device and partition but RAM disks and LVM's own devices:
/// where a PV may be (disks, partitions, md arrays, opened LUKS; loop
/// devices, which only tests have, are left to the filter).
pub(super) fn pv_candidates() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(SYS_BLOCK) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for name in entries.filter_map(|e| e.ok()?.file_name().into_string().ok()) {
        if name.starts_with("ram") || name.starts_with("zram") {
            continue;
        }
        let dir = std::path::Path::new(SYS_BLOCK).join(&name);
        if name.starts_with("dm-") {
            let uuid = std::fs::read_to_string(dir.join("dm/uuid")).unwrap_or_default();
            if is_lvm_uuid(&uuid) {
                continue;
            }
        }
        out.push(format!("/dev/{name}"));
        if let Ok(parts) = std::fs::read_dir(&dir) {
            for part in parts.filter_map(|e| e.ok()?.file_name().into_string().ok()) {
                if part.starts_with(&name) && dir.join(&part).join("partition").exists() {
                    out.push(format!("/dev/{part}"));
                }
            }
        }
    }
    out
}

fn holds_pv(device: &str) -> bool {
    matches!(
        probe_device(device),
        Ok(Content::Filesystem(Filesystem {
            fstype: "LVM2_member",
            ..
        }))
    )
}

pub(super) fn read_only(device: &str) -> bool {
    let Ok(file) = File::open(device) else {
        return false;
    };
    let mut ro: libc::c_int = 0;
    // SAFETY: BLKROGET writes one int through the pointer, which points
    // at `ro`, alive for the call; `file` is an open descriptor.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), BLKROGET as _, &mut ro as *mut libc::c_int) };
    rc == 0 && ro != 0
}

/// The VGs with a PV on a read-only device: activated read-only, so the
/// kernel is never asked for a writable mapping of them.
fn read_only_vgs(d: &GuestDaemon, call: &str) -> Result<Vec<String>, ErrorReply> {
    let mut args: Vec<&str> = REPORT.to_vec();
    args.extend(["-o", "pv_name,vg_name"]);
    let text = lvm_ok(&d.lvm, call, Mode::Read, "pvs", &args, "")?;
    let mut vgs: Vec<String> = rows(call, &text, 2)?
        .into_iter()
        // A name lvm would not accept cannot be quoted into the config;
        // its VG then gets no writable mapping from the kernel either.
        .filter(|r| super::valid_name(call, "volume group", r[1]).is_ok() && read_only(r[0]))
        .map(|r| r[1].to_owned())
        .collect();
    vgs.sort();
    vgs.dedup();
    Ok(vgs)
}

/// Creates the /dev/VG/LV links and /dev/mapper nodes (no udev here).
pub(super) fn mknodes(d: &GuestDaemon, call: &str) -> Result<(), ErrorReply> {
    lvm_ok(&d.lvm, call, Mode::Read, "vgmknodes", &[], "").map(drop)
}

/// vgchange -a FLAG [VG…] (none: every VG), then the nodes. Activation
/// never writes: metadata is read-only and VGs on read-only disks get
/// read-only mappings.
pub(super) fn activate(
    d: &GuestDaemon,
    call: &str,
    flag: &str,
    vgs: &[String],
) -> Result<(), ErrorReply> {
    let ro = if flag == "n" {
        Vec::new()
    } else {
        read_only_vgs(d, call)?
    };
    let mut args = vec!["-a", flag];
    if flag == "ay" {
        args.push("--sysinit");
    }
    args.extend(vgs.iter().map(String::as_str));
    let out = lvm(&d.lvm, call, Mode::Read, &ro, "vgchange", &args)?;
    if out.code != 0 {
        return Err(out.failed(call, &vgs.join(" ")));
    }
    mknodes(d, call)
}

pub(in crate::daemon) fn internal_lvm_pending(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _a: calls::internal_lvm_pending::Args,
) -> Result<calls::internal_lvm_pending::Ret, ErrorReply> {
    // md first: its arrays may hold PVs, which the probe below cannot
    // see before they are assembled.
    if crate::daemon::luksmd::assembly_pending() {
        d.lvm.activated = false;
        return Ok(true);
    }
    if d.lvm.activated {
        return Ok(false);
    }
    let pending = pv_candidates().iter().any(|dev| holds_pv(dev));
    // Nothing to do later either, unless lvm_scan is asked for.
    d.lvm.activated = !pending;
    Ok(pending)
}

pub(in crate::daemon) fn internal_lvm_activate(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _a: calls::internal_lvm_activate::Args,
) -> Result<calls::internal_lvm_activate::Ret, ErrorReply> {
    crate::daemon::luksmd::ensure_assembled();
    // As libguestfs's boot-time vgchange: a VG that does not activate (a
    // PV missing, lvm2 not installed on the host) leaves the rest usable;
    // the call that needs it says what is wrong.
    if let Err(e) = activate(d, "internal_lvm_activate", "ay", &[]) {
        eprintln!("guest-init: LVM activation: {}", e.message);
    }
    d.lvm.activated = true;
    Ok(())
}

/// Activates the LVs without lvm where the disks hold only VGs that
/// `native` fully understands; false where lvm must (md members to
/// assemble first, or anything else: the log says what).
pub(in crate::daemon) fn internal_lvm_activate_native(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _a: calls::internal_lvm_activate_native::Args,
) -> Result<calls::internal_lvm_activate_native::Ret, ErrorReply> {
    if crate::daemon::luksmd::assembly_pending() {
        return Ok(false);
    }
    if d.lvm.activated {
        return Ok(true);
    }
    let done = super::native::activate_all(d);
    d.lvm.activated = done;
    Ok(done)
}

pub(in crate::daemon) fn list_dm_devices(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _a: calls::list_dm_devices::Args,
) -> Result<calls::list_dm_devices::Ret, ErrorReply> {
    let mut out: Vec<String> = dm_devices()
        .into_iter()
        .filter(|(_, uuid)| !is_lvm_uuid(uuid))
        // md's overlays of read-only members are the appliance's own.
        .filter(|(name, _)| !name.starts_with(crate::daemon::luksmd::OVERLAY_PREFIX))
        .map(|(name, _)| format!("/dev/mapper/{name}"))
        .collect();
    out.sort();
    Ok(out)
}

/// list_filesystems' LVs: every public LV as /dev/VG/LV with the type
/// found on it ("unknown" if none or inactive), as libguestfs lists them.
/// Without an active LV this runs nothing (plain disks need no lvm).
pub(in crate::daemon) fn filesystem_candidates(
    d: &GuestDaemon,
) -> Result<Vec<FsEntry>, ErrorReply> {
    if !dm_devices().iter().any(|(_, uuid)| is_lvm_uuid(uuid)) {
        return Ok(Vec::new());
    }
    let lvs = match super::native::public_lvs(d) {
        Some(lvs) => lvs,
        None => public_lvs(d, "list_filesystems")?,
    };
    Ok(lvs
        .into_iter()
        .map(|(vg, lv)| {
            let device = format!("/dev/{vg}/{lv}");
            let fstype = match probe_device(&device) {
                Ok(Content::Filesystem(fs)) => fs.fstype.to_owned(),
                _ => "unknown".to_owned(),
            };
            FsEntry { device, fstype }
        })
        .collect())
}

/// The /dev/VG/LV name of an LV given as /dev/VG/LV or /dev/mapper/VG-LV;
/// None for anything else.
pub(super) fn canonical(
    d: &GuestDaemon,
    call: &str,
    device: &str,
) -> Result<Option<String>, ErrorReply> {
    let rest = device.strip_prefix("/dev/").unwrap_or_default();
    let plausible = match rest.split('/').collect::<Vec<_>>().as_slice() {
        ["mapper", name] => name.contains('-'),
        [_, _] => true,
        _ => false,
    };
    if !plausible {
        return Ok(None);
    }
    let mut args: Vec<&str> = REPORT.to_vec();
    args.extend(["-o", "vg_name,lv_name", device]);
    let out = lvm(&d.lvm, call, Mode::Read, &[], "lvs", &args)?;
    if out.code != 0 {
        return Ok(None);
    }
    Ok(match rows(call, &out.stdout, 2)?.as_slice() {
        [row] => Some(format!("/dev/{}/{}", row[0], row[1])),
        _ => None,
    })
}
