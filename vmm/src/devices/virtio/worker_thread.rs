//! A device's worker thread and the eventfd that tells it to stop.

use std::thread::JoinHandle;

use vmm_sys_util::eventfd::EventFd;

pub(crate) struct WorkerThread<T> {
    handle: JoinHandle<T>,
    kill: EventFd,
}

impl<T: Send + 'static> WorkerThread<T> {
    /// Runs `body` on a thread named `name`. `body` gets the eventfd it
    /// must poll and return on; `stop` fires it.
    pub(crate) fn spawn(
        name: &str,
        body: impl FnOnce(EventFd) -> T + Send + 'static,
    ) -> Result<Self, String> {
        let kill = EventFd::new(libc::EFD_NONBLOCK).map_err(|e| e.to_string())?;
        let worker_kill = kill.try_clone().map_err(|e| e.to_string())?;
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || body(worker_kill))
            .map_err(|e| e.to_string())?;
        Ok(WorkerThread { handle, kill })
    }

    /// Stops the thread and returns what it returned; None if it panicked.
    pub(crate) fn stop(self) -> Option<T> {
        let _ = self.kill.write(1);
        let name = self.handle.thread().name().unwrap_or("worker").to_string();
        match self.handle.join() {
            Ok(value) => Some(value),
            Err(_) => {
                tracing::error!("{name} thread panicked");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::poll::wait_readable;

    #[test]
    fn stop_wakes_the_worker_and_returns_its_value() {
        let w = WorkerThread::spawn("test-worker", |kill| {
            wait_readable([&kill]).unwrap();
            42
        })
        .unwrap();
        assert_eq!(w.stop(), Some(42));
    }
}
