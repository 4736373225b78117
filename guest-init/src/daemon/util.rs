//! What every call shares: turning failures into replies (errno replies
//! that name the operation and the path, argument errors, the message
//! limit), the cancel check streaming calls make between pieces, and the
//! size of those pieces. Nothing here touches the guest tree.
//!
//! Rule: a reply's text says what failed on which path, and what to use
//! instead where there is something (download for files too big for one
//! message); it never carries guest data beyond the path the caller gave.

use std::io;

use protocol::{CallIo, ErrorKind, ErrorReply};

/// Streaming calls move data in pieces of this size.
pub(crate) const CHUNK: usize = 1 << 20;

/// The most data bytes one reply can carry: the message limit less room
/// for the length prefix.
pub(crate) const MAX_DATA: usize = protocol::frame::MAX_PAYLOAD as usize - 16;
/// Largest output of a guest command (command, sh and their _lines):
/// its reply goes in parts (protocol::frame::MAX_REPLY), with room for
/// the encoding.
pub(crate) const MAX_OUTPUT: usize = protocol::frame::MAX_REPLY - 64;

/// A failed system call on a guest path, as the host will see it:
/// `open /etc/x: No such file or directory`, with the errno.
pub(crate) fn errno_reply(op: &str, path: &str, e: impl Into<io::Error>) -> ErrorReply {
    let e: io::Error = e.into();
    let errno = e.raw_os_error().unwrap_or(libc::EIO);
    let text = io::Error::from_raw_os_error(errno).to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    ErrorReply::errno(errno, format!("{op} {path}: {text}"))
}

/// An I/O error that may carry no errno (a decompressor's): an errno
/// reply when it has one, else its text.
pub(crate) fn io_error(op: &str, what: &str, e: io::Error) -> ErrorReply {
    match e.raw_os_error() {
        Some(_) => errno_reply(op, what, e),
        None => ErrorReply::new(ErrorKind::Other, format!("{op} {what}: {e}")),
    }
}

/// Errors that are the caller's argument, not a system call.
pub(crate) fn invalid(message: impl Into<String>) -> ErrorReply {
    ErrorReply::new(ErrorKind::InvalidArgument, message)
}

/// A result over the message limit.
pub(crate) fn too_large(call: &str, path: &str, what: &str) -> ErrorReply {
    ErrorReply::new(
        ErrorKind::TooLarge,
        format!(
            "{call} {path}: {what} is over the {} MiB message limit; use download (or tar_out) instead",
            protocol::frame::MAX_PAYLOAD >> 20
        ),
    )
}

/// Cancelled when the host asked to cancel the call in progress.
pub(crate) fn check_cancel(io: &dyn CallIo) -> Result<(), ErrorReply> {
    if io.cancelled() {
        Err(ErrorReply::cancelled())
    } else {
        Ok(())
    }
}

/// Bytes of a postcard varint holding `n`.
fn varint_len(n: usize) -> usize {
    let bits = usize::BITS - n.leading_zeros();
    (bits as usize).div_ceil(7).max(1)
}

/// Tracks the encoded size of a list result as it is built, so a huge
/// directory or file fails early instead of filling the appliance's memory.
pub(crate) struct Budget<'a> {
    used: usize,
    limit: usize,
    call: &'a str,
    path: &'a str,
}

impl<'a> Budget<'a> {
    pub(crate) fn new(call: &'a str, path: &'a str) -> Budget<'a> {
        Budget::with_limit(call, path, protocol::frame::MAX_PAYLOAD as usize)
    }

    /// A budget of `limit` encoded bytes (a reply sent in parts).
    pub(crate) fn with_limit(call: &'a str, path: &'a str, limit: usize) -> Budget<'a> {
        // Room for the list's own length prefix.
        Budget {
            used: 10,
            limit,
            call,
            path,
        }
    }

    /// Counts one string (or byte string) of `len` bytes.
    pub(crate) fn add(&mut self, len: usize) -> Result<(), ErrorReply> {
        self.add_raw(len + varint_len(len))
    }

    /// Counts `bytes` encoded bytes.
    pub(crate) fn add_raw(&mut self, bytes: usize) -> Result<(), ErrorReply> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limit {
            return Err(too_large(self.call, self.path, "the result"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_counts_encoded_sizes() {
        assert_eq!(varint_len(0), 1);
        assert_eq!(varint_len(127), 1);
        assert_eq!(varint_len(128), 2);
        assert_eq!(varint_len(MAX_DATA), 4);
        let mut b = Budget::new("ls", "/");
        assert!(b.add(MAX_DATA - 100).is_ok());
        let e = b.add(200).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooLarge);
        assert!(e.message.contains("download"), "{}", e.message);
    }
}
