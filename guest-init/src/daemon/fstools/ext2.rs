//! ext2/3/4 tools: mke2fs with libguestfs's options, tune2fs, tune2fs -l
//! parsed as libguestfs parses it, and vfs_minimum_size.

use std::ffi::{OsStr, OsString};

use guest_formats::probe::Content;
use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::super::devices::{no_filesystem, probe_device};
use super::super::mkfs::refuse_mounted;
use super::super::mkfs::run::{run, run_ok};
use super::super::state::GuestDaemon;
use super::super::util::invalid;
use super::os_args;

fn is_ext(fstype: &str) -> bool {
    matches!(fstype, "ext2" | "ext3" | "ext4")
}

/// A numeric option that must not be negative.
fn non_negative(call: &str, name: &str, v: Option<i64>) -> Result<Option<String>, ErrorReply> {
    match v {
        Some(n) if n < 0 => Err(invalid(format!("{call}: {name} must be >= 0"))),
        other => Ok(other.map(|n| n.to_string())),
    }
}

pub(in crate::daemon) fn mke2fs(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::mke2fs::Args,
) -> Result<calls::mke2fs::Ret, ErrorReply> {
    let call = "mke2fs";
    let device = a.device.as_str();
    let num = |name: &str, v: Option<i64>| non_negative(call, name, v);
    let mut argv: Vec<OsString> = Vec::new();
    let mut flag = |f: &str, v: Option<String>| {
        if let Some(v) = v {
            argv.extend([f.into(), v.into()]);
        }
    };
    flag("-b", num("blocksize", a.blocksize)?);
    flag("-f", num("fragsize", a.fragsize)?);
    flag("-g", num("blockspergroup", a.blockspergroup)?);
    flag("-G", num("numberofgroups", a.numberofgroups)?);
    flag("-i", num("bytesperinode", a.bytesperinode)?);
    flag("-I", num("inodesize", a.inodesize)?);
    flag(
        "-J",
        num("journalsize", a.journalsize)?.map(|n| format!("size={n}")),
    );
    flag("-J", a.journaldevice.map(|j| format!("device={j}")));
    if let Some(label) = &a.label {
        if label.len() > 16 {
            return Err(invalid(format!(
                "{call}: the label {label:?} is longer than the 16 bytes ext labels hold"
            )));
        }
    }
    flag("-L", a.label);
    flag(
        "-m",
        num("reservedblockspercentage", a.reservedblockspercentage)?,
    );
    flag("-M", a.lastmounteddir);
    flag("-N", num("numberofinodes", a.numberofinodes)?);
    flag("-o", a.creatoros);
    if let Some(t) = a.fstype.as_deref().filter(|t| !is_ext(t)) {
        return Err(invalid(format!(
            "{call}: {t:?} is not an ext filesystem type (ext2, ext3 or ext4)"
        )));
    }
    flag("-t", a.fstype);
    flag("-T", a.usagetype);
    flag("-U", a.uuid);
    // mke2fs keeps only its last -E: the extended options go in one.
    let mut extended: Vec<String> = Vec::new();
    let mut ext = |key: &str, v: Option<String>| {
        if let Some(v) = v {
            extended.push(format!("{key}={v}"));
        }
    };
    ext(
        "mmp_update_interval",
        num("mmpupdateinterval", a.mmpupdateinterval)?,
    );
    ext("stride", num("stridesize", a.stridesize)?);
    ext("stripe_width", num("stripewidth", a.stripewidth)?);
    ext("resize", num("maxonlineresize", a.maxonlineresize)?);
    let bit = |b: bool| if b { "1" } else { "0" }.to_owned();
    ext("lazy_itable_init", a.lazyitableinit.map(bit));
    ext("lazy_journal_init", a.lazyjournalinit.map(bit));
    if a.testfs == Some(true) {
        extended.push("test_fs".into());
    }
    if let Some(discard) = a.discard {
        extended.push(if discard { "discard" } else { "nodiscard" }.into());
    }
    let features: Vec<String> = [
        (a.extent, "extent"),
        (a.filetype, "filetype"),
        (a.flexbg, "flex_bg"),
        (a.hasjournal, "has_journal"),
        (a.journaldev, "journal_dev"),
        (a.largefile, "large_file"),
        (a.quota, "quota"),
        (a.resizeinode, "resize_inode"),
        (a.sparsesuper, "sparse_super"),
        (a.uninitbg, "uninit_bg"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.map(|on| format!("{}{name}", if on { "" } else { "^" })))
    .collect();
    if !extended.is_empty() {
        argv.extend(["-E".into(), extended.join(",").into()]);
    }
    if !features.is_empty() {
        argv.extend(["-O".into(), features.join(",").into()]);
    }
    if a.forcecreate == Some(true) {
        argv.push("-F".into());
    }
    if a.writesbandgrouponly == Some(true) {
        argv.push("-S".into());
    }
    // quotatype: kept for libguestfs compatibility; it never had an effect.
    let _ = a.quotatype;
    argv.push(device.into());
    argv.extend(num("blockscount", a.blockscount)?.map(OsString::from));
    refuse_mounted(d, call, device)?;
    run_ok(call, "mke2fs", &os_args(&argv))?;
    Ok(())
}

pub(in crate::daemon) fn tune2fs(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::tune2fs::Args,
) -> Result<calls::tune2fs::Ret, ErrorReply> {
    let call = "tune2fs";
    let num = |name: &str, v: Option<i64>| non_negative(call, name, v);
    let mut argv: Vec<OsString> = Vec::new();
    if a.force == Some(true) {
        argv.push("-f".into());
    }
    let mut flag = |f: &str, v: Option<String>| {
        if let Some(v) = v {
            argv.extend([f.into(), v.into()]);
        }
    };
    flag("-c", num("maxmountcount", a.maxmountcount)?);
    flag("-C", num("mountcount", a.mountcount)?);
    if let Some(e) = a.errorbehavior.as_deref() {
        if !matches!(e, "continue" | "remount-ro" | "panic") {
            return Err(invalid(format!(
                "{call}: errorbehavior {e:?} is not continue, remount-ro or panic"
            )));
        }
    }
    flag("-e", a.errorbehavior);
    flag("-g", num("group", a.group)?);
    // -i takes seconds with an "s" suffix; 0 turns the check off.
    let interval = num("intervalbetweenchecks", a.intervalbetweenchecks)?;
    flag(
        "-i",
        interval.map(|s| if s == "0" { s } else { format!("{s}s") }),
    );
    flag(
        "-m",
        num("reservedblockspercentage", a.reservedblockspercentage)?,
    );
    flag("-M", a.lastmounteddirectory);
    flag("-r", num("reservedblockscount", a.reservedblockscount)?);
    flag("-u", num("user", a.user)?);
    argv.push(a.device.as_str().into());
    run_ok(call, "tune2fs", &os_args(&argv))?;
    Ok(())
}

/// `tune2fs -l` output as libguestfs returns it: the version line
/// dropped, `Key:   value` split at the first colon, "<none>",
/// "<not available>" and "(none)" as "", a line without a colon as a key
/// with an empty value.
fn parse_tune2fs_l(text: &str) -> Vec<(String, String)> {
    let mut lines = text.lines().peekable();
    if lines
        .peek()
        .is_some_and(|l| l.starts_with("tune2fs ") || l.starts_with("tune4fs "))
    {
        lines.next();
    }
    lines
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once(':') {
            Some((key, value)) => {
                let value = value.trim_start();
                let value = match value {
                    "<none>" | "<not available>" | "(none)" => "",
                    v => v,
                };
                (key.to_owned(), value.to_owned())
            }
            None => (line.to_owned(), String::new()),
        })
        .collect()
}

pub(in crate::daemon) fn tune2fs_l(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::tune2fs_l::Args,
) -> Result<calls::tune2fs_l::Ret, ErrorReply> {
    let argv = [OsStr::new("-l"), OsStr::new(args.device.as_str())];
    let out = run_ok("tune2fs_l", "tune2fs", &argv)?;
    Ok(parse_tune2fs_l(&out.text))
}

/// The first number after `prefix` on a line of `text`.
fn number_after(text: &str, prefix: &str) -> Option<i64> {
    text.lines().find_map(|l| {
        let rest = l.trim_start().strip_prefix(prefix)?.trim_start();
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

fn unparsable(call: &str, tool: &str, text: &str) -> ErrorReply {
    let tail: Vec<&str> = text.lines().rev().take(4).collect();
    ErrorReply::new(
        ErrorKind::Other,
        format!("{call}: cannot read {tool}'s answer: {}", tail.join(" / ")),
    )
}

pub(in crate::daemon) fn vfs_minimum_size(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::vfs_minimum_size::Args,
) -> Result<calls::vfs_minimum_size::Ret, ErrorReply> {
    let call = "vfs_minimum_size";
    let device = args.mountable.as_str();
    let fstype = match probe_device(device)? {
        Content::Filesystem(fs) => fs.fstype,
        other => return Err(no_filesystem(call, device, &other)),
    };
    let dev = OsStr::new(device);
    match fstype {
        t if is_ext(t) => {
            let info = parse_tune2fs_l(&run_ok(call, "tune2fs", &[OsStr::new("-l"), dev])?.text);
            let block = info
                .iter()
                .find(|(k, _)| k == "Block size")
                .and_then(|(_, v)| v.parse::<i64>().ok())
                .ok_or_else(|| unparsable(call, "tune2fs", "no Block size"))?;
            let out = run_ok(call, "resize2fs", &[OsStr::new("-P"), dev])?;
            let blocks = number_after(&out.text, "Estimated minimum size of the filesystem:")
                .ok_or_else(|| unparsable(call, "resize2fs", &out.text))?;
            Ok(blocks.saturating_mul(block))
        }
        "ntfs" => {
            let argv = [OsStr::new("--info"), OsStr::new("--force"), OsStr::new("--no-progress-bar"), dev];
            let out = run(call, "ntfsresize", &argv)?;
            // "You might resize at 5230592 bytes or 6 MB (freeing ...)."
            number_after(&out.text, "You might resize at")
                .ok_or_else(|| unparsable(call, "ntfsresize", &out.text))
        }
        "btrfs" => {
            let m = d.mounts.of_device(device).ok_or_else(|| {
                invalid(format!("{call} {device}: btrfs must be mounted to measure it: mount it first"))
            })?;
            let argv = [
                OsStr::new("inspect-internal"),
                OsStr::new("min-dev-size"),
                m.appliance_path.as_os_str(),
            ];
            let out = run_ok(call, "btrfs", &argv)?;
            number_after(&out.text, "").ok_or_else(|| unparsable(call, "btrfs", &out.text))
        }
        other => Err(ErrorReply::errno(
            libc::ENOTSUP,
            format!("{call} {device}: the minimum size of {other} is not known (ext2/3/4, ntfs and btrfs; xfs cannot shrink)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tune2fs_l_lines() {
        let text = "tune2fs 1.47.0 (5-Feb-2023)\nFilesystem volume name:   <none>\nLast mounted on:          /mnt\nFilesystem features:      has_journal ext_attr\nJournal backup:           inode blocks\nodd line\n";
        let got = parse_tune2fs_l(text);
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(
            got,
            vec![
                pair("Filesystem volume name", ""),
                pair("Last mounted on", "/mnt"),
                pair("Filesystem features", "has_journal ext_attr"),
                pair("Journal backup", "inode blocks"),
                pair("odd line", ""),
            ]
        );
        assert_eq!(
            number_after(
                "  Estimated minimum size of the filesystem: 1234\n",
                "Estimated minimum size of the filesystem:"
            ),
            Some(1234)
        );
    }
}
