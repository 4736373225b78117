//! The subvolumes of a mounted btrfs filesystem, read with the kernel's
//! tree-search and inode-lookup ioctls (what `btrfs subvolume list` does):
//! each ROOT_BACKREF item of the root tree names a subvolume, its parent,
//! the directory it sits in and its name; a path is its parent's path,
//! the directory's path in the parent, and the name.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::os::fd::AsRawFd;

use protocol::types::{BtrfsSubvolume, FsEntry};
use rustix::fs::{Mode, OFlags};

use super::TempMount;
use crate::daemon::devices::probe_device;
use guest_formats::probe::Content;

const ROOT_TREE: u64 = 1;
const FS_TREE: u64 = 5;
const FIRST_FREE: u64 = 256;
const LAST_FREE: u64 = u64::MAX - 255;
const ROOT_BACKREF_KEY: u32 = 144;
/// Subvolumes listed at most: bounds the memory a hostile image costs.
const MAX_SUBVOLUMES: usize = 100_000;

const fn iowr(nr: u64, size: u64) -> u64 {
    (3 << 30) | (size << 16) | (0x94 << 8) | nr
}
/// `_IOWR(0x94, 17, struct btrfs_ioctl_search_args)` (4096 bytes).
const TREE_SEARCH: u64 = iowr(17, 4096);
/// `_IOWR(0x94, 18, struct btrfs_ioctl_ino_lookup_args)` (4096 bytes).
const INO_LOOKUP: u64 = iowr(18, 4096);
/// The search key is 104 bytes; results follow it.
const KEY_WORDS: usize = 13;

fn ioctl(file: &File, request: u64, buf: &mut [u64; 512]) -> std::io::Result<()> {
    // SAFETY: both requests take a 4096-byte in/out struct, and `buf` is
    // 4096 bytes, 8-aligned, live and exclusively borrowed for the call.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), request as _, buf.as_mut_ptr()) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// One ROOT_BACKREF: (subvolume id, parent id, directory id, name).
type Backref = (u64, u64, u64, String);

fn backrefs(file: &File) -> std::io::Result<Vec<Backref>> {
    let mut out = Vec::new();
    let (mut min_obj, mut min_off) = (FIRST_FREE, 0u64);
    loop {
        let mut buf = [0u64; 512];
        buf[..9].copy_from_slice(&[
            ROOT_TREE,
            min_obj,
            LAST_FREE,
            min_off,
            u64::MAX,
            0,
            u64::MAX,
            u64::from(ROOT_BACKREF_KEY) | (u64::from(ROOT_BACKREF_KEY) << 32),
            4096,
        ]);
        ioctl(file, TREE_SEARCH, &mut buf)?;
        let bytes: Vec<u8> = buf.iter().flat_map(|w| w.to_ne_bytes()).collect();
        let items = u32_at(&bytes, 64).unwrap_or(0);
        if items == 0 {
            return Ok(out);
        }
        let mut at = KEY_WORDS * 8;
        let mut last = None;
        for _ in 0..items {
            let (Some(objectid), Some(offset), Some(ty), Some(len)) = (
                u64_at(&bytes, at + 8),
                u64_at(&bytes, at + 16),
                u32_at(&bytes, at + 24),
                u32_at(&bytes, at + 28),
            ) else {
                break;
            };
            let data = bytes.get(at + 32..at + 32 + len as usize).unwrap_or(&[]);
            at += 32 + len as usize;
            last = Some((objectid, offset));
            // The range is (objectid, type, offset) ordered: other item
            // types come back too.
            if ty != ROOT_BACKREF_KEY || data.len() < 18 {
                continue;
            }
            let dirid = u64::from_le_bytes(data[..8].try_into().unwrap_or_default());
            let name_len = usize::from(u16::from_le_bytes([data[16], data[17]]));
            let name = data.get(18..18 + name_len).unwrap_or(&[]);
            out.push((
                objectid,
                offset,
                dirid,
                String::from_utf8_lossy(name).into_owned(),
            ));
            if out.len() > MAX_SUBVOLUMES {
                return Err(std::io::Error::other(format!(
                    "more than {MAX_SUBVOLUMES} subvolumes"
                )));
            }
        }
        let Some((obj, off)) = last else {
            return Ok(out);
        };
        (min_obj, min_off) = match off.checked_add(1) {
            Some(next) => (obj, next),
            None if obj < LAST_FREE => (obj + 1, 0),
            None => return Ok(out),
        };
    }
}

/// The path of directory `dirid` inside subvolume `tree`, ending in `/`
/// ("" for the subvolume's own top directory).
fn dir_path(file: &File, tree: u64, dirid: u64) -> std::io::Result<String> {
    let mut buf = [0u64; 512];
    buf[0] = tree;
    buf[1] = dirid;
    ioctl(file, INO_LOOKUP, &mut buf)?;
    let bytes: Vec<u8> = buf[2..].iter().flat_map(|w| w.to_ne_bytes()).collect();
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    Ok(String::from_utf8_lossy(&bytes[..end]).into_owned())
}

/// Every subvolume of the filesystem `file` is on, by id, with paths from
/// the top level, as `btrfs subvolume list` prints them.
pub(super) fn list(file: &File) -> std::io::Result<Vec<BtrfsSubvolume>> {
    let refs = backrefs(file)?;
    let mut parts: BTreeMap<u64, (u64, String)> = BTreeMap::new();
    for (id, parent, dirid, name) in refs {
        let rel = format!("{}{name}", dir_path(file, parent, dirid)?);
        parts.insert(id, (parent, rel));
    }
    let full = |id: u64| -> String {
        let mut segs = Vec::new();
        let mut at = id;
        // A cycle cannot occur in a sound filesystem; bound it anyway.
        for _ in 0..parts.len() {
            let Some((parent, rel)) = parts.get(&at) else {
                break;
            };
            segs.push(rel.as_str());
            if *parent == FS_TREE {
                break;
            }
            at = *parent;
        }
        segs.reverse();
        segs.join("/")
    };
    let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    Ok(parts
        .iter()
        .map(|(&id, (parent, _))| BtrfsSubvolume {
            btrfssubvolume_id: to_i64(id),
            btrfssubvolume_top_level_id: to_i64(*parent),
            btrfssubvolume_path: full(id),
        })
        .collect())
}

/// `_IOW(0x94, 4, struct btrfs_ioctl_vol_args)` (4096 bytes).
const SCAN_DEV: u64 = (1 << 30) | (4096 << 16) | (0x94 << 8) | 4;

/// Tells the kernel that `device` holds btrfs (what `btrfs device scan`
/// does, and udev does elsewhere; the appliance has no udev), so a
/// filesystem over several devices can be mounted. Best effort: a failure
/// shows later as the mount's own error.
fn register(device: &str) {
    let Ok(control) = File::open("/dev/btrfs-control") else {
        return;
    };
    let name = device.as_bytes();
    if name.len() >= 4088 {
        return;
    }
    let mut buf = [0u64; 512];
    let mut bytes: Vec<u8> = buf.iter().flat_map(|w| w.to_ne_bytes()).collect();
    bytes[8..8 + name.len()].copy_from_slice(name);
    for (w, chunk) in buf.iter_mut().zip(bytes.chunks_exact(8)) {
        *w = u64::from_ne_bytes(chunk.try_into().unwrap_or_default());
    }
    let _ = ioctl(&control, SCAN_DEV, &mut buf);
}

/// After each btrfs entry of a list_filesystems result, one
/// `btrfsvol:DEVICE/PATH` entry per subvolume, as libguestfs lists them
/// (once per filesystem, after its first device). A filesystem that
/// cannot be mounted read-only to look is listed without subvolumes.
pub(in crate::daemon) fn add_subvolumes(found: &mut Vec<FsEntry>) {
    for entry in found.iter().filter(|e| e.fstype == "btrfs") {
        register(&entry.device);
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(found.len());
    for entry in found.drain(..) {
        let device = entry.device.clone();
        let is_btrfs = entry.fstype == "btrfs";
        out.push(entry);
        if !is_btrfs {
            continue;
        }
        let uuid = match probe_device(&device) {
            Ok(Content::Filesystem(fs)) => fs.uuid,
            _ => continue,
        };
        if !seen.insert(uuid) {
            continue;
        }
        let Ok(subvols) = subvolumes_of(&device) else {
            continue;
        };
        out.extend(subvols.into_iter().map(|s| FsEntry {
            device: format!("btrfsvol:{device}/{}", s.btrfssubvolume_path),
            fstype: "btrfs".to_owned(),
        }));
    }
    *found = out;
}

fn subvolumes_of(device: &str) -> Result<Vec<BtrfsSubvolume>, protocol::ErrorReply> {
    let tm = TempMount::new("list_filesystems", device, None)?;
    let fd = rustix::fs::open(
        tm.path(),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| crate::daemon::util::errno_reply("open", device, e))?;
    let subvols = list(&File::from(fd))
        .map_err(|e| crate::daemon::util::io_error("list subvolumes of", device, e))?;
    Ok(subvols)
}
