//! Starting, watching, stopping and reaping the qemu child.
//!
//! qemu is spawned from a watcher thread that lives until the child is
//! reaped: PR_SET_PDEATHSIG fires when the *thread* that forked the child
//! ends, so spawning from the caller's (possibly short-lived) thread could
//! kill a healthy appliance.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use vmm::{ConsoleRecorder, ExitReason};

use super::args::INSTALL_HINT;
use crate::error::{Error, Result};

pub(super) type OnOutput = Box<dyn FnOnce() + Send>;

/// How much of qemu's stderr an abnormal exit reason quotes.
const STDERR_TAIL: usize = 2048;

pub(super) struct Process {
    pid: libc::pid_t,
    /// Set under the lock when the child is reaped; `signal` checks it
    /// under the same lock, so a recycled pid is never signalled.
    reaped: Arc<Mutex<bool>>,
    stopping: Arc<AtomicBool>,
    watcher: Option<JoinHandle<()>>,
}

/// Spawns `cmd`, with `inherit` (the channel socket's qemu end) passed
/// across exec. Console output and qemu's stderr go to `recorder`, and so
/// does the exit reason once the child is reaped. `on_output` runs when
/// the guest first prints: qemu has opened every drive by then.
pub(super) fn spawn(
    mut cmd: Command,
    inherit: OwnedFd,
    recorder: ConsoleRecorder,
    on_output: OnOutput,
) -> Result<Process> {
    let parent = std::process::id() as libc::pid_t;
    let fd = inherit.as_raw_fd();
    // SAFETY: the closure runs in the forked child before exec and makes
    // only async-signal-safe calls (prctl, getppid, fcntl) on plain values.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent died before prctl took effect: nobody would kill us.
            if libc::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            // Clears close-on-exec in the child only, for -chardev fd=N.
            if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let program = cmd.get_program().to_string_lossy().into_owned();
    let reaped = Arc::new(Mutex::new(false));
    let stopping = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let (thread_reaped, thread_stopping) = (reaped.clone(), stopping.clone());
    let watcher = std::thread::Builder::new()
        .name("libguest-qemu".into())
        .spawn(move || {
            let spawned = cmd.spawn();
            // Our copies of qemu's ends: the channel reads EOF once qemu is gone.
            drop(cmd);
            drop(inherit);
            match spawned {
                Ok(child) => {
                    let _ = tx.send(Ok(child.id() as libc::pid_t));
                    watch(
                        child,
                        &thread_reaped,
                        &thread_stopping,
                        &recorder,
                        on_output,
                    );
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        })
        .map_err(|source| Error::QemuIo {
            what: "cannot start the qemu watcher thread".into(),
            source,
        })?;
    let spawned = rx
        .recv()
        .unwrap_or_else(|_| Err(std::io::Error::other("the qemu watcher thread ended")));
    match spawned {
        Ok(pid) => Ok(Process {
            pid,
            reaped,
            stopping,
            watcher: Some(watcher),
        }),
        Err(e) => {
            let _ = watcher.join();
            let hint = match e.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                    format!("; {INSTALL_HINT}")
                }
                _ => String::new(),
            };
            Err(Error::Qemu {
                reason: format!("cannot run {program}: {e}{hint}"),
            })
        }
    }
}

impl Process {
    pub(super) fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// Whether the watcher is still there to be joined.
    pub(super) fn is_watched(&self) -> bool {
        self.watcher.is_some()
    }

    /// Marks the coming exit as asked for by the host.
    pub(super) fn set_stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Sends `sig` to qemu unless it has been reaped already.
    pub(super) fn signal(&self, sig: libc::c_int) {
        signal(self.pid, &self.reaped, sig);
    }

    /// A handle that SIGKILLs qemu from any thread (the owner still joins
    /// the watcher); harmless once qemu is reaped.
    pub(super) fn killer(&self) -> Killer {
        Killer {
            pid: self.pid,
            reaped: self.reaped.clone(),
            stopping: self.stopping.clone(),
        }
    }

    /// Waits until the child is reaped and its exit reason recorded.
    pub(super) fn join(&mut self) {
        if let Some(w) = self.watcher.take() {
            let _ = w.join();
        }
    }
}

fn signal(pid: libc::pid_t, reaped: &Mutex<bool>, sig: libc::c_int) {
    let reaped = reaped.lock().unwrap_or_else(|e| e.into_inner());
    if !*reaped {
        // SAFETY: kill(2) on our own child, which is not reaped (so its pid
        // cannot have been reused) while this lock is held.
        unsafe { libc::kill(pid, sig) };
    }
}

pub(super) struct Killer {
    pid: libc::pid_t,
    reaped: Arc<Mutex<bool>>,
    stopping: Arc<AtomicBool>,
}

impl Killer {
    /// SIGKILL, the exit recorded as asked for by the host.
    pub(super) fn kill(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        signal(self.pid, &self.reaped, libc::SIGKILL);
    }
}

/// Copies a pipe into the console log; keeps the last bytes when `tail`.
/// Runs `first` once the first bytes arrive.
fn pump(
    mut from: impl Read,
    recorder: ConsoleRecorder,
    tail: bool,
    mut first: Option<OnOutput>,
) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return kept,
            Ok(n) => {
                if let Some(f) = first.take() {
                    f();
                }
                recorder.append(&buf[..n]);
                if tail {
                    kept.extend_from_slice(&buf[..n]);
                    let excess = kept.len().saturating_sub(STDERR_TAIL);
                    kept.drain(..excess);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return kept,
        }
    }
}

/// Blocks until the child has exited without reaping it (WNOWAIT), so it
/// can still be signalled safely until `reaped` is set.
fn wait_for_exit(pid: libc::pid_t) {
    loop {
        // SAFETY: an all-zero siginfo_t is a valid value; waitid writes only
        // into it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid(2) on our own child with a valid out pointer.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if rc == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return;
        }
    }
}

fn watch(
    mut child: Child,
    reaped: &Mutex<bool>,
    stopping: &AtomicBool,
    recorder: &ConsoleRecorder,
    on_output: OnOutput,
) {
    let stderr = child.stderr.take().and_then(|e| {
        let rec = recorder.clone();
        std::thread::Builder::new()
            .name("libguest-qemu-err".into())
            .spawn(move || pump(e, rec, true, None))
            .ok()
    });
    if let Some(out) = child.stdout.take() {
        pump(out, recorder.clone(), false, Some(on_output));
    }
    wait_for_exit(child.id() as libc::pid_t);
    let status = {
        let mut reaped = reaped.lock().unwrap_or_else(|e| e.into_inner());
        let status = child.wait();
        *reaped = true;
        status
    };
    let said = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    let reason = exit_reason(status, stopping.load(Ordering::SeqCst), &said);
    recorder.set_exit(reason);
}

/// qemu exits 0 when the guest resets (`-no-reboot`): the guest's
/// power-off. It also exits 0 on SIGTERM, saying so on stderr: that is our
/// stop() or someone else's kill, not the guest.
fn exit_reason(status: std::io::Result<ExitStatus>, stopping: bool, stderr: &[u8]) -> ExitReason {
    let said = String::from_utf8_lossy(stderr);
    let said = said.trim();
    let terminated = said.contains("terminating on signal");
    let crashed = |how: String| match said.is_empty() {
        true => ExitReason::Crashed(how),
        false => ExitReason::Crashed(format!("{how}: {said}")),
    };
    match status {
        Ok(s) if stopping && (s.signal().is_some() || terminated) => ExitReason::Stopped,
        Ok(s) if s.success() && !terminated => ExitReason::Reset,
        Ok(s) => match s.signal() {
            Some(sig) => crashed(format!("qemu was killed by signal {sig}")),
            None => crashed(format!("qemu {s}")),
        },
        Err(_) if stopping => ExitReason::Stopped,
        Err(e) => ExitReason::Crashed(format!("cannot wait for qemu: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_map_to_reasons() {
        let exited = |code: i32| Ok(ExitStatus::from_raw(code << 8));
        assert_eq!(exit_reason(exited(0), false, b""), ExitReason::Reset);
        // A power-off that raced with stop() is still the guest's.
        assert_eq!(exit_reason(exited(0), true, b""), ExitReason::Reset);
        let sigterm = b"qemu-system-x86_64: terminating on signal 15 from pid 1\n";
        assert_eq!(exit_reason(exited(0), true, sigterm), ExitReason::Stopped);
        assert!(matches!(
            exit_reason(exited(0), false, sigterm),
            ExitReason::Crashed(_)
        ));
        let killed = Ok(ExitStatus::from_raw(9));
        assert_eq!(exit_reason(killed, true, b""), ExitReason::Stopped);
        let ExitReason::Crashed(msg) = exit_reason(exited(1), false, b"qemu: bad drive\n") else {
            panic!("not a crash");
        };
        assert!(
            msg.contains("exit status: 1") && msg.ends_with("qemu: bad drive"),
            "{msg}"
        );
        let ExitReason::Crashed(msg) = exit_reason(Ok(ExitStatus::from_raw(9)), false, b"") else {
            panic!("not a crash");
        };
        assert_eq!(msg, "qemu was killed by signal 9");
    }
}
