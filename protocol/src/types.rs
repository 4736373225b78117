//! Argument and result types of the API. Arguments that name things in
//! the appliance are newtypes validated when they are built and again when
//! the daemon decodes them, so a handler never sees a relative path, a NUL
//! byte or a device outside /dev.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Host paths in the table (`host` calls name files on this machine).
pub use std::path::PathBuf;

/// Longest path accepted (Linux PATH_MAX).
pub const MAX_PATH: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{what} {value:?}: {reason}")]
/// An argument that fails validation: which one, its value and why.
pub struct ArgError {
    /// What the value is (`path`, `device`, …).
    pub what: &'static str,
    /// The value given.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

fn arg_error(what: &'static str, value: &str, reason: &'static str) -> ArgError {
    let mut value = value.to_owned();
    if value.len() > 200 {
        let mut cut = 200;
        while !value.is_char_boundary(cut) {
            cut -= 1;
        }
        value.truncate(cut);
        value.push('…');
    }
    ArgError {
        what,
        value,
        reason,
    }
}

/// An absolute path in the guest's filesystem tree (the mounted guest
/// filesystems, not the appliance): starts with `/`, no NUL, at most
/// [`MAX_PATH`] bytes. `..` is allowed; the daemon resolves every path
/// inside the guest's root, so it cannot climb out.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pathname(String);

impl Pathname {
    /// Checks `s`: absolute, no NUL byte, at most [`MAX_PATH`] bytes.
    pub fn new(s: impl Into<String>) -> Result<Pathname, ArgError> {
        let s = s.into();
        if !s.starts_with('/') {
            return Err(arg_error("path", &s, "must be absolute (start with /)"));
        }
        if s.contains('\0') {
            return Err(arg_error("path", &s, "contains a NUL byte"));
        }
        if s.len() > MAX_PATH {
            return Err(arg_error("path", &s, "is longer than 4096 bytes"));
        }
        Ok(Pathname(s))
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A block device of the appliance: `/dev/sda`, `/dev/sdb2`,
/// `/dev/mapper/vg-lv`… Only `[A-Za-z0-9_.+:-]` in each component, no
/// `.` or `..` component.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Device(String);

impl Device {
    /// Checks `s`: under `/dev/`, each component of `[A-Za-z0-9_.+:-]` and
    /// neither `.` nor `..`.
    pub fn new(s: impl Into<String>) -> Result<Device, ArgError> {
        let s = s.into();
        let Some(rest) = s.strip_prefix("/dev/") else {
            return Err(arg_error(
                "device",
                &s,
                "must be a device under /dev/ such as /dev/sda1",
            ));
        };
        let valid_char = |c: char| c.is_ascii_alphanumeric() || "_.+:-".contains(c);
        let valid = rest.len() <= 255
            && rest.split('/').all(|part| {
                !part.is_empty() && part != "." && part != ".." && part.chars().all(valid_char)
            });
        if !valid {
            return Err(arg_error(
                "device",
                &s,
                "is not a valid device name (expected e.g. /dev/sda, /dev/sdb2)",
            ));
        }
        Ok(Device(s))
    }

    /// The device path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What libguestfs calls a Mountable: a [`Device`], or a btrfs subvolume
/// on one written `btrfsvol:DEVICE/SUBVOLUME` (`btrfsvol:/dev/sda2/root`),
/// which the mount calls mount with `subvol=SUBVOLUME`. The subvolume
/// path has no empty, `.` or `..` component, no NUL and no comma (the
/// kernel would read one as the start of another mount option).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Mountable(String);

/// The prefix of a btrfs subvolume mountable.
pub const BTRFSVOL: &str = "btrfsvol:";

impl Mountable {
    /// Checks `s`: a valid [`Device`], or `btrfsvol:` followed by a device
    /// name and a subvolume path as described on the type.
    pub fn new(s: impl Into<String>) -> Result<Mountable, ArgError> {
        let s = s.into();
        let Some(rest) = s.strip_prefix(BTRFSVOL) else {
            Device::new(s.as_str())?;
            return Ok(Mountable(s));
        };
        let bad = |reason| Err(arg_error("mountable", &s, reason));
        if rest.len() > MAX_PATH || rest.contains('\0') {
            return bad("is too long or contains a NUL byte");
        }
        let Some(path) = rest.strip_prefix("/dev/") else {
            return bad("must be btrfsvol:DEVICE/SUBVOLUME, such as btrfsvol:/dev/sda2/root");
        };
        let parts: Vec<&str> = path.split('/').collect();
        if parts.len() < 2
            || parts
                .iter()
                .any(|p| p.is_empty() || *p == "." || *p == "..")
        {
            return bad("must be btrfsvol:DEVICE/SUBVOLUME with no empty, . or .. component");
        }
        if rest.contains(',') {
            return bad("a subvolume path with a comma cannot be given to mount's subvol= option");
        }
        if Device::new(format!("/dev/{}", parts[0])).is_err() {
            return bad("does not start with a valid device name");
        }
        Ok(Mountable(s))
    }

    /// The mountable as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The device, when this is a plain device.
    pub fn device(&self) -> Option<Device> {
        if self.0.starts_with(BTRFSVOL) {
            return None;
        }
        Device::new(self.0.as_str()).ok()
    }

    /// For `btrfsvol:`, every way to split it into a valid device and a
    /// subvolume, shortest device first (`/dev/VG/LV/sub` could be
    /// `/dev/VG` + `LV/sub` or `/dev/VG/LV` + `sub`: the daemon takes the
    /// first device that exists). Empty for a plain device.
    pub fn subvolume_splits(&self) -> Vec<(Device, &str)> {
        let Some(rest) = self.0.strip_prefix(BTRFSVOL) else {
            return Vec::new();
        };
        rest.match_indices('/')
            .skip(2)
            .filter_map(|(i, _)| Some((Device::new(&rest[..i]).ok()?, &rest[i + 1..])))
            .collect()
    }
}

/// A LUKS key or passphrase (libguestfs's key type): bytes, not text.
/// Traces and `Debug` show `***`; the bytes are zeroed when it is dropped.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Key(Vec<u8>);

impl Key {
    /// The key's bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Key {
        Key(bytes.into())
    }

    /// The bytes, for handing to cryptsetup.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.0.fill(0);
        // Keeps the zeroing from being optimised away as a dead store.
        std::hint::black_box(&self.0);
    }
}

macro_rules! string_newtype_impls {
    ($($ty:ident),*) => {$(
        impl TryFrom<String> for $ty {
            type Error = ArgError;
            fn try_from(s: String) -> Result<$ty, ArgError> {
                $ty::new(s)
            }
        }
        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.0
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $ty {
            type Err = ArgError;
            fn from_str(s: &str) -> Result<$ty, ArgError> {
                $ty::new(s)
            }
        }
    )*};
}
string_newtype_impls!(Pathname, Device, Mountable);

/// Compression of a tar stream (`tar_in`, `tar_out`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Compression {
    /// gzip (`gz`).
    Gzip,
    /// xz.
    Xz,
    /// zstd (`zst`).
    Zstd,
    /// bzip2 (`bz2`).
    Bzip2,
}

impl std::str::FromStr for Compression {
    type Err = ArgError;
    fn from_str(s: &str) -> Result<Compression, ArgError> {
        match s {
            "gzip" | "gz" => Ok(Compression::Gzip),
            "xz" => Ok(Compression::Xz),
            "zstd" | "zst" => Ok(Compression::Zstd),
            "bzip2" | "bz2" => Ok(Compression::Bzip2),
            _ => Err(arg_error(
                "compression",
                s,
                "is not a tar compression (use gzip, bzip2, xz or zstd)",
            )),
        }
    }
}

/// `statns` and `lstatns`: struct stat with nanosecond times.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statns {
    /// The device holding the file.
    pub st_dev: i64,
    /// The inode number.
    pub st_ino: i64,
    /// File type and permission bits.
    pub st_mode: i64,
    /// The number of hard links.
    pub st_nlink: i64,
    /// The owner's user id.
    pub st_uid: i64,
    /// The owner's group id.
    pub st_gid: i64,
    /// The device number, for device files.
    pub st_rdev: i64,
    /// The size in bytes.
    pub st_size: i64,
    /// The preferred I/O block size.
    pub st_blksize: i64,
    /// 512-byte blocks allocated.
    pub st_blocks: i64,
    /// Last access, seconds since the epoch.
    pub st_atime_sec: i64,
    /// Last access, nanoseconds.
    pub st_atime_nsec: i64,
    /// Last modification, seconds since the epoch.
    pub st_mtime_sec: i64,
    /// Last modification, nanoseconds.
    pub st_mtime_nsec: i64,
    /// Last status change, seconds since the epoch.
    pub st_ctime_sec: i64,
    /// Last status change, nanoseconds.
    pub st_ctime_nsec: i64,
    /// Reserved, 0: libguestfs's struct has them (guestfish prints them).
    pub st_spare1: i64,
    /// Reserved, 0.
    pub st_spare2: i64,
    /// Reserved, 0.
    pub st_spare3: i64,
    /// Reserved, 0.
    pub st_spare4: i64,
    /// Reserved, 0.
    pub st_spare5: i64,
    /// Reserved, 0.
    pub st_spare6: i64,
}

/// `statvfs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatVfs {
    /// The filesystem block size.
    pub bsize: i64,
    /// The fragment size (the unit of the block counts).
    pub frsize: i64,
    /// The size in `frsize` units.
    pub blocks: i64,
    /// Free blocks.
    pub bfree: i64,
    /// Free blocks for unprivileged users.
    pub bavail: i64,
    /// Inodes.
    pub files: i64,
    /// Free inodes.
    pub ffree: i64,
    /// Free inodes for unprivileged users.
    pub favail: i64,
    /// The filesystem id.
    pub fsid: i64,
    /// Mount flags (`ST_RDONLY`, …).
    pub flag: i64,
    /// The longest file name.
    pub namemax: i64,
}

/// `readdir`: one directory entry. `ftyp` is libguestfs's type letter:
/// b block, c char, d dir, f fifo, l symlink, r regular, s socket,
/// u unknown, ? error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dirent {
    /// The inode number.
    pub ino: i64,
    /// The type letter (see above).
    pub ftyp: char,
    /// The entry's name.
    pub name: String,
}

/// One filesystem found by `list_filesystems`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsEntry {
    /// The device or partition.
    pub device: String,
    /// `ext4`, `xfs`, `vfat`…, `swap`, or `unknown`.
    pub fstype: String,
}

/// One extended attribute (`getxattrs`, `lxattrlist`…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct XAttr {
    /// Its name, with its namespace (`user.comment`, `security.selinux`).
    pub attrname: String,
    /// Its value, as bytes (serialized as bytes, not a list of numbers:
    /// the same on the wire, and `bytes` in Python).
    #[serde(with = "serde_bytes")]
    pub attrval: Vec<u8>,
}

/// One mounted filesystem (`mountpoints`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountEntry {
    /// The device.
    pub device: String,
    /// Where it is mounted, in the appliance's view of the guest.
    pub mountpoint: String,
}

/// An installed application (`inspect_list_applications2`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    /// The package name.
    pub app2_name: String,
    /// The name shown to users (Windows), else empty.
    pub app2_display_name: String,
    /// The package epoch (0 if none).
    pub app2_epoch: i64,
    /// The version.
    pub app2_version: String,
    /// The release.
    pub app2_release: String,
    /// The architecture.
    pub app2_arch: String,
    /// Where it is installed (Windows), else empty.
    pub app2_install_path: String,
    /// Its publisher, when known.
    pub app2_publisher: String,
    /// Its home page, when known.
    pub app2_url: String,
    /// The source package, when known.
    pub app2_source_package: String,
    /// A one-line summary, when known.
    pub app2_summary: String,
    /// The long description, when known.
    pub app2_description: String,
}

/// One partition (`part_list`); offsets in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// The partition number (1 for sda1).
    pub part_num: i64,
    /// The first byte.
    pub part_start: i64,
    /// The last byte.
    pub part_end: i64,
    /// The size in bytes.
    pub part_size: i64,
}

/// One btrfs subvolume (`btrfs_subvolume_list`), libguestfs's
/// btrfssubvolume struct.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BtrfsSubvolume {
    /// The subvolume's id.
    pub btrfssubvolume_id: i64,
    /// The id of the subvolume it is in (5 for the top level).
    pub btrfssubvolume_top_level_id: i64,
    /// Its path from the top level of the filesystem.
    pub btrfssubvolume_path: String,
}

/// One member of an md array (`md_stat`), from /proc/mdstat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MdStat {
    /// The member device (`/dev/sdb1`).
    pub mdstat_device: String,
    /// Its role number in the array (the `[N]` after its name).
    pub mdstat_index: i32,
    /// Its flags' letters: `F` faulty, `S` spare, `W` write-mostly, `R` replacement…; "" for none.
    pub mdstat_flags: String,
}

/// The geometry of an xfs filesystem (`xfs_info`), libguestfs's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct XfsInfo {
    /// The mountpoint or device xfs_info was given.
    pub xfs_mntpoint: String,
    /// Inode size in bytes.
    pub xfs_inodesize: i64,
    /// Number of allocation groups.
    pub xfs_agcount: i64,
    /// Allocation group size in blocks.
    pub xfs_agsize: i64,
    /// Sector size in bytes.
    pub xfs_sectsize: i64,
    /// Attribute format version.
    pub xfs_attr: i64,
    /// Block size in bytes.
    pub xfs_blocksize: i64,
    /// Data blocks.
    pub xfs_datablocks: i64,
    /// Maximum percentage of space for inodes.
    pub xfs_imaxpct: i64,
    /// Stripe unit in blocks.
    pub xfs_sunit: i64,
    /// Stripe width in blocks.
    pub xfs_swidth: i64,
    /// Directory format version.
    pub xfs_dirversion: i64,
    /// Directory block size in bytes.
    pub xfs_dirblocksize: i64,
    /// ASCII case-insensitive directories (1) or not (0).
    pub xfs_cimode: i64,
    /// The log: "internal" or its device.
    pub xfs_logname: String,
    /// Log block size in bytes.
    pub xfs_logblocksize: i64,
    /// Log blocks.
    pub xfs_logblocks: i64,
    /// Log format version.
    pub xfs_logversion: i64,
    /// Log sector size in bytes.
    pub xfs_logsectsize: i64,
    /// Log stripe unit in blocks.
    pub xfs_logsunit: i64,
    /// Lazy superblock counters (1) or not (0).
    pub xfs_lazycount: i64,
    /// The realtime section: "none" or its device.
    pub xfs_rtname: String,
    /// Realtime extent size in bytes.
    pub xfs_rtextsize: i64,
    /// Realtime blocks.
    pub xfs_rtblocks: i64,
    /// Realtime extents.
    pub xfs_rtextents: i64,
}

/// An LVM physical volume (`pvs_full`), libguestfs's lvm_pv: sizes in
/// bytes, the UUID as 32 characters without hyphens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LvmPv {
    /// The device.
    pub pv_name: String,
    /// The PV UUID.
    pub pv_uuid: String,
    /// The metadata format (lvm2).
    pub pv_fmt: String,
    /// The usable size.
    pub pv_size: i64,
    /// The device size.
    pub dev_size: i64,
    /// Free space.
    pub pv_free: i64,
    /// Space in use.
    pub pv_used: i64,
    /// The attribute letters.
    pub pv_attr: String,
    /// Physical extents.
    pub pv_pe_count: i64,
    /// Allocated physical extents.
    pub pv_pe_alloc_count: i64,
    /// Tags, comma separated.
    pub pv_tags: String,
    /// Offset of the first extent.
    pub pe_start: i64,
    /// Metadata areas.
    pub pv_mda_count: i64,
    /// Free space in the metadata areas.
    pub pv_mda_free: i64,
}

/// An LVM volume group (`vgs_full`), libguestfs's lvm_vg.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LvmVg {
    /// The name.
    pub vg_name: String,
    /// The VG UUID.
    pub vg_uuid: String,
    /// The metadata format (lvm2).
    pub vg_fmt: String,
    /// The attribute letters.
    pub vg_attr: String,
    /// The size.
    pub vg_size: i64,
    /// Free space.
    pub vg_free: i64,
    /// The system ID.
    pub vg_sysid: String,
    /// The extent size.
    pub vg_extent_size: i64,
    /// Extents.
    pub vg_extent_count: i64,
    /// Free extents.
    pub vg_free_count: i64,
    /// Most LVs allowed (0: no limit).
    pub max_lv: i64,
    /// Most PVs allowed (0: no limit).
    pub max_pv: i64,
    /// PVs.
    pub pv_count: i64,
    /// LVs.
    pub lv_count: i64,
    /// Snapshots.
    pub snap_count: i64,
    /// The metadata sequence number.
    pub vg_seqno: i64,
    /// Tags, comma separated.
    pub vg_tags: String,
    /// Metadata areas.
    pub vg_mda_count: i64,
    /// Free space in the metadata areas.
    pub vg_mda_free: i64,
}

/// An LVM logical volume (`lvs_full`), libguestfs's lvm_lv: the
/// percentages are -1 where LVM reports none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LvmLv {
    /// The name.
    pub lv_name: String,
    /// The LV UUID.
    pub lv_uuid: String,
    /// The attribute letters.
    pub lv_attr: String,
    /// The persistent major number (-1: none).
    pub lv_major: i64,
    /// The persistent minor number (-1: none).
    pub lv_minor: i64,
    /// The major number while active (-1: inactive).
    pub lv_kernel_major: i64,
    /// The minor number while active (-1: inactive).
    pub lv_kernel_minor: i64,
    /// The size.
    pub lv_size: i64,
    /// Segments.
    pub seg_count: i64,
    /// The origin of a snapshot.
    pub origin: String,
    /// How full a snapshot is, in %.
    pub snap_percent: f32,
    /// How far a mirror or move has copied, in %.
    pub copy_percent: f32,
    /// The PV a pvmove moves from.
    pub move_pv: String,
    /// Tags, comma separated.
    pub lv_tags: String,
    /// The mirror log LV.
    pub mirror_log: String,
    /// The kernel modules needed.
    pub modules: String,
}

/// The appliance kernel's uname(2), as libguestfs's utsname struct.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Utsname {
    /// The kernel name (Linux).
    pub uts_sysname: String,
    /// The kernel release (6.12.x).
    pub uts_release: String,
    /// The kernel version (#1 SMP … and the build date).
    pub uts_version: String,
    /// The machine (x86_64).
    pub uts_machine: String,
}

/// What the daemon reports in `version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// The major version.
    pub major: i64,
    /// The minor version.
    pub minor: i64,
    /// The release (patch) number.
    pub release: i64,
    /// Anything after the numbers (`-dev`), else empty.
    pub extra: String,
}

/// Classes of call failure, so the library can map them to typed errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// A system call failed: `errno` says which error.
    Errno,
    /// An argument failed validation.
    InvalidArgument,
    /// A call that works on the guest's files before anything is mounted
    /// on `/`.
    NotMounted,
    /// The host cancelled the call.
    Cancelled,
    /// The reply or request would exceed the message limit.
    TooLarge,
    /// The procedure is unknown to this daemon.
    UnknownProcedure,
    /// Anything else (a bug, an unexpected state).
    Other,
    /// A guest program (`command`, `sh`) exited with a non-zero status
    /// or was killed: `errno` holds the exit status (128 + the signal
    /// when killed), the message its stderr and stdout. Last, so the
    /// earlier variants keep their wire numbers.
    CommandFailed,
}

/// A failed call as the daemon reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Error)]
#[error("{message}")]
pub struct ErrorReply {
    /// The class of failure.
    pub kind: ErrorKind,
    /// The guest errno for [`ErrorKind::Errno`], the exit status for
    /// [`ErrorKind::CommandFailed`], else 0.
    pub errno: i32,
    /// What went wrong, for the user.
    pub message: String,
}

impl ErrorReply {
    /// A failure of class `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ErrorReply {
        ErrorReply {
            kind,
            errno: 0,
            message: message.into(),
        }
    }

    /// A failed system call.
    pub fn errno(errno: i32, message: impl Into<String>) -> ErrorReply {
        ErrorReply {
            kind: ErrorKind::Errno,
            errno,
            message: message.into(),
        }
    }

    /// The host cancelled the call.
    pub fn cancelled() -> ErrorReply {
        ErrorReply::new(ErrorKind::Cancelled, "cancelled by the host")
    }
}

impl From<ArgError> for ErrorReply {
    fn from(e: ArgError) -> ErrorReply {
        ErrorReply::new(ErrorKind::InvalidArgument, e.to_string())
    }
}

/// Conversion of what a caller passes into an argument type, validated on
/// the host side already: `g.mount("/dev/sda1", "/")`.
pub trait IntoArg<T> {
    /// Converts and validates.
    fn into_arg(self) -> Result<T, ArgError>;
}

impl<T> IntoArg<T> for T {
    fn into_arg(self) -> Result<T, ArgError> {
        Ok(self)
    }
}

macro_rules! into_validated {
    ($($ty:ident),*) => {$(
        impl IntoArg<$ty> for &str {
            fn into_arg(self) -> Result<$ty, ArgError> {
                $ty::new(self)
            }
        }
        impl IntoArg<$ty> for &String {
            fn into_arg(self) -> Result<$ty, ArgError> {
                $ty::new(self.as_str())
            }
        }
        impl IntoArg<$ty> for String {
            fn into_arg(self) -> Result<$ty, ArgError> {
                $ty::new(self)
            }
        }
    )*};
}
into_validated!(Pathname, Device, Mountable);

/// Host paths (`host` calls: add_drive, disk_create…) from any path-like value.
macro_rules! into_path {
    ($($ty:ty),*) => {$(
        impl IntoArg<PathBuf> for $ty {
            fn into_arg(self) -> Result<PathBuf, ArgError> {
                Ok(PathBuf::from(self))
            }
        }
    )*};
}
into_path!(
    &str,
    &String,
    String,
    &std::path::Path,
    &PathBuf,
    &std::ffi::OsStr,
    std::ffi::OsString
);

impl IntoArg<String> for &str {
    fn into_arg(self) -> Result<String, ArgError> {
        Ok(self.to_owned())
    }
}

impl IntoArg<String> for &String {
    fn into_arg(self) -> Result<String, ArgError> {
        Ok(self.clone())
    }
}

impl IntoArg<Vec<u8>> for &[u8] {
    fn into_arg(self) -> Result<Vec<u8>, ArgError> {
        Ok(self.to_vec())
    }
}

impl IntoArg<Vec<u8>> for &str {
    fn into_arg(self) -> Result<Vec<u8>, ArgError> {
        Ok(self.as_bytes().to_vec())
    }
}

impl<const N: usize> IntoArg<Vec<u8>> for &[u8; N] {
    fn into_arg(self) -> Result<Vec<u8>, ArgError> {
        Ok(self.to_vec())
    }
}

macro_rules! into_key {
    ($($ty:ty),*) => {$(
        impl IntoArg<Key> for $ty {
            fn into_arg(self) -> Result<Key, ArgError> {
                Ok(Key::new(self))
            }
        }
    )*};
}
into_key!(&[u8], &str, Vec<u8>, String);

impl<const N: usize> IntoArg<Key> for &[u8; N] {
    fn into_arg(self) -> Result<Key, ArgError> {
        Ok(Key::new(self.as_slice()))
    }
}

/// Device lists (md_create) from device names, each validated.
impl IntoArg<Vec<Device>> for &[&str] {
    fn into_arg(self) -> Result<Vec<Device>, ArgError> {
        self.iter().map(|s| Device::new(*s)).collect()
    }
}

impl<const N: usize> IntoArg<Vec<Device>> for &[&str; N] {
    fn into_arg(self) -> Result<Vec<Device>, ArgError> {
        self.as_slice().into_arg()
    }
}

impl IntoArg<Vec<Device>> for Vec<&str> {
    fn into_arg(self) -> Result<Vec<Device>, ArgError> {
        self.as_slice().into_arg()
    }
}

impl IntoArg<Vec<String>> for &[&str] {
    fn into_arg(self) -> Result<Vec<String>, ArgError> {
        Ok(self.iter().map(|s| s.to_string()).collect())
    }
}

impl<const N: usize> IntoArg<Vec<String>> for &[&str; N] {
    fn into_arg(self) -> Result<Vec<String>, ArgError> {
        Ok(self.iter().map(|s| s.to_string()).collect())
    }
}

impl IntoArg<Vec<String>> for Vec<&str> {
    fn into_arg(self) -> Result<Vec<String>, ArgError> {
        Ok(self.into_iter().map(str::to_owned).collect())
    }
}

impl IntoArg<i64> for i32 {
    fn into_arg(self) -> Result<i64, ArgError> {
        Ok(self.into())
    }
}

impl IntoArg<i64> for u32 {
    fn into_arg(self) -> Result<i64, ArgError> {
        Ok(self.into())
    }
}

impl IntoArg<i64> for u64 {
    fn into_arg(self) -> Result<i64, ArgError> {
        i64::try_from(self).map_err(|_| arg_error("integer", &self.to_string(), "is too large"))
    }
}

impl IntoArg<i64> for usize {
    fn into_arg(self) -> Result<i64, ArgError> {
        i64::try_from(self).map_err(|_| arg_error("integer", &self.to_string(), "is too large"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pathnames_are_absolute_and_clean() {
        assert!(Pathname::new("/etc/hostname").is_ok());
        assert!(Pathname::new("/").is_ok());
        assert!(Pathname::new("etc").is_err());
        assert!(Pathname::new("").is_err());
        assert!(Pathname::new("/a\0b").is_err());
        assert!(Pathname::new(format!("/{}", "a".repeat(5000))).is_err());
    }

    #[test]
    fn devices_stay_under_dev() {
        for good in [
            "/dev/sda",
            "/dev/sdb12",
            "/dev/mapper/vg-lv_root",
            "/dev/md127",
        ] {
            assert!(Device::new(good).is_ok(), "{good}");
        }
        for bad in [
            "sda",
            "/dev/",
            "/dev/../etc/passwd",
            "/dev/sda/..",
            "/dev//sda",
            "/dev/s a",
            "/etc/passwd",
        ] {
            let err = Device::new(bad).unwrap_err();
            assert!(err.to_string().contains("device"), "{bad}: {err}");
        }
    }

    #[test]
    fn decoding_validates() {
        let bytes = postcard::to_allocvec(&"relative/path".to_string()).unwrap();
        assert!(postcard::from_bytes::<Pathname>(&bytes).is_err());
        let bytes = postcard::to_allocvec(&"/ok".to_string()).unwrap();
        assert_eq!(
            postcard::from_bytes::<Pathname>(&bytes).unwrap().as_str(),
            "/ok"
        );
    }
}
