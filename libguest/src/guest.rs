//! The `Guest` handle: configure ([`config`]), launch ([`launch`]), call
//! ([`call`]), shut down ([`shutdown`]).
//!
//! A wedged or hostile appliance cannot hang the caller: every call can
//! have a timeout, `shutdown()` and drop are bounded ([`shutdown`]), and a
//! [`KillHandle`] stops the appliance from any thread.

mod call;
mod config;
mod handle;
mod keys;
mod kill;
mod launch;
mod lvm;
mod shutdown;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use vmm::{ConsoleLog, ExitReason};

use crate::backend::{Appliance, Backend};
use crate::connection::Connection;
use crate::drive::Drive;
use crate::error::Error;
pub use keys::{parse_key_selector, KeyPrompt, KeySelectorError, KeyTarget};
pub use kill::KillHandle;
use kill::KillState;

/// Lines of console output carried in boot and shutdown errors.
const ERROR_TAIL_LINES: usize = 40;

struct Running {
    appliance: Box<dyn Appliance>,
    conn: Connection,
    /// The key of the tools layer loaded into the appliance, if any.
    tools_loaded: Option<String>,
    /// Whether the disks were checked for LVM volumes to activate (see `lvm`).
    lvm_checked: bool,
    /// Whether inspect_os opened the encrypted devices (see `keys`).
    decrypt_checked: bool,
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
    /// Trace every call on stderr (set_trace).
    trace: bool,
    /// shutdown() unmounts first (set_autosync).
    autosync: bool,
    /// Shown in trace lines (set_identifier).
    identifier: String,
    /// Recorded only (set_program).
    program: String,
    append: Option<String>,
    launch_timeout: Duration,
    console_file: Option<PathBuf>,
    /// Set by set_tmpdir; None = the default (see get_tmpdir).
    tmpdir: Option<PathBuf>,
    /// Set by set_cachedir; None = appliance::cache_dir() (recorded only).
    cachedir: Option<PathBuf>,
    /// set_recovery_proc (recorded only: nothing outlives this process).
    recovery_proc: bool,
    console_file_limit: u64,
    backend: Backend,
    /// Per-call timeout; None: calls wait as long as the appliance runs.
    call_timeout: Option<Duration>,
    /// Each step of shutdown() gets this long (see [`shutdown`]).
    shutdown_timeout: Duration,
    /// While shutdown() runs a step: the timeout of its calls.
    shutdown_step: Option<Duration>,
    kill: Arc<KillState>,
    state: State,
    console: Option<ConsoleLog>,
    launch_duration: Option<Duration>,
    backend_used: Option<&'static str>,
    /// Keys for encrypted devices (add_key), tried by inspect_os.
    keys: Vec<(KeyTarget, protocol::types::Key)>,
    /// Asked for a key no added key gives (set_key_prompt).
    key_prompt: Option<KeyPrompt>,
}

impl Guest {
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

impl Drop for Guest {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown_appliance() {
            tracing::warn!("libguest: shutdown while dropping the handle: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_before_launch_is_a_no_op() {
        let mut g = Guest::new().unwrap();
        g.shutdown().unwrap();
        g.shutdown().unwrap();
        assert_eq!(g.console_log(), "");
    }
}
