//! Inspection, as libguestfs's inspect_* calls: inspect_os mounts every
//! filesystem read-only on a private appliance directory, recognises
//! Linux and Windows roots (scan.rs, linux.rs, windows.rs) and keeps what
//! it found in [`types::Inspection`]; the inspect_get_* calls answer from
//! there. inspect_list_applications2 reads the package database of the
//! guest tree the caller mounted (apps.rs, windows.rs).
//!
//! Everything read comes from the guest and is hostile: files are read
//! through `Root` (RESOLVE_IN_ROOT, so guest symlinks stay in the guest),
//! capped in size, and parsed by the bounded parsers of `guest_formats`
//! (registry hives, SQLite and rpm headers, fstab, os-release, package
//! lists, ELF/PE headers), which fail to "unknown" or an error, never a
//! panic or a hang; the hive, rpm and sqlite readers are fuzzed
//! (fuzz/fuzz_targets/registry_hive.rs, rpm_db.rs).
//!
//! Module order, one way: this file (the calls) → scan → linux, windows,
//! fstab → files, types; apps → files. `types` imports none of them.

mod apps;
mod drives;
mod files;
mod fstab;
mod linux;
mod osinfo;
mod release;
mod rpmdb;
mod scan;
#[cfg(test)]
mod tests;
pub(crate) mod types;
mod windows;

use std::path::Path;

use protocol::types::Mountable;
use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::state::GuestDaemon;
use super::util::errno_reply;
use crate::log;
use types::Mounter;

/// Where inspect_os mounts each filesystem, one numbered directory each
/// (a tmpfs of the appliance, outside the guest tree).
const INSPECT_DIR: &str = "/run/inspect";

/// inspect_os on the given devices (tests pass loop devices, a mounter
/// and a base directory of their own).
pub(crate) fn run_inspection(
    d: &mut GuestDaemon,
    devices: &[String],
    base: &Path,
    mounter: &Mounter,
    cancelled: &dyn Fn() -> bool,
) -> Result<Vec<String>, ErrorReply> {
    d.inspection.roots = None;
    let probed = scan::probe_all(devices);
    let roots = scan::inspect_devices(&probed, base, mounter, cancelled).map_err(|e| {
        if e.raw_os_error() == Some(libc::ECANCELED) {
            ErrorReply::new(ErrorKind::Cancelled, "inspect_os: cancelled")
        } else {
            errno_reply("inspect_os: mkdir", &base.to_string_lossy(), e)
        }
    })?;
    let names = roots.iter().map(|r| r.root.clone()).collect();
    d.inspection.roots = Some(roots);
    Ok(names)
}

pub(super) fn inspect_os(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    _args: calls::inspect_os::Args,
) -> Result<calls::inspect_os::Ret, ErrorReply> {
    // As libguestfs: the guest's own mounts would hide or pin filesystems.
    super::mount::umount_all(d, io, calls::umount_all::Args {})?;
    let listed = super::devices::list_filesystems(d, io, calls::list_filesystems::Args {})?;
    let devices: Vec<String> = listed.into_iter().map(|e| e.device).collect();
    let io: &dyn CallIo = io;
    run_inspection(
        d,
        &devices,
        Path::new(INSPECT_DIR),
        &scan::kernel_mount,
        &|| io.cancelled(),
    )
}

macro_rules! getter {
    ($call:ident, |$info:ident| $value:expr) => {
        pub(super) fn $call(
            d: &mut GuestDaemon,
            _io: &mut dyn CallIo,
            args: calls::$call::Args,
        ) -> Result<calls::$call::Ret, ErrorReply> {
            let $info = d.inspection.get(stringify!($call), &args.root)?;
            Ok($value)
        }
    };
}

/// libguestfs answers "unknown" for what inspection did not find.
fn or_unknown(s: &str) -> String {
    if s.is_empty() {
        "unknown".into()
    } else {
        s.to_owned()
    }
}

/// A Windows-only fact, or libguestfs's error for other roots.
fn windows_fact(
    call: &str,
    root: &Mountable,
    value: &str,
    what: &str,
) -> Result<String, ErrorReply> {
    if value.is_empty() {
        return Err(ErrorReply::new(
            ErrorKind::InvalidArgument,
            format!("{call} {root}: not a Windows guest, or {what}"),
        ));
    }
    Ok(value.to_owned())
}

getter!(inspect_get_type, |i| or_unknown(&i.facts.os_type));
getter!(inspect_get_distro, |i| or_unknown(&i.facts.distro));
getter!(inspect_get_product_name, |i| or_unknown(
    &i.facts.product_name
));
getter!(inspect_get_product_variant, |i| or_unknown(
    &i.facts.product_variant
));
getter!(inspect_get_major_version, |i| i.facts.major);
getter!(inspect_get_minor_version, |i| i.facts.minor);
getter!(inspect_get_build_id, |i| or_unknown(&i.facts.build_id));
getter!(inspect_get_osinfo, |i| osinfo::short_id(&i.facts));
getter!(inspect_get_arch, |i| or_unknown(&i.facts.arch));
getter!(inspect_get_hostname, |i| or_unknown(&i.facts.hostname));
getter!(inspect_get_package_format, |i| or_unknown(
    &i.facts.package_format
));
getter!(inspect_get_package_management, |i| or_unknown(
    &i.facts.package_management
));
getter!(inspect_get_mountpoints, |i| i.mountpoints.clone());
getter!(inspect_get_filesystems, |i| i.filesystems.clone());
getter!(inspect_get_drive_mappings, |i| i
    .facts
    .windows
    .drive_mappings
    .clone());

macro_rules! windows_getter {
    ($call:ident, $field:ident, $what:literal) => {
        pub(super) fn $call(
            d: &mut GuestDaemon,
            _io: &mut dyn CallIo,
            args: calls::$call::Args,
        ) -> Result<calls::$call::Ret, ErrorReply> {
            let call = stringify!($call);
            let info = d.inspection.get(call, &args.root)?;
            windows_fact(call, &args.root, &info.facts.windows.$field, $what)
        }
    };
}

windows_getter!(
    inspect_get_windows_systemroot,
    systemroot,
    "systemroot could not be determined"
);
windows_getter!(
    inspect_get_windows_software_hive,
    software_hive,
    "software hive not found"
);
windows_getter!(
    inspect_get_windows_system_hive,
    system_hive,
    "system hive not found"
);
windows_getter!(
    inspect_get_windows_current_control_set,
    current_control_set,
    "CurrentControlSet could not be determined"
);

pub(super) fn inspect_get_roots(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::inspect_get_roots::Args,
) -> Result<calls::inspect_get_roots::Ret, ErrorReply> {
    Ok(d.inspection.root_names())
}

pub(super) fn inspect_list_applications2(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::inspect_list_applications2::Args,
) -> Result<calls::inspect_list_applications2::Ret, ErrorReply> {
    let call = "inspect_list_applications2";
    let facts = &d.inspection.get(call, &args.root)?.facts;
    let result = match (facts.os_type.as_str(), facts.package_format.as_str()) {
        ("windows", _) => windows::applications(&d.root),
        (_, "deb") => apps::dpkg(&d.root),
        (_, "rpm") => rpmdb::rpm(&d.root),
        (_, "pacman") => apps::pacman(&d.root),
        (_, "apk") => apps::apk(&d.root),
        (_, format) => {
            log(&format!(
                "inspect: {}: no package database reader for {format}",
                args.root
            ));
            Ok(Vec::new())
        }
    };
    // As libguestfs: an unreadable or corrupt database is an empty list
    // (logged), never a failed inspection.
    let mut list = result.unwrap_or_else(|e| {
        log(&format!("{call} {}: {e}", args.root));
        Vec::new()
    });
    list.sort_by(|a, b| {
        a.app2_name
            .cmp(&b.app2_name)
            .then_with(|| a.app2_version.cmp(&b.app2_version))
    });
    Ok(list)
}
