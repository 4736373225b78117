//! Stopping a VM from any thread ([`KillSwitch`]), for a caller whose own
//! thread is blocked on a guest that does not answer. The switch never
//! waits for the guest, and it never signals a vCPU thread that has been
//! joined (the owner takes the threads out of the shared list, under its
//! lock, before joining them).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use vmm_sys_util::signal::Killable;

use crate::console::Shared;
use crate::devices::virtio::console::port::ChannelHost as Channel;
use crate::vcpu::kick_signal;
use crate::vm::ExitReason;

pub(crate) fn lock_threads(
    threads: &Mutex<Vec<JoinHandle<()>>>,
) -> std::sync::MutexGuard<'_, Vec<JoinHandle<()>>> {
    // The list is only pushed to and taken whole: a panic cannot leave it
    // half-changed.
    threads.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How long [`KillSwitch::kill`] keeps kicking vCPUs that have not left
/// KVM_RUN yet (a kick can land just before the ioctl and be lost).
const KILL_KICK_FOR: Duration = Duration::from_millis(200);

/// Stops a VM from any thread, at once: the API channel closes (so a
/// caller blocked on it returns), the vCPUs are kicked out of KVM_RUN and
/// stop, and the exit reason becomes [`ExitReason::Stopped`]. The owner's
/// [`crate::Vm::stop`] (or drop) still joins the threads. Harmless once the VM
/// is stopped or gone.
#[derive(Clone)]
pub struct KillSwitch {
    stop: Arc<AtomicBool>,
    vcpus: Arc<Mutex<Vec<JoinHandle<()>>>>,
    shared: Arc<Shared>,
    channel: Option<Channel>,
}

impl KillSwitch {
    pub(crate) fn new(
        stop: Arc<AtomicBool>,
        vcpus: Arc<Mutex<Vec<JoinHandle<()>>>>,
        shared: Arc<Shared>,
        channel: Option<Channel>,
    ) -> KillSwitch {
        KillSwitch {
            stop,
            vcpus,
            shared,
            channel,
        }
    }

    /// Stops the VM now and returns without waiting for the guest (it
    /// kicks the vCPUs for at most 200 ms); see [`KillSwitch`].
    pub fn kill(&self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(channel) = &self.channel {
            channel.close();
        }
        {
            let handles = lock_threads(&self.vcpus);
            let until = Instant::now() + KILL_KICK_FOR;
            loop {
                let mut running = false;
                for handle in handles.iter().filter(|h| !h.is_finished()) {
                    running = true;
                    let _ = handle.kill(kick_signal());
                }
                if !running || Instant::now() >= until {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        self.shared.set_exit(ExitReason::Stopped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vcpu::install_kick_handler;

    /// Stand-ins for vCPU threads: each waits in pause(2), which only a
    /// signal ends, as KVM_RUN on a guest that never exits would.
    fn blocked_threads(stop: &Arc<AtomicBool>, n: usize) -> Vec<JoinHandle<()>> {
        (0..n)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        // SAFETY: pause(2) has no arguments and no effect
                        // but waiting for a signal.
                        unsafe { libc::pause() };
                    }
                })
            })
            .collect()
    }

    #[test]
    fn kill_stops_blocked_threads_from_another_thread_and_is_harmless_after() {
        install_kick_handler().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let vcpus = Arc::new(Mutex::new(blocked_threads(&stop, 2)));
        let shared = Shared::new(1024, None);
        let switch = KillSwitch::new(stop.clone(), vcpus.clone(), shared.clone(), None);
        let remote = switch.clone();
        std::thread::spawn(move || remote.kill()).join().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !lock_threads(&vcpus).iter().all(|h| h.is_finished()) {
            assert!(Instant::now() < deadline, "a thread was not stopped");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(shared.lock().exit, Some(ExitReason::Stopped));
        // The owner joins; a later kill finds nothing to signal.
        for h in std::mem::take(&mut *lock_threads(&vcpus)) {
            h.join().unwrap();
        }
        switch.kill();
    }
}
