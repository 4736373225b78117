//! The appliance's serial console as the host sees it: read handles on
//! the VM's run state ([`crate::run_state`]: the bounded in-memory log, the
//! guest can print forever and the host keeps only the tail, and the exit
//! reason), and the recorder the qemu fallback writes it with. The copy on
//! disk, if any, is capped too ([`file`]).

pub(crate) mod file;

use std::sync::Arc;
use std::time::Instant;

// The devices and the kill switch reach the run state by its old path.
pub(crate) use crate::run_state::Shared;
use crate::run_state::{ExitReason, LineWait};
pub use file::{ConsoleFile, DEFAULT_CONSOLE_FILE_LIMIT, MIN_CONSOLE_FILE_LIMIT};

/// A read handle on the appliance console, usable after the VM has stopped.
#[derive(Clone)]
pub struct ConsoleLog {
    pub(crate) shared: Arc<Shared>,
}

/// A copy of the console log at one moment.
#[derive(Debug, Clone)]
pub struct ConsoleSnapshot {
    /// The retained text (the oldest output may have been dropped).
    pub text: String,
    /// Bytes dropped from the front because the log is bounded.
    pub dropped_bytes: u64,
}

impl ConsoleLog {
    /// The retained console text and how much was dropped before it.
    pub fn snapshot(&self) -> ConsoleSnapshot {
        let st = self.shared.lock();
        ConsoleSnapshot {
            text: st.console.contents(),
            dropped_bytes: st.console.evicted(),
        }
    }

    /// The last `n` lines of console output.
    pub fn tail(&self, n: usize) -> String {
        self.shared.lock().console.tail(n)
    }

    /// Console offset of the next byte the guest will print.
    pub fn end(&self) -> u64 {
        self.shared.lock().console.end()
    }

    /// Why the appliance stopped, once it has.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.shared.lock().exit.clone()
    }

    /// Waits until a complete console line for which `matches` holds
    /// appears after offset `from`, the appliance stops, or the deadline
    /// passes.
    pub fn wait_for_line(
        &self,
        mut matches: impl FnMut(&[u8]) -> bool,
        from: u64,
        deadline: Instant,
    ) -> LineWait {
        let mut scan = from;
        let mut st = self.shared.lock();
        loop {
            if let Some((end, line)) = st.console.find_line(&mut scan, &mut matches) {
                return LineWait::Found(end, line);
            }
            if let Some(reason) = &st.exit {
                return LineWait::Exited(reason.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return LineWait::TimedOut;
            }
            st = match self.shared.changed.wait_timeout(st, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Waits for the appliance to stop by itself until the deadline.
    pub fn wait_exit(&self, deadline: Instant) -> Option<ExitReason> {
        let mut st = self.shared.lock();
        loop {
            if let Some(reason) = &st.exit {
                return Some(reason.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            st = match self.shared.changed.wait_timeout(st, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// The writing end of a console log for an appliance run by something
/// other than [`crate::Vm`] (the qemu fallback): it records the console
/// bytes and the exit reason, and [`ConsoleRecorder::log`] reads them with
/// the same waits as a VM's console.
#[derive(Clone)]
pub struct ConsoleRecorder {
    shared: Arc<Shared>,
}

impl ConsoleRecorder {
    /// Keeps the last `capacity` bytes, and copies everything to `file`
    /// (itself capped).
    pub fn new(capacity: usize, file: Option<ConsoleFile>) -> ConsoleRecorder {
        ConsoleRecorder {
            shared: Shared::new(capacity, file),
        }
    }

    /// Records console bytes from the guest (and copies them to the file).
    pub fn append(&self, data: &[u8]) {
        self.shared.append_console(data);
    }

    /// Records why the appliance stopped; the first reason wins.
    pub fn set_exit(&self, reason: ExitReason) {
        self.shared.set_exit(reason);
    }

    /// Runs `hook` once when the exit reason is set.
    pub fn on_exit(&self, hook: Box<dyn FnOnce() + Send>) {
        self.shared.on_exit(hook);
    }

    /// A read handle on what was recorded; it stays valid after the run.
    pub fn log(&self) -> ConsoleLog {
        ConsoleLog {
            shared: self.shared.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorders_file_stays_capped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("console.log");
        let file = ConsoleFile::open(&path, 64 * 1024).unwrap();
        let recorder = ConsoleRecorder::new(1024, Some(file));
        for i in 0..100_000u32 {
            recorder.append(format!("guest line {i}\n").as_bytes());
        }
        recorder.set_exit(ExitReason::Stopped);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.len() <= 64 * 1024, "{}", text.len());
        assert!(text.ends_with("guest line 99999\n"));
    }
}
