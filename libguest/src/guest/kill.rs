//! [`KillHandle`]: stops a handle's appliance from any thread, whatever
//! the guest does. The handle's thread may be blocked in a call, in
//! `launch()` or in `shutdown()`; each returns [`crate::Error::Killed`]
//! once the appliance is gone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::backend::Kill;

/// What a `Guest` and its kill handles share.
#[derive(Default)]
pub(crate) struct KillState {
    killed: AtomicBool,
    /// The running appliance's switch; None before launch and once it is
    /// stopped.
    target: Mutex<Option<Arc<dyn Kill>>>,
}

impl KillState {
    pub(crate) fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// The appliance is running: kills reach it from now on (at once, if
    /// one came before).
    pub(crate) fn arm(&self, switch: Arc<dyn Kill>) {
        *self.lock() = Some(switch.clone());
        if self.is_killed() {
            switch.kill();
        }
    }

    /// The appliance is stopped: nothing is left to kill.
    pub(crate) fn disarm(&self) {
        self.lock().take();
    }

    fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        // The lock is held only to take a reference, never while killing.
        let target = self.lock().clone();
        if let Some(switch) = target {
            switch.kill();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<dyn Kill>>> {
        self.target.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Stops a [`crate::Guest`]'s appliance at once, from any thread: the
/// API channel closes and the guest stops running (our VMM's vCPUs are
/// kicked out and stopped; qemu is sent SIGKILL). The call in progress
/// and every later one return [`crate::Error::Killed`], and so does a
/// `launch()` under way or to come; the handle is then closed. Guest
/// writes that were not yet synced are lost, as after a power cut.
///
/// Cloneable, `Send` and `Sync`; after the `Guest` is gone, `kill()` does
/// nothing.
#[derive(Clone)]
pub struct KillHandle {
    pub(crate) state: Arc<KillState>,
}

impl KillHandle {
    /// Kills the appliance; returns within a fraction of a second.
    pub fn kill(&self) {
        self.state.kill();
    }

    /// Whether `kill()` was called on this handle's `Guest`.
    pub fn is_killed(&self) -> bool {
        self.state.is_killed()
    }
}

impl std::fmt::Debug for KillHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KillHandle")
            .field("killed", &self.is_killed())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[derive(Default)]
    struct Counting(AtomicU32);

    impl Kill for Counting {
        fn kill(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_kill_before_arming_reaches_the_appliance_once_armed() {
        let state = Arc::new(KillState::default());
        let handle = KillHandle {
            state: state.clone(),
        };
        handle.kill();
        let switch = Arc::new(Counting::default());
        state.arm(switch.clone());
        assert_eq!(switch.0.load(Ordering::SeqCst), 1);
        handle.clone().kill();
        assert_eq!(switch.0.load(Ordering::SeqCst), 2);
        state.disarm();
        handle.kill();
        assert_eq!(switch.0.load(Ordering::SeqCst), 2);
        assert!(handle.is_killed());
    }

    #[test]
    fn the_handle_is_send_and_sync_and_outlives_its_guest() {
        fn send_sync<T: Send + Sync + Clone>() {}
        send_sync::<KillHandle>();
        let handle = crate::Guest::new().unwrap().kill_handle();
        handle.kill();
        assert!(handle.is_killed());
    }
}
