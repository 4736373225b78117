//! Level-triggered legacy interrupts over KVM's resample irqfd: when the
//! guest EOIs the line, KVM lowers it and signals the resample eventfd; this
//! thread asks the device whether its condition is still pending and, if so,
//! raises the line again.

use std::sync::Arc;
use std::thread::JoinHandle;

use vmm_sys_util::eventfd::EventFd;

use super::poll::wait_readable;
use super::serial::SerialConsole;

pub(crate) struct Resampler {
    stop: EventFd,
    thread: Option<JoinHandle<()>>,
}

impl Resampler {
    pub(crate) fn spawn(
        resample: EventFd,
        serial: Arc<SerialConsole>,
    ) -> std::io::Result<Resampler> {
        let stop = EventFd::new(libc::EFD_NONBLOCK)?;
        let stop_wait = stop.try_clone()?;
        let thread = std::thread::Builder::new()
            .name("libguest-irq".into())
            .spawn(move || run(&resample, &stop_wait, &serial))?;
        Ok(Resampler {
            stop,
            thread: Some(thread),
        })
    }

    pub(crate) fn stop(&mut self) {
        let _ = self.stop.write(1);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Resampler {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(resample: &EventFd, stop: &EventFd, serial: &SerialConsole) {
    loop {
        match wait_readable([resample, stop]) {
            Ok([_, true]) => return,
            Ok([true, false]) => {
                // Non-blocking: a spurious wakeup just finds nothing to read.
                let _ = resample.read();
                serial.resample();
            }
            Ok([false, false]) => {}
            Err(e) => {
                tracing::warn!("serial interrupt resampling stopped: {e}");
                return;
            }
        }
    }
}
