//! guest-init: PID 1 of the libguest appliance, and its daemon.
//!
//! It mounts the pseudo filesystems, reaps orphans, says `guest-init: ready`
//! on the console and then serves requests. It must never panic: a PID 1
//! that exits is a kernel panic, so every error is logged and answered.

mod channel;
#[cfg(feature = "test-hooks")]
mod control;
mod daemon;
mod mounts;
mod power;
mod reaper;
mod sys;
#[cfg(feature = "test-hooks")]
mod testhooks;

use protocol::READY_LINE;

fn main() {
    log("starting");
    mounts::mount_pseudo_filesystems();
    if let Err(e) = reaper::start() {
        log(&format!("cannot start the child reaper: {e}"));
    }
    println!("{READY_LINE}");
    // The API channel; with the test hooks also the console control loop
    // (hooks, power-off), for tests that drive the appliance without one.
    #[cfg(feature = "test-hooks")]
    std::thread::spawn(control::serve);
    if !channel::serve() {
        log("serving the console only");
    }
    // PID 1 must never exit (that is a kernel panic); the threads serve.
    loop {
        std::thread::park();
    }
}

pub(crate) fn log(msg: &str) {
    eprintln!("guest-init: {msg}");
}
