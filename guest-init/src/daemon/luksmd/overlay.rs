//! Writable overlays for md members on read-only drives. The kernel's md
//! opens every member for writing, which a write-protected disk refuses,
//! so a read-only member is assembled through a device-mapper snapshot
//! of it: the snapshot opens its origin read-only, and what the array
//! would write lands in a sparse file on the appliance's tmpfs, never on
//! the drive (libguestfs gets the same from qemu's overlay of a read-only
//! drive). The array itself is started read-only as well.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Stdio;

use protocol::ErrorReply;

use super::super::mkfs::run::run_with;
use super::NO_UDEV;

/// Where the overlays' copy-on-write files live (a tmpfs).
const COW_DIR: &str = "/run/libguest-md-overlay";
/// Each member's copy-on-write space: md started read-only writes nothing.
const COW_BYTES: u64 = 64 << 20;
/// The prefix of the overlays' device-mapper names (list_dm_devices
/// leaves them out).
pub(in crate::daemon) const OVERLAY_PREFIX: &str = "libguest-ro-";

/// A writable overlay of the read-only `member`: its /dev/mapper path.
pub(super) fn overlay(member: &str) -> Result<String, ErrorReply> {
    let fail =
        |what: String| ErrorReply::errno(libc::EIO, format!("md overlay of {member}: {what}"));
    let name = std::fs::canonicalize(member)
        .ok()
        .and_then(|p| Some(p.file_name()?.to_str()?.to_owned()))
        .ok_or_else(|| fail("not a device".into()))?;
    let sectors: u64 = std::fs::read_to_string(format!("/sys/class/block/{name}/size"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| fail("no size in sysfs".into()))?;
    std::fs::create_dir_all(COW_DIR).map_err(|e| fail(format!("{COW_DIR}: {e}")))?;
    let cow = Path::new(COW_DIR).join(format!("{name}.cow"));
    std::fs::File::create(&cow)
        .and_then(|f| f.set_len(COW_BYTES))
        .map_err(|e| fail(format!("{}: {e}", cow.display())))?;
    let run = |tool: &str, args: &[&OsStr]| -> Result<String, ErrorReply> {
        let out = run_with("md assembly", tool, args, Stdio::null(), NO_UDEV)?;
        if out.code != 0 {
            return Err(fail(format!("{tool}: {}", out.tail())));
        }
        Ok(out.text.trim().to_owned())
    };
    let loop_dev = run(
        "losetup",
        &["-f".as_ref(), "--show".as_ref(), cow.as_os_str()],
    )?;
    let dm_name = format!("{OVERLAY_PREFIX}{name}");
    // Non-persistent snapshot, 4 KiB chunks.
    let table = format!("0 {sectors} snapshot /dev/{name} {loop_dev} N 8");
    run(
        "dmsetup",
        &[
            "create".as_ref(),
            dm_name.as_ref(),
            "--table".as_ref(),
            table.as_ref(),
        ],
    )?;
    Ok(format!("/dev/mapper/{dm_name}"))
}

/// Removes the overlays nothing holds any more (their array stopped, or
/// never started): the mapping, its loop device and its file.
pub(super) fn release_unused() {
    let Ok(entries) = std::fs::read_dir("/sys/block") else {
        return;
    };
    for entry in entries.flatten() {
        let dm = entry.path();
        let Ok(name) = std::fs::read_to_string(dm.join("dm/name")) else {
            continue;
        };
        let name = name.trim();
        let held = std::fs::read_dir(dm.join("holders")).is_ok_and(|mut h| h.next().is_some());
        if !name.starts_with(OVERLAY_PREFIX) || held {
            continue;
        }
        let loops: Vec<String> = std::fs::read_dir(dm.join("slaves"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|s| s.file_name().into_string().ok())
            .filter(|s| s.starts_with("loop"))
            .collect();
        let run = |tool: &str, args: &[&OsStr]| {
            if let Ok(out) = run_with("md overlay", tool, args, Stdio::null(), NO_UDEV) {
                if out.code != 0 {
                    eprintln!("guest-init: md overlay {name}: {tool}: {}", out.tail());
                }
            }
        };
        run("dmsetup", &["remove".as_ref(), name.as_ref()]);
        for l in loops {
            run("losetup", &["-d".as_ref(), format!("/dev/{l}").as_ref()]);
        }
        let member = &name[OVERLAY_PREFIX.len()..];
        let _ = std::fs::remove_file(Path::new(COW_DIR).join(format!("{member}.cow")));
    }
}
