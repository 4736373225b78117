//! mkfs and friends: the calls that run the standard filesystem tools
//! (mke2fs, mkfs.xfs, mkfs.fat, mkfs.btrfs, e2fsck, …), plus
//! zero_free_space and fstrim, which need no tool. The tools reach the
//! appliance as a layer the library streams in (`internal_load_tools`)
//! before the first call that needs one; see `run.rs` and `unpack.rs`.

mod options;
pub(super) mod run;
mod space;
#[cfg(test)]
mod tests;
mod unpack;

use std::ffi::OsStr;

use guest_formats::probe::Content;
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{Mode, OFlags};

use super::devices::{no_filesystem, probe_device};
use super::state::GuestDaemon;
use super::util::{errno_reply, invalid};
use run::{failed, run, run_ok};

pub(super) use space::{fstrim, zero_free_space};

/// The filesystem families the tools handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Ext,
    Xfs,
    Fat,
    Btrfs,
    Ntfs,
}

impl Family {
    fn of(fstype: &str) -> Option<Family> {
        match fstype {
            "ext2" | "ext3" | "ext4" => Some(Family::Ext),
            "xfs" => Some(Family::Xfs),
            "vfat" | "fat" | "msdos" => Some(Family::Fat),
            "btrfs" => Some(Family::Btrfs),
            "ntfs" => Some(Family::Ntfs),
            _ => None,
        }
    }

    /// The longest label, in bytes.
    fn max_label(self) -> usize {
        match self {
            Family::Ext => 16,
            Family::Xfs => 12,
            Family::Fat => 11,
            Family::Btrfs => 255,
            // ntfslabel takes 128 UTF-16 units; bytes are a safe bound.
            Family::Ntfs => 128,
        }
    }
}

fn check_label(call: &str, fstype: &str, family: Family, label: &str) -> Result<(), ErrorReply> {
    if label.len() > family.max_label() {
        return Err(invalid(format!(
            "{call}: the label {label:?} is longer than the {} bytes {fstype} allows",
            family.max_label()
        )));
    }
    // xfs_db takes the label inside a command line.
    let bad_char =
        |c: char| c.is_control() || (family == Family::Xfs && (c.is_whitespace() || c == '"'));
    if label.chars().any(bad_char) {
        return Err(invalid(format!(
            "{call}: the label {label:?} has characters {fstype} labels cannot hold"
        )));
    }
    Ok(())
}

/// Refuses a device that is mounted: by us (named in the mount table), or
/// held by the kernel, as a disk whose partition is mounted is
/// (O_EXCL on a block device fails with EBUSY then).
pub(super) fn refuse_mounted(d: &GuestDaemon, call: &str, device: &str) -> Result<(), ErrorReply> {
    if let Some(m) = d.mounts.of_device(device) {
        return Err(ErrorReply::errno(
            libc::EBUSY,
            format!(
                "{call} {device}: it is mounted on {}: umount it first",
                m.mountpoint
            ),
        ));
    }
    match rustix::fs::open(device, OFlags::RDONLY | OFlags::EXCL | OFlags::CLOEXEC, Mode::empty()) {
        Ok(_) => Ok(()),
        Err(rustix::io::Errno::BUSY) => Err(ErrorReply::errno(
            libc::EBUSY,
            format!("{call} {device}: the device is in use (a filesystem on it or on one of its partitions is mounted)"),
        )),
        Err(e) => Err(errno_reply(&format!("{call}: open"), device, e)),
    }
}

/// mkfs.fat counts clusters in sectors of the device.
fn sectors_per_cluster(device: &str, blocksize: u32) -> Result<u32, ErrorReply> {
    let file = std::fs::File::open(device).map_err(|e| errno_reply("mkfs: open", device, e))?;
    let sector = rustix::fs::ioctl_blksszget(&file).unwrap_or(512).max(512);
    if blocksize < sector || !blocksize.is_multiple_of(sector) {
        return Err(invalid(format!(
            "mkfs: blocksize {blocksize} is not a multiple of {device}'s {sector}-byte sectors"
        )));
    }
    Ok(blocksize / sector)
}

pub(super) fn mkfs(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mkfs::Args,
) -> Result<calls::mkfs::Ret, ErrorReply> {
    let (fstype, device) = (args.fstype.as_str(), args.device.as_str());
    let family = Family::of(fstype).ok_or_else(|| {
        invalid(format!(
            "mkfs: unsupported filesystem type {fstype:?} (ext2, ext3, ext4, xfs, vfat, btrfs or ntfs)"
        ))
    })?;
    if let Some(label) = &args.label {
        check_label("mkfs", fstype, family, label)?;
    }
    let blocksize = match args.blocksize {
        None => None,
        Some(b) if (512..=65536).contains(&b) && (b as u64).is_power_of_two() => Some(b as u32),
        Some(b) => {
            return Err(invalid(format!(
                "mkfs: blocksize {b} is not a power of two from 512 to 65536"
            )))
        }
    };
    refuse_mounted(d, "mkfs", device)?;
    let mut argv: Vec<String> = Vec::new();
    let tool = match family {
        Family::Ext => {
            argv.extend(["-F".into(), "-t".into(), fstype.into()]);
            if let Some(b) = blocksize {
                argv.extend(["-b".into(), b.to_string()]);
            }
            "mke2fs"
        }
        Family::Xfs => {
            argv.push("-f".into());
            if let Some(b) = blocksize {
                argv.extend(["-b".into(), format!("size={b}")]);
            }
            "mkfs.xfs"
        }
        Family::Fat => {
            // -I: make a filesystem on a whole disk too, without asking.
            argv.push("-I".into());
            if let Some(b) = blocksize {
                argv.extend(["-s".into(), sectors_per_cluster(device, b)?.to_string()]);
            }
            "mkfs.fat"
        }
        Family::Btrfs => {
            argv.push("-f".into());
            if let Some(b) = blocksize {
                argv.extend(["--sectorsize".into(), b.to_string()]);
            }
            "mkfs.btrfs"
        }
        Family::Ntfs => {
            // -Q: quick (no zeroing, as libguestfs does); -F: a whole
            // disk too, without asking.
            argv.extend(["-Q".into(), "-F".into()]);
            if let Some(b) = blocksize {
                argv.extend(["-c".into(), b.to_string()]);
            }
            "mkfs.ntfs"
        }
    };
    options::extra_options(fstype, family, &args, &mut argv)?;
    if let Some(label) = &args.label {
        let flag = if family == Family::Fat { "-n" } else { "-L" };
        argv.extend([flag.into(), label.clone()]);
    }
    argv.push(device.into());
    let argv: Vec<&OsStr> = argv.iter().map(OsStr::new).collect();
    run_ok("mkfs", tool, &argv)?;
    Ok(())
}

pub(super) fn e2fsck(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::e2fsck::Args,
) -> Result<calls::e2fsck::Ret, ErrorReply> {
    let device = args.device.as_str();
    let (correct, forceall) = (
        args.correct.unwrap_or(false),
        args.forceall.unwrap_or(false),
    );
    if correct && forceall {
        return Err(invalid(
            "e2fsck: only one of the options correct and forceall may be given",
        ));
    }
    refuse_mounted(d, "e2fsck", device)?;
    // Without a terminal e2fsck must be told how to answer: -p repairs what
    // is safe, -y everything, -n nothing (a check only).
    let mode = match (correct, forceall) {
        (true, _) => "-p",
        (_, true) => "-y",
        _ => "-n",
    };
    let out = run(
        "e2fsck",
        "e2fsck",
        &[OsStr::new("-f"), OsStr::new(mode), OsStr::new(device)],
    )?;
    // 0: clean, 1: errors corrected, 2: corrected, reboot advised (not for us).
    if out.code >= 4 {
        return Err(failed("e2fsck", "e2fsck", &out));
    }
    Ok(())
}

pub(super) fn fsck(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::fsck::Args,
) -> Result<calls::fsck::Ret, ErrorReply> {
    let (fstype, device) = (args.fstype.as_str(), args.device.as_str());
    let family = Family::of(fstype)
        .ok_or_else(|| invalid(format!("fsck: unsupported filesystem type {fstype:?}")))?;
    refuse_mounted(d, "fsck", device)?;
    let dev = OsStr::new(device);
    // What `fsck -a -t TYPE` would run, with its exit status (fsck(8): 0
    // clean, 1 corrected, 4 left uncorrected, 8 operational error).
    let code = match family {
        Family::Ext => run("fsck", "e2fsck", &[OsStr::new("-p"), dev])?.code,
        Family::Fat => run("fsck", "fsck.fat", &[OsStr::new("-a"), dev])?.code,
        // fsck.xfs does nothing; xfs_repair -n checks: 1 corrupt, 2 dirty log.
        Family::Xfs => match run("fsck", "xfs_repair", &[OsStr::new("-n"), dev])?.code {
            0 => 0,
            1 | 2 => 4,
            _ => 8,
        },
        // ntfsfix -n checks without writing: non-zero when it would fix.
        Family::Ntfs => match run("fsck", "ntfsfix", &[OsStr::new("-n"), dev])?.code {
            0 => 0,
            _ => 4,
        },
        Family::Btrfs => {
            let args = [OsStr::new("check"), OsStr::new("--readonly"), dev];
            match run("fsck", "btrfs", &args)?.code {
                0 => 0,
                _ => 4,
            }
        }
    };
    Ok(i64::from(code))
}

pub(super) fn resize2fs(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::resize2fs::Args,
) -> Result<calls::resize2fs::Ret, ErrorReply> {
    run_ok(
        "resize2fs",
        "resize2fs",
        &[OsStr::new(args.device.as_str())],
    )?;
    Ok(())
}

pub(super) fn set_label(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::set_label::Args,
) -> Result<calls::set_label::Ret, ErrorReply> {
    let (device, label) = (args.mountable.as_str(), args.label.as_str());
    let fstype = match probe_device(device)? {
        Content::Filesystem(fs) => fs.fstype,
        other => return Err(no_filesystem("set_label", device, &other)),
    };
    let family = Family::of(fstype).ok_or_else(|| {
        invalid(format!(
            "set_label {device}: cannot set the label of {fstype} (ext2/3/4, xfs, vfat, btrfs or ntfs)"
        ))
    })?;
    check_label("set_label", fstype, family, label)?;
    let dev = OsStr::new(device);
    // A label that looks like an option goes after "--".
    let dashes: &[&OsStr] = if label.starts_with('-') {
        &[OsStr::new("--")]
    } else {
        &[]
    };
    match family {
        Family::Ext => {
            run_ok(
                "set_label",
                "tune2fs",
                &[OsStr::new("-L"), OsStr::new(label), dev],
            )?;
        }
        Family::Xfs => {
            // What xfs_admin -L runs, without needing a shell.
            let cmd = if label.is_empty() {
                "label --".to_owned()
            } else {
                format!("label {label}")
            };
            let out = run_ok(
                "set_label",
                "xfs_db",
                &[OsStr::new("-x"), OsStr::new("-c"), OsStr::new(&cmd), dev],
            )?;
            // xfs_db exits 0 even when a command fails: check the result.
            let now = match probe_device(device)? {
                Content::Filesystem(fs) => fs.label,
                _ => String::new(),
            };
            if now != label {
                return Err(failed("set_label", "xfs_db", &out));
            }
        }
        Family::Fat if label.is_empty() => {
            run_ok("set_label", "fatlabel", &[OsStr::new("-r"), dev])?;
        }
        Family::Fat => {
            let mut argv = dashes.to_vec();
            argv.extend([dev, OsStr::new(label)]);
            run_ok("set_label", "fatlabel", &argv)?;
        }
        Family::Btrfs => {
            let mut argv = vec![OsStr::new("filesystem"), OsStr::new("label")];
            argv.extend_from_slice(dashes);
            argv.extend([dev, OsStr::new(label)]);
            run_ok("set_label", "btrfs", &argv)?;
        }
        // ntfslabel reads a lone device as "print the label" and parses a
        // leading '-' as options, even after "--".
        Family::Ntfs if label.is_empty() || label.starts_with('-') => {
            return Err(invalid(format!(
                "set_label {device}: ntfslabel cannot set an empty NTFS label or one starting with '-': choose another"
            )));
        }
        Family::Ntfs => {
            run_ok("set_label", "ntfslabel", &[dev, OsStr::new(label)])?;
        }
    }
    Ok(())
}

pub(super) fn internal_load_tools(
    _d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    _args: calls::internal_load_tools::Args,
) -> Result<calls::internal_load_tools::Ret, ErrorReply> {
    // The layer goes into the appliance's own root; anywhere else (a test
    // run on a host) that would overwrite the host's files.
    if std::process::id() != 1 {
        return Err(invalid(
            "internal_load_tools: only the appliance's PID 1 loads the tools layer",
        ));
    }
    let done = unpack::unpack(io, std::path::Path::new("/"))?;
    crate::log(&format!(
        "tools layer loaded: {} files, {} bytes",
        done.files, done.bytes
    ));
    run::set_loaded(done.library_dirs);
    Ok(())
}
