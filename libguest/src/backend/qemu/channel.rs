//! The API channel as a Unix socket whose other end is qemu's
//! `-chardev socket,fd=N`, itself the virtio-console port's back end.
//! Every wait is a poll(2) with the caller's deadline; `close` shuts the
//! socket down, which wakes a poll in any thread.

use std::io::ErrorKind;
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::backend::ChannelIo;

pub(super) struct SocketChannel {
    sock: UnixStream,
    closed: AtomicBool,
}

impl SocketChannel {
    pub(super) fn new(sock: UnixStream) -> SocketChannel {
        SocketChannel {
            sock,
            closed: AtomicBool::new(false),
        }
    }
}

fn closed_error() -> std::io::Error {
    std::io::Error::new(ErrorKind::BrokenPipe, "the appliance channel is closed")
}

fn timed_out() -> std::io::Error {
    std::io::Error::new(ErrorKind::TimedOut, "timed out waiting for the appliance")
}

/// Waits until `sock` is ready for `events` (or hung up) or the deadline
/// passes.
fn wait(
    sock: &UnixStream,
    events: libc::c_short,
    deadline: Option<Instant>,
) -> std::io::Result<()> {
    loop {
        let timeout_ms = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(timed_out());
                }
                // Rounded up, so a wait never ends before its deadline.
                libc::c_int::try_from(left.as_millis() + 1).unwrap_or(libc::c_int::MAX)
            }
        };
        let mut fd = libc::pollfd {
            fd: sock.as_raw_fd(),
            events,
            revents: 0,
        };
        // SAFETY: poll(2) on one valid pollfd that lives across the call.
        let rc = unsafe { libc::poll(&mut fd, 1, timeout_ms) };
        if rc > 0 {
            return Ok(());
        }
        if rc < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

/// Writes all of `data` with MSG_NOSIGNAL (a gone peer is an error, never
/// a SIGPIPE that kills a caller which did not ignore it) and MSG_DONTWAIT
/// (waits are polls, bounded by `deadline`).
pub(super) fn send_all(
    sock: &UnixStream,
    mut data: &[u8],
    deadline: Option<Instant>,
) -> std::io::Result<()> {
    while !data.is_empty() {
        // SAFETY: send(2) reads at most `data.len()` bytes from a live
        // slice, on a descriptor `sock` owns for the whole call.
        let n = unsafe {
            libc::send(
                sock.as_raw_fd(),
                data.as_ptr().cast(),
                data.len(),
                libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            match e.kind() {
                ErrorKind::Interrupted => continue,
                ErrorKind::WouldBlock => {
                    wait(sock, libc::POLLOUT, deadline)?;
                    continue;
                }
                ErrorKind::BrokenPipe | ErrorKind::ConnectionReset => return Err(closed_error()),
                _ => return Err(e),
            }
        }
        let n = usize::try_from(n).unwrap_or(0).min(data.len());
        data = &data[n..];
    }
    Ok(())
}

impl ChannelIo for SocketChannel {
    fn read(&self, buf: &mut [u8], deadline: Option<Instant>) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.closed.load(Ordering::SeqCst) {
                return Err(closed_error());
            }
            // SAFETY: recv(2) writes at most `buf.len()` bytes into a live
            // mutable slice, on a descriptor `sock` owns for the whole call.
            let n = unsafe {
                libc::recv(
                    self.sock.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n > 0 {
                return Ok(usize::try_from(n).unwrap_or(0).min(buf.len()));
            }
            if n == 0 {
                return Err(closed_error());
            }
            let e = std::io::Error::last_os_error();
            match e.kind() {
                ErrorKind::Interrupted => {}
                ErrorKind::WouldBlock => wait(&self.sock, libc::POLLIN, deadline)?,
                ErrorKind::ConnectionReset => return Err(closed_error()),
                _ => return Err(e),
            }
        }
    }

    fn write_all(&self, data: &[u8], deadline: Option<Instant>) -> std::io::Result<()> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(closed_error());
        }
        send_all(&self.sock, data, deadline)
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        // Wakes a reader blocked in read(2): it sees end of stream.
        let _ = self.sock.shutdown(Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn reads_writes_and_close_wakes_a_blocked_reader() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let ch = Arc::new(SocketChannel::new(ours));
        theirs.write_all(b"hi").unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(ch.read(&mut buf, None).unwrap(), 2);
        ch.write_all(b"yo", None).unwrap();
        let mut got = [0u8; 2];
        theirs.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"yo");
        let reader = {
            let ch = ch.clone();
            std::thread::spawn(move || ch.read(&mut [0u8; 8], None).map_err(|e| e.kind()))
        };
        ch.close();
        assert_eq!(reader.join().unwrap(), Err(ErrorKind::BrokenPipe));
        assert!(ch.write_all(b"x", None).is_err());
    }

    #[test]
    fn peer_gone_is_broken_pipe() {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let ch = SocketChannel::new(ours);
        drop(theirs);
        let kind = |r: std::io::Result<()>| r.map_err(|e| e.kind());
        assert_eq!(
            ch.read(&mut [0u8; 4], None).map_err(|e| e.kind()),
            Err(ErrorKind::BrokenPipe)
        );
        assert_eq!(kind(ch.write_all(b"x", None)), Err(ErrorKind::BrokenPipe));
    }

    /// A peer that never reads: the socket fills. The write returns at its
    /// deadline, and a write with no deadline returns once another thread
    /// closes the channel.
    #[test]
    fn a_peer_that_stops_reading_cannot_block_a_write_forever() {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let ch = Arc::new(SocketChannel::new(ours));
        let big = vec![0u8; 64 << 20];
        let soon = Instant::now() + Duration::from_millis(200);
        let err = ch.write_all(&big, Some(soon)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert!(Instant::now() >= soon);
        let err = ch.read(&mut [0u8; 4], Some(Instant::now())).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        let writer = {
            let ch = ch.clone();
            std::thread::spawn(move || ch.write_all(&big, None).map_err(|e| e.kind()))
        };
        // Not a timing: the close happens whether or not the writer has
        // reached its poll yet, and either way it must return.
        std::thread::sleep(Duration::from_millis(100));
        ch.close();
        assert_eq!(writer.join().unwrap(), Err(ErrorKind::BrokenPipe));
        drop(theirs);
    }
}
