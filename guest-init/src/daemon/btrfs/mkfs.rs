//! mkfs_btrfs: mkfs.btrfs over one or more devices, its options checked
//! before the tool sees them.

use std::ffi::{OsStr, OsString};

use protocol::types::Device;
use protocol::{calls, CallIo, ErrorReply};

use super::super::mkfs::refuse_mounted;
use super::super::mkfs::run::run_ok;
use super::super::state::GuestDaemon;
use super::super::util::invalid;
use super::subvol::arg;

const PROFILES: [&str; 9] = [
    "raid0", "raid1", "raid1c3", "raid1c4", "raid5", "raid6", "raid10", "single", "dup",
];

pub(in crate::daemon) fn mkfs_btrfs(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mkfs_btrfs::Args,
) -> Result<calls::mkfs_btrfs::Ret, ErrorReply> {
    const CALL: &str = "mkfs_btrfs";
    if args.devices.is_empty() {
        return Err(invalid("mkfs_btrfs: give at least one device"));
    }
    let mut argv = vec![arg("-f")];
    // mkfs.btrfs 6 has no -A (a chunk-allocator debugging option, gone
    // since 4.x) nor -l (leaves are nodes: --nodesize).
    match args.allocstart {
        None | Some(0) => {}
        Some(a) => {
            return Err(invalid(format!(
                "{CALL}: allocstart {a}: mkfs.btrfs no longer has --alloc-start; leave it out (0, the start of the device, is the only value today)"
            )))
        }
    }
    let nodesize = match (args.leafsize, args.nodesize) {
        (Some(l), Some(n)) if l != n => {
            return Err(invalid(format!(
            "{CALL}: leafsize {l} and nodesize {n} differ: btrfs leaves are nodes, give one size"
        )))
        }
        (l, n) => n.or(l),
    };
    let sizes = [
        ("bytecount", "-b", args.bytecount),
        ("nodesize", "-n", nodesize),
        ("sectorsize", "-s", args.sectorsize),
    ];
    for (name, flag, value) in sizes {
        match value {
            None => {}
            Some(v) if v >= 0 => argv.extend([arg(flag), arg(v.to_string())]),
            Some(v) => return Err(invalid(format!("{CALL}: {name} {v} is negative"))),
        }
    }
    for (name, flag, value) in [
        ("datatype", "-d", &args.datatype),
        ("metadata", "-m", &args.metadata),
    ] {
        if let Some(v) = value {
            if !PROFILES.contains(&v.to_ascii_lowercase().as_str()) {
                return Err(invalid(format!(
                    "{CALL}: {name} {v:?} is not a profile ({})",
                    PROFILES.join(", ")
                )));
            }
            argv.extend([arg(flag), arg(v)]);
        }
    }
    if let Some(label) = &args.label {
        if label.len() > 255 || label.chars().any(char::is_control) {
            return Err(invalid(format!(
                "{CALL}: the label {label:?} is longer than 255 bytes or has control characters"
            )));
        }
        argv.extend([arg("-L"), arg(label)]);
    }
    argv.push(arg("--"));
    for device in &args.devices {
        let device = Device::new(device.as_str())?;
        refuse_mounted(d, CALL, device.as_str())?;
        argv.push(arg(device.as_str()));
    }
    let argv: Vec<&OsStr> = argv.iter().map(OsString::as_os_str).collect();
    run_ok(CALL, "mkfs.btrfs", &argv)?;
    Ok(())
}
