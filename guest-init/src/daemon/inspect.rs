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
mod files;
mod fstab;
mod linux;
mod rpmdb;
mod scan;
#[cfg(test)]
mod tests;
pub(crate) mod types;
mod windows;

use std::path::Path;

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

getter!(inspect_get_type, |i| i.facts.os_type.clone());
getter!(inspect_get_distro, |i| i.facts.distro.clone());
getter!(inspect_get_product_name, |i| i.facts.product_name.clone());
getter!(inspect_get_major_version, |i| i.facts.major);
getter!(inspect_get_minor_version, |i| i.facts.minor);
getter!(inspect_get_arch, |i| i.facts.arch.clone());
getter!(inspect_get_hostname, |i| i.facts.hostname.clone());
getter!(inspect_get_package_format, |i| i
    .facts
    .package_format
    .clone());
getter!(inspect_get_package_management, |i| i
    .facts
    .package_management
    .clone());
getter!(inspect_get_mountpoints, |i| i.mountpoints.clone());
getter!(inspect_get_filesystems, |i| i.filesystems.clone());

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
    let mut list = result
        .map_err(|e| ErrorReply::new(ErrorKind::Other, format!("{call} {}: {e}", args.root)))?;
    list.sort_by(|a, b| {
        a.app2_name
            .cmp(&b.app2_name)
            .then_with(|| a.app2_version.cmp(&b.app2_version))
    });
    Ok(list)
}
