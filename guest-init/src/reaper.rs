//! PID 1 inherits every orphan; this thread reaps them so no zombie stays.
//! Exit statuses are kept, so a later caller that spawned a child can still
//! collect its status after the reaper got to it first.

use std::collections::HashMap;
use std::io;
use std::sync::{Condvar, Mutex, OnceLock};

struct Reaped {
    statuses: Mutex<HashMap<libc::pid_t, libc::c_int>>,
    changed: Condvar,
}

fn reaped() -> &'static Reaped {
    static REAPED: OnceLock<Reaped> = OnceLock::new();
    REAPED.get_or_init(|| Reaped {
        statuses: Mutex::new(HashMap::new()),
        changed: Condvar::new(),
    })
}

/// Blocks SIGCHLD in this thread (and so in threads started later) and starts
/// the reaper thread, which waits for SIGCHLD with sigwait.
pub(crate) fn start() -> io::Result<()> {
    // SAFETY: the sigset is initialised by sigemptyset before use and only
    // passed to signal functions by pointer for the duration of each call.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
    }
    std::thread::Builder::new()
        .name("reaper".into())
        .spawn(reap_forever)?;
    Ok(())
}

fn reap_forever() {
    loop {
        // SAFETY: as in `start`; `sig` is a valid out pointer.
        let sig = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGCHLD);
            let mut sig: libc::c_int = 0;
            libc::sigwait(&set, &mut sig);
            sig
        };
        if sig == libc::SIGCHLD {
            reap_all();
        }
    }
}

fn reap_all() {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: `status` is a valid out pointer; WNOHANG never blocks.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            break;
        }
        let r = reaped();
        let mut map = r.statuses.lock().unwrap_or_else(|e| e.into_inner());
        // Bound the table: statuses nobody asked for are dropped.
        if map.len() > 4096 {
            map.clear();
        }
        map.insert(pid, status);
        r.changed.notify_all();
    }
}

/// Waits for the exit status of child `pid`, whoever reaped it.
#[allow(dead_code)] // used by the daemon's tool-running calls
pub(crate) fn wait_child(pid: libc::pid_t) -> libc::c_int {
    let r = reaped();
    let mut map = r.statuses.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(status) = map.remove(&pid) {
            return status;
        }
        map = r.changed.wait(map).unwrap_or_else(|e| e.into_inner());
    }
}
