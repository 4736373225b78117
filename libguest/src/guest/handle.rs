//! The `host` calls of the API table: answered by the handle itself,
//! never sent to the appliance. `protocol::Handle` is generated from the
//! table, so a host entry without its method here does not compile; the
//! generated `Guest` methods (`api.rs`) check the arguments, trace, and
//! call these.

mod groups;
mod images;

use protocol::calls;

use super::{Guest, State};
use crate::backend::Backend;
use crate::drive::{Drive, DriveDiscard, DriveFormat, DriveOptions};
use crate::error::{Error, Result};

/// The appliance's name of drive `index`: /dev/sda … /dev/sdz, /dev/sdaa …
fn disk_name(index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = index + 1;
    while n > 0 {
        n -= 1;
        letters.push(b'a' + (n % 26) as u8);
        n /= 26;
    }
    letters.reverse();
    format!("/dev/sd{}", String::from_utf8_lossy(&letters))
}

/// libguestfs's /dev/disk/guestfs names: LABEL for the disk, LABELN for
/// its partition N.
fn disk_labels(labelled: &[(String, String)], partitions: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (label, disk) in labelled {
        out.push((label.clone(), disk.clone()));
        for p in partitions {
            if let Some(n) = p.strip_prefix(disk.as_str()) {
                if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
                    out.push((format!("{label}{n}"), p.clone()));
                }
            }
        }
    }
    out
}

/// An existing directory, made absolute as libguestfs does (realpath).
fn existing_dir(call: &'static str, dir: &std::path::Path) -> Result<std::path::PathBuf> {
    let abs = std::fs::canonicalize(dir).map_err(|e| {
        invalid(
            call,
            format!("{}: {e}; give an existing directory", dir.display()),
        )
    })?;
    if !abs.is_dir() {
        return Err(invalid(
            call,
            format!("{} is not a directory", dir.display()),
        ));
    }
    Ok(abs)
}

fn invalid(call: &'static str, message: impl Into<String>) -> Error {
    Error::InvalidArgument {
        call,
        message: message.into(),
    }
}

/// Smallest appliance memory accepted, in MiB: below it the kernel and
/// the in-memory initramfs leave the daemon too little.
const MIN_MEMSIZE_MIB: u64 = 128;

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Auto => "auto",
        Backend::Kvm => "kvm",
        Backend::Tcg => "tcg",
    }
}

/// `set_backend(Backend::Tcg)` as well as `set_backend("tcg")`.
impl protocol::types::IntoArg<String> for Backend {
    fn into_arg(self) -> std::result::Result<String, protocol::types::ArgError> {
        Ok(backend_name(self).into())
    }
}

/// libguestfs's rule for identifiers: ASCII alphanumerics, `_` and `-`.
fn check_identifier(id: &str) -> Result<()> {
    match id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        None => Ok(()),
        Some(c) => Err(invalid(
            "set_identifier",
            format!("{c:?} in {id:?}: an identifier has ASCII letters, digits, _ and - only"),
        )),
    }
}

/// libguestfs's rule for drive labels: 1 to 20 ASCII letters.
fn check_label(call: &'static str, label: &Option<String>) -> Result<()> {
    match label {
        Some(l) if l.is_empty() || l.len() > 20 || !l.chars().all(|c| c.is_ascii_alphabetic()) => {
            Err(invalid(
                call,
                format!("label {l:?}: a label is 1 to 20 ASCII letters"),
            ))
        }
        _ => Ok(()),
    }
}

/// libguestfs's blocksize: 0 (the default) or 512 here.
fn check_blocksize(call: &'static str, blocksize: Option<i64>) -> Result<()> {
    match blocksize {
        None | Some(0 | 512) => Ok(()),
        Some(n) => Err(invalid(
            call,
            format!("blocksize {n}: libguest's virtio-scsi disks have 512-byte logical sectors (no 4K-sector emulation); leave blocksize out or give 512"),
        )),
    }
}

/// add_drive_opts's optional arguments as the drive layer's options.
fn drive_options(opts: &calls::add_drive_opts::Args) -> Result<DriveOptions> {
    const CALL: &str = "add_drive_opts";
    let format = match opts.format.as_deref() {
        None => None,
        Some(f) => Some(f.parse::<DriveFormat>().map_err(|_| {
            invalid(
                CALL,
                format!("format {f:?}: use raw or qcow2 (or leave it out to detect)"),
            )
        })?),
    };
    check_label(CALL, &opts.label)?;
    check_blocksize(CALL, opts.blocksize)?;
    let discard = match opts.discard.as_deref() {
        None => DriveDiscard::Disable,
        Some(d) => d.parse()?,
    };
    Ok(DriveOptions {
        format,
        readonly: opts.readonly.unwrap_or(false),
        overlay: opts.overlay,
        label: opts.label.clone(),
        discard,
        copy_on_read: opts.copyonread.unwrap_or(false),
    })
}

impl protocol::Handle for Guest {
    type Error = Error;

    fn set_memsize(&mut self, args: calls::set_memsize::Args) -> Result<()> {
        self.require_config("set_memsize")?;
        // The VMM's ceiling holds for the qemu fallback too: one limit.
        self.memsize_mib = u64::try_from(args.memsize)
            .ok()
            .filter(|m| (MIN_MEMSIZE_MIB..=vmm::MAX_MEM_MIB).contains(m))
            .ok_or_else(|| {
                invalid(
                    "set_memsize",
                    format!(
                        "{} MiB: give {MIN_MEMSIZE_MIB} to {} MiB",
                        args.memsize,
                        vmm::MAX_MEM_MIB
                    ),
                )
            })?;
        Ok(())
    }

    fn get_memsize(&mut self, _: calls::get_memsize::Args) -> Result<i64> {
        Ok(i64::try_from(self.memsize_mib).unwrap_or(i64::MAX))
    }

    fn set_smp(&mut self, args: calls::set_smp::Args) -> Result<()> {
        self.require_config("set_smp")?;
        // The VMM's ceiling (its MP table) holds for the qemu fallback too.
        self.smp = u8::try_from(args.smp)
            .ok()
            .filter(|n| (1..=vmm::MAX_VCPUS).contains(n))
            .ok_or_else(|| {
                invalid(
                    "set_smp",
                    format!("{} vCPUs: give 1 to {}", args.smp, vmm::MAX_VCPUS),
                )
            })?;
        Ok(())
    }

    fn get_smp(&mut self, _: calls::get_smp::Args) -> Result<i64> {
        Ok(i64::from(self.smp))
    }

    fn set_verbose(&mut self, args: calls::set_verbose::Args) -> Result<()> {
        self.verbose = args.verbose;
        Ok(())
    }

    fn get_verbose(&mut self, _: calls::get_verbose::Args) -> Result<bool> {
        Ok(self.verbose)
    }

    fn set_trace(&mut self, args: calls::set_trace::Args) -> Result<()> {
        self.trace = args.trace;
        Ok(())
    }

    fn get_trace(&mut self, _: calls::get_trace::Args) -> Result<bool> {
        Ok(self.trace)
    }

    fn set_append(&mut self, args: calls::set_append::Args) -> Result<()> {
        self.require_config("set_append")?;
        self.append = args.append.filter(|a| !a.is_empty());
        Ok(())
    }

    fn get_append(&mut self, _: calls::get_append::Args) -> Result<Option<String>> {
        Ok(self.append.clone())
    }

    fn set_backend(&mut self, args: calls::set_backend::Args) -> Result<()> {
        self.require_config("set_backend")?;
        self.backend = args.backend.parse().map_err(|_| {
            invalid(
                "set_backend",
                format!(
                    "backend {:?}: use auto, kvm (or direct) or tcg (or qemu); libguestfs's libvirt and uml backends do not exist in libguest",
                    args.backend
                ),
            )
        })?;
        Ok(())
    }

    fn get_backend(&mut self, _: calls::get_backend::Args) -> Result<String> {
        Ok(backend_name(self.backend).into())
    }

    fn set_autosync(&mut self, args: calls::set_autosync::Args) -> Result<()> {
        self.autosync = args.autosync;
        Ok(())
    }

    fn get_autosync(&mut self, _: calls::get_autosync::Args) -> Result<bool> {
        Ok(self.autosync)
    }

    fn set_identifier(&mut self, args: calls::set_identifier::Args) -> Result<()> {
        check_identifier(&args.identifier)?;
        self.identifier = args.identifier;
        Ok(())
    }

    fn get_identifier(&mut self, _: calls::get_identifier::Args) -> Result<String> {
        Ok(self.identifier.clone())
    }

    fn set_program(&mut self, args: calls::set_program::Args) -> Result<()> {
        self.program = args.program;
        Ok(())
    }

    fn get_program(&mut self, _: calls::get_program::Args) -> Result<String> {
        Ok(self.program.clone())
    }

    fn set_tmpdir(&mut self, args: calls::set_tmpdir::Args) -> Result<()> {
        self.require_config("set_tmpdir")?;
        // As libguestfs: made absolute (realpath) and checked now.
        self.tmpdir = match args.tmpdir.filter(|d| !d.as_os_str().is_empty()) {
            None => None,
            Some(dir) => {
                let abs = std::fs::canonicalize(&dir).map_err(|e| {
                    invalid(
                        "set_tmpdir",
                        format!("{}: {e}; give an existing directory", dir.display()),
                    )
                })?;
                if !abs.is_dir() {
                    return Err(invalid(
                        "set_tmpdir",
                        format!("{} is not a directory", dir.display()),
                    ));
                }
                Some(abs)
            }
        };
        Ok(())
    }

    fn get_tmpdir(&mut self, _: calls::get_tmpdir::Args) -> Result<std::path::PathBuf> {
        Ok(self.tmpdir_path())
    }

    fn set_cachedir(&mut self, args: calls::set_cachedir::Args) -> Result<()> {
        self.cachedir = match args.cachedir.filter(|d| !d.as_os_str().is_empty()) {
            None => None,
            Some(dir) => Some(existing_dir("set_cachedir", &dir)?),
        };
        Ok(())
    }

    fn get_cachedir(&mut self, _: calls::get_cachedir::Args) -> Result<std::path::PathBuf> {
        Ok(self.cachedir.clone().unwrap_or_else(appliance::cache_dir))
    }

    fn set_recovery_proc(&mut self, args: calls::set_recovery_proc::Args) -> Result<()> {
        self.require_config("set_recovery_proc")?;
        self.recovery_proc = args.recoveryproc;
        Ok(())
    }

    fn get_recovery_proc(&mut self, _: calls::get_recovery_proc::Args) -> Result<bool> {
        Ok(self.recovery_proc)
    }

    fn list_disk_labels(
        &mut self,
        _: calls::list_disk_labels::Args,
    ) -> Result<Vec<(String, String)>> {
        let labelled: Vec<(String, String)> = self
            .drives
            .iter()
            .enumerate()
            .filter_map(|(i, d)| Some((d.options.label.clone()?, disk_name(i))))
            .collect();
        if labelled.is_empty() {
            return Ok(Vec::new());
        }
        let partitions = self.list_partitions()?;
        Ok(disk_labels(&labelled, &partitions))
    }

    fn set_network(&mut self, args: calls::set_network::Args) -> Result<()> {
        if args.network {
            return Err(invalid(
                "set_network",
                "libguest's appliance has no network device; bring files in with upload, copy_in or tar_in",
            ));
        }
        Ok(())
    }

    fn get_network(&mut self, _: calls::get_network::Args) -> Result<bool> {
        Ok(false)
    }

    fn get_pid(&mut self, _: calls::get_pid::Args) -> Result<i64> {
        match &self.state {
            State::Running(run) => Ok(i64::from(run.appliance.process_id())),
            _ => Err(Error::State {
                call: "get_pid",
                reason: "the appliance is not running; call launch() first",
            }),
        }
    }

    fn get_state(&mut self, _: calls::get_state::Args) -> Result<i64> {
        Ok(match self.state {
            State::Running(_) => 2,
            State::Config | State::Closed => 0,
        })
    }

    fn is_config(&mut self, _: calls::is_config::Args) -> Result<bool> {
        // As get_state: libguestfs goes back to config when the appliance goes.
        Ok(!matches!(self.state, State::Running(_)))
    }

    fn is_launching(&mut self, _: calls::is_launching::Args) -> Result<bool> {
        Ok(false)
    }

    fn is_ready(&mut self, _: calls::is_ready::Args) -> Result<bool> {
        Ok(matches!(self.state, State::Running(_)))
    }

    fn is_busy(&mut self, _: calls::is_busy::Args) -> Result<bool> {
        Ok(false)
    }

    fn add_drive(&mut self, args: calls::add_drive::Args) -> Result<()> {
        self.add_drive_with("add_drive", &args.filename, DriveOptions::default())
    }

    fn add_drive_ro(&mut self, args: calls::add_drive_ro::Args) -> Result<()> {
        let options = DriveOptions {
            readonly: true,
            ..Default::default()
        };
        self.add_drive_with("add_drive_ro", &args.filename, options)
    }

    fn add_drive_opts(&mut self, args: calls::add_drive_opts::Args) -> Result<()> {
        let options = drive_options(&args)?;
        self.add_drive_with("add_drive_opts", &args.filename, options)
    }

    fn add_drive_scratch(&mut self, args: calls::add_drive_scratch::Args) -> Result<()> {
        const CALL: &str = "add_drive_scratch";
        self.require_config(CALL)?;
        check_label(CALL, &args.label)?;
        check_blocksize(CALL, args.blocksize)?;
        let size = u64::try_from(args.size).map_err(|_| {
            invalid(
                "add_drive_scratch",
                format!("size {}: give a positive multiple of 512", args.size),
            )
        })?;
        let mut drive = Drive::scratch(size, &self.tmpdir_path())?;
        drive.options.label = args.label;
        self.drives.push(drive);
        Ok(())
    }

    fn launch(&mut self, _: calls::launch::Args) -> Result<()> {
        self.launch_appliance()
    }

    fn shutdown(&mut self, _: calls::shutdown::Args) -> Result<()> {
        self.shutdown_appliance()
    }

    fn user_cancel(&mut self, _: calls::user_cancel::Args) -> Result<()> {
        // With the handle free no call is in flight: cancel() finds none.
        if let Some(cancel) = self.cancel_handle() {
            cancel.cancel();
        }
        Ok(())
    }

    fn feature_available(&mut self, args: calls::feature_available::Args) -> Result<bool> {
        groups::all_available("feature_available", &args.groups)
    }

    fn available(&mut self, args: calls::available::Args) -> Result<()> {
        groups::require("available", &args.groups)
    }

    fn available_all_groups(
        &mut self,
        _: calls::available_all_groups::Args,
    ) -> Result<Vec<String>> {
        Ok(groups::GROUPS
            .iter()
            .map(|(name, _)| name.to_string())
            .collect())
    }

    fn disk_format(&mut self, args: calls::disk_format::Args) -> Result<String> {
        images::disk_format(&args.filename)
    }

    fn disk_virtual_size(&mut self, args: calls::disk_virtual_size::Args) -> Result<i64> {
        images::disk_virtual_size(&args.filename)
    }

    fn disk_has_backing_file(&mut self, args: calls::disk_has_backing_file::Args) -> Result<bool> {
        images::disk_has_backing_file(&args.filename)
    }

    fn disk_create(&mut self, args: calls::disk_create::Args) -> Result<()> {
        images::disk_create(args)
    }
}

#[cfg(test)]
mod tests;
