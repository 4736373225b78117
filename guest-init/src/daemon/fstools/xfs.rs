//! xfs: xfs_info (the geometry xfs_db or xfs_spaceman prints, parsed into
//! libguestfs's struct), xfs_growfs, xfs_admin (what the xfs_admin
//! script runs, without a shell) and xfs_repair.

use std::ffi::{OsStr, OsString};

use guest_formats::probe::Content;
use protocol::types::{Pathname, XfsInfo};
use protocol::{calls, CallIo, ErrorKind, ErrorReply};
use rustix::fs::{Mode, OFlags};

use super::super::devices::probe_device;
use super::super::mkfs::refuse_mounted;
use super::super::mkfs::run::{failed, run, run_ok};
use super::super::state::GuestDaemon;
use super::super::util::invalid;
use super::{child_fd_path, os_args};

/// Sets the field `key` of `section` names, from one `key=value`.
fn set_field(info: &mut XfsInfo, section: &str, key: &str, value: &str) {
    let Ok(n) = value.parse::<i64>() else {
        return;
    };
    let field = match (section, key) {
        ("meta-data", "isize") => &mut info.xfs_inodesize,
        ("meta-data", "agcount") => &mut info.xfs_agcount,
        ("meta-data", "agsize") => &mut info.xfs_agsize,
        ("meta-data", "sectsz") => &mut info.xfs_sectsize,
        ("meta-data", "attr") => &mut info.xfs_attr,
        ("data", "bsize") => &mut info.xfs_blocksize,
        ("data", "blocks") => &mut info.xfs_datablocks,
        ("data", "imaxpct") => &mut info.xfs_imaxpct,
        ("data", "sunit") => &mut info.xfs_sunit,
        ("data", "swidth") => &mut info.xfs_swidth,
        ("naming", "version") => &mut info.xfs_dirversion,
        ("naming", "bsize") => &mut info.xfs_dirblocksize,
        ("naming", "ascii-ci") => &mut info.xfs_cimode,
        ("log", "bsize") => &mut info.xfs_logblocksize,
        ("log", "blocks") => &mut info.xfs_logblocks,
        ("log", "version") => &mut info.xfs_logversion,
        ("log", "sectsz") => &mut info.xfs_logsectsize,
        ("log", "sunit") => &mut info.xfs_logsunit,
        ("log", "lazy-count") => &mut info.xfs_lazycount,
        ("realtime", "extsz") => &mut info.xfs_rtextsize,
        ("realtime", "blocks") => &mut info.xfs_rtblocks,
        ("realtime", "rtextents") => &mut info.xfs_rtextents,
        _ => return,
    };
    *field = n;
}

/// Parses xfs_info's text: `section =name  key=value, key=value …`, a
/// blank section continuing the one before.
fn parse_xfs_info(text: &str, mntpoint: &str) -> Option<XfsInfo> {
    let mut info = XfsInfo {
        xfs_mntpoint: mntpoint.to_owned(),
        ..XfsInfo::default()
    };
    let mut section = String::new();
    let mut seen = false;
    for line in text.lines() {
        let Some((head, rest)) = line.split_once('=') else {
            continue;
        };
        let head = head.trim();
        let mut tokens = rest
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .peekable();
        if !head.is_empty() {
            section = head.to_owned();
            seen |= section == "meta-data";
            // The section's name: "internal log", "none", "version 2", a path.
            let name = tokens.next_if(|t| !t.contains('=')).unwrap_or_default();
            match section.as_str() {
                "log" => info.xfs_logname = name.to_owned(),
                "realtime" => info.xfs_rtname = name.to_owned(),
                "naming" if name == "version" => {
                    if let Some(v) = tokens.next_if(|t| !t.contains('=')) {
                        set_field(&mut info, "naming", "version", v);
                    }
                }
                _ => {}
            }
        }
        for token in tokens {
            if let Some((key, value)) = token.split_once('=') {
                set_field(&mut info, &section, key, value);
            }
        }
    }
    seen.then_some(info)
}

pub(in crate::daemon) fn xfs_info(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::xfs_info::Args,
) -> Result<calls::xfs_info::Ret, ErrorReply> {
    let call = "xfs_info";
    let target = args.pathordevice.as_str();
    let out = info_text(d, call, target)?;
    parse_xfs_info(&out.text, target).ok_or_else(|| {
        ErrorReply::new(
            ErrorKind::Other,
            format!(
                "{call} {target}: no xfs geometry in the answer: {}",
                out.tail()
            ),
        )
    })
}

/// What xfs_info prints for a device (mounted or not) or a guest path:
/// what the xfs_info script runs, without a shell.
pub(super) fn info_text(
    d: &mut GuestDaemon,
    call: &str,
    target: &str,
) -> Result<super::super::mkfs::run::Output, ErrorReply> {
    if target.starts_with("/dev/") {
        let device = protocol::types::Device::new(target)?;
        match d.mounts.of_device(device.as_str()) {
            // Mounted: ask the kernel, as xfs_info does.
            Some(m) => {
                let at = m.appliance_path.clone().into_os_string();
                spaceman_info(call, &at)
            }
            None => {
                let argv = ["-r", "-p", "xfs_info", "-c", "info", device.as_str()];
                let argv: Vec<&OsStr> = argv.iter().map(OsStr::new).collect();
                run_ok(call, "xfs_db", &argv)
            }
        }
    } else {
        let path = Pathname::new(target)?;
        if !d.mounts.root_mounted() {
            return Err(invalid(format!(
                "{call} {target}: no filesystem is mounted on /: mount one first, or give a device"
            )));
        }
        let fd = d
            .root
            .open(&path, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
        spaceman_info(call, &child_fd_path(&fd))
    }
}

fn spaceman_info(call: &str, at: &OsStr) -> Result<super::super::mkfs::run::Output, ErrorReply> {
    let argv = [
        OsStr::new("-p"),
        OsStr::new("xfs_info"),
        OsStr::new("-c"),
        OsStr::new("info"),
        at,
    ];
    run_ok(call, "xfs_spaceman", &argv)
}

pub(in crate::daemon) fn xfs_growfs(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::xfs_growfs::Args,
) -> Result<calls::xfs_growfs::Ret, ErrorReply> {
    let call = "xfs_growfs";
    let mut argv: Vec<OsString> = Vec::new();
    for (on, f) in [(a.datasec, "-d"), (a.logsec, "-l"), (a.rtsec, "-r")] {
        if on == Some(true) {
            argv.push(f.into());
        }
    }
    for (v, f, name) in [
        (a.datasize, "-D", "datasize"),
        (a.logsize, "-L", "logsize"),
        (a.rtsize, "-R", "rtsize"),
        (a.rtextsize, "-e", "rtextsize"),
        (a.maxpct, "-m", "maxpct"),
    ] {
        match v {
            Some(n) if n < 0 => return Err(invalid(format!("{call}: {name} must be >= 0"))),
            Some(n) => argv.extend([f.into(), n.to_string().into()]),
            None => {}
        }
    }
    // xfs_growfs finds the mount from the path it is given: the
    // descriptor's /proc path resolves to the real directory.
    let fd = d
        .root
        .open(&a.path, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
    let dir = std::fs::read_link(super::super::root::fd_path(&fd))
        .map_err(|e| super::super::util::errno_reply(call, a.path.as_str(), e))?;
    argv.push(dir.into_os_string());
    run_ok(call, "xfs_growfs", &os_args(&argv))?;
    Ok(())
}

pub(in crate::daemon) fn xfs_admin(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::xfs_admin::Args,
) -> Result<calls::xfs_admin::Ret, ErrorReply> {
    let call = "xfs_admin";
    let device = a.device.as_str();
    refuse_mounted(d, call, device)?;
    if let Some(label) = &a.label {
        if label.len() > 12
            || label
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '"')
        {
            return Err(invalid(format!(
                "{call}: the label {label:?} is longer than 12 bytes or has characters xfs labels cannot hold"
            )));
        }
    }
    // The xfs_db commands xfs_admin -e, -j, -p, -L and -U run.
    let mut cmds: Vec<String> = Vec::new();
    for (on, feature) in [
        (a.extunwritten, "extflg"),
        (a.v2log, "log2"),
        (a.projid32bit, "projid32bit"),
    ] {
        if on == Some(true) {
            cmds.push(format!("version {feature}"));
        }
    }
    if let Some(label) = &a.label {
        cmds.push(if label.is_empty() {
            "label --".into()
        } else {
            format!("label {label}")
        });
    }
    if let Some(uuid) = &a.uuid {
        cmds.push(format!("uuid {uuid}"));
    }
    if !cmds.is_empty() {
        let mut argv: Vec<OsString> = vec!["-x".into(), "-p".into(), "xfs_admin".into()];
        if a.imgfile == Some(true) {
            argv.push("-f".into());
        }
        for c in cmds {
            argv.extend(["-c".into(), c.into()]);
        }
        argv.push(device.into());
        let out = run_ok(call, "xfs_db", &os_args(&argv))?;
        check_admin(call, device, &a, &out)?;
    }
    if let Some(lazy) = a.lazycounter {
        let value = format!("lazycount={}", u8::from(lazy));
        let argv = [OsStr::new("-c"), OsStr::new(&value), OsStr::new(device)];
        run_ok(call, "xfs_repair", &argv)?;
    }
    Ok(())
}

/// xfs_db exits 0 even when a command fails: check the label and UUID.
fn check_admin(
    call: &str,
    device: &str,
    a: &calls::xfs_admin::Args,
    out: &super::super::mkfs::run::Output,
) -> Result<(), ErrorReply> {
    let Content::Filesystem(fs) = probe_device(device)? else {
        return Err(failed(call, "xfs_db", out));
    };
    let label_ok = a.label.as_ref().is_none_or(|l| *l == fs.label);
    let uuid_ok = a.uuid.as_ref().is_none_or(|u| {
        matches!(u.as_str(), "generate" | "nil" | "rewrite") || u.eq_ignore_ascii_case(&fs.uuid)
    });
    if label_ok && uuid_ok {
        Ok(())
    } else {
        Err(failed(call, "xfs_db", out))
    }
}

pub(in crate::daemon) fn xfs_repair(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::xfs_repair::Args,
) -> Result<calls::xfs_repair::Ret, ErrorReply> {
    let call = "xfs_repair";
    let device = a.device.as_str();
    refuse_mounted(d, call, device)?;
    let mut argv: Vec<OsString> = Vec::new();
    for (on, f) in [
        (a.forcelogzero, "-L"),
        (a.nomodify, "-n"),
        (a.noprefetch, "-P"),
    ] {
        if on == Some(true) {
            argv.push(f.into());
        }
    }
    if a.forcegeometry == Some(true) {
        argv.extend(["-o".into(), "force_geometry".into()]);
    }
    if let Some(m) = a.maxmem {
        if m < 0 {
            return Err(invalid(format!("{call}: maxmem must be >= 0")));
        }
        argv.extend(["-m".into(), m.to_string().into()]);
    }
    for (v, key, name) in [
        (a.ihashsize, "ihash", "ihashsize"),
        (a.bhashsize, "bhash", "bhashsize"),
        (a.agstride, "ag_stride", "agstride"),
    ] {
        match v {
            Some(n) if n < 0 => return Err(invalid(format!("{call}: {name} must be >= 0"))),
            Some(n) => argv.extend(["-o".into(), format!("{key}={n}").into()]),
            None => {}
        }
    }
    for (dev, f) in [(&a.logdev, "-l"), (&a.rtdev, "-r")] {
        if let Some(dev) = dev {
            let dev = protocol::types::Device::new(dev.as_str())?;
            argv.extend([f.into(), dev.as_str().into()]);
        }
    }
    argv.push(device.into());
    // Exit status 1 with -n: corruption found; 2: a dirty log (mount it, or forcelogzero).
    let out = run(call, "xfs_repair", &os_args(&argv))?;
    Ok(i64::from(out.code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_xfs_info() {
        let text = "meta-data=/dev/sda1              isize=512    agcount=4, agsize=19200 blks
         =                       sectsz=512   attr=2, projid32bit=1
         =                       crc=1        finobt=1, sparse=1, rmapbt=0
data     =                       bsize=4096   blocks=76800, imaxpct=25
         =                       sunit=0      swidth=0 blks
naming   =version 2              bsize=4096   ascii-ci=0, ftype=1
log      =internal log           bsize=4096   blocks=16384, version=2
         =                       sectsz=512   sunit=0 blks, lazy-count=1
realtime =none                   extsz=4096   blocks=0, rtextents=0
";
        let i = parse_xfs_info(text, "/dev/sda1").unwrap();
        assert_eq!(
            (i.xfs_inodesize, i.xfs_agcount, i.xfs_agsize),
            (512, 4, 19200)
        );
        assert_eq!(
            (i.xfs_sectsize, i.xfs_attr, i.xfs_blocksize),
            (512, 2, 4096)
        );
        assert_eq!(
            (i.xfs_datablocks, i.xfs_imaxpct, i.xfs_dirversion),
            (76800, 25, 2)
        );
        assert_eq!(
            (i.xfs_logname.as_str(), i.xfs_logblocks, i.xfs_lazycount),
            ("internal", 16384, 1)
        );
        assert_eq!((i.xfs_rtname.as_str(), i.xfs_rtextsize), ("none", 4096));
        assert!(parse_xfs_info("nothing", "/").is_none());
    }
}
