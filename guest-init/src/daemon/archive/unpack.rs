//! tar_in's unpacking, relative to the target directory's descriptor.
//! Entry names are cleaned first (absolute names and `..` are errors).
//! Parents are resolved with openat2(RESOLVE_BENEATH): a symlink that
//! leads out of the target directory (absolute, or climbing above it) is
//! an error, never followed; the crate's `unpack_in` is not used as it
//! checks by canonicalizing, which would resolve absolute guest symlinks
//! against the appliance's root. The last component is made with *at()
//! calls that never follow it, replacing a non-directory already there.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;

use protocol::ErrorReply;
use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, ResolveFlags, Timespec, Timestamps, Uid};
use rustix::fs::{XattrFlags, CWD, UTIME_OMIT};
use rustix::io::Errno;
use tar::EntryType;

use crate::daemon::root::fd_path;
use crate::daemon::util::{errno_reply, invalid, io_error};

/// Unpacks the archive into `top` (an O_PATH directory descriptor).
pub(super) fn unpack(reader: impl Read, top: &OwnedFd, xattrs: bool) -> Result<(), ErrorReply> {
    let mut archive = tar::Archive::new(reader);
    // Directory mtimes are set last: creating their entries changes them.
    let mut dirs: Vec<(Vec<u8>, i64)> = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| io_error("tar_in:", "read", e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| io_error("tar_in:", "read", e))?;
        let raw = entry.path_bytes().into_owned();
        let at = Place {
            top,
            shown: String::from_utf8_lossy(&raw).into_owned(),
        };
        let comps = clean(&raw).map_err(|why| at.refuse(why))?;
        at.extract(&mut entry, &comps, xattrs, &mut dirs)?;
    }
    for (rel, mtime) in dirs.iter().rev() {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW;
        match beneath(top, rel, flags) {
            Ok(fd) => rustix::fs::futimens(&fd, &times(*mtime))
                .map_err(|e| errno_reply("tar_in: utimes", &String::from_utf8_lossy(rel), e))?,
            // Replaced or removed by a later entry.
            Err(Errno::NOENT | Errno::LOOP | Errno::NOTDIR) => {}
            Err(e) => {
                return Err(errno_reply(
                    "tar_in: open",
                    &String::from_utf8_lossy(rel),
                    e,
                ))
            }
        }
    }
    Ok(())
}

/// An entry's name components: absolute names and `..` are refused; `.`
/// and empty components are dropped ("./" names the target itself).
pub(super) fn clean(raw: &[u8]) -> Result<Vec<&[u8]>, &'static str> {
    if raw.first() == Some(&b'/') {
        return Err("absolute names are refused");
    }
    let mut comps = Vec::new();
    for comp in raw.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => return Err("names containing .. are refused"),
            comp => comps.push(comp),
        }
    }
    Ok(comps)
}

/// Opens `rel` below `top`, never leaving it.
fn beneath(top: &OwnedFd, rel: &[u8], flags: OFlags) -> rustix::io::Result<OwnedFd> {
    let path = OsStr::from_bytes(if rel.is_empty() { b"." } else { rel });
    let how = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
    loop {
        match rustix::fs::openat2(top, path, flags | OFlags::CLOEXEC, Mode::empty(), how) {
            Err(Errno::AGAIN | Errno::INTR) => continue,
            result => return result,
        }
    }
}

fn times(mtime: i64) -> Timestamps {
    Timestamps {
        last_access: Timespec {
            tv_sec: 0,
            tv_nsec: UTIME_OMIT,
        },
        last_modification: Timespec {
            tv_sec: mtime,
            tv_nsec: 0,
        },
    }
}

/// Owner or mode changes a filesystem cannot store (vfat) are skipped.
fn unsupported(e: Errno) -> bool {
    matches!(e, Errno::PERM | Errno::OPNOTSUPP)
}

/// Where one entry goes, for messages.
struct Place<'a> {
    top: &'a OwnedFd,
    shown: String,
}

/// An entry's metadata.
struct Meta {
    uid: Uid,
    gid: Gid,
    mode: Mode,
    mtime: i64,
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Place<'_> {
    fn refuse(&self, why: &str) -> ErrorReply {
        invalid(format!("tar_in: entry {:?}: {why}", self.shown))
    }

    fn fail(&self, op: &str, e: Errno) -> ErrorReply {
        if e == Errno::XDEV {
            let why = "refusing to go through a symlink that leads out of the target directory";
            return ErrorReply::errno(
                libc::EXDEV,
                format!("tar_in: entry {:?}: {why}", self.shown),
            );
        }
        errno_reply(&format!("tar_in: {op}"), &self.shown, e)
    }

    /// The directory holding the last component, made if missing.
    fn parent(&self, comps: &[&[u8]]) -> Result<OwnedFd, ErrorReply> {
        let flags = OFlags::PATH | OFlags::DIRECTORY;
        match beneath(self.top, &comps.join(&b'/'), flags) {
            Err(Errno::NOENT) => {}
            other => return other.map_err(|e| self.fail("open", e)),
        }
        let mut fd = beneath(self.top, b"", flags).map_err(|e| self.fail("open", e))?;
        for (i, name) in comps.iter().enumerate() {
            let prefix = comps.get(..=i).unwrap_or_default().join(&b'/');
            fd = match beneath(self.top, &prefix, flags) {
                Err(Errno::NOENT) => {
                    match rustix::fs::mkdirat(&fd, OsStr::from_bytes(name), Mode::from(0o755)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(self.fail("mkdir", e)),
                    }
                    beneath(self.top, &prefix, flags).map_err(|e| self.fail("open", e))?
                }
                other => other.map_err(|e| self.fail("open", e))?,
            };
        }
        Ok(fd)
    }

    /// Runs `create`; if the name exists, removes it (not a directory)
    /// and runs it again, as GNU tar does.
    fn replacing<T>(
        &self,
        parent: &OwnedFd,
        name: &OsStr,
        mut create: impl FnMut() -> rustix::io::Result<T>,
    ) -> Result<T, ErrorReply> {
        match create() {
            Err(Errno::EXIST) => {
                rustix::fs::unlinkat(parent, name, AtFlags::empty())
                    .map_err(|e| self.fail("replace", e))?;
                create().map_err(|e| self.fail("create", e))
            }
            other => other.map_err(|e| self.fail("create", e)),
        }
    }

    fn extract(
        &self,
        entry: &mut tar::Entry<impl Read>,
        comps: &[&[u8]],
        want_xattrs: bool,
        dirs: &mut Vec<(Vec<u8>, i64)>,
    ) -> Result<(), ErrorReply> {
        let header = entry.header();
        let kind = header.entry_type();
        let num = |v: io::Result<u64>| v.ok().and_then(|v| u32::try_from(v).ok());
        let bad = || self.refuse("invalid header field");
        let (uid, gid) = (
            num(header.uid()).ok_or_else(bad)?,
            num(header.gid()).ok_or_else(bad)?,
        );
        let mode = num(header.mode().map(u64::from)).ok_or_else(bad)? & 0o7777;
        let mtime = header.mtime().map_err(|_| bad())?;
        let (major, minor) = (header.device_major(), header.device_minor());
        let dev = rustix::fs::makedev(
            major.ok().flatten().unwrap_or(0),
            minor.ok().flatten().unwrap_or(0),
        );
        let link = entry.link_name_bytes().map(|l| l.into_owned());
        let mut meta = Meta {
            uid: Uid::from_raw(uid),
            gid: Gid::from_raw(gid),
            mode: Mode::from(mode),
            mtime: i64::try_from(mtime).unwrap_or(i64::MAX),
            xattrs: Vec::new(),
        };
        if want_xattrs {
            meta.xattrs =
                xattrs_of(entry).map_err(|e| io_error("tar_in: xattrs of", &self.shown, e))?;
        }
        let Some((name, parents)) = comps.split_last() else {
            // "./": the target directory's own metadata.
            if !kind.is_dir() {
                return Err(self.refuse("names the target directory but is not a directory"));
            }
            let fd = beneath(self.top, b"", OFlags::RDONLY | OFlags::DIRECTORY)
                .map_err(|e| self.fail("open", e))?;
            self.apply_fd(&fd, &meta)?;
            dirs.push((Vec::new(), meta.mtime));
            return Ok(());
        };
        let name = OsStr::from_bytes(name);
        let parent = self.parent(parents)?;
        match kind {
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW;
                let open = || {
                    rustix::fs::openat(&parent, name, flags | OFlags::CLOEXEC, Mode::from(0o600))
                };
                let mut file = File::from(self.replacing(&parent, name, open)?);
                io::copy(entry, &mut file)
                    .map_err(|e| io_error("tar_in: write", &self.shown, e))?;
                self.apply_fd(&file, &meta)?;
                rustix::fs::futimens(&file, &times(meta.mtime)).map_err(|e| self.fail("utimes", e))
            }
            EntryType::Directory => {
                let fd = self.directory(&parent, name)?;
                self.apply_fd(&fd, &meta)?;
                dirs.push((comps.join(&b'/'), meta.mtime));
                Ok(())
            }
            EntryType::Symlink => {
                let target = link.ok_or_else(|| self.refuse("symlink without a target"))?;
                let target = OsStr::from_bytes(&target);
                self.replacing(&parent, name, || {
                    rustix::fs::symlinkat(target, &parent, name)
                })?;
                let nofollow = AtFlags::SYMLINK_NOFOLLOW;
                match rustix::fs::chownat(&parent, name, Some(meta.uid), Some(meta.gid), nofollow) {
                    Err(e) if !unsupported(e) => return Err(self.fail("chown", e)),
                    _ => {}
                }
                self.set_xattrs_at(&parent, name, &meta)?;
                rustix::fs::utimensat(&parent, name, &times(meta.mtime), nofollow)
                    .map_err(|e| self.fail("utimes", e))
            }
            EntryType::Link => {
                let target = link.ok_or_else(|| self.refuse("hard link without a target"))?;
                let tcomps =
                    clean(&target).map_err(|why| self.refuse(&format!("link target: {why}")))?;
                let Some((tname, tparents)) = tcomps.split_last() else {
                    return Err(self.refuse("hard link to the target directory"));
                };
                if tcomps == comps {
                    return Ok(()); // a link to itself: replacing would lose the file
                }
                let tparent = beneath(
                    self.top,
                    &tparents.join(&b'/'),
                    OFlags::PATH | OFlags::DIRECTORY,
                )
                .map_err(|e| self.fail("link", e))?;
                let tname = OsStr::from_bytes(tname);
                self.replacing(&parent, name, || {
                    rustix::fs::linkat(&tparent, tname, &parent, name, AtFlags::empty())
                })
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let ftype = match kind {
                    EntryType::Char => FileType::CharacterDevice,
                    EntryType::Block => FileType::BlockDevice,
                    _ => FileType::Fifo,
                };
                self.replacing(&parent, name, || {
                    rustix::fs::mknodat(&parent, name, ftype, Mode::from(0o600), dev)
                })?;
                let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                let fd = rustix::fs::openat(&parent, name, flags, Mode::empty())
                    .map_err(|e| self.fail("open", e))?;
                self.apply_path(&fd, &meta)
            }
            EntryType::XGlobalHeader | EntryType::XHeader => Ok(()),
            EntryType::GNULongName | EntryType::GNULongLink => Ok(()),
            _ => Err(self.refuse(&format!(
                "unsupported entry type {:?}",
                kind.as_byte() as char
            ))),
        }
    }

    /// Makes (or keeps) a directory; a non-directory there is replaced.
    fn directory(&self, parent: &OwnedFd, name: &OsStr) -> Result<OwnedFd, ErrorReply> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mkdir = || match rustix::fs::mkdirat(parent, name, Mode::from(0o700)) {
            Ok(()) | Err(Errno::EXIST) => Ok(()),
            Err(e) => Err(self.fail("mkdir", e)),
        };
        mkdir()?;
        match rustix::fs::openat(parent, name, flags, Mode::empty()) {
            Err(Errno::LOOP | Errno::NOTDIR) => {
                rustix::fs::unlinkat(parent, name, AtFlags::empty())
                    .map_err(|e| self.fail("replace", e))?;
                mkdir()?;
                rustix::fs::openat(parent, name, flags, Mode::empty())
                    .map_err(|e| self.fail("open", e))
            }
            other => other.map_err(|e| self.fail("open", e)),
        }
    }

    /// Owner (before the mode: chown clears set-id bits), mode, xattrs.
    fn apply_fd(&self, fd: &impl std::os::fd::AsFd, meta: &Meta) -> Result<(), ErrorReply> {
        match rustix::fs::fchown(fd, Some(meta.uid), Some(meta.gid)) {
            Err(e) if !unsupported(e) => return Err(self.fail("chown", e)),
            _ => {}
        }
        match rustix::fs::fchmod(fd, meta.mode) {
            Err(e) if !unsupported(e) => return Err(self.fail("chmod", e)),
            _ => {}
        }
        for (key, value) in &meta.xattrs {
            rustix::fs::fsetxattr(fd, OsStr::from_bytes(key), value, XattrFlags::empty())
                .map_err(|e| self.fail("setxattr", e))?;
        }
        Ok(())
    }

    /// The same for a device node or fifo, through its O_PATH descriptor
    /// (opening the node itself could block or reach a device).
    fn apply_path(&self, fd: &OwnedFd, meta: &Meta) -> Result<(), ErrorReply> {
        let path = fd_path(fd);
        let owner = (Some(meta.uid), Some(meta.gid));
        match rustix::fs::chownat(fd, "", owner.0, owner.1, AtFlags::EMPTY_PATH) {
            Err(e) if !unsupported(e) => return Err(self.fail("chown", e)),
            _ => {}
        }
        match rustix::fs::chmodat(CWD, &path, meta.mode, AtFlags::empty()) {
            Err(e) if !unsupported(e) => return Err(self.fail("chmod", e)),
            _ => {}
        }
        for (key, value) in &meta.xattrs {
            rustix::fs::setxattr(&path, OsStr::from_bytes(key), value, XattrFlags::empty())
                .map_err(|e| self.fail("setxattr", e))?;
        }
        rustix::fs::utimensat(CWD, &path, &times(meta.mtime), AtFlags::empty())
            .map_err(|e| self.fail("utimes", e))
    }

    /// xattrs of a symlink: by name below its directory, not followed.
    fn set_xattrs_at(&self, parent: &OwnedFd, name: &OsStr, meta: &Meta) -> Result<(), ErrorReply> {
        let path = fd_path(parent).join(name);
        for (key, value) in &meta.xattrs {
            rustix::fs::lsetxattr(&path, OsStr::from_bytes(key), value, XattrFlags::empty())
                .map_err(|e| self.fail("setxattr", e))?;
        }
        Ok(())
    }
}

/// The `SCHILY.xattr.*` pax records of an entry, as (name, value).
fn xattrs_of(entry: &mut tar::Entry<impl Read>) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    if let Some(exts) = entry.pax_extensions()? {
        for ext in exts {
            let ext = ext?;
            if let Some(name) = ext.key_bytes().strip_prefix(b"SCHILY.xattr.") {
                out.push((name.to_vec(), ext.value_bytes().to_vec()));
            }
        }
    }
    Ok(out)
}
