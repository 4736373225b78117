//! The btrfs calls that run the btrfs tool: subvolume create, delete,
//! snapshot, default, and filesystem resize (and list, with the ioctls). A guest path
//! is opened inside the root first and given to the tool as
//! `/proc/PID/fd/N` (or `/proc/PID/fd/N/NAME` for the entry to make or
//! remove in a directory).

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};

use protocol::types::{Mountable, Pathname};
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{Mode, OFlags};

use super::super::mkfs::run::run_ok;
use super::super::state::GuestDaemon;
use super::super::util::{errno_reply, invalid, io_error};
use super::{scan, split_mountable, TempMount};

/// A path the tool (a child process) can open to reach our descriptor.
fn child_path(fd: &OwnedFd) -> OsString {
    format!("/proc/{}/fd/{}", std::process::id(), fd.as_raw_fd()).into()
}

/// `/proc/PID/fd/N/NAME`: NAME in the guest directory `dir`.
fn child_entry(dir: &OwnedFd, name: &OsStr) -> OsString {
    let mut path = child_path(dir);
    path.push("/");
    path.push(name);
    path
}

/// A btrfs filesystem to run a tool on: a directory of the guest tree, or
/// a device mounted read-only for the call (libguestfs's Mountable_or_Path).
struct Target {
    dir: OwnedFd,
    _mount: Option<TempMount>,
}

impl Target {
    fn new(d: &GuestDaemon, call: &str, fs: &str) -> Result<Target, ErrorReply> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY;
        if fs.starts_with("/dev/") || fs.starts_with(protocol::types::BTRFSVOL) {
            let m = Mountable::new(fs)?;
            let (device, subvol) = split_mountable(call, &m)?;
            let tm = TempMount::new(call, device.as_str(), subvol)?;
            let dir = rustix::fs::open(tm.path(), flags | OFlags::CLOEXEC, Mode::empty())
                .map_err(|e| errno_reply(&format!("{call}: open"), fs, e))?;
            return Ok(Target {
                dir,
                _mount: Some(tm),
            });
        }
        let path = Pathname::new(fs)?;
        if !d.mounts.root_mounted() {
            return Err(ErrorReply::new(
                protocol::ErrorKind::NotMounted,
                format!("{call} {fs}: no filesystem is mounted on /: mount one, or give a device"),
            ));
        }
        Ok(Target {
            dir: d.root.open(&path, flags, Mode::empty())?,
            _mount: None,
        })
    }
}

pub(super) fn arg(s: impl Into<OsString>) -> OsString {
    s.into()
}

fn run(call: &str, argv: &[OsString]) -> Result<String, ErrorReply> {
    let argv: Vec<&OsStr> = argv.iter().map(OsString::as_os_str).collect();
    Ok(run_ok(call, "btrfs", &argv)?.text)
}

/// A qgroup id as btrfs takes it: LEVEL/ID.
fn check_qgroup(call: &str, q: &str) -> Result<(), ErrorReply> {
    let ok = q
        .split_once('/')
        .is_some_and(|(a, b)| a.parse::<u64>().is_ok() && b.parse::<u64>().is_ok());
    if !ok {
        return Err(invalid(format!(
            "{call}: qgroupid {q:?} is not LEVEL/ID, such as 0/257"
        )));
    }
    Ok(())
}

pub(in crate::daemon) fn btrfs_subvolume_list(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::btrfs_subvolume_list::Args,
) -> Result<calls::btrfs_subvolume_list::Ret, ErrorReply> {
    let target = Target::new(d, "btrfs_subvolume_list", &args.fs)?;
    let file = File::from(
        target
            .dir
            .try_clone()
            .map_err(|e| io_error("dup", &args.fs, e))?,
    );
    scan::list(&file)
        .map_err(|e| io_error("btrfs_subvolume_list: list the subvolumes of", &args.fs, e))
}

pub(in crate::daemon) fn btrfs_subvolume_create(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::btrfs_subvolume_create::Args,
) -> Result<calls::btrfs_subvolume_create::Ret, ErrorReply> {
    const CALL: &str = "btrfs_subvolume_create";
    let (dir, name) = d.root.parent(&args.dest)?;
    let mut argv = vec![arg("subvolume"), arg("create")];
    if let Some(q) = &args.qgroupid {
        check_qgroup(CALL, q)?;
        argv.extend([arg("-i"), arg(q)]);
    }
    argv.push(child_entry(&dir, &name));
    run(CALL, &argv)?;
    Ok(())
}

pub(in crate::daemon) fn btrfs_subvolume_delete(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::btrfs_subvolume_delete::Args,
) -> Result<calls::btrfs_subvolume_delete::Ret, ErrorReply> {
    let (dir, name) = d.root.parent(&args.subvolume)?;
    // The entry itself must not be a symlink the tool would follow.
    let st = rustix::fs::statat(&dir, &name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
        .map_err(|e| errno_reply("btrfs_subvolume_delete: stat", args.subvolume.as_str(), e))?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::Directory {
        return Err(invalid(format!(
            "btrfs_subvolume_delete {}: not a subvolume (not a directory)",
            args.subvolume
        )));
    }
    let argv = [arg("subvolume"), arg("delete"), child_entry(&dir, &name)];
    run("btrfs_subvolume_delete", &argv)?;
    Ok(())
}

pub(in crate::daemon) fn btrfs_subvolume_snapshot(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::btrfs_subvolume_snapshot::Args,
) -> Result<calls::btrfs_subvolume_snapshot::Ret, ErrorReply> {
    const CALL: &str = "btrfs_subvolume_snapshot";
    let source = d.root.open(
        &args.source,
        OFlags::RDONLY | OFlags::DIRECTORY,
        Mode::empty(),
    )?;
    let (dir, name) = d.root.parent(&args.dest)?;
    let mut argv = vec![arg("subvolume"), arg("snapshot")];
    if args.ro == Some(true) {
        argv.push(arg("-r"));
    }
    if let Some(q) = &args.qgroupid {
        check_qgroup(CALL, q)?;
        argv.extend([arg("-i"), arg(q)]);
    }
    argv.extend([child_path(&source), child_entry(&dir, &name)]);
    run(CALL, &argv)?;
    Ok(())
}

/// The id in `btrfs subvolume get-default`'s "ID 256 gen … path root" or
/// "ID 5 (FS_TREE)".
fn parse_default(text: &str) -> Option<i64> {
    let line = text.lines().find(|l| l.starts_with("ID "))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub(in crate::daemon) fn btrfs_subvolume_get_default(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::btrfs_subvolume_get_default::Args,
) -> Result<calls::btrfs_subvolume_get_default::Ret, ErrorReply> {
    const CALL: &str = "btrfs_subvolume_get_default";
    let target = Target::new(d, CALL, &args.fs)?;
    let text = run(
        CALL,
        &[
            arg("subvolume"),
            arg("get-default"),
            child_path(&target.dir),
        ],
    )?;
    parse_default(&text).ok_or_else(|| {
        ErrorReply::new(
            protocol::ErrorKind::Other,
            format!("{CALL} {}: cannot read btrfs's answer", args.fs),
        )
    })
}

pub(in crate::daemon) fn btrfs_subvolume_set_default(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::btrfs_subvolume_set_default::Args,
) -> Result<calls::btrfs_subvolume_set_default::Ret, ErrorReply> {
    const CALL: &str = "btrfs_subvolume_set_default";
    if args.id < 0 {
        return Err(invalid(format!("{CALL}: id {} is negative", args.id)));
    }
    let dir = d
        .root
        .open(&args.fs, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
    run(
        CALL,
        &[
            arg("subvolume"),
            arg("set-default"),
            arg(args.id.to_string()),
            child_path(&dir),
        ],
    )?;
    Ok(())
}

pub(in crate::daemon) fn btrfs_filesystem_resize(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::btrfs_filesystem_resize::Args,
) -> Result<calls::btrfs_filesystem_resize::Ret, ErrorReply> {
    const CALL: &str = "btrfs_filesystem_resize";
    let size = match args.size {
        None => "max".to_owned(),
        Some(s) if s > 0 => s.to_string(),
        Some(s) => return Err(invalid(format!("{CALL}: size {s} is not positive"))),
    };
    let dir = d.root.open(
        &args.mountpoint,
        OFlags::RDONLY | OFlags::DIRECTORY,
        Mode::empty(),
    )?;
    run(
        CALL,
        &[
            arg("filesystem"),
            arg("resize"),
            arg(size),
            child_path(&dir),
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod unit {
    #[test]
    fn default_line() {
        assert_eq!(super::parse_default("ID 5 (FS_TREE)\n"), Some(5));
        assert_eq!(
            super::parse_default("ID 256 gen 9 top level 5 path root\n"),
            Some(256)
        );
        assert_eq!(super::parse_default("ERROR: x\n"), None);
    }
}
