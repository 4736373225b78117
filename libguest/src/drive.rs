//! Drives recorded by `add_drive_opts` and friends. Each is opened when it
//! is added, so a bad path, an unknown format or a corrupt header is
//! reported before anything boots.
//!
//! Security rule: the files opened here (by `disk`, with its checks: no
//! external data files, backing files only under an explicit format, no
//! FIFOs or devices) are the only ones either backend uses. The TCG backend
//! hands qemu these very descriptors, so no backend resolves a path again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use disk::{BlockBackend, ChainNode, DiskError};

use crate::error::{Error, Result};

/// Image format of a drive: the disk layer's [`disk::Format`]
/// (`DriveFormat::Raw`, `DriveFormat::Qcow2`; parsed from "raw" and
/// "qcow2"). `None` in [`DriveOptions`] means "detect from the header";
/// an explicit format is never second-guessed.
pub use disk::Format as DriveFormat;

/// Options of `add_drive_opts`, as in libguestfs.
#[derive(Debug, Clone, Default)]
pub struct DriveOptions {
    /// None: detected from the header. A qcow2 image's backing files are
    /// only followed when the format is given (`Some(DriveFormat::Qcow2)`):
    /// that is how the caller vouches for the chain its header names.
    pub format: Option<DriveFormat>,
    /// Open the image read-only: not one byte (nor its mtime) changes. As
    /// in libguestfs, the appliance still writes, into a throwaway overlay
    /// (see `overlay`), so a filesystem whose journal needs recovery (a
    /// crashed or running VM's) replays it there and mounts.
    pub readonly: bool,
    /// Copy-on-write overlay: the appliance may write, the writes are kept
    /// in a temporary file and dropped at shutdown; the image is opened
    /// read-only and not one byte (nor its mtime) changes. The temporary
    /// file goes to [`crate::Guest::get_tmpdir`] and grows with the
    /// guest's writes, up to the virtual disk size.
    ///
    /// `None`: an overlay exactly when `readonly` (libguestfs's rule).
    /// `Some(true)`: an overlay on a drive that is not read-only either.
    /// `Some(false)` with `readonly`: no overlay, the appliance sees a
    /// write-protected disk (libguest's; a dirty journal then cannot
    /// replay, and such a filesystem does not mount).
    pub overlay: Option<bool>,
    /// libguestfs's drive label (`add_drive_opts label:`): ASCII letters
    /// and digits, recorded on the drive for the caller; the appliance
    /// makes no `/dev/disk/guestfs/LABEL` link.
    pub label: Option<String>,
    /// What the guest's discards (fstrim, blkdiscard, mount -o discard)
    /// do to the image: libguestfs's `discard`, default `Disable`.
    pub discard: DriveDiscard,
    /// libguestfs's `copyonread`: data read from a backing file is also
    /// written into the writable layer above it, the qcow2 top or the
    /// overlay, so later reads are served from there.
    pub copy_on_read: bool,
}

/// libguestfs's `discard` drive option.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DriveDiscard {
    /// Discards succeed in the guest and change nothing (qemu's
    /// `discard=ignore`), so the image keeps every block it has.
    #[default]
    Disable,
    /// Discards free space in the image (punched holes in a raw file,
    /// deallocated qcow2 clusters, BLKDISCARD on a host device); adding a
    /// drive that cannot do that fails.
    Enable,
    /// `Enable` where the drive can, else `Disable`.
    BestEffort,
}

impl std::str::FromStr for DriveDiscard {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "disable" => Ok(DriveDiscard::Disable),
            "enable" => Ok(DriveDiscard::Enable),
            "besteffort" => Ok(DriveDiscard::BestEffort),
            _ => Err(Error::InvalidArgument {
                call: "add_drive_opts",
                message: format!(
                    "discard {s:?}: the discard parameter must be 'disable', 'enable' or 'besteffort'"
                ),
            }),
        }
    }
}

impl std::fmt::Display for DriveDiscard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DriveDiscard::Disable => "disable",
            DriveDiscard::Enable => "enable",
            DriveDiscard::BestEffort => "besteffort",
        })
    }
}

impl DriveOptions {
    /// Whether the appliance writes into a throwaway overlay.
    pub fn overlaid(&self) -> bool {
        self.overlay.unwrap_or(self.readonly)
    }

    /// Whether the appliance sees a write-protected disk.
    pub fn write_protected(&self) -> bool {
        self.readonly && !self.overlaid()
    }
}

/// `add_drive_opts(path, DriveOptions { .. })` keeps working: the
/// options as the table's optional arguments.
impl From<DriveOptions> for protocol::calls::add_drive_opts::Opts {
    fn from(o: DriveOptions) -> Self {
        Self {
            readonly: Some(o.readonly),
            format: o.format.map(|f| f.to_string()),
            label: o.label,
            discard: Some(o.discard.to_string()),
            copyonread: Some(o.copy_on_read),
            blocksize: None,
            overlay: o.overlay,
        }
    }
}

/// Where a drive's bytes come from.
#[derive(Debug, Clone)]
pub enum DriveSource {
    /// An image file or block device, as added.
    File(PathBuf),
    /// A blank temporary disk of this many bytes, deleted at shutdown.
    Scratch(u64),
}

/// A drive as recorded on the handle, with its opened backend.
#[derive(Debug, Clone)]
pub struct Drive {
    /// What was added.
    pub source: DriveSource,
    /// The options it was added with.
    pub options: DriveOptions,
    pub(crate) backend: Arc<dyn BlockBackend>,
    /// The files the backend was opened from, top first (the scratch
    /// file for a scratch disk), with their checked descriptors.
    pub(crate) chain: Arc<[ChainNode]>,
    /// Where this drive's temporary stores go (overlays on either backend).
    pub(crate) tmpdir: PathBuf,
    /// Whether the guest's discards reach the backend (`discard` resolved
    /// against what the drive can do).
    pub(crate) unmap: bool,
}

/// `LIBGUEST_TMPDIR`, else `$TMPDIR`, else /tmp: the default of
/// [`crate::Guest::get_tmpdir`].
pub(crate) fn default_tmpdir() -> PathBuf {
    tmpdir_from(
        std::env::var_os("LIBGUEST_TMPDIR"),
        std::env::var_os("TMPDIR"),
    )
}

/// The first of the two variables that is set and not empty, else /tmp.
fn tmpdir_from(
    libguest_tmpdir: Option<std::ffi::OsString>,
    tmpdir: Option<std::ffi::OsString>,
) -> PathBuf {
    libguest_tmpdir
        .into_iter()
        .chain(tmpdir)
        .find(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"))
}

/// `add_drive_opts`'s refusal of `discard:enable`, naming the file; the
/// message starts as libguestfs's do, which scripts match on.
fn cannot_discard(path: &Path, why: &str) -> Error {
    Error::InvalidArgument {
        call: "add_drive_opts",
        message: format!("{why}: {}", path.display()),
    }
}

/// What a scratch disk is called in messages.
fn scratch_name(size: u64) -> PathBuf {
    PathBuf::from(format!("<scratch {size} bytes>"))
}

impl Drive {
    pub(crate) fn open(path: &Path, options: DriveOptions, tmpdir: &Path) -> Result<Drive> {
        if options.readonly && options.discard == DriveDiscard::Enable {
            return Err(cannot_discard(
                path,
                "discard support cannot be enabled on read-only drives",
            ));
        }
        let disk_options = disk::OpenOptions {
            format: options.format,
            readonly: options.write_protected(),
            overlay: options.overlaid(),
            tmpdir: Some(tmpdir.to_path_buf()),
            copy_on_read: options.copy_on_read,
        };
        let opened = disk::open_disk(path, &disk_options).map_err(|source| Error::Drive {
            path: path.to_path_buf(),
            source,
        })?;
        let backend: Arc<dyn BlockBackend> = Arc::from(opened.backend);
        let unmap = match options.discard {
            DriveDiscard::Disable => false,
            DriveDiscard::BestEffort => !options.overlaid() && backend.supports_discard(),
            DriveDiscard::Enable if options.overlaid() => {
                return Err(cannot_discard(
                    path,
                    "discard cannot be enabled on this drive: the drive has a read-only overlay (add it without overlay, or pass discard:besteffort)",
                ))
            }
            DriveDiscard::Enable if !backend.supports_discard() => {
                return Err(cannot_discard(
                    path,
                    "discard cannot be enabled on this drive: the host device does not support discard (see /sys/block/DEV/queue/discard_max_bytes; pass discard:besteffort to go on without it)",
                ))
            }
            DriveDiscard::Enable => true,
        };
        Ok(Drive {
            source: DriveSource::File(path.to_path_buf()),
            options,
            backend,
            chain: opened.chain.into(),
            tmpdir: tmpdir.to_path_buf(),
            unmap,
        })
    }

    pub(crate) fn scratch(size: u64, tmpdir: &Path) -> Result<Drive> {
        let opened = disk::scratch_disk(size, Some(tmpdir)).map_err(|source| Error::Drive {
            path: scratch_name(size),
            source,
        })?;
        // A scratch disk is libguest's own temporary file: the guest's
        // discards give its space back.
        Ok(Drive {
            source: DriveSource::Scratch(size),
            options: DriveOptions {
                discard: DriveDiscard::Enable,
                ..DriveOptions::default()
            },
            backend: Arc::from(opened.backend),
            chain: opened.chain.into(),
            tmpdir: tmpdir.to_path_buf(),
            unmap: true,
        })
    }

    /// Size in bytes as the appliance sees it.
    pub fn size(&self) -> u64 {
        self.backend.size()
    }

    /// Whether the guest's discards free space in this drive's image
    /// (`discard` resolved against what the drive can do).
    pub fn discards(&self) -> bool {
        self.unmap
    }

    /// `source`, as an error about this drive.
    pub(crate) fn error(&self, source: DiskError) -> Error {
        let path = match &self.source {
            DriveSource::File(path) => path.clone(),
            DriveSource::Scratch(size) => scratch_name(*size),
        };
        Error::Drive { path, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One format type for both layers, parsed with the disk layer's
    /// typed error.
    #[test]
    fn drive_format_is_the_disk_format() {
        let format: DriveFormat = "qcow2".parse().unwrap();
        assert_eq!(format, disk::Format::Qcow2);
        assert_eq!(DriveFormat::Raw.to_string(), "raw");
        let err = "vmdk".parse::<DriveFormat>().unwrap_err();
        assert!(
            matches!(err, DiskError::UnknownFormat(ref s) if s == "vmdk"),
            "{err}"
        );
    }

    /// libguestfs's rule: read-only means an overlay unless `overlay`
    /// says otherwise; only `readonly` with `Some(false)` write-protects.
    #[test]
    fn read_only_drives_get_an_overlay_unless_told_otherwise() {
        let opts = |readonly, overlay| DriveOptions {
            readonly,
            overlay,
            ..Default::default()
        };
        for (readonly, overlay, overlaid, write_protected) in [
            (false, None, false, false),
            (true, None, true, false),
            (true, Some(false), false, true),
            (true, Some(true), true, false),
            (false, Some(true), true, false),
            (false, Some(false), false, false),
        ] {
            let o = opts(readonly, overlay);
            assert_eq!(o.overlaid(), overlaid, "{o:?}");
            assert_eq!(o.write_protected(), write_protected, "{o:?}");
        }
    }

    #[test]
    fn tmpdir_is_libguest_tmpdir_then_tmpdir_then_tmp() {
        let dir = |s: &str| Some(std::ffi::OsString::from(s));
        assert_eq!(tmpdir_from(dir("/a"), dir("/b")), Path::new("/a"));
        assert_eq!(tmpdir_from(dir(""), dir("/b")), Path::new("/b"));
        assert_eq!(tmpdir_from(None, dir("/b")), Path::new("/b"));
        assert_eq!(tmpdir_from(None, dir("")), Path::new("/tmp"));
        assert_eq!(tmpdir_from(None, None), Path::new("/tmp"));

        let mut g = crate::Guest::new().unwrap();
        assert_eq!(g.get_tmpdir().unwrap(), default_tmpdir());
        let dir = tempfile::tempdir().unwrap();
        let abs = std::fs::canonicalize(dir.path()).unwrap();
        // Made absolute and checked, as libguestfs does.
        let here = std::env::current_dir().unwrap();
        let relative = pathdiff(&abs, &here);
        g.set_tmpdir(Some(relative)).unwrap();
        assert_eq!(g.get_tmpdir().unwrap(), abs);
        let err = g.set_tmpdir(Some(abs.join("missing"))).unwrap_err();
        assert!(err.to_string().contains("existing directory"), "{err}");
        let file = abs.join("file");
        std::fs::write(&file, b"").unwrap();
        let err = g.set_tmpdir(Some(file)).unwrap_err();
        assert!(err.to_string().contains("not a directory"), "{err}");
        assert_eq!(
            g.get_tmpdir().unwrap(),
            abs,
            "a refused value changes nothing"
        );
        g.set_tmpdir(None).unwrap();
        assert_eq!(g.get_tmpdir().unwrap(), default_tmpdir());
    }

    /// `path` relative to `base` (both absolute): `../..` up to their
    /// common prefix, then down.
    fn pathdiff(path: &Path, base: &Path) -> PathBuf {
        let (p, b): (Vec<_>, Vec<_>) = (path.components().collect(), base.components().collect());
        let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
        let mut out: PathBuf = b[common..].iter().map(|_| "..").collect();
        out.extend(&p[common..]);
        out
    }

    #[test]
    fn overlay_and_scratch_of_a_handle_go_to_its_tmpdir() {
        let images = tempfile::tempdir().unwrap();
        let raw = images.path().join("disk.raw");
        std::fs::write(&raw, vec![0u8; 1 << 20]).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let mut g = crate::Guest::new().unwrap();
        let gone = tmp.path().join("missing");
        std::fs::create_dir(&gone).unwrap();
        g.set_tmpdir(Some(gone.clone())).unwrap();
        std::fs::remove_dir(&gone).unwrap();
        let overlay = DriveOptions {
            readonly: true,
            ..Default::default()
        };
        let err = g.add_drive_opts(&raw, overlay.clone()).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
        let err = g
            .add_drive_scratch(1 << 20, protocol::calls::add_drive_scratch::Opts::default())
            .unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
        g.set_tmpdir(Some(tmp.path().to_path_buf())).unwrap();
        g.add_drive_opts(&raw, overlay).unwrap();
        g.add_drive_scratch(1 << 20, protocol::calls::add_drive_scratch::Opts::default())
            .unwrap();
        assert!(g.drives().iter().all(|d| d.tmpdir == tmp.path()));
    }

    #[test]
    fn a_probed_backing_file_is_refused_with_how_to_trust_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("base.raw"), vec![0u8; 1 << 20]).unwrap();
        let top = dir.path().join("top.qcow2");
        let out = std::process::Command::new("qemu-img")
            .args(["create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw"])
            .arg(&top)
            .output()
            .expect("qemu-img is needed for this test: apt-get install qemu-utils");
        assert!(out.status.success());
        let mut g = crate::Guest::new().unwrap();
        let err = g.add_drive_ro(&top).unwrap_err();
        // The disk layer's error is the typed source, not a string.
        assert!(
            matches!(
                &err,
                Error::Drive {
                    source: DiskError::ProbedBacking { .. },
                    ..
                }
            ),
            "{err:?}"
        );
        let source = std::error::Error::source(&err).expect("a source");
        assert!(source.downcast_ref::<DiskError>().is_some());
        let err = err.to_string();
        assert!(
            err.contains("top.qcow2") && err.contains("base.raw"),
            "{err}"
        );
        assert!(err.contains("--format qcow2"), "{err}");
        assert!(
            err.contains("DriveOptions { format: Some(DriveFormat::Qcow2), .. }"),
            "{err}"
        );
        let trusted = DriveOptions {
            format: Some(DriveFormat::Qcow2),
            readonly: true,
            ..Default::default()
        };
        g.add_drive_opts(&top, trusted).unwrap();
        assert_eq!(g.drives()[0].chain.len(), 2);
    }
}
