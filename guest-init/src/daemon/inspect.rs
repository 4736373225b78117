//! Inspection, as libguestfs's inspect_* calls: inspect_os mounts every
//! filesystem read-only on a private appliance directory, recognises
//! Linux and Windows roots (scan.rs, linux.rs, windows.rs) and keeps what
//! it found in [`Inspection`]; the inspect_get_* calls answer from there.
//! inspect_list_applications2 reads the package database of the guest
//! tree the caller mounted (apps.rs, windows.rs).
//!
//! Everything read comes from the guest and is hostile: files are read
//! through `Root` (RESOLVE_IN_ROOT, so guest symlinks stay in the guest),
//! capped in size, and parsed by bounded parsers that fail to "unknown"
//! or an error, never a panic or a hang (hive.rs, rpm.rs and sqlite.rs
//! are fuzzed: fuzz/fuzz_targets/registry_hive.rs, rpm_db.rs).

mod apps;
mod binarch;
mod files;
mod fstab;
mod hive;
#[cfg(test)]
mod hive_build;
mod linux;
mod rpm;
mod scan;
mod source;
mod sqlite;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_hostile;
#[cfg(test)]
mod tests_parsers;
#[cfg(test)]
mod tests_windows;
mod windows;

use std::cmp::Ordering;
use std::path::Path;

use protocol::types::{Device, MountEntry};
use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::root::errno_reply;
use super::GuestDaemon;
use crate::log;
use scan::Mounter;

/// Where inspect_os mounts each filesystem, one numbered directory each
/// (a tmpfs of the appliance, outside the guest tree).
const INSPECT_DIR: &str = "/run/inspect";

/// What inspection found about one OS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OsFacts {
    pub(crate) os_type: String,
    pub(crate) distro: String,
    pub(crate) product_name: String,
    pub(crate) major: i64,
    pub(crate) minor: i64,
    pub(crate) arch: String,
    pub(crate) hostname: String,
    pub(crate) package_format: String,
    pub(crate) package_management: String,
}

/// One OS root and its filesystems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OsInfo {
    pub(crate) root: String,
    pub(crate) facts: OsFacts,
    /// "/" first, parents before children.
    pub(crate) mountpoints: Vec<MountEntry>,
    /// The root first.
    pub(crate) filesystems: Vec<String>,
}

/// The results of the last inspect_os.
#[derive(Debug, Default)]
pub(crate) struct Inspection {
    /// None until inspect_os has run.
    roots: Option<Vec<OsInfo>>,
}

impl Inspection {
    fn get(&self, call: &str, root: &Device) -> Result<&OsInfo, ErrorReply> {
        let Some(roots) = &self.roots else {
            return Err(ErrorReply::new(
                ErrorKind::InvalidArgument,
                format!("{call} {root}: no inspection data: call inspect_os first"),
            ));
        };
        roots
            .iter()
            .find(|r| r.root == root.as_str())
            .ok_or_else(|| {
                let known: Vec<&str> = roots.iter().map(|r| r.root.as_str()).collect();
                ErrorReply::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "{call} {root}: not an OS root found by inspect_os (roots: {})",
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    ),
                )
            })
    }
}

/// Device-name order: digit runs compare by value (sda2 < sda10).
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn runs(s: &str) -> Vec<(bool, u128, &str)> {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some(first) = rest.chars().next() {
            let digit = first.is_ascii_digit();
            let n = rest
                .find(|c: char| c.is_ascii_digit() != digit)
                .unwrap_or(rest.len());
            let (run, tail) = rest.split_at(n);
            let value = if digit {
                run.parse().unwrap_or(u128::MAX)
            } else {
                0
            };
            out.push((digit, value, run));
            rest = tail;
        }
        out
    }
    runs(a).cmp(&runs(b)).then_with(|| a.cmp(b))
}

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
        (_, "rpm") => apps::rpm(&d.root),
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
