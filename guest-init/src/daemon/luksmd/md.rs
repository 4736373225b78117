//! md RAID calls through mdadm, and /proc/mdstat.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use protocol::types::{FsEntry, MdStat};
use protocol::{calls, CallIo, ErrorReply};

use super::super::mkfs::run::{failed, run_with, Output};
use super::super::state::GuestDaemon;
use super::{assemble, fs_entry, NO_UDEV};

type Reply<T> = Result<T, ErrorReply>;

fn einval(msg: String) -> ErrorReply {
    ErrorReply::errno(libc::EINVAL, msg)
}

/// Runs mdadm; fails unless it exits 0.
pub(super) fn mdadm(call: &str, args: &[OsString], stdin: Stdio) -> Reply<Output> {
    let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
    let out = run_with(call, "mdadm", &args, stdin, NO_UDEV)?;
    if out.code != 0 {
        return Err(failed(call, "mdadm", &out));
    }
    Ok(out)
}

/// The levels libguestfs accepts.
const LEVELS: &[&str] = &[
    "linear", "raid0", "0", "stripe", "raid1", "1", "mirror", "raid4", "4", "raid5", "5", "raid6",
    "6", "raid10", "10",
];

pub(in crate::daemon) fn md_create(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::md_create::Args,
) -> Reply<calls::md_create::Ret> {
    const CALL: &str = "md_create";
    let name = &args.name;
    // As mdadm takes it: NAME (/dev/md/NAME), /dev/md/NAME or /dev/mdN.
    let bare = name
        .strip_prefix("/dev/md/")
        .or_else(|| {
            name.strip_prefix("/dev/").filter(|n| {
                n.strip_prefix("md")
                    .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            })
        })
        .unwrap_or(name);
    let name_ok = !bare.is_empty()
        && bare.len() <= 32
        && !bare.starts_with('-')
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if !name_ok {
        return Err(einval(format!(
            "{CALL}: name {name:?} is not valid: up to 32 letters, digits and _.- (the array is /dev/md/NAME), or /dev/mdN"
        )));
    }
    let missing = args.missingbitmap.unwrap_or(0) as u64;
    let spare = args.spare.unwrap_or(0);
    if spare < 0 {
        return Err(einval(format!("{CALL}: spare must not be negative")));
    }
    let given = args.devices.len() as i64 + i64::from(missing.count_ones());
    let nrdevices = args.nrdevices.unwrap_or(given);
    if args.nrdevices.is_some() && nrdevices < 2 {
        return Err(einval(format!("{CALL}: nrdevices is less than 2")));
    }
    let level = args.level.as_deref().unwrap_or("raid1");
    if !LEVELS.contains(&level) {
        return Err(einval(format!(
            "{CALL}: unknown level parameter: {level} (one of {})",
            LEVELS.join(", ")
        )));
    }
    if args.chunk.is_some_and(|c| c & 1023 != 0 || c <= 0) {
        return Err(einval(format!(
            "{CALL}: chunk size must be a multiple of 1024 bytes"
        )));
    }
    if given != nrdevices + spare {
        return Err(einval(format!(
            "{CALL}: devices ({}) + bits set in missingbitmap ({}) is not equal to nrdevices ({nrdevices}) + spare ({spare})",
            args.devices.len(),
            missing.count_ones()
        )));
    }
    // A bare NAME is given to mdadm as /dev/md/NAME: mdadm would take a
    // file of that name in its working directory (/root…) for the array.
    let array = if name.starts_with("/dev/") {
        name.clone()
    } else {
        format!("/dev/md/{bare}")
    };
    let mut argv: Vec<OsString> = ["--create", "--run", &array, "--level", level]
        .iter()
        .map(OsString::from)
        .collect();
    argv.push("--raid-devices".into());
    argv.push(nrdevices.to_string().into());
    if let Some(spare) = args.spare {
        argv.push("--spare-devices".into());
        argv.push(spare.to_string().into());
    }
    if let Some(chunk) = args.chunk {
        argv.push("--chunk".into());
        argv.push((chunk / 1024).to_string().into());
    }
    // Bit N of missingbitmap puts "missing" at position N.
    let mut devices = args.devices.iter();
    let mut bits = missing;
    let mut position = 0;
    while position < 64 && (bits != 0 || devices.len() > 0) {
        if bits & 1 != 0 {
            argv.push("missing".into());
        } else if let Some(dev) = devices.next() {
            argv.push(dev.as_str().into());
        }
        bits >>= 1;
        position += 1;
    }
    argv.extend(devices.map(|d| OsString::from(d.as_str())));
    // Creation counts as the first md call: arrays on the drives are
    // assembled before, so they cannot claim the new array's number.
    assemble::ensure_assembled();
    mdadm(CALL, &argv, Stdio::null())
        .map_err(|e| ErrorReply::new(e.kind, format!("{} (array {name})", e.message)))?;
    Ok(())
}

/// `/sys/block/mdN` entries with an md directory and a running array.
pub(super) fn arrays(sys_block: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(sys_block) else {
        return Vec::new();
    };
    let mut found: Vec<(u64, String)> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| {
            let number: u64 = n.strip_prefix("md")?.parse().ok()?;
            let state = std::fs::read_to_string(sys_block.join(&n).join("md/array_state")).ok()?;
            let running = !matches!(state.trim(), "clear" | "inactive");
            running.then(|| (number, format!("/dev/{n}")))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, dev)| dev).collect()
}

pub(in crate::daemon) fn list_md_devices(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::list_md_devices::Args,
) -> Reply<calls::list_md_devices::Ret> {
    assemble::ensure_assembled();
    Ok(arrays(Path::new("/sys/block")))
}

/// The array's kernel name (md127) from /dev/md127 or /dev/md/NAME.
fn kernel_name(call: &str, md: &str) -> Reply<String> {
    let real = std::fs::canonicalize(md).map_err(|e| {
        ErrorReply::errno(
            e.raw_os_error().unwrap_or(libc::ENOENT),
            format!("{call}: {md}: {e} (list_md_devices shows the arrays)"),
        )
    })?;
    real.to_str()
        .and_then(|r| r.strip_prefix("/dev/"))
        .filter(|n| n.starts_with("md") && !n.contains('/'))
        .map(str::to_owned)
        .ok_or_else(|| einval(format!("{call}: {md} is not an md array")))
}

pub(in crate::daemon) fn md_detail(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::md_detail::Args,
) -> Reply<calls::md_detail::Ret> {
    assemble::ensure_assembled();
    let md = args.md.as_str();
    let out = mdadm(
        "md_detail",
        &[OsString::from("-D"), "--export".into(), md.into()],
        Stdio::null(),
    )?;
    Ok(parse_detail(&out.text))
}

/// `MD_LEVEL=raid1` lines as libguestfs returns them: `level`, `raid1`.
pub(super) fn parse_detail(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| {
            let key = key.strip_prefix("MD_").unwrap_or(key);
            (key.to_ascii_lowercase(), value.to_owned())
        })
        .collect()
}

pub(in crate::daemon) fn md_stat(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::md_stat::Args,
) -> Reply<calls::md_stat::Ret> {
    const CALL: &str = "md_stat";
    assemble::ensure_assembled();
    let name = kernel_name(CALL, args.md.as_str())?;
    let mut text = String::new();
    std::fs::File::open("/proc/mdstat")
        .and_then(|f| f.take(1 << 20).read_to_string(&mut text))
        .map_err(|e| {
            ErrorReply::errno(
                e.raw_os_error().unwrap_or(libc::EIO),
                format!("{CALL}: /proc/mdstat: {e}"),
            )
        })?;
    let prefix = format!("{name} : ");
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .ok_or_else(|| {
            ErrorReply::errno(libc::ENOENT, format!("{CALL}: {name}: MD device not found"))
        })?;
    parse_stat_line(line).map_err(|e| einval(format!("{CALL}: {name}: {e}")))
}

/// The members of a /proc/mdstat line after `mdN : `
/// (`active raid1 sdb1[0] sdc1[1](F)`), as libguestfs parses it.
pub(super) fn parse_stat_line(line: &str) -> Result<Vec<MdStat>, String> {
    let mut out = Vec::new();
    for word in line.split(' ') {
        let (Some(open), Some(close)) = (word.find('['), word.find(']')) else {
            continue;
        };
        if open > close {
            continue;
        }
        if open == 0 {
            return Err(format!("device entry is too short: {word}"));
        }
        let index = word[open + 1..close]
            .parse()
            .map_err(|_| format!("not a device number: {}", &word[open + 1..close]))?;
        out.push(MdStat {
            mdstat_device: format!("/dev/{}", &word[..open]),
            mdstat_index: index,
            mdstat_flags: word[close + 1..]
                .chars()
                .filter(char::is_ascii_alphabetic)
                .collect(),
        });
    }
    Ok(out)
}

pub(in crate::daemon) fn md_stop(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::md_stop::Args,
) -> Reply<calls::md_stop::Ret> {
    assemble::ensure_assembled();
    let name = kernel_name("md_stop", args.md.as_str())?;
    mdadm(
        "md_stop",
        &[OsString::from("--stop"), args.md.as_str().into()],
        Stdio::null(),
    )?;
    remove_links(Path::new("/dev/md"), &name);
    // The overlays of its read-only members are not needed any more.
    super::overlay::release_unused();
    Ok(())
}

/// Removes the /dev/md/NAME links to a stopped array, as udev would (the
/// appliance has none), so the name can be used again.
fn remove_links(dir: &Path, kernel_name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let target = std::fs::read_link(entry.path());
        if target.is_ok_and(|t| t.file_name().is_some_and(|n| n == kernel_name)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// list_filesystems' entries for the running arrays.
pub(super) fn filesystems() -> Vec<FsEntry> {
    arrays(Path::new("/sys/block"))
        .iter()
        .filter_map(|dev| fs_entry(dev))
        .collect()
}
