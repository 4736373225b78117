//! `launch()`: boot the appliance on the chosen backend and wait for
//! guest-init's ready line and the API channel, watching that the guest
//! runs at all; the one-line warning when KVM cannot serve and qemu TCG
//! runs instead.

use std::time::{Duration, Instant};

use appliance::BootImages;
use vmm::{ExitReason, ExitStats, KvmStatus};

use super::{Guest, Running, State};
use crate::backend::{self, Appliance, Backend, LaunchSpec};
use crate::connection::{CallFailure, Connection};
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

/// Long enough for a loaded host: under nested KVM in qemu TCG the first
/// exit to us (the first console write) comes seconds into boot, and with
/// the host's CPUs busy 5 s was seen to pass with the guest still booting.
const NEVER_RAN_AFTER: Duration = Duration::from_secs(20);

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

impl Guest {
    fn cmdline(&self) -> String {
        appliance::kernel_cmdline(self.verbose, self.append.as_deref())
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

    /// launch(): boots the appliance and returns once guest-init is ready
    /// to serve.
    pub(super) fn launch_appliance(&mut self) -> Result<()> {
        self.require_config("launch")?;
        if self.kill.is_killed() {
            self.state = State::Closed;
            return Err(Error::Killed { call: "launch" });
        }
        let started = Instant::now();
        let images = BootImages::load(self.kernel.as_deref())?;
        let spec = LaunchSpec {
            kernel: images.kernel,
            initramfs: images.initramfs,
            cmdline: self.cmdline(),
            mem_mib: self.memsize_mib,
            vcpus: self.smp,
            console_file: self.console_file.clone(),
            console_file_limit: self.console_file_limit,
            drives: &self.drives,
        };
        let mut appliance: Box<dyn Appliance> = if self.use_tcg() {
            backend::qemu::launch(&spec).map(|a| Box::new(a) as Box<dyn Appliance>)?
        } else {
            Box::new(backend::kvm::launch(&spec)?)
        };
        self.backend_used = Some(appliance.name());
        self.console = Some(appliance.console());
        self.kill.arm(appliance.kill_switch());
        let deadline = started + self.launch_timeout;
        let outcome = wait_until_ready(appliance.as_ref(), deadline);
        if outcome == Boot::Ready {
            match Connection::open(appliance.channel(), deadline) {
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
                        lvm_checked: false,
                        decrypt_checked: false,
                    }));
                    return Ok(());
                }
                Err(failure) => {
                    let reason = appliance.console().exit_reason();
                    appliance.stop();
                    self.kill.disarm();
                    self.state = State::Closed;
                    return Err(match (failure, reason) {
                        _ if self.kill.is_killed() => Error::Killed { call: "launch" },
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
        self.kill.disarm();
        self.state = State::Closed;
        Err(match outcome {
            _ if self.kill.is_killed() => Error::Killed { call: "launch" },
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

    /// The appliance's VM exits so far, by kind, as KVM counts them (also
    /// those KVM handles itself). These figures carry over from nested or
    /// emulated KVM to hardware, where each exit costs about a microsecond;
    /// wall times do not. Two readings and [`ExitStats::since`] give one
    /// operation's exits.
    ///
    /// `None` before launch and after shutdown, on the qemu TCG backend
    /// (no KVM), and where KVM keeps no statistics (Linux before 5.14).
    pub fn exit_stats(&self) -> Option<ExitStats> {
        match &self.state {
            State::Running(run) => run.appliance.exit_stats(),
            _ => None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_killed_before_launch_does_not_launch() {
        let mut g = Guest::new().unwrap();
        g.kill_handle().kill();
        let err = g.launch().unwrap_err();
        assert!(matches!(err, Error::Killed { call: "launch" }), "{err}");
        g.shutdown().unwrap();
    }

    #[test]
    fn quiet_unless_verbose() {
        let mut g = Guest::new().unwrap();
        assert!(g.cmdline().contains(" quiet"));
        g.set_verbose(true).unwrap();
        g.set_append(Some("foo=bar".into())).unwrap();
        assert!(!g.cmdline().contains("quiet"));
        assert!(g.cmdline().ends_with(" foo=bar"));
    }
}
