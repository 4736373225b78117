//! One CLI session: the handle with its drives, launched before the first
//! command that needs the appliance (guestfish's `run`). The commands
//! that run on it are in [`crate::registry`].

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use libguest::{Backend, DriveOptions, Guest};

use crate::error::{CliError, Result};
use crate::mount::{self, MountSpec};
use crate::prepared::Prepared;

/// What the options asked for.
pub struct Config {
    pub drives: Vec<(PathBuf, DriveOptions)>,
    /// -N: the index in `drives` of each prepared disk.
    pub prepared: Vec<(usize, Prepared)>,
    pub ro: bool,
    pub inspector: bool,
    pub mounts: Vec<MountSpec>,
    /// --key: tried on the encrypted devices before inspection.
    pub keys: Vec<(libguest::KeyTarget, libguest::Key)>,
    /// Where the keys no --key gives are asked for.
    pub key_input: crate::keys::KeyInput,
    pub verbose: bool,
    pub echo: bool,
    /// --pipe-error: a `| pipeline` that stops reading fails the command.
    pub pipe_error: bool,
    pub progress_bars: bool,
    pub backend: Option<Backend>,
    pub kernel: Option<PathBuf>,
    pub memsize: u64,
    pub timeout: u64,
}

impl Config {
    /// A handle set up as the options say, without drives (make-fs uses
    /// one of its own).
    pub fn new_guest(&self) -> Result<Guest> {
        let mut g = Guest::new()?;
        g.set_verbose(self.verbose)?;
        g.set_memsize(i64::try_from(self.memsize).unwrap_or(i64::MAX))?;
        g.set_launch_timeout(Duration::from_secs(self.timeout));
        if let Some(backend) = self.backend {
            g.set_backend(backend)?;
        }
        if let Some(kernel) = &self.kernel {
            g.set_kernel(kernel)?;
        }
        Ok(g)
    }
}

enum Launch {
    NotYet,
    Running,
    Failed,
}

pub struct Session {
    pub config: Config,
    guest: Guest,
    launch: Launch,
    /// Progress bars on stderr: only when it is a terminal.
    pub progress: bool,
}

impl Session {
    /// Adds the drives at once: a missing or unreadable image is reported
    /// before anything boots.
    pub fn new(config: Config) -> Result<Session> {
        let mut guest = config.new_guest()?;
        for (_, p) in &config.prepared {
            p.create()?;
        }
        for (path, options) in &config.drives {
            guest.add_drive_opts(path, options.clone())?;
        }
        for (target, key) in &config.keys {
            guest.add_key(target.clone(), key.as_bytes());
        }
        guest.set_key_prompt(config.key_input.prompt());
        Ok(Session {
            guest,
            launch: Launch::NotYet,
            progress: config.progress_bars && std::io::stderr().is_terminal(),
            config,
        })
    }

    /// The handle as it is, not launched for it: what host calls
    /// (set-memsize, add-drive, disk-create…) run on.
    pub fn handle(&mut self) -> &mut Guest {
        &mut self.guest
    }

    /// Whether the appliance is up (drives can no longer be added).
    pub fn launched(&self) -> bool {
        matches!(self.launch, Launch::Running)
    }

    /// The running handle, launched (and -i / -m mounted) on first use.
    pub fn guest(&mut self) -> Result<&mut Guest> {
        match self.launch {
            Launch::Running => {}
            Launch::Failed => {
                return Err(CliError::msg(
                    "the appliance failed earlier in this session; start libguest again",
                ))
            }
            Launch::NotYet => {
                self.launch = Launch::Failed;
                let result = self.guest.launch();
                if self.config.verbose {
                    errprint!("{}", self.guest.console_log());
                }
                result?;
                self.launch = Launch::Running;
                crate::interrupt::set(self.guest.cancel_handle());
                self.lay_out_prepared()?;
                self.mount_requested()?;
            }
        }
        Ok(&mut self.guest)
    }

    /// -N disks, each on the device its drive became.
    fn lay_out_prepared(&mut self) -> Result<()> {
        if self.config.prepared.is_empty() {
            return Ok(());
        }
        let devices = self.guest.list_devices()?;
        for (index, p) in &self.config.prepared {
            let device = devices.get(*index).ok_or_else(|| {
                CliError::msg(format!(
                    "{}: drive {index} is missing in the appliance",
                    p.file.display()
                ))
            })?;
            p.lay_out(&mut self.guest, device.as_str())?;
        }
        Ok(())
    }

    fn mount_requested(&mut self) -> Result<()> {
        let ro = self.config.ro;
        if self.config.inspector {
            mount::mount_os(&mut self.guest, ro)?;
        }
        // Parents before children, whatever the order on the command line.
        let mut mounts = self.config.mounts.clone();
        mounts.sort_by_key(|m| m.mountpoint.len());
        for m in &mounts {
            m.mount(&mut self.guest, ro)?;
        }
        Ok(())
    }

    /// The launched handle (-i / -m mounted), taken out of the session:
    /// `libguest mount` serves it to the kernel's FUSE requests.
    pub fn into_guest(mut self) -> Result<Guest> {
        self.guest()?;
        crate::interrupt::set(None);
        Ok(self.guest)
    }

    /// Shuts the appliance down (unmount, sync, power off, flush).
    pub fn close(&mut self) -> Result<()> {
        crate::interrupt::set(None);
        self.guest.shutdown()?;
        Ok(())
    }
}
