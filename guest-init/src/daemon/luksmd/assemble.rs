//! Assembling the md arrays found on the drives, as libguestfs's
//! appliance does at boot (`mdadm -As --auto=yes --no-degraded`), but
//! before the first call instead: the library asks `assembly_pending`
//! (a signature probe, no tools) and, only where the drives hold md
//! members, loads the tools layer and runs `internal_lvm_activate`, which
//! assembles first. So /dev/md127 works in the first call, and a launch
//! that never meets md RAID loads no tools and stays fast. Arrays whose members are on read-only
//! drives are assembled `--readonly`, which writes no superblock; an
//! array with members on both kinds is left alone, as is a degraded one.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use protocol::types::Device;
use protocol::ErrorReply;

use super::super::blockdev::set_ro;
use super::super::devices::searchable_devices;
use super::super::mkfs::run::find;
use super::md::mdadm;
use super::overlay::{overlay, release_unused};

static DONE: AtomicBool = AtomicBool::new(false);
static CONF_SEQ: AtomicU64 = AtomicU64::new(0);

/// Assembles the drives' arrays the first time it runs with mdadm there.
pub(in crate::daemon) fn ensure_assembled() {
    // Host tests assemble only their own loop devices, with `assemble`.
    if cfg!(test) || DONE.load(Ordering::SeqCst) || find("mdadm").is_err() {
        return;
    }
    DONE.store(true, Ordering::SeqCst);
    if let Ok(devices) = searchable_devices() {
        if let Err(e) = assemble(&devices) {
            eprintln!("guest-init: md assembly: {}", e.message);
        }
    }
}

/// Whether the drives hold md members and no assembly has run yet.
pub(in crate::daemon) fn assembly_pending() -> bool {
    if cfg!(test) || DONE.load(Ordering::SeqCst) {
        return false;
    }
    searchable_devices().is_ok_and(|devices| devices.iter().any(|d| is_raid_member(d)))
}

/// Whether the kernel holds `device` read-only (a read-only drive).
fn read_only(device: &str) -> bool {
    let Some(name) = std::fs::canonicalize(device)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_owned()))
    else {
        return false;
    };
    let ro = Path::new("/sys/class/block").join(name).join("ro");
    std::fs::read_to_string(ro).is_ok_and(|s| s.trim() == "1")
}

/// The md devices in /sys/block now, running or not.
fn md_names() -> Vec<String> {
    std::fs::read_dir("/sys/block")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with("md"))
                .collect()
        })
        .unwrap_or_default()
}

/// Assembles every complete array whose members are all among `devices`:
/// those on read-only devices read-only, then the others. mdadm finding
/// nothing to assemble is not an error. Arrays it leaves inactive (not
/// all members found) are stopped again, so they hold no device, which
/// libguestfs's appliance does not do.
pub(super) fn assemble(devices: &[String]) -> Result<(), ErrorReply> {
    let (ro, rw): (Vec<&String>, Vec<&String>) = devices.iter().partition(|d| read_only(d));
    let before = md_names();
    for (set, readonly) in [(ro, true), (rw, false)] {
        if set.is_empty() {
            continue;
        }
        // Read-only members through writable overlays (overlay.rs); one
        // that cannot have one is tried as it is.
        let names: Vec<String> = set
            .iter()
            .filter(|m| !readonly || is_raid_member(m))
            .map(|m| {
                if !readonly {
                    return m.to_string();
                }
                overlay(m).unwrap_or_else(|e| {
                    eprintln!("guest-init: {}", e.message);
                    m.to_string()
                })
            })
            .collect();
        if names.is_empty() {
            continue;
        }
        // Only these devices, and every array on them whatever its homehost.
        let conf = format!("DEVICE {}\nAUTO +all\n", names.join(" "));
        // A file: mdadm reads its config more than once (a pipe would be
        // empty the second time, and it would then scan every device).
        let n = CONF_SEQ.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("libguest-mdadm-{}-{n}.conf", std::process::id()));
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(conf.as_bytes()));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&path);
            return Err(ErrorReply::errno(
                e.raw_os_error().unwrap_or(libc::EIO),
                format!("md assembly: {}: {e}", path.display()),
            ));
        }
        let mut args: Vec<OsString> = ["--assemble", "--scan", "--no-degraded"]
            .iter()
            .map(OsString::from)
            .collect();
        if readonly {
            args.push("--readonly".into());
        }
        let mut config = OsString::from("--config=");
        config.push(&path);
        args.push(config);
        let result = mdadm("md assembly", &args, Stdio::null());
        if readonly {
            // Overlays of members no array took (a degraded set).
            release_unused();
            // The arrays of read-only drives are read-only too.
            for name in md_names().into_iter().filter(|n| !before.contains(n)) {
                if let Ok(md) = Device::new(format!("/dev/{name}")) {
                    let _ = set_ro("md assembly", &md, true);
                }
            }
        }
        let _ = std::fs::remove_file(&path);
        // Exit status 1 or 2 with nothing assembled: no arrays there.
        match result {
            Ok(_) => {}
            // 1 and 2: some array could not be assembled (missing or
            // degraded members): the others are, and why goes to the log.
            Err(e)
                if e.message.contains("exit status 1") || e.message.contains("exit status 2") =>
            {
                eprintln!("guest-init: {}", e.message);
            }
            Err(e) => return Err(e),
        }
    }
    for name in md_names().into_iter().filter(|n| !before.contains(n)) {
        let state = Path::new("/sys/block").join(&name).join("md/array_state");
        if std::fs::read_to_string(state).is_ok_and(|s| s.trim() == "inactive") {
            let stop = [OsString::from("--stop"), format!("/dev/{name}").into()];
            let _ = mdadm("md assembly", &stop, Stdio::null());
        }
    }
    Ok(())
}

/// Whether the device holds an md superblock (our prober's
/// linux_raid_member, as blkid says).
fn is_raid_member(device: &str) -> bool {
    use guest_formats::probe::Content;
    matches!(
        super::super::devices::probe_device(device),
        Ok(Content::Filesystem(fs)) if fs.fstype == "linux_raid_member"
    )
}
