//! The API channel as a Unix socket whose other end is qemu's
//! `-chardev socket,fd=N`, itself the virtio-console port's back end.

use std::io::{ErrorKind, Read};
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// Writes all of `data` with MSG_NOSIGNAL: a gone peer is an error, never
/// a SIGPIPE that kills a caller which did not ignore it.
pub(super) fn send_all(sock: &UnixStream, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        // SAFETY: send(2) reads at most `data.len()` bytes from a live
        // slice, on a descriptor `sock` owns for the whole call.
        let n = unsafe {
            libc::send(
                sock.as_raw_fd(),
                data.as_ptr().cast(),
                data.len(),
                libc::MSG_NOSIGNAL,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            match e.kind() {
                ErrorKind::Interrupted => continue,
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
    fn read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.closed.load(Ordering::SeqCst) {
                return Err(closed_error());
            }
            match (&self.sock).read(buf) {
                Ok(0) => return Err(closed_error()),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return Err(closed_error()),
                Err(e) => return Err(e),
            }
        }
    }

    fn write_all(&self, data: &[u8]) -> std::io::Result<()> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(closed_error());
        }
        send_all(&self.sock, data)
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
    use std::io::Write;
    use std::sync::Arc;

    #[test]
    fn reads_writes_and_close_wakes_a_blocked_reader() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let ch = Arc::new(SocketChannel::new(ours));
        theirs.write_all(b"hi").unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(ch.read(&mut buf).unwrap(), 2);
        ch.write_all(b"yo").unwrap();
        let mut got = [0u8; 2];
        theirs.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"yo");
        let reader = {
            let ch = ch.clone();
            std::thread::spawn(move || ch.read(&mut [0u8; 8]).map_err(|e| e.kind()))
        };
        ch.close();
        assert_eq!(reader.join().unwrap(), Err(ErrorKind::BrokenPipe));
        assert!(ch.write_all(b"x").is_err());
    }

    #[test]
    fn peer_gone_is_broken_pipe() {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let ch = SocketChannel::new(ours);
        drop(theirs);
        let kind = |r: std::io::Result<()>| r.map_err(|e| e.kind());
        assert_eq!(
            ch.read(&mut [0u8; 4]).map_err(|e| e.kind()),
            Err(ErrorKind::BrokenPipe)
        );
        assert_eq!(kind(ch.write_all(b"x")), Err(ErrorKind::BrokenPipe));
    }
}
