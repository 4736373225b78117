//! The `Guest` handle: configure, launch, call, shut down.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::{ErrorKind, ErrorReply};
use vmm::{ConsoleLog, ExitReason, KvmStatus};

use crate::appliance::Appliance as ApplianceFiles;
use crate::backend::{self, Appliance, Backend, ChannelIo, LaunchSpec};
use crate::connection::{CallFailure, CancelHandle, Connection, Stream};
use crate::drive::{Drive, DriveOptions};
use crate::error::{Error, Result};
use crate::READY_LINE;

/// How a boot attempt ended.
#[derive(Debug, PartialEq, Eq)]
enum Boot {
    Ready,
    Exited(ExitReason),
    /// Not one vCPU exit after NEVER_RAN_AFTER: the guest never started.
    NeverRan,
    TimedOut,
}

const NEVER_RAN_AFTER: Duration = Duration::from_secs(5);

/// Waits for guest-init's ready line, watching that the guest runs at all.
fn wait_until_ready(appliance: &dyn Appliance, deadline: Instant) -> Boot {
    let started = Instant::now();
    let console = appliance.console();
    loop {
        let slice = (Instant::now() + Duration::from_millis(500)).min(deadline);
        match console.wait_for_line(|l| l == READY_LINE.as_bytes(), 0, slice) {
            vmm::LineWait::Found(..) => return Boot::Ready,
            vmm::LineWait::Exited(reason) => return Boot::Exited(reason),
            vmm::LineWait::TimedOut if Instant::now() >= deadline => return Boot::TimedOut,
            vmm::LineWait::TimedOut => {
                if appliance.exit_count() == Some(0) && started.elapsed() >= NEVER_RAN_AFTER {
                    return Boot::NeverRan;
                }
            }
        }
    }
}

/// Waits for the daemon's hello until the deadline; past it the channel is
/// closed so the blocked read returns.
fn connect(
    io: Arc<dyn ChannelIo>,
    deadline: Instant,
) -> std::result::Result<Connection, CallFailure> {
    let (done, watch) = mpsc::channel::<()>();
    let watched = io.clone();
    let timeout = deadline.saturating_duration_since(Instant::now());
    let watchdog = std::thread::Builder::new()
        .name("libguest-connect".into())
        .spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = watch.recv_timeout(timeout) {
                watched.close();
            }
        });
    let result = Connection::open(io);
    drop(done);
    if let Ok(handle) = watchdog {
        let _ = handle.join();
    }
    result
}

/// Lines of console output carried in boot and shutdown errors.
const ERROR_TAIL_LINES: usize = 40;
const POWER_OFF_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a call that lost its channel waits for the appliance to
/// report why it stopped.
const EXIT_REASON_GRACE: Duration = Duration::from_secs(2);

struct Running {
    appliance: Box<dyn Appliance>,
    conn: Connection,
    /// The key of the tools layer loaded into the appliance, if any.
    tools_loaded: Option<String>,
}

enum State {
    Config,
    Running(Box<Running>),
    Closed,
}

/// A handle on one appliance, as `guestfs_h` is in libguestfs.
pub struct Guest {
    drives: Vec<Drive>,
    kernel: Option<PathBuf>,
    memsize_mib: u64,
    smp: u8,
    verbose: bool,
    append: Option<String>,
    launch_timeout: Duration,
    console_file: Option<PathBuf>,
    backend: Backend,
    state: State,
    console: Option<ConsoleLog>,
    launch_duration: Option<Duration>,
    backend_used: Option<&'static str>,
}

impl Guest {
    /// A new handle. Nothing is started until [`Guest::launch`]. The
    /// backend comes from `LIBGUEST_BACKEND` (auto, kvm, tcg) if set.
    pub fn new() -> Result<Guest> {
        let backend = match std::env::var("LIBGUEST_BACKEND") {
            Ok(v) => v.parse().map_err(|reason| Error::State {
                call: "new",
                reason: Box::leak(format!("LIBGUEST_BACKEND: {reason}").into_boxed_str()),
            })?,
            Err(_) => Backend::Auto,
        };
        Ok(Guest {
            drives: Vec::new(),
            kernel: None,
            memsize_mib: 512,
            smp: 1,
            verbose: false,
            append: None,
            launch_timeout: Duration::from_secs(60),
            console_file: None,
            backend,
            state: State::Config,
            console: None,
            launch_duration: None,
            backend_used: None,
        })
    }
    fn require_config(&self, call: &'static str) -> Result<()> {
        match self.state {
            State::Config => Ok(()),
            _ => Err(Error::State {
                call,
                reason: "the handle has already been launched; configure it before launch()",
            }),
        }
    }

    /// Adds a disk image. Drives appear in the appliance in the order added.
    pub fn add_drive_opts(&mut self, path: impl AsRef<Path>, options: DriveOptions) -> Result<()> {
        self.require_config("add_drive_opts")?;
        self.drives.push(Drive::open(path.as_ref(), options)?);
        Ok(())
    }

    /// Adds a blank temporary disk of `size` bytes (a multiple of 512),
    /// deleted at shutdown.
    pub fn add_drive_scratch(&mut self, size: u64) -> Result<()> {
        self.require_config("add_drive_scratch")?;
        self.drives.push(Drive::scratch(size)?);
        Ok(())
    }

    pub fn add_drive(&mut self, path: impl AsRef<Path>) -> Result<()> {
        self.add_drive_opts(path, DriveOptions::default())
    }

    pub fn add_drive_ro(&mut self, path: impl AsRef<Path>) -> Result<()> {
        self.add_drive_opts(
            path,
            DriveOptions {
                readonly: true,
                ..Default::default()
            },
        )
    }

    pub fn drives(&self) -> &[Drive] {
        &self.drives
    }

    /// Appliance memory in MiB (default 512).
    pub fn set_memsize(&mut self, mib: u64) -> Result<()> {
        self.require_config("set_memsize")?;
        self.memsize_mib = mib;
        Ok(())
    }

    pub fn get_memsize(&self) -> u64 {
        self.memsize_mib
    }

    /// Number of appliance vCPUs (default 1).
    pub fn set_smp(&mut self, vcpus: u8) -> Result<()> {
        self.require_config("set_smp")?;
        self.smp = vcpus;
        Ok(())
    }

    /// Verbose: the appliance kernel logs at full level to the console.
    pub fn set_verbose(&mut self, verbose: bool) {
        self.verbose = verbose;
    }

    /// Use this kernel instead of the cached build or LIBGUEST_KERNEL.
    pub fn set_kernel(&mut self, path: impl Into<PathBuf>) -> Result<()> {
        self.require_config("set_kernel")?;
        self.kernel = Some(path.into());
        Ok(())
    }

    /// Extra kernel command-line parameters.
    pub fn set_append(&mut self, append: Option<String>) -> Result<()> {
        self.require_config("set_append")?;
        self.append = append;
        Ok(())
    }

    pub fn set_launch_timeout(&mut self, timeout: Duration) {
        self.launch_timeout = timeout;
    }

    /// Also write the appliance console to this file.
    pub fn set_console_file(&mut self, path: Option<PathBuf>) -> Result<()> {
        self.require_config("set_console_file")?;
        self.console_file = path;
        Ok(())
    }

    /// Which hypervisor launch() uses (default: [`Backend::Auto`]).
    pub fn set_backend(&mut self, backend: Backend) -> Result<()> {
        self.require_config("set_backend")?;
        self.backend = backend;
        Ok(())
    }

    /// The backend that runs the appliance ("kvm" or "tcg"), once launched.
    pub fn backend(&self) -> Option<&'static str> {
        self.backend_used
    }

    fn cmdline(&self) -> String {
        crate::appliance::kernel_cmdline(self.verbose, self.append.as_deref())
    }

    /// KVM unless asked otherwise or unless it cannot run Linux here.
    fn use_tcg(&self) -> bool {
        match self.backend {
            Backend::Kvm => false,
            Backend::Tcg => true,
            Backend::Auto => {
                let status = KvmStatus::probe();
                match status.check() {
                    Ok(()) => false,
                    Err(why) => {
                        warn_fallback_once(&why.to_string());
                        true
                    }
                }
            }
        }
    }

    /// Boots the appliance and returns once guest-init is ready to serve.
    pub fn launch(&mut self) -> Result<()> {
        self.require_config("launch")?;
        let started = Instant::now();
        let files = ApplianceFiles::locate(self.kernel.as_deref())?;
        let spec = LaunchSpec {
            kernel: files.kernel,
            initramfs: files.initramfs,
            cmdline: self.cmdline(),
            mem_mib: self.memsize_mib,
            vcpus: self.smp,
            console_file: self.console_file.clone(),
            drives: &self.drives,
        };
        let mut appliance: Box<dyn Appliance> = if self.use_tcg() {
            backend::qemu::launch(&spec).map(|a| Box::new(a) as Box<dyn Appliance>)?
        } else {
            Box::new(backend::kvm::launch(&spec)?)
        };
        self.backend_used = Some(appliance.name());
        self.console = Some(appliance.console());
        let deadline = started + self.launch_timeout;
        let outcome = wait_until_ready(appliance.as_ref(), deadline);
        if outcome == Boot::Ready {
            match connect(appliance.channel(), deadline) {
                Ok(conn) => {
                    if conn.hello.daemon_version != env!("CARGO_PKG_VERSION") {
                        tracing::warn!(
                            "guest-init is version {}, the library {}",
                            conn.hello.daemon_version,
                            env!("CARGO_PKG_VERSION")
                        );
                    }
                    self.launch_duration = Some(started.elapsed());
                    self.state = State::Running(Box::new(Running {
                        appliance,
                        conn,
                        tools_loaded: None,
                    }));
                    return Ok(());
                }
                Err(failure) => {
                    let reason = appliance.console().exit_reason();
                    appliance.stop();
                    self.state = State::Closed;
                    return Err(match (failure, reason) {
                        (_, Some(reason)) => self.died(reason),
                        (CallFailure::Protocol(message), None) => Error::Protocol {
                            call: "launch",
                            message,
                        },
                        (_, None) => Error::LaunchTimeout {
                            seconds: self.launch_timeout.as_secs(),
                            console_tail: format!(
                                "{}\n[libguest: guest-init did not open the API channel]",
                                self.console_tail()
                            ),
                        },
                    });
                }
            }
        }
        appliance.stop();
        self.state = State::Closed;
        Err(match outcome {
            Boot::Exited(reason) => self.died(reason),
            // Seen only under nested KVM (KVM inside qemu TCG): KVM_RUN never
            // executes the first instruction, and no later VM on that host
            // fares better. Failing in seconds beats a 60 s timeout.
            Boot::NeverRan => self.died(ExitReason::Crashed(format!(
                "the hypervisor never ran the appliance's vCPU (no VM exit in {} s): this host's KVM is not working",
                NEVER_RAN_AFTER.as_secs()
            ))),
            Boot::Ready | Boot::TimedOut => Error::LaunchTimeout {
                seconds: self.launch_timeout.as_secs(),
                console_tail: self.console_tail(),
            },
        })
    }

    /// Time from `launch()` being called to guest-init being ready.
    pub fn launch_duration(&self) -> Option<Duration> {
        self.launch_duration
    }

    pub fn is_ready(&self) -> bool {
        matches!(self.state, State::Running(_))
    }

    /// A handle that cancels the call in progress from another thread;
    /// None before launch.
    pub fn cancel_handle(&self) -> Option<CancelHandle> {
        match &self.state {
            State::Running(run) => Some(run.conn.cancel_handle()),
            _ => None,
        }
    }

    /// Unmounts the guest filesystems, syncs, powers the appliance off and
    /// waits until it is gone; then every drive is flushed on the host.
    /// Calling it on a handle that was never launched, or twice, does
    /// nothing.
    pub fn shutdown(&mut self) -> Result<()> {
        if matches!(self.state, State::Running(_)) {
            // Clean unmounts first (journals closed); failures here still
            // leave the power-off's sync.
            if let Err(e) = self.umount_all() {
                tracing::warn!("libguest: umount_all at shutdown: {e}");
            }
            if let Err(e) = self.internal_poweroff() {
                tracing::warn!("libguest: power-off request: {e}");
            }
        }
        let State::Running(mut run) = std::mem::replace(&mut self.state, State::Closed) else {
            return Ok(());
        };
        let deadline = Instant::now() + POWER_OFF_TIMEOUT;
        let reason = run.appliance.console().wait_exit(deadline);
        run.appliance.stop();
        // The guest synced; now make the host side durable too (qcow2
        // metadata caches, page cache of raw files).
        for drive in &self.drives {
            drive.backend.flush().map_err(|e| Error::Drive {
                path: match &drive.source {
                    crate::DriveSource::File(p) => p.clone(),
                    crate::DriveSource::Scratch(_) => "<scratch>".into(),
                },
                reason: format!("flushing at shutdown: {e}"),
            })?;
        }
        match reason {
            Some(ExitReason::Reset) => Ok(()),
            Some(other) => Err(self.died(other)),
            None => Err(Error::ShutdownTimeout {
                seconds: POWER_OFF_TIMEOUT.as_secs(),
                console_tail: self.console_tail(),
            }),
        }
    }

    /// Runs one call over the channel (the generated methods in api.rs
    /// come here).
    pub(crate) fn call<R: serde::de::DeserializeOwned>(
        &mut self,
        meta: protocol::CallMeta,
        args: &impl serde::Serialize,
        stream: Stream<'_>,
    ) -> Result<R> {
        let (call, proc_nr) = (meta.name, meta.proc_nr);
        if meta.needs_tools {
            self.ensure_tools(call)?;
        }
        let State::Running(run) = &mut self.state else {
            return Err(Error::State {
                call,
                reason: "the appliance is not running; call launch() first",
            });
        };
        let payload = postcard::to_allocvec(args).map_err(|e| Error::InvalidArgument {
            call,
            message: format!("cannot encode the arguments: {e}"),
        })?;
        let failure = match run.conn.call(proc_nr, &payload, stream) {
            Ok(bytes) => {
                return postcard::from_bytes(&bytes).map_err(|e| {
                    self.close_after_failure();
                    Error::Protocol {
                        call,
                        message: format!("the reply does not decode: {e}"),
                    }
                })
            }
            Err(failure) => failure,
        };
        Err(match failure {
            CallFailure::Daemon(reply) => map_reply(call, reply),
            CallFailure::TooLarge(len) => Error::TooLarge {
                call,
                message: format!(
                    "the request is {len} bytes, over the {} MiB message limit; use upload for large data",
                    protocol::frame::MAX_PAYLOAD >> 20
                ),
            },
            CallFailure::Host(source) => Error::HostIo {
                call,
                what: "host-side I/O of the streamed data failed (the call was cancelled)".into(),
                source,
            },
            CallFailure::Protocol(message) => {
                self.close_after_failure();
                Error::Protocol { call, message }
            }
            CallFailure::Channel(e) => {
                tracing::debug!("{call}: channel failed: {e}");
                let reason = self.close_after_failure();
                self.died(reason)
            }
        })
    }

    /// Loads the tools layer (mkfs and friends) into the appliance the
    /// first time a call needs it.
    fn ensure_tools(&mut self, call: &'static str) -> Result<()> {
        use crate::appliance::tools;
        let State::Running(run) = &self.state else {
            return Ok(()); // call() says the appliance is not running
        };
        // A few stat calls: a tool installed on the host since the last
        // load makes a new key, so "install it and retry" works.
        let key = tools::tools_key();
        if run.tools_loaded.as_deref() == Some(key.as_str()) {
            return Ok(());
        }
        let started = Instant::now();
        let layer = tools::build_tools_layer().map_err(|e| match e {
            Error::Appliance { what, source } => Error::Appliance {
                what: format!("tools layer for {call}: {what}"),
                source,
            },
            other => other,
        })?;
        let built = started.elapsed();
        self.internal_load_tools(layer.path.as_path())?;
        tracing::debug!(
            "{call}: tools layer {} ({:?}) built in {built:?}, loaded in {:?}",
            layer.key,
            layer.tools,
            started.elapsed() - built
        );
        if let State::Running(run) = &mut self.state {
            run.tools_loaded = Some(layer.key);
        }
        Ok(())
    }

    /// The channel broke: the appliance is gone or unusable. Stop it and
    /// return why it stopped.
    fn close_after_failure(&mut self) -> ExitReason {
        let State::Running(mut run) = std::mem::replace(&mut self.state, State::Closed) else {
            return ExitReason::Stopped;
        };
        let grace = Instant::now() + EXIT_REASON_GRACE;
        let reason = run.appliance.console().wait_exit(grace);
        let stopped = run.appliance.stop();
        reason.unwrap_or(ExitReason::Crashed(format!(
            "the API channel closed while the appliance was running ({})",
            describe(&stopped)
        )))
    }

    /// The appliance console so far (bounded: the oldest output may be gone).
    pub fn console_log(&self) -> String {
        self.console
            .as_ref()
            .map(|c| c.snapshot().text)
            .unwrap_or_default()
    }

    pub(crate) fn console_tail(&self) -> String {
        self.console
            .as_ref()
            .map(|c| c.tail(ERROR_TAIL_LINES))
            .unwrap_or_default()
    }

    fn died(&self, reason: ExitReason) -> Error {
        let console_tail = self.console_tail();
        if console_tail.contains("Kernel panic") {
            Error::KernelPanic { console_tail }
        } else {
            Error::GuestDied {
                reason: describe(&reason),
                console_tail,
            }
        }
    }
}

fn describe(reason: &ExitReason) -> String {
    match reason {
        ExitReason::Reset => "the guest rebooted".into(),
        ExitReason::TripleFault => "triple fault".into(),
        ExitReason::Crashed(why) => why.clone(),
        ExitReason::Stopped => "stopped by the host".into(),
    }
}

/// One line on stderr, once per process: the fallback is slow and the
/// user should know why.
fn warn_fallback_once(why: &str) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        eprintln!(
            "libguest: warning: KVM cannot run the appliance here, using qemu TCG (slow): {why}"
        );
    });
    tracing::warn!("KVM unavailable, falling back to qemu TCG: {why}");
}

/// The daemon's error, as a typed error.
fn map_reply(call: &'static str, reply: ErrorReply) -> Error {
    let message = reply.message;
    match reply.kind {
        ErrorKind::Errno => match reply.errno {
            libc::ENOENT => Error::NotFound { call, message },
            libc::EACCES | libc::EPERM => Error::PermissionDenied { call, message },
            libc::EROFS => Error::ReadOnly { call, message },
            libc::EEXIST => Error::AlreadyExists { call, message },
            libc::ENOTDIR => Error::NotADirectory { call, message },
            libc::EISDIR => Error::IsADirectory { call, message },
            libc::ENOTEMPTY => Error::DirectoryNotEmpty { call, message },
            libc::ENOSPC => Error::NoSpace { call, message },
            libc::EINVAL => Error::InvalidArgument { call, message },
            errno => Error::Guest {
                call,
                errno,
                message,
            },
        },
        ErrorKind::InvalidArgument => Error::InvalidArgument { call, message },
        ErrorKind::NotMounted => Error::NotMounted { call, message },
        ErrorKind::Cancelled => Error::Cancelled { call },
        ErrorKind::TooLarge => Error::TooLarge { call, message },
        ErrorKind::UnknownProcedure | ErrorKind::Other => Error::Guest {
            call,
            errno: 0,
            message,
        },
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::warn!("libguest: shutdown while dropping the handle: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_line_matches_guest_init() {
        let src = include_str!("../../guest-init/src/main.rs");
        assert!(src.contains(&format!("pub const READY_LINE: &str = {READY_LINE:?};")));
    }

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
                call: "add_drive_opts",
                ..
            }
        ));
    }

    #[test]
    fn shutdown_before_launch_is_a_no_op() {
        let mut g = Guest::new().unwrap();
        g.shutdown().unwrap();
        g.shutdown().unwrap();
        assert_eq!(g.console_log(), "");
    }

    #[test]
    fn quiet_unless_verbose() {
        let mut g = Guest::new().unwrap();
        assert!(g.cmdline().contains(" quiet"));
        g.set_verbose(true);
        g.set_append(Some("foo=bar".into())).unwrap();
        assert!(!g.cmdline().contains("quiet"));
        assert!(g.cmdline().ends_with(" foo=bar"));
    }
}
