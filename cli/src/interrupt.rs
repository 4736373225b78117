//! Ctrl-C: the first one cancels the API call in progress (a long copy,
//! a tar-out) through the handle's `CancelHandle`, so the shell and the
//! appliance survive; a second one within a few seconds, or one while no
//! appliance runs, ends the program as SIGINT would.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use libguest::CancelHandle;

static CURRENT: Mutex<Option<CancelHandle>> = Mutex::new(None);
static LAST: Mutex<Option<Instant>> = Mutex::new(None);
/// Set by every Ctrl-C, for loops that wait between calls (virt-tail).
static SEEN: AtomicBool = AtomicBool::new(false);
const QUIT_WITHIN: Duration = Duration::from_secs(3);

/// Blocks SIGINT in every thread (so call this before any is started)
/// and takes it in a thread of its own with sigwait, where locks and
/// I/O are allowed. Child processes start with the mask reset by std.
pub fn install() {
    // SAFETY: a zeroed sigset_t is valid storage for sigemptyset, and the
    // set is only read by the calls after it.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return;
        }
        set
    };
    let spawned = std::thread::Builder::new()
        .name("libguest-sigint".into())
        .spawn(move || loop {
            let mut signal = 0;
            // SAFETY: `set` is an initialised signal set; `signal` is an out-pointer.
            if unsafe { libc::sigwait(&set, &mut signal) } != 0 {
                return;
            }
            interrupted();
        });
    if spawned.is_err() {
        // Without the thread, SIGINT must act as usual.
        // SAFETY: unblocks what was blocked above, on this thread.
        unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
    }
}

/// The handle Ctrl-C cancels through; None when no appliance runs.
pub fn set(handle: Option<CancelHandle>) {
    *CURRENT.lock().unwrap_or_else(PoisonError::into_inner) = handle;
}

/// Whether Ctrl-C was pressed since the last look.
pub fn take() -> bool {
    SEEN.swap(false, Ordering::SeqCst)
}

fn interrupted() {
    SEEN.store(true, Ordering::SeqCst);
    let now = Instant::now();
    let again = LAST
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .replace(now)
        .is_some_and(|before| now.duration_since(before) < QUIT_WITHIN);
    let current = CURRENT.lock().unwrap_or_else(PoisonError::into_inner);
    match current.as_ref() {
        Some(handle) if !again => {
            eprintln!("\nlibguest: interrupted: cancelling the command (Ctrl-C again to quit)");
            handle.cancel();
        }
        _ => {
            eprintln!();
            std::process::exit(130);
        }
    }
}
