//! libguest's cache, and the rule for trusting what is in it.
//!
//! The cache holds what the appliance boots (kernels, the tools layer, a
//! copy of the initramfs), so whoever can write into it can run code in
//! every appliance and read every disk it is given. It is therefore
//! trusted only if no one but the current user (and root) could have
//! written it. The rule, checked by [`trusted_dir`] and the methods of
//! [`TrustedDir`] every time the cache is used:
//!
//! - **Above the cache root** (from `/` down to its parent): every
//!   directory belongs to root or to the current user (euid), and is not
//!   writable by group or others unless its sticky bit is set (`/tmp`,
//!   `/var/tmp`: there others cannot rename or remove what is ours).
//!   Symbolic links on the way are followed only if they belong to root
//!   or to the current user; what they lead to is checked the same way.
//! - **The cache root and every directory below it that libguest uses**
//!   belong to the current user and are not writable by group or others.
//!   libguest creates the ones it needs with mode 0700. Below the root
//!   nothing may be a symbolic link.
//! - **Files** libguest reads from the cache are regular files of the
//!   current user, not writable by group or others, opened with
//!   `O_NOFOLLOW | O_NONBLOCK` relative to their directory, and checked
//!   against a SHA-256 recorded when they were written
//!   ([`TrustedDir::read_verified`]): the bytes checked are the bytes
//!   returned, so nothing can swap the file between the check and its use.
//!
//! The walk opens one component at a time from `/` (`openat` with
//! `O_NOFOLLOW`), so the directory checked is the directory used; later
//! opens are relative to its descriptor. A refusal names the directory,
//! says what is wrong and how to fix it: `chmod go-w DIR`, `chown`, or
//! `LIBGUEST_CACHE_DIR=` a directory of one's own. This covers the
//! `/var/tmp/libguest-UID` fallback, which another local user could
//! pre-create: it is then refused.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use sha2::{Digest, Sha256};

use walk::{check_ours, file_type, open_component, walk};

/// A SHA-256 digest.
pub type Sha256Digest = [u8; 32];

/// Why the cache (or a file in it) is not trusted or not usable.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A directory or file in the cache belongs to another user.
    #[error("libguest cache {path} belongs to uid {owner}, not to you (uid {uid}): another user could plant an appliance there; if it is yours, `chown -R {uid} {path}`, else remove it or set LIBGUEST_CACHE_DIR to a directory of your own")]
    NotOwned {
        /// The directory or file refused.
        path: PathBuf,
        /// Its owner's uid.
        owner: u32,
        /// The current (effective) uid.
        uid: u32,
    },
    /// A directory or file in the cache is writable by group or others.
    #[error("libguest cache {path} is writable by group or others (mode {mode:o}): another user could plant an appliance there; `chmod go-w {path}`, or set LIBGUEST_CACHE_DIR to a directory of your own")]
    Writable {
        /// The directory or file refused.
        path: PathBuf,
        /// Its permission bits (`st_mode & 0o7777`).
        mode: u32,
    },
    #[error("{path}, on the way to the libguest cache {root}, {why}, so another user could replace the cache; set LIBGUEST_CACHE_DIR to a directory under ones only you (or root) can write")]
    /// A directory or symbolic link above the cache root belongs to someone
    /// other than root or the current user, or is writable by group or
    /// others without the sticky bit.
    UnsafeAncestor {
        /// The directory or link refused.
        path: PathBuf,
        /// The cache directory being opened.
        root: PathBuf,
        /// What is wrong with it, phrased to follow the path ("is ...").
        why: String,
    },
    /// Something at or below the cache root is a symbolic link.
    #[error("libguest cache {path} is a symbolic link: nothing inside the cache may be one (libguest creates what it needs); remove it")]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// A path in the cache is not the kind of thing expected (a file where
    /// a directory should be, a FIFO, a name with `/` in it).
    #[error("libguest cache {path} is not a {expected}; remove it")]
    WrongType {
        /// The path refused.
        path: PathBuf,
        /// What it should have been, e.g. "regular file" or "directory".
        expected: &'static str,
    },
    #[error("libguest cache {path} is {size} bytes, over the {max} a {what} may be")]
    /// A cached file is bigger than the caller's limit, so it is not read.
    TooLarge {
        /// The file.
        path: PathBuf,
        /// What kind of file, for the message (e.g. "cached file").
        what: &'static str,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        max: u64,
    },
    #[error("libguest cache {path} does not match the SHA-256 recorded for it (expected {expected}, found {found}): it changed after it was written; {remedy}")]
    /// A cached file's SHA-256 differs from the one recorded when it was
    /// written: it was changed or corrupted, and is not used.
    Tampered {
        /// The file.
        path: PathBuf,
        /// The recorded SHA-256, in hex.
        expected: String,
        /// The SHA-256 of the bytes read, in hex.
        found: String,
        /// What the user should do, from the caller (e.g. rebuild it).
        remedy: &'static str,
    },
    #[error("libguest cache {path}: {what}: {source}")]
    /// A system call on the cache failed, or a file that must exist is
    /// missing (`NotFound`).
    Io {
        /// The directory or file.
        path: PathBuf,
        /// What was being done, e.g. "opening" or "renaming into place".
        what: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

type Result<T> = std::result::Result<T, CacheError>;

fn io_err(path: &Path, what: &'static str) -> impl FnOnce(Errno) -> CacheError {
    let path = path.to_path_buf();
    move |e| CacheError::Io {
        path,
        what,
        source: e.into(),
    }
}

/// The current user, as the kernel checks file ownership.
fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Root of libguest's cache: LIBGUEST_CACHE_DIR, else
/// $XDG_CACHE_HOME/libguest, else ~/.cache/libguest, else
/// /var/tmp/libguest-UID (HOME unset: services). A path only: use it
/// through [`trusted_dir`]. kernel-config/build-kernel.sh uses the same
/// rule.
pub fn cache_dir() -> PathBuf {
    cache_dir_from(|name| std::env::var_os(name), euid())
}

fn cache_dir_from(var: impl Fn(&str) -> Option<OsString>, uid: u32) -> PathBuf {
    let var = |name| var(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("LIBGUEST_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("libguest");
    }
    if let Some(home) = var("HOME") {
        return PathBuf::from(home).join(".cache/libguest");
    }
    PathBuf::from(format!("/var/tmp/libguest-{uid}"))
}

/// The cache root, created (0700) if missing, checked as the module
/// docs say.
pub fn cache_root() -> Result<TrustedDir> {
    trusted_dir(&cache_dir())
}

/// A directory checked by the rule in the module docs, held open.
#[derive(Debug)]
pub struct TrustedDir {
    fd: OwnedFd,
    path: PathBuf,
    uid: u32,
}

/// Opens `path` as a trusted directory: every component from `/` is
/// checked, and missing ones are created with mode 0700.
pub fn trusted_dir(path: &Path) -> Result<TrustedDir> {
    walk(path, true)
}

/// The bytes of the file at `path` (at most `max_len`), if its directory
/// is trusted, the file passes [`TrustedDir::open_file`]'s checks and its
/// SHA-256 is `expected`. Creates nothing.
pub fn verified_file(path: &Path, expected: &Sha256Digest, max_len: u64) -> Result<Vec<u8>> {
    let wrong = || CacheError::WrongType {
        path: path.to_path_buf(),
        expected: "file in a directory",
    };
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(wrong());
    };
    let dir = walk(parent, false)?;
    dir.read_verified(name, expected, max_len, "remove it")?
        .ok_or_else(|| CacheError::Io {
            path: path.to_path_buf(),
            what: "opening",
            source: std::io::ErrorKind::NotFound.into(),
        })
}

/// A plain name inside a directory: no `/`, not `.` or `..`.
fn plain_name<'a>(dir: &Path, name: &'a OsStr) -> Result<&'a OsStr> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.contains(&b'/') || name == "." || name == ".." {
        return Err(CacheError::WrongType {
            path: dir.join(name),
            expected: "plain file name",
        });
    }
    Ok(name)
}

impl TrustedDir {
    /// The directory's path, as it was opened (for messages; the
    /// descriptor is what is used).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The subdirectory `name`, created (0700) if missing; it must be
    /// ours, not group/other-writable and not a symbolic link.
    pub fn subdir(&self, name: impl AsRef<OsStr>) -> Result<TrustedDir> {
        self.open_subdir(name.as_ref(), true)?
            .ok_or_else(|| io_err(&self.path, "creating a directory")(Errno::NOENT))
    }

    /// The subdirectory `name` if it exists, checked as [`Self::subdir`].
    pub fn existing_subdir(&self, name: impl AsRef<OsStr>) -> Result<Option<TrustedDir>> {
        self.open_subdir(name.as_ref(), false)
    }

    fn open_subdir(&self, name: &OsStr, create: bool) -> Result<Option<TrustedDir>> {
        let path = self.path.join(plain_name(&self.path, name)?);
        let Some((fd, stat)) = open_component(&self.fd, name, &path, create)? else {
            return Ok(None);
        };
        match file_type(&stat) {
            FileType::Directory => {}
            FileType::Symlink => return Err(CacheError::Symlink { path }),
            _ => {
                return Err(CacheError::WrongType {
                    path,
                    expected: "directory",
                })
            }
        }
        check_ours(&stat, &path, self.uid)?;
        let fd = rustix::fs::openat(
            &fd,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(io_err(&path, "opening"))?;
        Ok(Some(TrustedDir {
            fd,
            path,
            uid: self.uid,
        }))
    }

    /// The names in this directory (not `.` and `..`).
    pub fn entries(&self) -> Result<Vec<OsString>> {
        let dir = rustix::fs::Dir::read_from(&self.fd).map_err(io_err(&self.path, "listing"))?;
        let mut names = Vec::new();
        for entry in dir {
            let entry = entry.map_err(io_err(&self.path, "listing"))?;
            let name = OsStr::from_bytes(entry.file_name().to_bytes());
            if name != "." && name != ".." {
                names.push(name.to_os_string());
            }
        }
        Ok(names)
    }

    /// Opens the file `name` for reading, if it exists: a regular file of
    /// ours, not group/other-writable, not a symbolic link. Never blocks
    /// (a FIFO is refused, not waited on).
    pub fn open_file(&self, name: impl AsRef<OsStr>) -> Result<Option<File>> {
        let name = plain_name(&self.path, name.as_ref())?;
        let path = self.path.join(name);
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(None),
            Err(Errno::LOOP) => return Err(CacheError::Symlink { path }),
            Err(e) => return Err(io_err(&path, "opening")(e)),
        };
        let stat = rustix::fs::fstat(&fd).map_err(io_err(&path, "examining"))?;
        if file_type(&stat) != FileType::RegularFile {
            return Err(CacheError::WrongType {
                path,
                expected: "regular file",
            });
        }
        check_ours(&stat, &path, self.uid)?;
        Ok(Some(File::from(fd)))
    }

    /// The bytes of the file `name` (see [`Self::open_file`]), at most
    /// `max_len` of them.
    pub fn read_file(&self, name: impl AsRef<OsStr>, max_len: u64) -> Result<Option<Vec<u8>>> {
        let name = name.as_ref();
        let Some(file) = self.open_file(name)? else {
            return Ok(None);
        };
        let path = self.path.join(name);
        let size = file
            .metadata()
            .map_err(|source| CacheError::Io {
                path: path.clone(),
                what: "examining",
                source,
            })?
            .len();
        let too_large = |size| CacheError::TooLarge {
            path: path.clone(),
            what: "cached file",
            size,
            max: max_len,
        };
        if size > max_len {
            return Err(too_large(size));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        file.take(max_len.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|source| CacheError::Io {
                path: path.clone(),
                what: "reading",
                source,
            })?;
        if bytes.len() as u64 > max_len {
            return Err(too_large(bytes.len() as u64));
        }
        Ok(Some(bytes))
    }

    /// The bytes of the file `name`, if it exists and their SHA-256 is
    /// `expected`; [`CacheError::Tampered`] (saying `remedy`) if not.
    /// What is returned is exactly what was hashed.
    pub fn read_verified(
        &self,
        name: impl AsRef<OsStr>,
        expected: &Sha256Digest,
        max_len: u64,
        remedy: &'static str,
    ) -> Result<Option<Vec<u8>>> {
        let name = name.as_ref();
        let Some(bytes) = self.read_file(name, max_len)? else {
            return Ok(None);
        };
        let found = sha256(&bytes);
        if &found != expected {
            return Err(CacheError::Tampered {
                path: self.path.join(name),
                expected: hex(expected),
                found: hex(&found),
                remedy,
            });
        }
        Ok(Some(bytes))
    }

    /// Writes `bytes` as the file `name` (mode 0600): a new file written,
    /// synced and renamed over `name`, so readers never see half of it.
    pub fn write_file(&self, name: impl AsRef<OsStr>, bytes: &[u8]) -> Result<()> {
        let name = plain_name(&self.path, name.as_ref())?;
        let path = self.path.join(name);
        let (tmp, fd) = self.create_temporary(name, &path)?;
        let mut file = File::from(fd);
        let written = file.write_all(bytes).and_then(|()| file.sync_all());
        let renamed = written
            .map_err(|source| CacheError::Io {
                path: path.clone(),
                what: "writing",
                source,
            })
            .and_then(|()| {
                rustix::fs::renameat(&self.fd, &tmp, &self.fd, name)
                    .map_err(io_err(&path, "renaming into place"))
            });
        if renamed.is_err() {
            let _ = rustix::fs::unlinkat(&self.fd, &tmp, AtFlags::empty());
        }
        renamed
    }

    fn create_temporary(&self, name: &OsStr, path: &Path) -> Result<(OsString, OwnedFd)> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        for attempt in 0..100u32 {
            let mut tmp = OsString::from(".");
            tmp.push(name);
            tmp.push(format!(".tmp-{}-{nanos:x}-{attempt}", std::process::id()));
            match rustix::fs::openat(&self.fd, &tmp, flags, Mode::from_raw_mode(0o600)) {
                Ok(fd) => return Ok((tmp, fd)),
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(io_err(path, "creating a temporary file beside")(e)),
            }
        }
        Err(io_err(path, "creating a temporary file beside")(
            Errno::EXIST,
        ))
    }

    /// Removes the file `name` (missing is fine).
    pub fn remove_file(&self, name: impl AsRef<OsStr>) -> Result<()> {
        let name = plain_name(&self.path, name.as_ref())?;
        match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(io_err(&self.path.join(name), "removing")(e)),
        }
    }
}

/// The SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Sha256Digest {
    Sha256::digest(bytes).into()
}

/// `bytes` as lowercase hex, two digits each (as `sha256sum` prints).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The digest in a `sha256sum` line ("<64 hex digits>  name").
pub fn parse_sha256_record(text: &[u8]) -> Option<Sha256Digest> {
    let hex = text.get(..64)?;
    if !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut digest = [0u8; 32];
    for (i, pair) in hex.chunks(2).enumerate() {
        let pair = std::str::from_utf8(pair).ok()?;
        digest[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    let rest = &text[64..];
    (rest.is_empty() || rest[0].is_ascii_whitespace()).then_some(digest)
}

#[cfg(test)]
mod tests;
mod walk;
