//! Filesystem identity: set_uuid, set_uuid_random and set_e2uuid (each
//! filesystem type with its own tool, as libguestfs does), and
//! canonical_device_name, which needs no tool (LVs are recognised by
//! their device-mapper UUID in sysfs).

#[cfg(test)]
mod tests;

use std::ffi::{OsStr, OsString};
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use guest_formats::probe::Content;
use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::devices::{no_filesystem, probe_device};
use super::mkfs::refuse_mounted;
use super::mkfs::run::{failed, run_ok};
use super::state::GuestDaemon;
use super::util::invalid;

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A random (version 4) UUID.
fn random_uuid() -> Result<String, ErrorReply> {
    let mut b = [0u8; 16];
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| super::util::errno_reply("read", "/dev/urandom", e))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

/// What to set: a given UUID or a new random one.
enum NewUuid<'a> {
    Given(&'a str),
    Random,
}

fn set(d: &GuestDaemon, call: &str, device: &str, uuid: NewUuid<'_>) -> Result<(), ErrorReply> {
    let fstype = match probe_device(device)? {
        Content::Filesystem(fs) => fs.fstype,
        other => return Err(no_filesystem(call, device, &other)),
    };
    refuse_mounted(d, call, device)?;
    let dev = OsStr::new(device);
    let os = |s: &str| OsString::from(s);
    match fstype {
        "ext2" | "ext3" | "ext4" => {
            let value = match uuid {
                NewUuid::Given(u) => u,
                NewUuid::Random => "random",
            };
            // -f: a fresh-check prompt cannot be answered (stdin is null).
            run_ok(
                call,
                "tune2fs",
                &[OsStr::new("-f"), OsStr::new("-U"), OsStr::new(value), dev],
            )?;
        }
        "xfs" => {
            let cmd = match uuid {
                NewUuid::Given(u) => format!("uuid {u}"),
                NewUuid::Random => "uuid generate".to_owned(),
            };
            // What xfs_admin -U runs, without a shell.
            let before = probed_uuid(device);
            let out = run_ok(
                call,
                "xfs_db",
                &[OsStr::new("-x"), OsStr::new("-c"), &os(&cmd), dev],
            )?;
            // xfs_db exits 0 when its command fails: check the result.
            let now = probed_uuid(device);
            let ok = match uuid {
                NewUuid::Given(u) => now.eq_ignore_ascii_case(u),
                NewUuid::Random => now != before && !now.is_empty(),
            };
            if !ok {
                return Err(failed(call, "xfs_db", &out));
            }
        }
        "btrfs" => {
            // btrfstune rewrites every metadata block; -f: do not ask.
            match uuid {
                NewUuid::Given(u) => run_ok(
                    call,
                    "btrfstune",
                    &[OsStr::new("-f"), OsStr::new("-U"), OsStr::new(u), dev],
                )?,
                NewUuid::Random => run_ok(
                    call,
                    "btrfstune",
                    &[OsStr::new("-f"), OsStr::new("-u"), dev],
                )?,
            };
        }
        "swap" => {
            let value = match uuid {
                NewUuid::Given(u) => u.to_owned(),
                NewUuid::Random => random_uuid()?,
            };
            run_ok(call, "swaplabel", &[OsStr::new("-U"), &os(&value), dev])?;
        }
        other => {
            return Err(ErrorReply::new(
                ErrorKind::Other,
                format!(
                "{call} {device}: cannot set the UUID of {other} (ext2/3/4, xfs, btrfs or swap)"
            ),
            ))
        }
    }
    Ok(())
}

fn probed_uuid(device: &str) -> String {
    match probe_device(device) {
        Ok(Content::Filesystem(fs)) => fs.uuid,
        _ => String::new(),
    }
}

pub(super) fn set_uuid(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::set_uuid::Args,
) -> Result<calls::set_uuid::Ret, ErrorReply> {
    if !is_uuid(&args.uuid) {
        return Err(invalid(format!(
            "set_uuid: {:?} is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx); set_uuid_random makes one",
            args.uuid
        )));
    }
    set(
        d,
        "set_uuid",
        args.device.as_str(),
        NewUuid::Given(&args.uuid),
    )
}

pub(super) fn set_uuid_random(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::set_uuid_random::Args,
) -> Result<calls::set_uuid_random::Ret, ErrorReply> {
    set(d, "set_uuid_random", args.device.as_str(), NewUuid::Random)
}

pub(super) fn set_e2uuid(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::set_e2uuid::Args,
) -> Result<calls::set_e2uuid::Ret, ErrorReply> {
    let (device, uuid) = (args.device.as_str(), args.uuid.as_str());
    if !is_uuid(uuid) && !matches!(uuid, "clear" | "random" | "time") {
        return Err(invalid(format!(
            "set_e2uuid: {uuid:?} is not a UUID, clear, random or time"
        )));
    }
    refuse_mounted(d, "set_e2uuid", device)?;
    run_ok(
        "set_e2uuid",
        "tune2fs",
        &[
            OsStr::new("-f"),
            OsStr::new("-U"),
            OsStr::new(uuid),
            OsStr::new(device),
        ],
    )?;
    Ok(())
}

/// `/dev/VG/LV` for the device-mapper device `device` when it is an LVM
/// logical volume (its dm UUID is `LVM-` and the VG and LV UUIDs, with no
/// layer suffix such as `-real`), from its dm name `VG-LV` (a `-` inside
/// a name doubled). `sys` is /sys (tests pass their own).
fn lv_name(device: &str, sys: &std::path::Path) -> Option<String> {
    let md = std::fs::metadata(device).ok()?;
    if !md.file_type().is_block_device() {
        return None;
    }
    let rdev = md.rdev();
    let dm = sys.join(format!(
        "dev/block/{}:{}/dm",
        libc::major(rdev),
        libc::minor(rdev)
    ));
    let read = |f: &str| {
        std::fs::read_to_string(dm.join(f))
            .ok()
            .map(|s| s.trim_end().to_owned())
    };
    let uuid = read("uuid")?;
    let rest = uuid.strip_prefix("LVM-")?;
    if rest.len() != 64 || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let name = read("name")?;
    let bytes = name.as_bytes();
    let mut i = 0;
    let split = loop {
        let j = i + name[i..].find('-')?;
        if bytes.get(j + 1) == Some(&b'-') {
            i = j + 2;
            continue;
        }
        break j;
    };
    let (vg, lv) = (
        name[..split].replace("--", "-"),
        name[split + 1..].replace("--", "-"),
    );
    (!vg.is_empty() && !lv.is_empty()).then(|| format!("/dev/{vg}/{lv}"))
}

fn canonical(device: &str, sys: &std::path::Path) -> String {
    if let Some(rest) = device
        .strip_prefix("/dev/hd")
        .or_else(|| device.strip_prefix("/dev/vd"))
    {
        return format!("/dev/sd{rest}");
    }
    if device.starts_with("/dev/mapper/") || device.starts_with("/dev/dm-") {
        if let Some(lv) = lv_name(device, sys) {
            return lv;
        }
    }
    device.to_owned()
}

pub(super) fn canonical_device_name(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::canonical_device_name::Args,
) -> Result<calls::canonical_device_name::Ret, ErrorReply> {
    if args.device.len() > protocol::types::MAX_PATH || args.device.contains('\0') {
        return Err(invalid(
            "canonical_device_name: the name is too long or has a NUL byte",
        ));
    }
    Ok(canonical(&args.device, std::path::Path::new("/sys")))
}
