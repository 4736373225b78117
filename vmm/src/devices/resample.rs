//! Level-triggered legacy interrupts over KVM's resample irqfd: when the
//! guest EOIs the line, KVM lowers it and signals the resample eventfd; this
//! thread asks the device whether its condition is still pending and, if so,
//! raises the line again.

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::thread::JoinHandle;

use vmm_sys_util::eventfd::EventFd;

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
    let mut fds = [
        libc::pollfd {
            fd: resample.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: stop.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    loop {
        // SAFETY: `fds` is a valid array of two pollfd for the whole call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            tracing::warn!(
                "serial interrupt resampling stopped: {}",
                std::io::Error::last_os_error()
            );
            return;
        }
        if fds[1].revents != 0 {
            return;
        }
        if fds[0].revents != 0 {
            // Non-blocking: a spurious wakeup just finds nothing to read.
            let _ = resample.read();
            serial.resample();
        }
    }
}
