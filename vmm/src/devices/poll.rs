//! Waiting on eventfds, for the device and interrupt threads.

use std::os::fd::AsRawFd;

use vmm_sys_util::eventfd::EventFd;

/// Blocks until at least one of `fds` is readable and says which are.
/// Signals (EINTR) are retried; any other poll(2) failure is returned.
pub(crate) fn wait_readable<const N: usize>(fds: [&EventFd; N]) -> std::io::Result<[bool; N]> {
    let mut polled = fds.map(|fd| libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    });
    loop {
        // SAFETY: `polled` is a valid array of N pollfd for the whole call.
        let n = unsafe { libc::poll(polled.as_mut_ptr(), N as libc::nfds_t, -1) };
        if n >= 0 {
            return Ok(polled.map(|p| p.revents != 0));
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_which_fds_are_readable() {
        let a = EventFd::new(libc::EFD_NONBLOCK).unwrap();
        let b = EventFd::new(libc::EFD_NONBLOCK).unwrap();
        b.write(1).unwrap();
        assert_eq!(wait_readable([&a, &b]).unwrap(), [false, true]);
    }
}
