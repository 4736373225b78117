//! The FUSE filesystem of `libguest mount`: each kernel request becomes
//! API calls on the launched [`Guest`], as guestmount's do.
//!
//! Security rule: every name the kernel hands us is one path component
//! (`nodes::is_component`), joined onto a path the guest's own lookups
//! produced, so a request never names anything outside the guest tree;
//! and the daemon resolves every path inside its root again. A read-only
//! mount refuses every change here as well as in the kernel.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, LockOwner,
    OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, ReplyXattr, Request, TimeOrNow, WriteFlags,
};
use libguest::Guest;
use protocol::types::{Statns, XAttr};

use super::nodes::{is_component, join, parent, split_xattr_list, Cache, Nodes, ROOT};

/// How long the kernel may keep an entry or attributes (libfuse's
/// default); our own cache (--dir-cache-timeout) sits behind it.
const KERNEL_TTL: Duration = Duration::from_secs(1);
/// Names per lstatnslist / readlinklist call when a directory is read.
const BATCH: usize = 1000;
/// Bytes one pread fetches for sequential reads: the kernel asks for at
/// most 128 KiB at a time, and one call per request would be a round
/// trip per 128 KiB.
const READ_BLOCK: u64 = 1 << 20;

/// The last block read, served to the reads that follow it; dropped on
/// any change.
struct ReadAhead {
    ino: u64,
    offset: u64,
    data: Vec<u8>,
    /// pread answered less than asked: the block ends at end of file.
    eof: bool,
}

impl ReadAhead {
    /// `size` bytes at `offset`, when this block holds them (or holds
    /// everything up to the end of the file).
    fn serve(&self, ino: u64, offset: u64, size: u64) -> Option<&[u8]> {
        let len = self.data.len() as u64;
        let start = offset.checked_sub(self.offset)?;
        if ino != self.ino || start > len || (start + size > len && !self.eof) {
            return None;
        }
        let end = (start + size).min(len);
        self.data.get(start as usize..end as usize)
    }
}

/// One listed directory entry, served from an opendir handle.
struct Entry {
    ino: u64,
    kind: FileType,
    name: String,
}

struct State {
    guest: Guest,
    nodes: Nodes,
    cache: Cache,
    dirs: HashMap<u64, Vec<Entry>>,
    next_handle: u64,
    read_ahead: Option<ReadAhead>,
}

pub struct GuestFs {
    state: Arc<Mutex<State>>,
    read_only: bool,
    verbose: bool,
}

type Reply<T> = std::result::Result<T, Errno>;

/// The appliance behind a mount, kept by the mounting code to shut it
/// down once FUSE is done with the filesystem.
pub struct Appliance(Arc<Mutex<State>>);

impl Appliance {
    /// Unmounts the guest filesystems, syncs and powers off.
    pub fn shutdown(&self) -> libguest::Result<()> {
        lock(&self.0).guest.shutdown()
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic in one request must not wedge the mount: the state is
    // caches and node numbers, still consistent between calls.
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl GuestFs {
    pub fn new(
        guest: Guest,
        read_only: bool,
        verbose: bool,
        cache_timeout: Duration,
    ) -> (GuestFs, Appliance) {
        let state = Arc::new(Mutex::new(State {
            guest,
            nodes: Nodes::default(),
            cache: Cache::new(cache_timeout),
            dirs: HashMap::new(),
            next_handle: 1,
            read_ahead: None,
        }));
        let fs = GuestFs {
            state: state.clone(),
            read_only,
            verbose,
        };
        (fs, Appliance(state))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The errno a failed call answers the kernel with (EIO where the
    /// failure was not a guest system call's), said on stderr with -v.
    fn fail(&self, e: libguest::Error) -> Errno {
        if self.verbose {
            errln!("libguest mount: {e}");
        }
        Errno::from_i32(e.errno().unwrap_or(libc::EIO))
    }

    fn writable(&self) -> Reply<()> {
        match self.read_only {
            true => Err(Errno::from_i32(libc::EROFS)),
            false => Ok(()),
        }
    }
}

fn name_of(name: &OsStr) -> Reply<&str> {
    // Guest names travel as UTF-8; anything else cannot exist there.
    let name = name.to_str().ok_or(Errno::from_i32(libc::ENOENT))?;
    match is_component(name) {
        true => Ok(name),
        false => Err(Errno::from_i32(libc::EINVAL)),
    }
}

impl State {
    fn path(&self, ino: INodeNo) -> Reply<String> {
        self.nodes
            .path(ino.0)
            .map(str::to_string)
            .ok_or(Errno::from_i32(libc::ESTALE))
    }

    fn child(&self, parent: INodeNo, name: &OsStr) -> Reply<String> {
        Ok(join(&self.path(parent)?, name_of(name)?))
    }

    fn stat(&mut self, fs: &GuestFs, path: &str) -> Reply<Statns> {
        if let Some(st) = self.cache.stat(path) {
            return Ok(st.clone());
        }
        let st = self.guest.lstatns(path).map_err(|e| fs.fail(e))?;
        self.cache.put_stat(path.to_string(), st.clone());
        Ok(st)
    }

    /// The node and attributes of `path`, fetched fresh.
    fn entry(&mut self, fs: &GuestFs, path: &str) -> Reply<FileAttr> {
        self.cache.invalidate(path);
        let st = self.stat(fs, path)?;
        let ino = self.nodes.node(path, &st);
        Ok(attr(ino, &st))
    }

    /// The extended attributes of `path` from the cache, fetched first for
    /// its whole directory in lxattrlist batches when a listing of that
    /// directory is fresh (guestmount fetches them with every listing;
    /// here the first getxattr/listxattr does, so `find` does not pay).
    /// `None`: ask for this file alone. Only a cache: a batch the daemon
    /// refuses (too large) leaves the files to be read one by one.
    fn cached_xattrs(&mut self, path: &str) -> Option<Vec<XAttr>> {
        if self.cache.xattrs(path).is_none() {
            let dir = parent(path).to_string();
            let name = path.rsplit('/').next().unwrap_or("");
            if let Some(names) = self.cache.take_listing_with(&dir, name) {
                for chunk in names.chunks(BATCH) {
                    if let Ok(flat) = self.guest.lxattrlist(dir.as_str(), chunk.to_vec()) {
                        for (name, xattrs) in split_xattr_list(chunk, flat) {
                            self.cache.put_xattrs(join(&dir, &name), xattrs);
                        }
                    }
                }
            }
        }
        self.cache.xattrs(path).map(<[XAttr]>::to_vec)
    }

    /// Lists a directory and caches its entries' attributes and link
    /// targets in batches, as guestmount does.
    fn list(&mut self, fs: &GuestFs, dir: &str) -> Reply<Vec<Entry>> {
        let dirents = self.guest.readdir(dir).map_err(|e| fs.fail(e))?;
        let names: Vec<String> = dirents
            .iter()
            .map(|d| d.name.clone())
            .filter(|n| is_component(n))
            .collect();
        let mut stats = HashMap::new();
        for chunk in names.chunks(BATCH) {
            let got = self.guest.lstatnslist(dir, chunk.to_vec());
            let got = got.map_err(|e| fs.fail(e))?;
            for (name, st) in chunk.iter().zip(got) {
                // lstatnslist answers -1 in st_ino for a name that went away.
                if st.st_ino >= 0 {
                    stats.insert(name.clone(), st);
                }
            }
        }
        let links: Vec<String> = names
            .iter()
            .filter(|n| {
                stats
                    .get(*n)
                    .is_some_and(|st| kind(st.st_mode) == FileType::Symlink)
            })
            .cloned()
            .collect();
        for chunk in links.chunks(BATCH) {
            let targets = self.guest.readlinklist(dir, chunk.to_vec());
            for (name, target) in chunk.iter().zip(targets.map_err(|e| fs.fail(e))?) {
                self.cache.put_link(join(dir, name), target);
            }
        }
        let present = names.iter().filter(|n| stats.contains_key(*n)).cloned();
        self.cache.put_listing(dir.to_string(), present.collect());
        let here = self.stat(fs, dir)?;
        let dir_ino = self.nodes.node(dir, &here);
        let up = parent(dir).to_string();
        let up_ino = match self.stat(fs, &up) {
            Ok(st) => self.nodes.node(&up, &st),
            Err(_) => ROOT,
        };
        let mut entries = vec![
            Entry {
                ino: dir_ino,
                kind: FileType::Directory,
                name: ".".into(),
            },
            Entry {
                ino: up_ino,
                kind: FileType::Directory,
                name: "..".into(),
            },
        ];
        for name in names {
            let Some(st) = stats.remove(&name) else {
                continue;
            };
            let path = join(dir, &name);
            let ino = self.nodes.node(&path, &st);
            let entry_kind = kind(st.st_mode);
            self.cache.put_stat(path, st);
            entries.push(Entry {
                ino,
                kind: entry_kind,
                name,
            });
        }
        Ok(entries)
    }
}

fn kind(mode: i64) -> FileType {
    match mode as u32 & libc::S_IFMT {
        libc::S_IFDIR => FileType::Directory,
        libc::S_IFLNK => FileType::Symlink,
        libc::S_IFCHR => FileType::CharDevice,
        libc::S_IFBLK => FileType::BlockDevice,
        libc::S_IFIFO => FileType::NamedPipe,
        libc::S_IFSOCK => FileType::Socket,
        _ => FileType::RegularFile,
    }
}

fn time(secs: i64, nsecs: i64) -> SystemTime {
    let nsecs = u32::try_from(nsecs.clamp(0, 999_999_999)).unwrap_or(0);
    match u64::try_from(secs) {
        Ok(s) => UNIX_EPOCH + Duration::new(s, nsecs),
        Err(_) => UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + Duration::new(0, nsecs),
    }
}

fn attr(ino: u64, st: &Statns) -> FileAttr {
    let clamp32 = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
    FileAttr {
        ino: INodeNo(ino),
        size: u64::try_from(st.st_size).unwrap_or(0),
        blocks: u64::try_from(st.st_blocks).unwrap_or(0),
        atime: time(st.st_atime_sec, st.st_atime_nsec),
        mtime: time(st.st_mtime_sec, st.st_mtime_nsec),
        ctime: time(st.st_ctime_sec, st.st_ctime_nsec),
        crtime: UNIX_EPOCH,
        kind: kind(st.st_mode),
        perm: (st.st_mode & 0o7777) as u16,
        nlink: clamp32(st.st_nlink),
        uid: clamp32(st.st_uid),
        gid: clamp32(st.st_gid),
        rdev: clamp32(st.st_rdev),
        blksize: clamp32(st.st_blksize),
        flags: 0,
    }
}

/// utimens's (seconds, nanoseconds) for one FUSE time: -1 is now and -2
/// leaves it alone, as in libguestfs.
fn timespec(t: Option<TimeOrNow>) -> (i64, i64) {
    match t {
        None => (0, -2),
        Some(TimeOrNow::Now) => (0, -1),
        Some(TimeOrNow::SpecificTime(t)) => match t.duration_since(UNIX_EPOCH) {
            Ok(d) => (
                i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                i64::from(d.subsec_nanos()),
            ),
            Err(e) => {
                let before = e.duration();
                let secs = -i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
                match before.subsec_nanos() {
                    0 => (secs, 0),
                    n => (secs - 1, i64::from(1_000_000_000 - n)),
                }
            }
        },
    }
}

impl Filesystem for GuestFs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let mut s = self.lock();
        let got = s.child(parent, name).and_then(|path| {
            let st = s.stat(self, &path)?;
            let ino = s.nodes.node(&path, &st);
            Ok(attr(ino, &st))
        });
        answer_entry(reply, got);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        let mut s = self.lock();
        let got = s.path(ino).and_then(|path| {
            let st = s.stat(self, &path)?;
            Ok(attr(ino.0, &st))
        });
        answer_attr(reply, got);
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let mut s = self.lock();
        let got = self.writable().and_then(|()| {
            let path = s.path(ino)?;
            let g = &mut s.guest;
            if let Some(mode) = mode {
                g.chmod(i64::from(mode & 0o7777), path.as_str())
                    .map_err(|e| self.fail(e))?;
            }
            if uid.is_some() || gid.is_some() {
                let id = |v: Option<u32>| v.map_or(-1, i64::from);
                g.lchown(id(uid), id(gid), path.as_str())
                    .map_err(|e| self.fail(e))?;
            }
            if let Some(size) = size {
                let size = i64::try_from(size).map_err(|_| Errno::from_i32(libc::EFBIG))?;
                g.truncate_size(path.as_str(), size)
                    .map_err(|e| self.fail(e))?;
            }
            if atime.is_some() || mtime.is_some() {
                let (a, an) = timespec(atime);
                let (m, mn) = timespec(mtime);
                g.utimens(path.as_str(), a, an, m, mn)
                    .map_err(|e| self.fail(e))?;
            }
            s.read_ahead = None;
            let st = {
                s.cache.invalidate(&path);
                s.stat(self, &path)?
            };
            Ok(attr(ino.0, &st))
        });
        answer_attr(reply, got);
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        let mut s = self.lock();
        let got = s.path(ino).and_then(|path| {
            if let Some(target) = s.cache.link(&path) {
                return Ok(target.to_string());
            }
            s.guest.readlink(path.as_str()).map_err(|e| self.fail(e))
        });
        match got {
            Ok(target) => reply.data(target.as_bytes()),
            Err(e) => reply.error(e),
        }
    }

    fn mknod(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        rdev: u32,
        reply: ReplyEntry,
    ) {
        let mut s = self.lock();
        let got = self.writable().and_then(|()| {
            let path = s.child(parent, name)?;
            let perm = i64::from(mode & !umask & 0o7777);
            let g = &mut s.guest;
            match mode & libc::S_IFMT {
                libc::S_IFREG => g.touch(path.as_str()),
                libc::S_IFIFO => g.mkfifo(perm, path.as_str()),
                _ => g.mknod(
                    i64::from(mode & !umask),
                    i64::from(libc::major(u64::from(rdev))),
                    i64::from(libc::minor(u64::from(rdev))),
                    path.as_str(),
                ),
            }
            .and_then(|()| g.chmod(perm, path.as_str()))
            .map_err(|e| self.fail(e))?;
            s.entry(self, &path)
        });
        answer_entry(reply, got);
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let mut s = self.lock();
        let got = self.writable().and_then(|()| {
            let path = s.child(parent, name)?;
            // The daemon's own umask applies to mkdir; chmod gives the
            // mode the caller asked for.
            let perm = i64::from(mode & !umask & 0o7777);
            let g = &mut s.guest;
            g.mkdir_mode(path.as_str(), perm)
                .and_then(|()| g.chmod(perm, path.as_str()))
                .map_err(|e| self.fail(e))?;
            s.entry(self, &path)
        });
        answer_entry(reply, got);
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        self.remove(parent, name, false, reply);
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        self.remove(parent, name, true, reply);
    }

    fn symlink(
        &self,
        _req: &Request,
        parent: INodeNo,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        let mut s = self.lock();
        let got = self.writable().and_then(|()| {
            let path = s.child(parent, link_name)?;
            let target = target.to_str().ok_or(Errno::from_i32(libc::EINVAL))?;
            s.guest
                .ln_s(target, path.as_str())
                .map_err(|e| self.fail(e))?;
            s.entry(self, &path)
        });
        answer_entry(reply, got);
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let mut s = self.lock();
        let got = self.writable().and_then(|()| {
            // RENAME_NOREPLACE and RENAME_EXCHANGE have no libguestfs call.
            if !flags.is_empty() {
                return Err(Errno::from_i32(libc::EINVAL));
            }
            let from = s.child(parent, name)?;
            let to = s.child(newparent, newname)?;
            s.guest
                .rename(from.as_str(), to.as_str())
                .map_err(|e| self.fail(e))?;
            s.cache.invalidate(&from);
            s.cache.invalidate(&to);
            s.nodes.removed(&to);
            s.nodes.renamed(&from, &to);
            s.read_ahead = None;
            Ok(())
        });
        answer_empty(reply, got);
    }

    fn link(
        &self,
        _req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        let mut s = self.lock();
        let got = self.writable().and_then(|()| {
            let existing = s.path(ino)?;
            let path = s.child(newparent, newname)?;
            s.guest
                .ln(existing.as_str(), path.as_str())
                .map_err(|e| self.fail(e))?;
            s.cache.invalidate(&existing);
            s.entry(self, &path)
        });
        answer_entry(reply, got);
    }

    fn open(&self, _req: &Request, _ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let writes = flags.0 & libc::O_ACCMODE != libc::O_RDONLY;
        match if writes { self.writable() } else { Ok(()) } {
            Ok(()) => reply.opened(FileHandle(0), FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let mut s = self.lock();
        let size = u64::from(size);
        if let Some(data) = s
            .read_ahead
            .as_ref()
            .and_then(|r| r.serve(ino.0, offset, size))
        {
            return reply.data(data);
        }
        let got = s.path(ino).and_then(|path| {
            let at = i64::try_from(offset).map_err(|_| Errno::from_i32(libc::EINVAL))?;
            // Up to one byte past the end of the file as last seen: a
            // small file is one small read (not a 1 MiB buffer in the
            // guest), and the short answer marks the end of file.
            let left = s.cache.stat(&path).map_or(READ_BLOCK, |st| {
                u64::try_from(st.st_size)
                    .unwrap_or(0)
                    .saturating_sub(offset)
                    + 1
            });
            let count = READ_BLOCK.min(left).max(size);
            let data = s
                .guest
                .pread(path.as_str(), count as i64, at)
                .map_err(|e| self.fail(e))?;
            Ok((data, count))
        });
        match got {
            Ok((data, count)) => {
                let block = ReadAhead {
                    ino: ino.0,
                    offset,
                    eof: (data.len() as u64) < count,
                    data,
                };
                let end = block.data.len().min(size as usize);
                reply.data(&block.data[..end]);
                s.read_ahead = Some(block);
            }
            Err(e) => reply.error(e),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let mut s = self.lock();
        let got = self.writable().and_then(|()| {
            let path = s.path(ino)?;
            let offset = i64::try_from(offset).map_err(|_| Errno::from_i32(libc::EINVAL))?;
            let n = s
                .guest
                .pwrite(path.as_str(), data.to_vec(), offset)
                .map_err(|e| self.fail(e))?;
            s.cache.invalidate(&path);
            s.read_ahead = None;
            u32::try_from(n).map_err(|_| Errno::from_i32(libc::EIO))
        });
        match got {
            Ok(n) => reply.written(n),
            Err(e) => reply.error(e),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        // Every write already went to the guest with pwrite.
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        self.sync(reply);
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let mut s = self.lock();
        let got = s.path(ino).and_then(|dir| s.list(self, &dir));
        match got {
            Ok(entries) => {
                let fh = s.next_handle;
                s.next_handle += 1;
                s.dirs.insert(fh, entries);
                reply.opened(FileHandle(fh), FopenFlags::empty());
            }
            Err(e) => reply.error(e),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let s = self.lock();
        let Some(entries) = s.dirs.get(&fh.0) else {
            return reply.error(Errno::from_i32(libc::EBADF));
        };
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        for (i, e) in entries.iter().enumerate().skip(skip) {
            if reply.add(INodeNo(e.ino), i as u64 + 1, e.kind, &e.name) {
                break;
            }
        }
        reply.ok();
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        self.lock().dirs.remove(&fh.0);
        reply.ok();
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        self.sync(reply);
    }

    fn statfs(&self, _req: &Request, ino: INodeNo, reply: ReplyStatfs) {
        let mut s = self.lock();
        let got = s
            .path(ino)
            .and_then(|path| s.guest.statvfs(path.as_str()).map_err(|e| self.fail(e)));
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        let n32 = |v: i64| u32::try_from(v).unwrap_or(0);
        match got {
            Ok(v) => reply.statfs(
                n(v.blocks),
                n(v.bfree),
                n(v.bavail),
                n(v.files),
                n(v.ffree),
                n32(v.bsize),
                n32(v.namemax),
                n32(v.frsize),
            ),
            Err(e) => reply.error(e),
        }
    }

    fn setxattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        name: &OsStr,
        value: &[u8],
        flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        let mut s = self.lock();
        let got = self.writable().and_then(|()| {
            // XATTR_CREATE / XATTR_REPLACE have no libguestfs argument.
            if flags != 0 {
                return Err(Errno::from_i32(libc::EINVAL));
            }
            let path = s.path(ino)?;
            let name = name.to_str().ok_or(Errno::from_i32(libc::EINVAL))?;
            let len = i64::try_from(value.len()).map_err(|_| Errno::from_i32(libc::E2BIG))?;
            s.cache.invalidate(&path);
            s.guest
                .lsetxattr(name, value.to_vec(), len, path.as_str())
                .map_err(|e| self.fail(e))
        });
        answer_empty(reply, got);
    }

    fn getxattr(&self, _req: &Request, ino: INodeNo, name: &OsStr, size: u32, reply: ReplyXattr) {
        let mut s = self.lock();
        let got = s.path(ino).and_then(|path| {
            let name = name.to_str().ok_or(Errno::from_i32(libc::ENODATA))?;
            if let Some(xattrs) = s.cached_xattrs(&path) {
                return xattrs
                    .iter()
                    .find(|a| a.attrname == name)
                    .map(|a| a.attrval.clone())
                    .ok_or(Errno::from_i32(libc::ENODATA));
            }
            s.guest
                .lgetxattr(path.as_str(), name)
                .map_err(|e| self.fail(e))
        });
        sized_xattr(got, size, reply);
    }

    fn listxattr(&self, _req: &Request, ino: INodeNo, size: u32, reply: ReplyXattr) {
        let mut s = self.lock();
        let got = s.path(ino).and_then(|path| {
            let attrs = match s.cached_xattrs(&path) {
                Some(cached) => cached,
                None => s
                    .guest
                    .lgetxattrs(path.as_str())
                    .map_err(|e| self.fail(e))?,
            };
            let mut names = Vec::new();
            for a in attrs {
                names.extend_from_slice(a.attrname.as_bytes());
                names.push(0);
            }
            Ok(names)
        });
        sized_xattr(got, size, reply);
    }

    fn removexattr(&self, _req: &Request, ino: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let mut s = self.lock();
        let got = self.writable().and_then(|()| {
            let path = s.path(ino)?;
            let name = name.to_str().ok_or(Errno::from_i32(libc::ENODATA))?;
            s.cache.invalidate(&path);
            s.guest
                .lremovexattr(name, path.as_str())
                .map_err(|e| self.fail(e))
        });
        answer_empty(reply, got);
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let mut s = self.lock();
        let got = self.writable().and_then(|()| {
            let path = s.child(parent, name)?;
            let perm = i64::from(mode & !umask & 0o7777);
            let g = &mut s.guest;
            g.touch(path.as_str())
                .and_then(|()| g.chmod(perm, path.as_str()))
                .map_err(|e| self.fail(e))?;
            s.entry(self, &path)
        });
        match got {
            Ok(a) => reply.created(
                &KERNEL_TTL,
                &a,
                Generation(0),
                FileHandle(0),
                FopenFlags::empty(),
            ),
            Err(e) => reply.error(e),
        }
    }
}

impl GuestFs {
    fn remove(&self, parent: INodeNo, name: &OsStr, dir: bool, reply: ReplyEmpty) {
        let mut s = self.lock();
        let got = self.writable().and_then(|()| {
            let path = s.child(parent, name)?;
            let g = &mut s.guest;
            match dir {
                true => g.rmdir(path.as_str()),
                false => g.rm(path.as_str()),
            }
            .map_err(|e| self.fail(e))?;
            s.cache.invalidate(&path);
            s.nodes.removed(&path);
            s.read_ahead = None;
            Ok(())
        });
        answer_empty(reply, got);
    }

    fn sync(&self, reply: ReplyEmpty) {
        match self.lock().guest.sync() {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(self.fail(e)),
        }
    }
}

fn answer_entry(reply: ReplyEntry, got: Reply<FileAttr>) {
    match got {
        Ok(a) => reply.entry(&KERNEL_TTL, &a, Generation(0)),
        Err(e) => reply.error(e),
    }
}

fn answer_attr(reply: ReplyAttr, got: Reply<FileAttr>) {
    match got {
        Ok(a) => reply.attr(&KERNEL_TTL, &a),
        Err(e) => reply.error(e),
    }
}

fn answer_empty(reply: ReplyEmpty, got: Reply<()>) {
    match got {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(e),
    }
}

/// getxattr/listxattr's reply: the size when asked with 0, ERANGE when
/// the caller's buffer is too small.
fn sized_xattr(got: Reply<Vec<u8>>, size: u32, reply: ReplyXattr) {
    match got {
        Err(e) => reply.error(e),
        Ok(data) if size == 0 => reply.size(u32::try_from(data.len()).unwrap_or(u32::MAX)),
        Ok(data) if data.len() > size as usize => reply.error(Errno::from_i32(libc::ERANGE)),
        Ok(data) => reply.data(&data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_ahead_serves_only_what_it_holds() {
        let block = ReadAhead {
            ino: 5,
            offset: 4096,
            data: vec![1; READ_BLOCK as usize],
            eof: false,
        };
        assert_eq!(block.serve(5, 4096, 10).map(<[u8]>::len), Some(10));
        assert!(block.serve(6, 4096, 10).is_none(), "another file");
        assert!(block.serve(5, 0, 10).is_none(), "before the block");
        assert!(
            block.serve(5, 4096 + READ_BLOCK - 5, 10).is_none(),
            "past it, file goes on"
        );
        let tail = ReadAhead {
            ino: 5,
            offset: 0,
            data: vec![2; 100],
            eof: true,
        };
        assert_eq!(
            tail.serve(5, 90, 4096).map(<[u8]>::len),
            Some(10),
            "up to EOF"
        );
        assert_eq!(tail.serve(5, 100, 4096).map(<[u8]>::len), Some(0), "at EOF");
        assert!(tail.serve(5, 101, 1).is_none());
    }

    #[test]
    fn times_round_trip_and_keep_their_special_values() {
        assert_eq!(timespec(None), (0, -2));
        assert_eq!(timespec(Some(TimeOrNow::Now)), (0, -1));
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 5);
        assert_eq!(
            timespec(Some(TimeOrNow::SpecificTime(t))),
            (1_700_000_000, 5)
        );
        let before = UNIX_EPOCH - Duration::new(2, 250_000_000);
        assert_eq!(
            timespec(Some(TimeOrNow::SpecificTime(before))),
            (-3, 750_000_000)
        );
        assert_eq!(time(-3, 750_000_000), before);
    }

    #[test]
    fn attributes_take_the_guest_mode_and_clamp_hostile_numbers() {
        let st = Statns {
            st_mode: i64::from(libc::S_IFLNK | 0o777),
            st_size: -5,
            st_nlink: i64::MAX,
            st_uid: 1000,
            ..Statns::default()
        };
        let a = attr(7, &st);
        assert_eq!(a.kind, FileType::Symlink);
        assert_eq!((a.perm, a.size, a.nlink, a.uid), (0o777, 0, u32::MAX, 1000));
    }
}
