//! Test hooks that make the daemon misbehave as a wedged or hostile one
//! would, so the host's bounds (call timeout, kill handle, bounded
//! shutdown, non-blocking cancel) can be tested against the real
//! appliance. Reached through `Guest::debug`; never used otherwise.
//!
//! - `stop-reading`: the channel reader stops for good after the next
//!   frame header it reads. The kernel's receive buffers fill and are not
//!   posted again, so host writes block; nothing more is answered.
//! - `hang`: the call never returns, cancel or not.
//! - `hang-until-cancelled`: the call returns (cancelled) once the host
//!   cancels it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static READING_STOPPED: AtomicBool = AtomicBool::new(false);

/// The channel reader calls this after each frame header: once
/// `stop-reading` ran, it never returns.
pub(crate) fn reader_gate() {
    if READING_STOPPED.load(Ordering::SeqCst) {
        crate::log("test hook: the channel reader stops reading");
        park_forever();
    }
}

fn park_forever() -> ! {
    loop {
        std::thread::park();
    }
}

/// Runs a hang hook; None if `cmd` is not one.
pub(crate) fn run(cmd: &str, cancelled: &dyn Fn() -> bool) -> Option<Result<String, String>> {
    Some(match cmd {
        "stop-reading" => {
            READING_STOPPED.store(true, Ordering::SeqCst);
            Ok("the channel reader stops after the next frame header".into())
        }
        "hang" => {
            crate::log("test hook: hanging in a call");
            park_forever()
        }
        "hang-until-cancelled" => {
            while !cancelled() {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err("cancelled".into())
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hang_until_cancelled_returns_once_cancelled_and_others_are_not_hang_hooks() {
        let calls = std::cell::Cell::new(0);
        let cancelled = || {
            calls.set(calls.get() + 1);
            calls.get() > 3
        };
        assert_eq!(
            run("hang-until-cancelled", &cancelled),
            Some(Err("cancelled".into()))
        );
        assert!(run("fill", &|| false).is_none());
    }
}
