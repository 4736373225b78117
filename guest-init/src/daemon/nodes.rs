//! Special files and modes: the is_* predicates for devices, FIFOs and
//! sockets, mknod and its wrappers, mkfifo, mkdir_mode, mkdtemp and the
//! daemon's umask. Every node is made with mknodat/mkdirat below the
//! parent directory resolved inside the guest root.

use protocol::types::Pathname;
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{FileType, Mode};
use rustix::io::Errno;

use super::dirs::type_if_exists;
use super::state::GuestDaemon;
use super::util::{errno_reply, invalid};

#[cfg(test)]
mod tests;

fn is_type(
    d: &GuestDaemon,
    path: &Pathname,
    follow: Option<bool>,
    want: FileType,
) -> Result<bool, ErrorReply> {
    Ok(type_if_exists(&d.root, path, follow.unwrap_or(false))? == Some(want))
}

pub(super) fn is_blockdev(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::is_blockdev::Args,
) -> Result<bool, ErrorReply> {
    is_type(d, &args.path, args.followsymlinks, FileType::BlockDevice)
}

pub(super) fn is_chardev(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::is_chardev::Args,
) -> Result<bool, ErrorReply> {
    is_type(
        d,
        &args.path,
        args.followsymlinks,
        FileType::CharacterDevice,
    )
}

pub(super) fn is_fifo(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::is_fifo::Args,
) -> Result<bool, ErrorReply> {
    is_type(d, &args.path, args.followsymlinks, FileType::Fifo)
}

pub(super) fn is_socket(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::is_socket::Args,
) -> Result<bool, ErrorReply> {
    is_type(d, &args.path, args.followsymlinks, FileType::Socket)
}

/// Permission bits (setuid, setgid and sticky included) of a mode
/// argument, or an error naming the call.
fn perm_bits(call: &str, mode: i64) -> Result<u32, ErrorReply> {
    u32::try_from(mode)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| {
            invalid(format!(
                "{call}: mode {mode:#o} must hold only permission bits (0 to 0o7777)"
            ))
        })
}

fn dev_number(call: &str, what: &str, value: i64) -> Result<u32, ErrorReply> {
    u32::try_from(value).map_err(|_| {
        invalid(format!(
            "{call}: {what} {value} is not between 0 and 4294967295"
        ))
    })
}

/// mknodat(2) of `ftype` with permission bits `perm` (less the umask).
fn make_node(
    d: &GuestDaemon,
    call: &str,
    path: &Pathname,
    ftype: FileType,
    perm: u32,
    major: i64,
    minor: i64,
) -> Result<(), ErrorReply> {
    let dev = rustix::fs::makedev(
        dev_number(call, "devmajor", major)?,
        dev_number(call, "devminor", minor)?,
    );
    let (dir, name) = d.root.parent(path)?;
    rustix::fs::mknodat(&dir, &name, ftype, Mode::from_raw_mode(perm), dev)
        .map_err(|e| errno_reply("mknod", path.as_str(), e))
}

/// mknod(2): `mode` carries the file type (S_IFBLK, S_IFCHR, S_IFIFO,
/// S_IFSOCK or S_IFREG) and the permission bits, as in libguestfs.
pub(super) fn mknod(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mknod::Args,
) -> Result<(), ErrorReply> {
    let raw = u32::try_from(args.mode).map_err(|_| invalid("mknod: mode out of range"))?;
    let ftype = FileType::from_raw_mode(raw);
    let known = matches!(
        ftype,
        FileType::BlockDevice
            | FileType::CharacterDevice
            | FileType::Fifo
            | FileType::Socket
            | FileType::RegularFile
    );
    if !known || raw & !(libc::S_IFMT | 0o7777) != 0 {
        return Err(invalid(format!(
            "mknod: mode {:#o} must be S_IFBLK, S_IFCHR, S_IFIFO, S_IFSOCK or S_IFREG with permission bits",
            args.mode
        )));
    }
    let perm = raw & 0o7777;
    make_node(
        d,
        "mknod",
        &args.path,
        ftype,
        perm,
        args.devmajor,
        args.devminor,
    )
}

pub(super) fn mknod_b(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mknod_b::Args,
) -> Result<(), ErrorReply> {
    let perm = perm_bits("mknod_b", args.mode)?;
    let t = FileType::BlockDevice;
    make_node(
        d,
        "mknod_b",
        &args.path,
        t,
        perm,
        args.devmajor,
        args.devminor,
    )
}

pub(super) fn mknod_c(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mknod_c::Args,
) -> Result<(), ErrorReply> {
    let perm = perm_bits("mknod_c", args.mode)?;
    let t = FileType::CharacterDevice;
    make_node(
        d,
        "mknod_c",
        &args.path,
        t,
        perm,
        args.devmajor,
        args.devminor,
    )
}

pub(super) fn mkfifo(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mkfifo::Args,
) -> Result<(), ErrorReply> {
    let perm = perm_bits("mkfifo", args.mode)?;
    make_node(d, "mkfifo", &args.path, FileType::Fifo, perm, 0, 0)
}

/// mkdir(2) with a mode; the kernel applies the umask.
pub(super) fn mkdir_mode(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mkdir_mode::Args,
) -> Result<(), ErrorReply> {
    let perm = perm_bits("mkdir_mode", args.mode)?;
    let (dir, name) = d.root.parent(&args.path)?;
    rustix::fs::mkdirat(&dir, &name, Mode::from_raw_mode(perm))
        .map_err(|e| errno_reply("mkdir", args.path.as_str(), e))
}

/// Letters mkdtemp puts in place of the Xs, as glibc's.
const TEMP_LETTERS: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn random_bytes(buf: &mut [u8]) -> Result<(), ErrorReply> {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        // SAFETY: getrandom writes at most `rest.len()` bytes into `rest`,
        // which is valid, writable memory of that length.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(errno_reply("getrandom", "mkdtemp", e));
        }
        filled += n as usize;
    }
    Ok(())
}

/// mkdtemp(3): the template's last component ends in XXXXXX, which are
/// replaced by random letters until a new directory (mode 0700) is made.
/// Returns its path.
pub(super) fn mkdtemp(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mkdtemp::Args,
) -> Result<String, ErrorReply> {
    let tmpl = args.tmpl.as_str();
    if !tmpl.ends_with("XXXXXX") {
        return Err(invalid(format!(
            "mkdtemp {tmpl}: the template must end in XXXXXX (for example /tmp/dirXXXXXX)"
        )));
    }
    let (dir, name) = d.root.parent(&args.tmpl)?;
    let name = name.to_string_lossy().into_owned();
    let stem = &name[..name.len() - 6];
    let prefix = &tmpl[..tmpl.len() - 6];
    for _ in 0..1000 {
        let mut rnd = [0u8; 6];
        random_bytes(&mut rnd)?;
        let suffix: String = rnd
            .iter()
            .map(|b| char::from(TEMP_LETTERS[usize::from(*b) % TEMP_LETTERS.len()]))
            .collect();
        match rustix::fs::mkdirat(&dir, format!("{stem}{suffix}"), Mode::from_raw_mode(0o700)) {
            Ok(()) => return Ok(format!("{prefix}{suffix}")),
            Err(Errno::EXIST) => continue,
            Err(e) => return Err(errno_reply("mkdir", tmpl, e)),
        }
    }
    Err(ErrorReply::errno(
        libc::EEXIST,
        format!("mkdtemp {tmpl}: no unused name found; remove old directories"),
    ))
}

/// umask(2): sets mask & 0777 for every file the daemon creates later,
/// returns the previous mask.
pub(super) fn umask(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::umask::Args,
) -> Result<i64, ErrorReply> {
    let mask = u32::try_from(args.mask)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| invalid(format!("umask: mask {:#o} must be 0 to 0o777", args.mask)))?;
    let old = rustix::process::umask(Mode::from_raw_mode(mask));
    Ok(i64::from(old.bits()))
}

/// The umask, from /proc/self/status (reading it with umask(2) would
/// change it for a moment).
pub(super) fn get_umask(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::get_umask::Args,
) -> Result<i64, ErrorReply> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| errno_reply("read", "/proc/self/status", e))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .and_then(|v| i64::from_str_radix(v.trim(), 8).ok())
        .ok_or_else(|| {
            ErrorReply::errno(
                libc::ENOSYS,
                "get_umask: /proc/self/status has no Umask line",
            )
        })
}
