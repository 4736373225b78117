//! e2e: a wedged appliance cannot hang the caller. guest-init's hang hooks
//! (`stop-reading`: the channel reader stops, so the kernel's receive
//! buffers fill; `hang` and `hang-until-cancelled`: a call that does not
//! return) stand in for a daemon taken over by a hostile image. Every
//! scenario runs on our VMM (through the test host where needed) and on
//! the qemu TCG fallback, four boots each.
//!
//! The bounds below are several times what each operation should take:
//! passing them proves the operation is bounded, not that it is fast.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use libguest::{Backend, Error, Guest};

const CALL_TIMEOUT: Duration = Duration::from_secs(2);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(3);
/// A bounded operation that has not returned by then hangs.
const HANG: Duration = Duration::from_secs(90);

fn launched(backend: Backend) -> Guest {
    let mut g = Guest::new().unwrap();
    g.set_backend(backend).unwrap();
    if let Err(e) = g.launch() {
        panic!("launch: {e}\n{}", g.console_log());
    }
    g
}

/// Runs `f` on another thread and returns its result with how long it
/// took; fails the test if it has not returned within `bound`.
fn within<T: Send + 'static>(
    what: &str,
    bound: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> (T, Duration) {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    let value = rx
        .recv_timeout(bound)
        .unwrap_or_else(|_| panic!("{what} did not return within {bound:?}: it hangs"));
    (value, started.elapsed())
}

/// An endless upload source that counts what the host has read of it.
struct Counted {
    fed: Arc<AtomicU64>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        buf.fill(0);
        self.fed.fetch_add(buf.len() as u64, Ordering::SeqCst);
        Ok(buf.len())
    }
}

/// Waits (bounded) until the host has stopped reading the source: its
/// writes are blocked on a channel the guest no longer empties.
fn wait_until_stalled(fed: &AtomicU64) -> u64 {
    let give_up = Instant::now() + HANG;
    let mut last = fed.load(Ordering::SeqCst);
    loop {
        std::thread::sleep(Duration::from_secs(2));
        let now = fed.load(Ordering::SeqCst);
        if now == last && now > 0 {
            return now;
        }
        assert!(Instant::now() < give_up, "the upload never stalled");
        last = now;
    }
}

/// A call past its timeout is cancelled; a daemon that answers the cancel
/// keeps the handle, one that does not is stopped. Both errors are typed
/// and name the call and the setting.
fn timeouts(backend: Backend) {
    let mut g = launched(backend);
    g.set_call_timeout(Some(CALL_TIMEOUT));
    let err = g.debug("hang-until-cancelled", &[]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::CallTimeout {
                call: "debug",
                appliance_stopped: false,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("Guest::set_call_timeout"), "{err}");
    g.ping_daemon().unwrap();

    let ((mut g, err), _) = within("a call to a wedged daemon", HANG, move || {
        let err = g.debug("hang", &[]).unwrap_err();
        (g, err)
    });
    assert!(
        matches!(
            err,
            Error::CallTimeout {
                call: "debug",
                appliance_stopped: true,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("stopped"), "{err}");
    let err = g.ping_daemon().unwrap_err();
    assert!(matches!(err, Error::State { .. }), "{err}");
    g.shutdown().unwrap();
}

/// The guest stops reading: an upload blocks on the full channel. cancel()
/// from another thread returns at once (it cannot reach the daemon, so
/// the upload stays blocked); kill() from another thread makes the upload
/// return Killed.
fn full_channel_cancel_and_kill(backend: Backend) {
    let mut g = launched(backend);
    g.debug("stop-reading", &[]).unwrap();
    let cancel = g.cancel_handle().unwrap();
    let kill = g.kill_handle();
    let fed = Arc::new(AtomicU64::new(0));
    let source = Counted { fed: fed.clone() };
    let (done, uploaded) = mpsc::channel();
    let uploader = std::thread::spawn(move || {
        let mut source = source;
        let result = g.upload(&mut source, "/endless");
        let _ = done.send(());
        (g, result)
    });
    let stalled_at = wait_until_stalled(&fed);
    eprintln!("hang: the upload stalled after {} MiB", stalled_at >> 20);

    within("cancel() on a full channel", HANG, move || cancel.cancel());
    assert!(
        uploaded.try_recv().is_err(),
        "the upload returned although the guest reads nothing"
    );

    let killer = kill.clone();
    let ((), took) = within(
        "an upload blocked on a full channel, after kill()",
        HANG,
        move || {
            killer.kill();
            let _ = uploaded.recv();
        },
    );
    eprintln!(
        "hang: kill() to the upload returning: {} ms",
        took.as_millis()
    );
    let (g, result) = uploader.join().unwrap();
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Killed { call: "upload" }), "{err}");
    assert!(kill.is_killed());
    within("dropping a killed handle", HANG, move || drop(g));
}

/// shutdown() of an appliance that answers nothing returns within its
/// bound, with the timeout error.
fn shutdown_is_bounded(backend: Backend) {
    let mut g = launched(backend);
    g.set_shutdown_timeout(SHUTDOWN_TIMEOUT);
    g.debug("stop-reading", &[]).unwrap();
    let (result, took) = within("shutdown() of a wedged appliance", HANG, move || {
        g.shutdown()
    });
    eprintln!(
        "hang: shutdown() of a wedged appliance: {} ms",
        took.as_millis()
    );
    let err = result.unwrap_err();
    assert!(matches!(err, Error::ShutdownTimeout { .. }), "{err}");
    assert!(err.to_string().contains("set_shutdown_timeout"), "{err}");
}

/// Dropping the handle of an appliance that answers nothing returns too.
fn drop_is_bounded(backend: Backend) {
    let mut g = launched(backend);
    g.set_shutdown_timeout(SHUTDOWN_TIMEOUT);
    g.debug("stop-reading", &[]).unwrap();
    let ((), took) = within("dropping a wedged appliance's handle", HANG, move || {
        drop(g)
    });
    eprintln!("hang: drop of a wedged appliance: {} ms", took.as_millis());
}

fn hangs(backend: Backend) {
    timeouts(backend);
    full_channel_cancel_and_kill(backend);
    shutdown_is_bounded(backend);
    drop_is_bounded(backend);
}

libguest_tests::on_both_backends! {
    hangs => e2e_hang, tcg_hang;
}
