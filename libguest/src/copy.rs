//! `copy_in` and `copy_out`, as in libguestfs: a tar stream between a
//! host path and a guest directory, packed or unpacked on the host side
//! while the appliance unpacks or packs the other end. The host side never
//! trusts the guest's stream, nor what an earlier copy-out left on the
//! host: see `transfer`.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use protocol::calls;

use crate::error::{Error, Result};
use crate::guest::Guest;
use crate::transfer::{self, TransferError};

fn transfer_error(call: &'static str, source: TransferError) -> Error {
    Error::Transfer { call, source }
}

fn thread_panicked(what: &str) -> TransferError {
    TransferError::Stream {
        path: what.into(),
        source: std::io::Error::other("the thread panicked"),
    }
}

impl Guest {
    /// Copies a host file or directory tree into the guest directory
    /// `remotedir` (which must exist), keeping modes, times and symlinks.
    pub fn copy_in(&mut self, localpath: impl AsRef<Path>, remotedir: &str) -> Result<()> {
        const CALL: &str = "copy_in";
        let localpath = localpath.as_ref().to_path_buf();
        std::fs::symlink_metadata(&localpath).map_err(|source| Error::HostIo {
            call: CALL,
            what: format!("cannot read {}", localpath.display()),
            source,
        })?;
        let (mut reader, writer) = std::io::pipe().map_err(|source| Error::HostIo {
            call: CALL,
            what: "pipe".into(),
            source,
        })?;
        let packer = std::thread::Builder::new()
            .name("libguest-pack".into())
            .spawn(move || transfer::pack::pack(&localpath, writer))
            .map_err(|source| Error::HostIo {
                call: CALL,
                what: "cannot start the packing thread".into(),
                source,
            })?;
        let sent = self.tar_in(&mut reader, remotedir, calls::tar_in::Opts::default());
        // The packer stops on its own once the reader is gone.
        drop(reader);
        let packed = packer
            .join()
            .unwrap_or_else(|_| Err(thread_panicked("<packing thread>")));
        match (sent, packed) {
            (Err(e), _) => Err(e),
            (Ok(()), Err(e)) => Err(transfer_error(CALL, e)),
            (Ok(()), Ok(_)) => Ok(()),
        }
    }

    /// Copies a guest file or directory tree into the existing host
    /// directory `localdir` (as `localdir/<name>`), with the default
    /// [`CopyOutOptions`]. Nothing is written outside `localdir`: hostile
    /// names are refused, symlinks in the guest are stored as symlinks and
    /// never followed, and `localdir/<name>` itself must not be a symlink.
    pub fn copy_out(&mut self, remotepath: &str, localdir: impl AsRef<Path>) -> Result<()> {
        self.copy_out_opts(remotepath, localdir, CopyOutOptions::default())
    }

    /// [`copy_out`](Guest::copy_out) with options: modes, the sparse size
    /// limit, progress.
    pub fn copy_out_opts(
        &mut self,
        remotepath: &str,
        localdir: impl AsRef<Path>,
        mut opts: CopyOutOptions<'_>,
    ) -> Result<()> {
        const CALL: &str = "copy_out";
        let localdir = localdir.as_ref();
        if !localdir.is_dir() {
            return Err(Error::HostIo {
                call: CALL,
                what: format!("{} is not an existing directory", localdir.display()),
                source: std::io::ErrorKind::NotFound.into(),
            });
        }
        let name = Path::new(remotepath)
            .file_name()
            .ok_or_else(|| Error::InvalidArgument {
                call: CALL,
                message: format!("{remotepath:?} names no file or directory"),
            })?;
        let is_dir = self.is_dir(
            remotepath,
            calls::is_dir::Opts {
                followsymlinks: Some(true),
            },
        )?;
        let mut progress = |n: u64| {
            if let Some(p) = opts.progress.as_mut() {
                p(n)
            }
        };
        if !is_dir {
            return self.copy_out_file(remotepath, localdir, name, &mut progress);
        }
        // The unpacker stops at its next check once the call is over, so
        // a cancelled or failed call is not followed by buffered work.
        let stop = Arc::new(AtomicBool::new(false));
        let stop_check = Arc::clone(&stop);
        let unpack = transfer::UnpackOptions {
            keep_modes: opts.keep_modes,
            max_sparse_size: opts.max_sparse_size,
            create_dest: true,
            stop: Some(Arc::new(move |_| stop_check.load(Ordering::Relaxed))),
        };
        let (reader, writer) = std::io::pipe().map_err(|source| Error::HostIo {
            call: CALL,
            what: "pipe".into(),
            source,
        })?;
        let dest = localdir.join(name);
        let unpacker = std::thread::Builder::new()
            .name("libguest-unpack".into())
            .spawn(move || transfer::unpack_into_opts(reader, &dest, &unpack))
            .map_err(|source| Error::HostIo {
                call: CALL,
                what: "cannot start the unpacking thread".into(),
                source,
            })?;
        let mut counted = Counted {
            inner: writer,
            total: 0,
            progress: &mut progress,
        };
        let received = self.tar_out(remotepath, &mut counted, calls::tar_out::Opts::default());
        stop.store(received.is_err(), Ordering::Relaxed);
        drop(counted);
        let unpacked = unpacker
            .join()
            .unwrap_or_else(|_| Err(thread_panicked("<unpacking thread>")));
        match (unpacked, received) {
            // A stream cut short (or a stop) because the call failed: the
            // call's error says why, unless it is the broken pipe the
            // unpacker caused by stopping first.
            (Err(TransferError::Archive { .. } | TransferError::Stopped { .. }), Err(e))
                if !matches!(e, Error::HostIo { .. }) =>
            {
                Err(e)
            }
            // The unpacker's refusal explains a broken pipe in the call.
            (Err(e), _) => Err(transfer_error(CALL, e)),
            (Ok(_), Err(e)) => Err(e),
            (Ok(_), Ok(())) => Ok(()),
        }
    }

    /// copy_out of a non-directory: a fresh `localdir/name`, never a write
    /// through what was there.
    fn copy_out_file(
        &mut self,
        remotepath: &str,
        localdir: &Path,
        name: &std::ffi::OsStr,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        const CALL: &str = "copy_out";
        let file =
            transfer::create_fresh_file(localdir, name).map_err(|e| transfer_error(CALL, e))?;
        let path = localdir.join(name);
        let host_err = |what: &str, source| Error::HostIo {
            call: CALL,
            what: format!("{what} {}", path.display()),
            source,
        };
        let mut out = Counted {
            inner: std::io::BufWriter::with_capacity(1 << 20, file),
            total: 0,
            progress,
        };
        self.download(remotepath, &mut out)?;
        let file = out
            .inner
            .into_inner()
            .map_err(|e| host_err("writing", e.into_error()))?;
        file.sync_all().map_err(|e| host_err("syncing", e))
    }
}

/// How [`Guest::copy_out_opts`] writes on the host.
pub struct CopyOutOptions<'a> {
    /// Keep the guest's permission bits exactly (`tar -p`); by default
    /// files and directories get them masked by the umask and without
    /// group/other write. Setuid, setgid and sticky bits are dropped either
    /// way, and directories that exist on the host keep their mode.
    pub keep_modes: bool,
    /// Largest apparent size of a sparse file in the stream (default
    /// [`transfer::DEFAULT_MAX_SPARSE_SIZE`], 16 TiB); a larger one is
    /// refused.
    pub max_sparse_size: u64,
    /// Called with the bytes received so far (the tar stream of a tree,
    /// the data of a file).
    pub progress: Option<&'a mut dyn FnMut(u64)>,
}

impl Default for CopyOutOptions<'_> {
    fn default() -> Self {
        CopyOutOptions {
            keep_modes: false,
            max_sparse_size: transfer::DEFAULT_MAX_SPARSE_SIZE,
            progress: None,
        }
    }
}

impl std::fmt::Debug for CopyOutOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyOutOptions")
            .field("keep_modes", &self.keep_modes)
            .field("max_sparse_size", &self.max_sparse_size)
            .field("progress", &self.progress.as_ref().map(|_| "FnMut"))
            .finish()
    }
}

/// A writer that reports the running total of what went through it.
struct Counted<'p, W> {
    inner: W,
    total: u64,
    progress: &'p mut dyn FnMut(u64),
}

impl<W: Write> Write for Counted<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.total += n as u64;
        (self.progress)(self.total);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
