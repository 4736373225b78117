//! The VM's run state, shared by the vCPU threads, the devices that print
//! and the handles that read: the console log (a bounded ring; the guest can
//! print forever, the host keeps only the tail), the exit reason, and the
//! waits on them ("a line appeared or the guest stopped").

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::console::file::ConsoleFile;

/// Why a VM stopped running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitReason {
    /// The guest pulsed the reset line: its reboot or power-off path.
    Reset,
    /// A triple fault: the guest crashed hard (or chose that reboot method).
    TripleFault,
    /// KVM could not go on running the guest.
    Crashed(String),
    /// The host stopped it.
    Stopped,
}

/// What a wait for a console line ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineWait {
    /// Found: the console offset just past the line, and the line.
    Found(u64, String),
    /// The appliance stopped, for this reason, before such a line came.
    Exited(ExitReason),
    /// The deadline passed first; the appliance is still running.
    TimedOut,
}

/// State shared by the vCPU threads and the `Vm` handle. One mutex and one
/// condition variable cover both the console and the exit reason, so a
/// waiter can wait for "a line appeared or the guest stopped" at once.
pub(crate) struct Shared {
    state: Mutex<State>,
    pub(crate) changed: Condvar,
}

pub(crate) struct State {
    pub(crate) console: ConsoleBuffer,
    pub(crate) exit: Option<ExitReason>,
    file: Option<ConsoleFile>,
    /// Run once when the exit reason is first set (e.g. close the channel,
    /// so a caller blocked on it wakes up).
    on_exit: Vec<Box<dyn FnOnce() + Send>>,
}

impl Shared {
    pub(crate) fn new(capacity: usize, file: Option<ConsoleFile>) -> Arc<Shared> {
        Arc::new(Shared {
            state: Mutex::new(State {
                console: ConsoleBuffer::new(capacity),
                exit: None,
                file,
                on_exit: Vec::new(),
            }),
            changed: Condvar::new(),
        })
    }

    /// Locks the state. A panic elsewhere while holding the lock must not
    /// turn into a panic here, so poisoning is ignored: the data is a log.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends guest console output; wakes waiters when a line completes.
    pub(crate) fn append_console(&self, data: &[u8]) {
        let mut st = self.lock();
        st.console.push(data);
        let newline = data.contains(&b'\n');
        if let Some(f) = st.file.as_mut() {
            f.write(data);
        }
        drop(st);
        if newline {
            self.changed.notify_all();
        }
    }

    /// Records why the VM stopped. The first reason wins.
    pub(crate) fn set_exit(&self, reason: ExitReason) {
        let mut st = self.lock();
        if st.exit.is_none() {
            st.exit = Some(reason);
        }
        if let Some(f) = st.file.as_mut() {
            f.flush();
        }
        let hooks = std::mem::take(&mut st.on_exit);
        drop(st);
        self.changed.notify_all();
        for hook in hooks {
            hook();
        }
    }

    /// Runs `hook` when the VM stops (at once if it already has).
    pub(crate) fn on_exit(&self, hook: Box<dyn FnOnce() + Send>) {
        let mut st = self.lock();
        if st.exit.is_none() {
            st.on_exit.push(hook);
            return;
        }
        drop(st);
        hook();
    }
}

/// A byte ring that keeps the last `capacity` bytes of console output, with
/// carriage returns dropped. Offsets are absolute (bytes ever appended), so a
/// reader can resume scanning where it stopped even after the ring wrapped.
pub(crate) struct ConsoleBuffer {
    bytes: VecDeque<u8>,
    capacity: usize,
    evicted: u64,
}

impl ConsoleBuffer {
    pub(crate) fn new(capacity: usize) -> ConsoleBuffer {
        let capacity = capacity.max(1);
        ConsoleBuffer {
            bytes: VecDeque::with_capacity(capacity.min(1 << 20)),
            capacity,
            evicted: 0,
        }
    }

    pub(crate) fn push(&mut self, data: &[u8]) {
        for &b in data.iter().filter(|&&b| b != b'\r') {
            if self.bytes.len() == self.capacity {
                self.bytes.pop_front();
                self.evicted += 1;
            }
            self.bytes.push_back(b);
        }
    }

    /// Bytes dropped from the front because the ring is bounded.
    pub(crate) fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Absolute offset one past the last byte.
    pub(crate) fn end(&self) -> u64 {
        self.evicted + self.bytes.len() as u64
    }

    /// Scans complete lines that start at or after `from` for one that
    /// `matches`. Returns the line and the offset just past it. `from` moves
    /// to the start of the first incomplete line (or past the match), so the
    /// next call scans each byte once.
    pub(crate) fn find_line(
        &self,
        from: &mut u64,
        mut matches: impl FnMut(&[u8]) -> bool,
    ) -> Option<(u64, String)> {
        let start = (*from).max(self.evicted);
        let skip = (start - self.evicted) as usize;
        let mut cur = Vec::new();
        let mut line_start = start;
        for (i, &b) in self.bytes.iter().enumerate().skip(skip) {
            let abs = self.evicted + i as u64;
            if b == b'\n' {
                if matches(&cur) {
                    *from = abs + 1;
                    return Some((abs + 1, String::from_utf8_lossy(&cur).into_owned()));
                }
                cur.clear();
                line_start = abs + 1;
            } else {
                cur.push(b);
            }
        }
        *from = line_start;
        None
    }

    pub(crate) fn contents(&self) -> String {
        let (a, b) = self.bytes.as_slices();
        let mut v = Vec::with_capacity(a.len() + b.len());
        v.extend_from_slice(a);
        v.extend_from_slice(b);
        String::from_utf8_lossy(&v).into_owned()
    }

    /// The last `n` lines (a trailing partial line counts as one).
    pub(crate) fn tail(&self, n: usize) -> String {
        let text = self.contents();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_tail_and_drops_cr() {
        let mut c = ConsoleBuffer::new(8);
        c.push(b"abc\r\ndefghijk\r\n");
        assert_eq!(c.contents(), "efghijk\n");
        assert_eq!(c.end(), 13);
        assert_eq!(c.tail(1), "efghijk");
    }

    #[test]
    fn finds_whole_lines_only_and_resumes() {
        let mut c = ConsoleBuffer::new(1024);
        let mut from = 0;
        c.push(b"x guest-init: ready\nguest-init: rea");
        let ready = |l: &[u8]| l == b"guest-init: ready";
        assert_eq!(c.find_line(&mut from, ready), None);
        assert_eq!(from, 20);
        c.push(b"dy\nmore\n");
        let (end, line) = c.find_line(&mut from, ready).unwrap();
        assert_eq!((end, line.as_str()), (38, "guest-init: ready"));
        assert_eq!(c.find_line(&mut from, ready), None);
        let mut from = 0;
        let (_, more) = c.find_line(&mut from, |l| l.starts_with(b"mo")).unwrap();
        assert_eq!(more, "more");
    }

    #[test]
    fn resumes_after_the_ring_wrapped() {
        let mut c = ConsoleBuffer::new(16);
        let mut from = 0;
        c.push(b"0123456789012345678901234567\nready\n");
        assert_eq!(
            c.find_line(&mut from, |l| l == b"ready").map(|r| r.0),
            Some(35)
        );
    }
}
