//! Finding and erasing signatures: blkid (the tool, for its full set of
//! tags), findfs over every device with our prober, wipefs and zerofree.

use std::ffi::OsStr;

use guest_formats::probe::Content;
use protocol::{calls, CallIo, ErrorReply};

use super::super::devices::{probe_device, searchable_devices};
use super::super::mkfs::refuse_mounted;
use super::super::mkfs::run::run_ok;
use super::super::state::GuestDaemon;
use super::split_pairs;

pub(in crate::daemon) fn blkid(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::blkid::Args,
) -> Result<calls::blkid::Ret, ErrorReply> {
    // -c /dev/null: no cache; -p: probe the device itself; -i: I/O limits.
    let argv = [
        "-c",
        "/dev/null",
        "-p",
        "-i",
        "-o",
        "export",
        args.device.as_str(),
    ];
    let argv: Vec<&OsStr> = argv.iter().map(OsStr::new).collect();
    let out = run_ok("blkid", "blkid", &argv)?;
    Ok(split_pairs(&out.text, '='))
}

/// The first device (see `searchable_devices`) whose LABEL or UUID is
/// `value` (UUIDs in any case), holding `fstype` when given.
pub(super) fn find_device(
    call: &str,
    tag: &str,
    value: &str,
    fstype: Option<&str>,
) -> Result<String, ErrorReply> {
    for device in searchable_devices()? {
        let Ok(Content::Filesystem(fs)) = probe_device(&device) else {
            continue;
        };
        let found = match tag {
            "LABEL" => fs.label == value,
            _ => !fs.uuid.is_empty() && fs.uuid.eq_ignore_ascii_case(value),
        };
        if found && fstype.is_none_or(|t| t == fs.fstype) {
            return Ok(device);
        }
    }
    let what = fstype.map_or("filesystem".to_owned(), |t| format!("{t} area"));
    Err(ErrorReply::errno(
        libc::ENOENT,
        format!("{call}: no {what} with {tag}={value} on any device (list_filesystems shows what is there)"),
    ))
}

pub(in crate::daemon) fn findfs_label(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::findfs_label::Args,
) -> Result<calls::findfs_label::Ret, ErrorReply> {
    find_device("findfs_label", "LABEL", &args.label, None)
}

pub(in crate::daemon) fn findfs_uuid(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::findfs_uuid::Args,
) -> Result<calls::findfs_uuid::Ret, ErrorReply> {
    find_device("findfs_uuid", "UUID", &args.uuid, None)
}

pub(in crate::daemon) fn wipefs(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::wipefs::Args,
) -> Result<calls::wipefs::Ret, ErrorReply> {
    let device = args.device.as_str();
    refuse_mounted(d, "wipefs", device)?;
    // --force: a partition table is erased even when the kernel uses it.
    let argv = [OsStr::new("-a"), OsStr::new("--force"), OsStr::new(device)];
    run_ok("wipefs", "wipefs", &argv)?;
    Ok(())
}

pub(in crate::daemon) fn zerofree(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::zerofree::Args,
) -> Result<calls::zerofree::Ret, ErrorReply> {
    let device = args.device.as_str();
    refuse_mounted(d, "zerofree", device)?;
    run_ok("zerofree", "zerofree", &[OsStr::new(device)])?;
    Ok(())
}
