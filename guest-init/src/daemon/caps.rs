//! Linux file capabilities (guestfs(3) cap_get_file, cap_set_file): the
//! `security.capability` xattr, decoded and printed as libcap's
//! cap_to_text(3) prints it, and written from cap_from_text(3)'s form.
//! Like daemon/xattrs.rs, the file is opened O_PATH inside the guest root
//! (following symlinks, as libcap does) and reached as `/proc/self/fd/N`.

#[cfg(test)]
mod tests;
mod text;

use protocol::types::Pathname;
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{Mode, OFlags, XattrFlags};

use super::root::fd_path;
use super::state::GuestDaemon;
use super::util::{errno_reply, invalid};
use text::Caps;

type Reply<T> = Result<T, ErrorReply>;

const XATTR: &str = "security.capability";

/// VFS_CAP_REVISION_1/2/3 (linux/capability.h) and their sizes.
const REVISION_MASK: u32 = 0xff00_0000;
const REVISION_1: u32 = 0x0100_0000;
const REVISION_2: u32 = 0x0200_0000;
const REVISION_3: u32 = 0x0300_0000;
const FLAGS_EFFECTIVE: u32 = 0x0000_0001;

/// A file's capabilities and the user namespace root they belong to
/// (non-zero only in a revision 3 value).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct FileCaps {
    caps: Caps,
    rootid: u32,
}

fn le32(raw: &[u8], at: usize) -> u32 {
    raw.get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

/// Decodes a `security.capability` value, as libcap's _fcaps_load does:
/// the size must be exactly that of its revision.
pub(crate) fn decode(raw: &[u8]) -> Result<FileCaps, String> {
    if raw.len() < 4 {
        return Err(format!("{} bytes, too short for a header", raw.len()));
    }
    let magic = le32(raw, 0);
    let (size, words) = match magic & REVISION_MASK {
        REVISION_1 => (12, 1),
        REVISION_2 => (20, 2),
        REVISION_3 => (24, 2),
        rev => return Err(format!("unknown revision {:#x}", rev >> 24)),
    };
    if raw.len() != size {
        return Err(format!(
            "revision {} takes {size} bytes, this one has {}",
            magic >> 24,
            raw.len()
        ));
    }
    let mut caps = Caps::default();
    for w in 0..words {
        caps.permitted |= u64::from(le32(raw, 4 + 8 * w)) << (32 * w);
        caps.inheritable |= u64::from(le32(raw, 8 + 8 * w)) << (32 * w);
    }
    if magic & FLAGS_EFFECTIVE != 0 {
        caps.effective = caps.permitted | caps.inheritable;
    }
    let rootid = if size == 24 { le32(raw, 20) } else { 0 };
    Ok(FileCaps { caps, rootid })
}

/// A revision 2 value (libcap's _fcaps_save with no namespace root). The
/// file has one effective bit, which raises every permitted and
/// inheritable capability: as libcap does, refuse an effective set that
/// leaves one of those out (extra effective bits are dropped).
pub(crate) fn encode(caps: &Caps) -> Result<[u8; 20], String> {
    let all = caps.permitted | caps.inheritable;
    if caps.effective != 0 && all & !caps.effective != 0 {
        return Err("a file's effective flag is all or nothing: give 'e' to every capability that has 'p' or 'i', or to none".into());
    }
    let mut magic = REVISION_2;
    if caps.effective != 0 {
        magic |= FLAGS_EFFECTIVE;
    }
    let words = [
        magic,
        caps.permitted as u32,
        caps.inheritable as u32,
        (caps.permitted >> 32) as u32,
        (caps.inheritable >> 32) as u32,
    ];
    let mut out = [0u8; 20];
    for (chunk, w) in out.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    Ok(out)
}

/// The text cap_get_file returns: cap_to_text, with getcap -n's
/// ` [rootid=N]` when the value belongs to another namespace's root.
pub(crate) fn describe(fc: &FileCaps, kernel_bits: u32) -> String {
    let mut s = fc.caps.to_text(kernel_bits);
    if fc.rootid != 0 {
        s.push_str(&format!(" [rootid={}]", fc.rootid));
    }
    s
}

fn open(d: &GuestDaemon, path: &Pathname) -> Reply<(std::os::fd::OwnedFd, std::path::PathBuf)> {
    let fd = d.root.open(path, OFlags::PATH, Mode::empty())?;
    let proc = fd_path(&fd);
    Ok((fd, proc))
}

pub(super) fn cap_get_file(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::cap_get_file::Args,
) -> Reply<String> {
    let path = args.path.as_str();
    let (_fd, proc) = open(d, &args.path)?;
    // Larger than any revision: a bigger value is reported, not cut.
    let mut buf = [0u8; 64];
    let n = match rustix::fs::getxattr(&proc, XATTR, &mut buf[..]) {
        Ok(n) => n,
        // No capabilities (what getcap passes over silently).
        Err(rustix::io::Errno::NODATA) => return Ok(String::new()),
        Err(rustix::io::Errno::RANGE) => {
            return Err(invalid(format!(
                "cap_get_file {path}: its {XATTR} attribute is over 64 bytes, not a file capability set; remove it with cap_remove_file or removexattr"
            )))
        }
        // The kernel checks the value's header before handing it out.
        Err(rustix::io::Errno::INVAL) => {
            return Err(ErrorReply::errno(
                libc::EINVAL,
                format!("cap_get_file {path}: its {XATTR} attribute is malformed (the kernel refuses to read it); remove it with cap_remove_file"),
            ))
        }
        Err(e) => return Err(errno_reply("getxattr", path, e)),
    };
    let raw = buf.get(..n).unwrap_or_default();
    let fc = decode(raw).map_err(|e| {
        invalid(format!(
            "cap_get_file {path}: its {XATTR} attribute is not a file capability set ({e}); remove it with cap_remove_file"
        ))
    })?;
    Ok(describe(&fc, text::kernel_bits()))
}

pub(super) fn cap_set_file(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::cap_set_file::Args,
) -> Reply<()> {
    let path = args.path.as_str();
    let shown: String = args.cap.chars().take(200).collect();
    let caps = Caps::from_text(&args.cap, text::kernel_bits()).map_err(|e| {
        invalid(format!(
            "cap_set_file {path}: {shown:?} is not a capability set as cap_from_text(3) reads it (e.g. \"cap_net_raw+ep\" or \"cap_chown,cap_fowner=eip\"): {e}"
        ))
    })?;
    let value =
        encode(&caps).map_err(|e| invalid(format!("cap_set_file {path}: {shown:?}: {e}")))?;
    let (_fd, proc) = open(d, &args.path)?;
    rustix::fs::setxattr(&proc, XATTR, &value, XattrFlags::empty())
        .map_err(|e| errno_reply("setxattr", path, e))
}

pub(super) fn cap_remove_file(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::cap_remove_file::Args,
) -> Reply<()> {
    let path = args.path.as_str();
    let (_fd, proc) = open(d, &args.path)?;
    match rustix::fs::removexattr(&proc, XATTR) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::NODATA) => Err(ErrorReply::errno(
            libc::ENODATA,
            format!("cap_remove_file {path}: the file has no capabilities to remove"),
        )),
        Err(e) => Err(errno_reply("removexattr", path, e)),
    }
}
