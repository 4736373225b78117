//! Configuring a handle before launch: drives, memory, kernel, console,
//! timeouts, backend. Setters that shape the appliance fail once it is
//! launched ([`Error::State`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::kill::KillState;
use super::{shutdown, Guest, KillHandle, State};
use crate::backend::{Backend, UnknownBackend};
use crate::drive::{Drive, DriveOptions};
use crate::error::{Error, Result};

/// The backend `LIBGUEST_BACKEND` asks for (`None`: unset or not UTF-8).
fn backend_from_env(value: Option<String>) -> std::result::Result<Backend, UnknownBackend> {
    value.map_or(Ok(Backend::Auto), |v| v.parse())
}

/// Whether `name` is set to 1 (as libguestfs reads LIBGUESTFS_TRACE).
fn env_flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| v == "1")
}

/// The name this process was started as (libguestfs's default program).
fn default_program() -> String {
    std::env::args_os()
        .next()
        .and_then(|arg0| {
            Path::new(&arg0)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default()
}

impl Guest {
    /// A new handle. Nothing is started until [`Guest::launch`]. The
    /// backend comes from `LIBGUEST_BACKEND` (auto, kvm, tcg) if set;
    /// `LIBGUEST_TRACE=1` turns tracing on, `LIBGUEST_DEBUG=1` verbose.
    pub fn new() -> Result<Guest> {
        let backend = backend_from_env(std::env::var("LIBGUEST_BACKEND").ok())
            .map_err(|source| Error::BackendVar { source })?;
        Ok(Guest {
            drives: Vec::new(),
            kernel: None,
            memsize_mib: 512,
            smp: 1,
            verbose: env_flag("LIBGUEST_DEBUG"),
            trace: env_flag("LIBGUEST_TRACE"),
            autosync: true,
            identifier: String::new(),
            program: default_program(),
            append: None,
            launch_timeout: Duration::from_secs(60),
            console_file: None,
            tmpdir: None,
            cachedir: None,
            recovery_proc: true,
            console_file_limit: vmm::DEFAULT_CONSOLE_FILE_LIMIT,
            backend,
            call_timeout: None,
            shutdown_timeout: shutdown::DEFAULT_SHUTDOWN_TIMEOUT,
            shutdown_step: None,
            kill: Arc::new(KillState::default()),
            state: State::Config,
            console: None,
            launch_duration: None,
            backend_used: None,
            keys: Vec::new(),
            key_prompt: None,
        })
    }

    pub(super) fn require_config(&self, call: &'static str) -> Result<()> {
        match self.state {
            State::Config => Ok(()),
            _ => Err(Error::State {
                call,
                reason: "the handle has already been launched; configure it before launch()",
            }),
        }
    }

    /// Adds a drive opened with `options`; `call` names the API call in
    /// errors. Drives appear in the appliance in the order added.
    pub(super) fn add_drive_with(
        &mut self,
        call: &'static str,
        path: &Path,
        options: DriveOptions,
    ) -> Result<()> {
        self.require_config(call)?;
        let tmpdir = self.tmpdir_path();
        self.drives.push(Drive::open(path, options, &tmpdir)?);
        Ok(())
    }

    /// The drives added so far, in the order the appliance sees them.
    pub fn drives(&self) -> &[Drive] {
        &self.drives
    }

    /// The directory for temporary stores: the one given to
    /// [`Guest::set_tmpdir`], else `LIBGUEST_TMPDIR`, else `$TMPDIR`, else
    /// /tmp.
    pub(crate) fn tmpdir_path(&self) -> PathBuf {
        self.tmpdir
            .clone()
            .unwrap_or_else(crate::drive::default_tmpdir)
    }

    /// Use this kernel instead of the cached build or LIBGUEST_KERNEL.
    pub fn set_kernel(&mut self, path: impl Into<PathBuf>) -> Result<()> {
        self.require_config("set_kernel")?;
        self.kernel = Some(path.into());
        Ok(())
    }

    /// How long [`Guest::launch`] waits for guest-init (default 60 s).
    pub fn set_launch_timeout(&mut self, timeout: Duration) {
        self.launch_timeout = timeout;
    }

    /// Also write the appliance console to this file (created if
    /// missing, existing content kept). A regular file is capped at
    /// [`Guest::set_console_file_limit`] (default 16 MiB): past it, the
    /// file keeps its newest half behind a marker line, so a guest that
    /// prints forever cannot fill the host's disk.
    pub fn set_console_file(&mut self, path: Option<PathBuf>) -> Result<()> {
        self.require_config("set_console_file")?;
        self.console_file = path;
        Ok(())
    }

    /// The console file's size cap in bytes (default 16 MiB, at least
    /// 4 KiB). Existing content counts toward it.
    pub fn set_console_file_limit(&mut self, bytes: u64) -> Result<()> {
        self.require_config("set_console_file_limit")?;
        if bytes < vmm::MIN_CONSOLE_FILE_LIMIT {
            return Err(Error::InvalidArgument {
                call: "set_console_file_limit",
                message: format!(
                    "{bytes} bytes is below the smallest console file limit, {} bytes",
                    vmm::MIN_CONSOLE_FILE_LIMIT
                ),
            });
        }
        self.console_file_limit = bytes;
        Ok(())
    }

    /// A timeout for every call from now on (default: none). A call past
    /// it is cancelled; if the daemon does not answer the cancel within
    /// 5 s, the appliance is stopped. Either way the call returns
    /// [`Error::CallTimeout`].
    pub fn set_call_timeout(&mut self, timeout: Option<Duration>) {
        self.call_timeout = timeout;
    }

    /// The timeout of every call ([`Guest::set_call_timeout`]).
    pub fn get_call_timeout(&self) -> Option<Duration> {
        self.call_timeout
    }

    /// A handle that kills the appliance from any thread (see
    /// [`KillHandle`]); available before launch too.
    pub fn kill_handle(&self) -> KillHandle {
        KillHandle {
            state: self.kill.clone(),
        }
    }

    /// The backend that runs the appliance ("kvm" or "tcg"), once launched.
    pub fn backend(&self) -> Option<&'static str> {
        self.backend_used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drives_after_launch_and_missing_drives_are_refused() {
        let mut g = Guest::new().unwrap();
        let err = g.add_drive("/nonexistent/disk.img").unwrap_err();
        assert!(err.to_string().contains("/nonexistent/disk.img"), "{err}");
        g.state = State::Closed;
        let f = tempfile::NamedTempFile::new().unwrap();
        let err = g.add_drive_ro(f.path()).unwrap_err();
        assert!(matches!(
            err,
            Error::State {
                call: "add_drive_ro",
                ..
            }
        ));
    }

    #[test]
    fn console_file_limits_below_the_minimum_are_refused() {
        let mut g = Guest::new().unwrap();
        let err = g.set_console_file_limit(100).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
        g.set_console_file_limit(1 << 20).unwrap();
        assert_eq!(g.console_file_limit, 1 << 20);
    }

    #[test]
    fn libguest_backend_is_parsed_with_a_typed_error() {
        assert_eq!(backend_from_env(None), Ok(Backend::Auto));
        assert_eq!(backend_from_env(Some("tcg".into())), Ok(Backend::Tcg));
        let source = backend_from_env(Some("xen".into())).unwrap_err();
        assert_eq!(source.name, "xen");
        let err = Error::BackendVar { source };
        assert_eq!(
            err.to_string(),
            "new: LIBGUEST_BACKEND: unknown backend \"xen\" (expected auto, kvm or tcg)"
        );
        let source = std::error::Error::source(&err).expect("a typed source");
        assert!(source.downcast_ref::<UnknownBackend>().is_some());
    }
}
