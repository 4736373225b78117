//! The `Guest` handle: configure, launch, shut down.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vmm::{ConsoleLog, ExitReason, Vm, VmConfig};

use crate::appliance::Appliance;
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
fn wait_until_ready(vm: &Vm, deadline: Instant) -> Boot {
    let started = Instant::now();
    loop {
        let slice = (Instant::now() + Duration::from_millis(500)).min(deadline);
        match vm.wait_for_line(|l| l == READY_LINE.as_bytes(), 0, slice) {
            vmm::LineWait::Found(..) => return Boot::Ready,
            vmm::LineWait::Exited(reason) => return Boot::Exited(reason),
            vmm::LineWait::TimedOut if Instant::now() >= deadline => return Boot::TimedOut,
            vmm::LineWait::TimedOut => {
                if vm.exit_count() == 0 && started.elapsed() >= NEVER_RAN_AFTER {
                    return Boot::NeverRan;
                }
            }
        }
    }
}

/// Lines of console output carried in boot and shutdown errors.
const ERROR_TAIL_LINES: usize = 40;
const POWER_OFF_TIMEOUT: Duration = Duration::from_secs(30);
const DEBUG_TIMEOUT: Duration = Duration::from_secs(600);

enum State {
    Config,
    Running(Box<Vm>),
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
    state: State,
    console: Option<ConsoleLog>,
    launch_duration: Option<Duration>,
    request_id: u64,
}

impl Guest {
    /// A new handle. Nothing is started until [`Guest::launch`].
    pub fn new() -> Result<Guest> {
        Ok(Guest {
            drives: Vec::new(),
            kernel: None,
            memsize_mib: 512,
            smp: 1,
            verbose: false,
            append: None,
            launch_timeout: Duration::from_secs(60),
            console_file: None,
            state: State::Config,
            console: None,
            launch_duration: None,
            request_id: 0,
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

    fn cmdline(&self) -> String {
        crate::appliance::kernel_cmdline(self.verbose, self.append.as_deref())
    }

    /// Boots the appliance and returns once guest-init is ready to serve.
    pub fn launch(&mut self) -> Result<()> {
        self.require_config("launch")?;
        let started = Instant::now();
        let appliance = Appliance::locate(self.kernel.as_deref())?;
        let mut config = VmConfig::new(appliance.kernel, self.cmdline());
        config.initramfs = Some(appliance.initramfs);
        config.mem_mib = self.memsize_mib;
        config.vcpus = self.smp;
        config.console_file = self.console_file.clone();
        config.disks = self.drives.iter().map(|d| d.backend.clone()).collect();

        let deadline = started + self.launch_timeout;
        let mut vm = Vm::start(&config)?;
        self.console = Some(vm.console());
        let outcome = wait_until_ready(&vm, deadline);
        if outcome == Boot::Ready {
            self.launch_duration = Some(started.elapsed());
            self.state = State::Running(Box::new(vm));
            return Ok(());
        }
        vm.stop();
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

    /// Asks guest-init to sync and power off, and waits for the VM to stop.
    /// Returns only once the appliance is gone. Calling it on a handle that
    /// was never launched, or twice, does nothing.
    pub fn shutdown(&mut self) -> Result<()> {
        let State::Running(mut vm) = std::mem::replace(&mut self.state, State::Closed) else {
            return Ok(());
        };
        let deadline = Instant::now() + POWER_OFF_TIMEOUT;
        vm.send_console_input(b"poweroff\n", deadline);
        let reason = vm.wait_exit(deadline);
        vm.stop();
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

    /// Runs one of guest-init's internal debugging commands and returns its
    /// reply, as libguestfs's `debug` call does. The commands are test
    /// hooks (`blockdevs`, `fill`, `verify`, `write-probe`, `discard`,
    /// `readbench`, `writebench`, `ping`, `sync`); no stability promise.
    pub fn debug(&mut self, subcmd: &str, args: &[&str]) -> Result<String> {
        self.request_id += 1;
        let id = self.request_id;
        let State::Running(vm) = &self.state else {
            return Err(Error::State {
                call: "debug",
                reason: "the appliance is not running; call launch() first",
            });
        };
        let words = std::iter::once(subcmd).chain(args.iter().copied());
        if words
            .clone()
            .any(|w| w.is_empty() || w.contains(char::is_whitespace))
        {
            return Err(Error::Debug(
                "arguments must be non-empty and contain no whitespace".into(),
            ));
        }
        let line = format!("{id} {}\n", words.collect::<Vec<_>>().join(" "));
        let from = vm.console_end();
        let deadline = Instant::now() + DEBUG_TIMEOUT;
        if !vm.send_console_input(line.as_bytes(), deadline) {
            return Err(self.died(vm.exit_reason().unwrap_or(ExitReason::Stopped)));
        }
        let prefix = format!("guest-init: {id} ");
        match vm.wait_for_line(|l| l.starts_with(prefix.as_bytes()), from, deadline) {
            vmm::LineWait::Found(_, reply) => {
                let reply = &reply[prefix.len()..];
                match reply.split_once(' ').unwrap_or((reply, "")) {
                    ("ok", text) => Ok(text.to_string()),
                    (_, text) => Err(Error::Debug(text.to_string())),
                }
            }
            vmm::LineWait::Exited(reason) => Err(self.died(reason)),
            vmm::LineWait::TimedOut => Err(Error::Debug(format!(
                "no reply to {subcmd} within {} s",
                DEBUG_TIMEOUT.as_secs()
            ))),
        }
    }

    /// The appliance console so far (bounded: the oldest output may be gone).
    pub fn console_log(&self) -> String {
        self.console
            .as_ref()
            .map(|c| c.snapshot().text)
            .unwrap_or_default()
    }

    fn console_tail(&self) -> String {
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
