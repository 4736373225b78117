//! `copy_in` and `copy_out`, as in libguestfs: a tar stream between a
//! host path and a guest directory, packed or unpacked on the host side
//! while the appliance unpacks or packs the other end. The host side never
//! trusts the guest's stream: see `transfer::extract`.

use std::path::Path;

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
    /// directory `localdir` (as `localdir/<name>`). Nothing is written
    /// outside `localdir`: hostile names and symlinks in the guest are
    /// refused or stored as symlinks, never followed.
    pub fn copy_out(&mut self, remotepath: &str, localdir: impl AsRef<Path>) -> Result<()> {
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
        let target = localdir.join(name);
        if !self.is_dir(
            remotepath,
            calls::is_dir::Opts {
                followsymlinks: Some(true),
            },
        )? {
            return self.download(remotepath, &target);
        }
        match std::fs::create_dir(&target) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && target.is_dir() => {}
            Err(source) => {
                return Err(Error::HostIo {
                    call: CALL,
                    what: format!("cannot create {}", target.display()),
                    source,
                })
            }
        }
        let (reader, mut writer) = std::io::pipe().map_err(|source| Error::HostIo {
            call: CALL,
            what: "pipe".into(),
            source,
        })?;
        let dest = target.clone();
        let unpacker = std::thread::Builder::new()
            .name("libguest-unpack".into())
            .spawn(move || transfer::extract::unpack_into(reader, &dest))
            .map_err(|source| Error::HostIo {
                call: CALL,
                what: "cannot start the unpacking thread".into(),
                source,
            })?;
        let received = self.tar_out(remotepath, &mut writer, calls::tar_out::Opts::default());
        drop(writer);
        let unpacked = unpacker
            .join()
            .unwrap_or_else(|_| Err(thread_panicked("<unpacking thread>")));
        match (unpacked, received) {
            // The unpacker's refusal explains a broken pipe in the call.
            (Err(e), _) => Err(transfer_error(CALL, e)),
            (Ok(_), Err(e)) => Err(e),
            (Ok(_), Ok(())) => Ok(()),
        }
    }
}
