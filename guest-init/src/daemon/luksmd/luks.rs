//! LUKS calls through cryptsetup (keys on pipes: see `keys`); the `Key`
//! arguments are zeroed when the call drops them.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Stdio;

use guest_formats::probe::Content;
use protocol::types::{Device, FsEntry};
use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::super::blockdev::blockdev_getro;
use super::super::devices::probe_device;
use super::super::mkfs::run::{failed, run_with};
use super::super::state::GuestDaemon;
use super::keys::{cryptsetup, os};
use super::{fs_entry, NO_UDEV};

type Reply<T> = Result<T, ErrorReply>;

fn other(msg: String) -> ErrorReply {
    ErrorReply::new(ErrorKind::Other, msg)
}

/// A keyslot as cryptsetup takes it (LUKS2 has 32, LUKS1 8; cryptsetup
/// says which is out of range for the device).
fn keyslot(call: &str, slot: i64) -> Reply<String> {
    if !(0..=31).contains(&slot) {
        return Err(ErrorReply::errno(
            libc::EINVAL,
            format!(
                "{call}: keyslot {slot} is out of range (LUKS2 has slots 0 to 31, LUKS1 0 to 7)"
            ),
        ));
    }
    Ok(slot.to_string())
}

/// A mapping name device-mapper accepts and that cannot be read as an option.
fn check_mapname(name: &str) -> Reply<()> {
    let ok = !name.is_empty()
        && name.len() <= 127
        && !name.starts_with('-')
        && name != "."
        && name != ".."
        && name != "control"
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.+-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ErrorReply::errno(
            libc::EINVAL,
            format!("cryptsetup_open: mapname {name:?} is not valid: use letters, digits and _.+- (not \"control\")"),
        ))
    }
}

pub(in crate::daemon) fn cryptsetup_open(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::cryptsetup_open::Args,
) -> Reply<calls::cryptsetup_open::Ret> {
    const CALL: &str = "cryptsetup_open";
    let device = args.device.as_str();
    check_mapname(&args.mapname)?;
    let mapped = format!("/dev/mapper/{}", args.mapname);
    if Path::new(&mapped).exists() {
        return Err(ErrorReply::errno(
            libc::EEXIST,
            format!("{CALL}: {mapped}: device already exists (cryptsetup_close it or pick another mapname)"),
        ));
    }
    let crypttype = match args.crypttype {
        Some(t) => t,
        None => match probe_device(device)? {
            Content::Filesystem(fs) if fs.fstype == "crypto_LUKS" => "luks".to_owned(),
            Content::Filesystem(fs) if fs.fstype == "BitLocker" => "bitlk".to_owned(),
            _ => {
                return Err(other(format!(
                    "{CALL}: {device}: unknown encrypted device type (not LUKS): give crypttype"
                )))
            }
        },
    };
    if crypttype.starts_with('-') {
        return Err(ErrorReply::errno(
            libc::EINVAL,
            format!("{CALL}: crypttype {crypttype:?} is not valid"),
        ));
    }
    // A read-only drive gets a read-only mapping whatever was asked.
    let drive_ro = blockdev_getro(
        d,
        io,
        calls::blockdev_getro::Args {
            device: args.device.clone(),
        },
    )?;
    let readonly = args.readonly.unwrap_or(false) || drive_ro;
    let key = args.key.as_bytes();
    cryptsetup(CALL, key, None, |_| {
        let mut argv = os(&["--key-file=-", "--disable-locks"]);
        if readonly {
            argv.push("--readonly".into());
        }
        argv.extend(os(&["open", device, &args.mapname, "--type", &crypttype]));
        if let Some(cipher) = &args.cipher {
            argv.push(format!("--cipher={cipher}").into());
        }
        argv
    })?;
    if !Path::new(&mapped).exists() {
        return Err(other(format!(
            "{CALL}: cryptsetup opened {} but made no {mapped} node",
            args.mapname
        )));
    }
    Ok(())
}

pub(in crate::daemon) fn cryptsetup_close(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::cryptsetup_close::Args,
) -> Reply<calls::cryptsetup_close::Ret> {
    let device = args.device.as_str();
    let Some(name) = device
        .strip_prefix("/dev/mapper/")
        .filter(|n| !n.contains('/'))
    else {
        return Err(ErrorReply::errno(
            libc::EINVAL,
            format!("cryptsetup_close: {device}: you must call this on the /dev/mapper device created by cryptsetup_open"),
        ));
    };
    let argv = os(&["--disable-locks", "close", name]);
    let argv: Vec<&OsStr> = argv.iter().map(OsString::as_os_str).collect();
    let out = run_with(
        "cryptsetup_close",
        "cryptsetup",
        &argv,
        Stdio::null(),
        NO_UDEV,
    )?;
    if out.code != 0 {
        return Err(failed("cryptsetup_close", "cryptsetup", &out));
    }
    Ok(())
}

fn format(call: &str, device: &Device, key: &[u8], slot: i64, cipher: Option<&str>) -> Reply<()> {
    let slot = keyslot(call, slot)?;
    cryptsetup(call, key, None, |_| {
        let mut argv = os(&["-q", "--key-file=-", "--disable-locks", "--type", "luks2"]);
        argv.extend(os(&["--key-slot", &slot]));
        if let Some(cipher) = cipher {
            argv.push(format!("--cipher={cipher}").into());
        }
        argv.extend(os(&["luksFormat", device.as_str()]));
        argv
    })?;
    Ok(())
}

pub(in crate::daemon) fn luks_format(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::luks_format::Args,
) -> Reply<calls::luks_format::Ret> {
    format(
        "luks_format",
        &args.device,
        args.key.as_bytes(),
        args.keyslot,
        None,
    )
}

pub(in crate::daemon) fn luks_format_cipher(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::luks_format_cipher::Args,
) -> Reply<calls::luks_format_cipher::Ret> {
    let key = args.key.as_bytes();
    format(
        "luks_format_cipher",
        &args.device,
        key,
        args.keyslot,
        Some(&args.cipher),
    )
}

pub(in crate::daemon) fn luks_add_key(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::luks_add_key::Args,
) -> Reply<calls::luks_add_key::Ret> {
    const CALL: &str = "luks_add_key";
    let slot = keyslot(CALL, args.keyslot)?;
    let device = args.device.as_str();
    cryptsetup(
        CALL,
        args.key.as_bytes(),
        Some(args.newkey.as_bytes()),
        |path| {
            let mut argv = os(&["-q", "--key-file=-", "--disable-locks", "--key-slot", &slot]);
            argv.extend(os(&["luksAddKey", device]));
            argv.extend(path);
            argv
        },
    )?;
    Ok(())
}

pub(in crate::daemon) fn luks_kill_slot(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::luks_kill_slot::Args,
) -> Reply<calls::luks_kill_slot::Ret> {
    const CALL: &str = "luks_kill_slot";
    let slot = keyslot(CALL, args.keyslot)?;
    let device = args.device.as_str();
    cryptsetup(CALL, args.key.as_bytes(), None, |_| {
        os(&[
            "-q",
            "--key-file=-",
            "--disable-locks",
            "luksKillSlot",
            device,
            &slot,
        ])
    })?;
    Ok(())
}

/// Read from the header by our prober (no tool needed), as cryptsetup
/// luksUUID prints it.
pub(in crate::daemon) fn luks_uuid(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::luks_uuid::Args,
) -> Reply<calls::luks_uuid::Ret> {
    let device = args.device.as_str();
    match probe_device(device)? {
        Content::Filesystem(fs) if fs.fstype == "crypto_LUKS" => Ok(fs.uuid),
        _ => Err(ErrorReply::errno(
            libc::EINVAL,
            format!("luks_uuid: {device} is not a LUKS device (vfs_type says what it holds)"),
        )),
    }
}

/// The opened LUKS mappings (device-mapper UUID `CRYPT-…`: LUKS, BitLocker, plain), by name,
/// with what they hold.
pub(super) fn filesystems() -> Vec<FsEntry> {
    let Ok(entries) = std::fs::read_dir("/sys/block") else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("dm-"))
        .filter_map(|n| {
            let dm = Path::new("/sys/block").join(&n).join("dm");
            let uuid = std::fs::read_to_string(dm.join("uuid")).ok()?;
            let name = std::fs::read_to_string(dm.join("name")).ok()?;
            uuid.starts_with("CRYPT-").then(|| name.trim().to_owned())
        })
        .collect();
    names.sort();
    names
        .iter()
        .filter_map(|n| fs_entry(&format!("/dev/mapper/{n}")))
        .collect()
}
