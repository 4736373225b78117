//! ext2-style inode flags (chattr/lsattr letters) and inode generation
//! numbers, with the FS_IOC_{GET,SET}{FLAGS,VERSION} ioctls that lsattr
//! and chattr use.

use std::os::fd::{AsRawFd, OwnedFd};

use protocol::types::Pathname;
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{FileType, Mode, OFlags};

use super::super::root::fd_path;
use super::super::state::GuestDaemon;
use super::super::util::{errno_reply, invalid};

/// lsattr's letters and their flags (e2fsprogs lib/e2p/pf.c).
const FLAGS: &[(u32, char)] = &[
    (0x0000_0001, 's'),
    (0x0000_0002, 'u'),
    (0x0000_0004, 'c'),
    (0x0000_0008, 'S'),
    (0x0000_0010, 'i'),
    (0x0000_0020, 'a'),
    (0x0000_0040, 'd'),
    (0x0000_0080, 'A'),
    (0x0000_0400, 'm'),
    (0x0000_0800, 'E'),
    (0x0000_1000, 'I'),
    (0x0000_4000, 'j'),
    (0x0000_8000, 't'),
    (0x0001_0000, 'D'),
    (0x0002_0000, 'T'),
    (0x0008_0000, 'e'),
    (0x0010_0000, 'V'),
    (0x0080_0000, 'C'),
    (0x0200_0000, 'x'),
    (0x1000_0000, 'N'),
    (0x2000_0000, 'P'),
    (0x4000_0000, 'F'),
];

/// The letters chattr can set or clear (the others are read-only state).
const SETTABLE: &str = "aAcCdDeFijmPsStTux";

/// Opens a file or directory the way e2p does: following symlinks
/// (inside the guest root), and only regular files and directories.
fn open_inode(d: &GuestDaemon, call: &str, path: &Pathname) -> Result<OwnedFd, ErrorReply> {
    // O_PATH first: a device node or FIFO in the guest tree is never opened.
    let fd = d.root.open(path, OFlags::PATH, Mode::empty())?;
    let st = rustix::fs::fstat(&fd).map_err(|e| errno_reply(call, path.as_str(), e))?;
    match FileType::from_raw_mode(st.st_mode) {
        FileType::RegularFile | FileType::Directory => {
            let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
            rustix::fs::open(fd_path(&fd), flags, Mode::empty())
                .map_err(|e| errno_reply(call, path.as_str(), e))
        }
        _ => Err(ErrorReply::errno(
            libc::EOPNOTSUPP,
            format!("{call} {path}: only regular files and directories have ext2 attributes"),
        )),
    }
}

/// One int-sized ioctl in or out.
fn int_ioctl(
    call: &str,
    path: &Pathname,
    fd: &OwnedFd,
    request: libc::Ioctl,
    value: &mut libc::c_int,
) -> Result<(), ErrorReply> {
    // SAFETY: the FS_IOC_* requests used here read or write one int
    // through the pointer, which points at `value`, alive for the call;
    // `fd` is an open descriptor.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request, value as *mut libc::c_int) };
    if rc != 0 {
        return Err(errno_reply(
            call,
            path.as_str(),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

fn get_flags(call: &str, path: &Pathname, fd: &OwnedFd) -> Result<u32, ErrorReply> {
    let mut flags: libc::c_int = 0;
    int_ioctl(call, path, fd, libc::FS_IOC_GETFLAGS, &mut flags)?;
    Ok(flags as u32)
}

pub(in crate::daemon) fn get_e2attrs(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::get_e2attrs::Args,
) -> Result<calls::get_e2attrs::Ret, ErrorReply> {
    let fd = open_inode(d, "get_e2attrs", &args.file)?;
    let flags = get_flags("get_e2attrs", &args.file, &fd)?;
    let mut letters: Vec<char> = FLAGS
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, c)| *c)
        .collect();
    // libguestfs sorts the letters (byte order: capitals first).
    letters.sort_unstable();
    Ok(letters.into_iter().collect())
}

/// The flag bits of `attrs`, checked as libguestfs checks them.
fn parse_attrs(attrs: &str) -> Result<u32, ErrorReply> {
    let mut bits = 0u32;
    let mut seen = String::new();
    for c in attrs.chars() {
        if seen.contains(c) {
            return Err(invalid(format!(
                "set_e2attrs: duplicate file attribute '{c}'"
            )));
        }
        seen.push(c);
        let bit = FLAGS.iter().find(|(_, l)| *l == c).map(|(b, _)| *b);
        match bit {
            Some(b) if SETTABLE.contains(c) => bits |= b,
            _ => {
                return Err(invalid(format!(
                    "set_e2attrs: unknown file attribute '{c}' (chattr sets {SETTABLE})"
                )))
            }
        }
    }
    Ok(bits)
}

pub(in crate::daemon) fn set_e2attrs(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::set_e2attrs::Args,
) -> Result<calls::set_e2attrs::Ret, ErrorReply> {
    let call = "set_e2attrs";
    let bits = parse_attrs(&args.attrs)?;
    if bits == 0 {
        return Ok(());
    }
    let fd = open_inode(d, call, &args.file)?;
    let old = get_flags(call, &args.file, &fd)?;
    let new = if args.clear == Some(true) {
        old & !bits
    } else {
        old | bits
    };
    let mut value = new as libc::c_int;
    int_ioctl(call, &args.file, &fd, libc::FS_IOC_SETFLAGS, &mut value)
}

pub(in crate::daemon) fn get_e2generation(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::get_e2generation::Args,
) -> Result<calls::get_e2generation::Ret, ErrorReply> {
    let fd = open_inode(d, "get_e2generation", &args.file)?;
    let mut generation: libc::c_int = 0;
    int_ioctl(
        "get_e2generation",
        &args.file,
        &fd,
        libc::FS_IOC_GETVERSION,
        &mut generation,
    )?;
    Ok(i64::from(generation as u32))
}

pub(in crate::daemon) fn set_e2generation(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::set_e2generation::Args,
) -> Result<calls::set_e2generation::Ret, ErrorReply> {
    let call = "set_e2generation";
    let generation = u32::try_from(args.generation).map_err(|_| {
        invalid(format!(
            "{call}: generation {} is not from 0 to 4294967295",
            args.generation
        ))
    })?;
    let fd = open_inode(d, call, &args.file)?;
    let mut value = generation as libc::c_int;
    int_ioctl(call, &args.file, &fd, libc::FS_IOC_SETVERSION, &mut value).map_err(|mut e| {
        if e.errno == libc::ENOTTY {
            e.message.push_str(
                " (ext4 keeps generations fixed when metadata_csum is on; other filesystems have none to set)",
            );
        }
        e
    })
}
