//! `shutdown()`, bounded: a wedged or hostile appliance cannot keep it
//! (or the drop of a `Guest`) from returning. Each step has a deadline:
//! `umount_all` gets the shutdown timeout as its call timeout, then the
//! power-off request and the wait for the appliance to go get the
//! timeout again; a step that runs over stops the appliance by force.
//! So shutdown returns within about 2 × the timeout + 15 s (the cancel
//! grace of each call and qemu's 3 s to exit on SIGTERM), default 75 s.

use std::time::{Duration, Instant};

use vmm::ExitReason;

use super::{Guest, State};
use crate::error::{Error, Result};

/// How long each step of shutdown() may take by default.
pub(crate) const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
pub(crate) const SHUTDOWN_TIMEOUT_SETTING: &str = "Guest::set_shutdown_timeout";

impl Guest {
    /// How long each step of [`Guest::shutdown`] (and so of dropping the
    /// handle) may take: unmounting, then powering off (default 30 s).
    /// An appliance that runs over is stopped by force and shutdown
    /// returns [`Error::ShutdownTimeout`].
    pub fn set_shutdown_timeout(&mut self, timeout: Duration) {
        self.shutdown_timeout = timeout;
    }

    /// The timeout of each shutdown step ([`Guest::set_shutdown_timeout`]).
    pub fn get_shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout
    }

    /// Unmounts the guest filesystems, syncs, powers the appliance off and
    /// waits until it is gone; then every drive is flushed on the host.
    /// Bounded by [`Guest::set_shutdown_timeout`]: an appliance that does
    /// not finish a step in time is stopped by force (writes it had not
    /// synced may be lost) and this returns [`Error::ShutdownTimeout`].
    /// Calling it on a handle that was never launched, or twice, does
    /// nothing. With autosync off the unmount is skipped (the power-off
    /// still syncs).
    pub(super) fn shutdown_appliance(&mut self) -> Result<()> {
        if !matches!(self.state, State::Running(_)) {
            return Ok(());
        }
        let timeout = self.shutdown_timeout;
        let mut failed = None;
        if self.kill.is_killed() {
            failed = Some(Error::Killed { call: "shutdown" });
        } else if self.autosync {
            // Clean unmounts first (journals closed); a failure that
            // leaves the appliance running still leaves the power-off's
            // sync.
            self.shutdown_step = Some(timeout);
            if let Err(e) = self.umount_all() {
                match self.state {
                    State::Running(_) => tracing::warn!("libguest: umount_all at shutdown: {e}"),
                    _ => failed = Some(e),
                }
            }
        }
        let power_off_by = Instant::now() + timeout;
        if failed.is_none() {
            let left = power_off_by.saturating_duration_since(Instant::now());
            self.shutdown_step = Some(left);
            if let Err(e) = self.internal_poweroff() {
                match self.state {
                    State::Running(_) => tracing::warn!("libguest: power-off request: {e}"),
                    _ => failed = Some(e),
                }
            }
        }
        self.shutdown_step = None;
        let reason = match std::mem::replace(&mut self.state, State::Closed) {
            State::Running(mut run) => {
                let reason = match failed {
                    None => run.appliance.console().wait_exit(power_off_by),
                    Some(_) => None,
                };
                run.appliance.stop();
                reason
            }
            _ => None,
        };
        self.kill.disarm();
        // Whatever the guest did, make the host side durable (qcow2
        // metadata caches, page cache of raw files).
        for drive in &self.drives {
            drive.backend.flush().map_err(|e| drive.error(e))?;
        }
        let timed_out = || Error::ShutdownTimeout {
            seconds: timeout.as_secs(),
            console_tail: self.console_tail(),
        };
        match (failed, reason) {
            (Some(Error::CallTimeout { .. }), _) => Err(timed_out()),
            (Some(e), _) => Err(e),
            (None, Some(ExitReason::Reset)) => Ok(()),
            (None, _) if self.kill.is_killed() => Err(Error::Killed { call: "shutdown" }),
            (None, Some(other)) => Err(self.died(other)),
            (None, None) => Err(timed_out()),
        }
    }
}
