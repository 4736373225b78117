//! Framing of the channel's byte stream. Every message is a 20-byte
//! little-endian header followed by `len` payload bytes:
//!
//! | offset | size | field                                   |
//! |--------|------|-----------------------------------------|
//! | 0      | 4    | magic `LGCH`                            |
//! | 4      | 2    | protocol version                        |
//! | 6      | 1    | kind ([`Kind`])                         |
//! | 7      | 1    | flags (reply: error; end: cancelled)    |
//! | 8      | 4    | serial of the call it belongs to        |
//! | 12     | 4    | procedure number (calls and replies)    |
//! | 16     | 4    | payload length, at most [`MAX_PAYLOAD`] |
//!
//! A call is `Call` (host to guest), then, for FileIn calls, `Chunk`s from
//! the host closed by an `End`, or for FileOut calls `Chunk`s from the
//! guest closed by an `End`, and always exactly one `Reply`. A reply too
//! big for one frame (command output, up to [`MAX_REPLY`]) comes as
//! `ReplyPart`s holding its first bytes, then the `Reply` with the rest.
//! The host may
//! send `Cancel` at any time; the daemon then stops the call and replies
//! with a cancelled error. The daemon opens the conversation with `Hello`.

use thiserror::Error;

/// The first four bytes of every frame.
pub const MAGIC: [u8; 4] = *b"LGCH";
/// Bumped on any incompatible change of frames or encoded types.
pub const PROTOCOL_VERSION: u16 = 2;
/// The header's size in bytes.
pub const HEADER_LEN: usize = 20;
/// Largest payload of any frame: calls, replies and chunks. Bigger data
/// goes through the streaming calls (`upload`, `download`, `tar_*`).
pub const MAX_PAYLOAD: u32 = 4 << 20;
/// Size of the chunks a stream is cut into.
pub const CHUNK_LEN: usize = 1 << 20;
/// Largest encoded reply, over its `ReplyPart`s and its `Reply`: what
/// `command` and `sh` may print. The host holds it whole.
pub const MAX_REPLY: usize = 64 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
/// What a frame is.
pub enum Kind {
    /// The daemon's first frame: a [`Hello`].
    Hello = 1,
    /// A call from the host: its encoded arguments.
    Call = 2,
    /// The daemon's answer: the encoded result, or an error with [`FLAG_ERROR`].
    Reply = 3,
    /// A piece of a call's streamed data, either way.
    Chunk = 4,
    /// The end of a stream ([`FLAG_CANCELLED`] if it was abandoned).
    End = 5,
    /// The host asks the daemon to stop the call in progress.
    Cancel = 6,
    /// The first bytes of a reply too big for one frame; the `Reply`
    /// that follows holds the rest.
    ReplyPart = 7,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::Hello,
            2 => Kind::Call,
            3 => Kind::Reply,
            4 => Kind::Chunk,
            5 => Kind::End,
            6 => Kind::Cancel,
            7 => Kind::ReplyPart,
            _ => return None,
        })
    }
}

/// Reply: the payload is an encoded [`crate::ErrorReply`].
pub const FLAG_ERROR: u8 = 1;
/// End: the stream was abandoned, not finished.
pub const FLAG_CANCELLED: u8 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// A decoded frame header.
pub struct Header {
    /// What the frame is.
    pub kind: Kind,
    /// [`FLAG_ERROR`] or [`FLAG_CANCELLED`], by kind.
    pub flags: u8,
    /// The call it belongs to.
    pub serial: u32,
    /// The procedure number (calls and replies).
    pub proc_nr: u32,
    /// The payload length that follows.
    pub len: u32,
}

#[derive(Debug, Error, PartialEq, Eq)]
/// A header that cannot be used.
pub enum FrameError {
    #[error("bad frame magic {0:02x?}: the channel is out of step or not a libguest appliance")]
    /// Not [`MAGIC`]: the stream is out of step.
    Magic([u8; 4]),
    #[error("the other end speaks protocol version {theirs}, this side {ours}: the appliance and the library were built from different libguest versions (delete ~/.cache/libguest/appliance to rebuild it)")]
    /// The other end speaks another [`PROTOCOL_VERSION`].
    Version {
        /// The other end's version.
        theirs: u16,
        /// This side's.
        ours: u16,
    },
    #[error("unknown frame kind {0}")]
    /// An unknown kind byte.
    Kind(u8),
    #[error("frame payload of {len} bytes exceeds the {max}-byte limit")]
    /// A payload over [`MAX_PAYLOAD`].
    TooLarge {
        /// The header's length.
        len: u32,
        /// The limit.
        max: u32,
    },
}

impl Header {
    /// A header without flags; a `len` over `u32::MAX` saturates (and fails [`Header::check_len`]).
    pub fn new(kind: Kind, serial: u32, proc_nr: u32, len: usize) -> Header {
        Header {
            kind,
            flags: 0,
            serial,
            proc_nr,
            // Callers check lengths against MAX_PAYLOAD before framing;
            // saturating keeps an oversized one detectable on decode.
            len: u32::try_from(len).unwrap_or(u32::MAX),
        }
    }

    /// The same header with `flags`.
    pub fn with_flags(mut self, flags: u8) -> Header {
        self.flags = flags;
        self
    }

    /// The 20 bytes on the wire.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&MAGIC);
        b[4..6].copy_from_slice(&PROTOCOL_VERSION.to_le_bytes());
        b[6] = self.kind as u8;
        b[7] = self.flags;
        b[8..12].copy_from_slice(&self.serial.to_le_bytes());
        b[12..16].copy_from_slice(&self.proc_nr.to_le_bytes());
        b[16..20].copy_from_slice(&self.len.to_le_bytes());
        b
    }

    /// Decodes and checks a header. A payload over the limit is reported
    /// with the header still usable, so the receiver can skip `len` bytes
    /// and stay in step.
    pub fn decode(b: &[u8; HEADER_LEN]) -> Result<Header, FrameError> {
        let field = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let magic = [b[0], b[1], b[2], b[3]];
        if magic != MAGIC {
            return Err(FrameError::Magic(magic));
        }
        let version = u16::from_le_bytes([b[4], b[5]]);
        if version != PROTOCOL_VERSION {
            return Err(FrameError::Version {
                theirs: version,
                ours: PROTOCOL_VERSION,
            });
        }
        let kind = Kind::from_u8(b[6]).ok_or(FrameError::Kind(b[6]))?;
        Ok(Header {
            kind,
            flags: b[7],
            serial: field(8),
            proc_nr: field(12),
            len: field(16),
        })
    }

    /// Refuses a payload over [`MAX_PAYLOAD`].
    pub fn check_len(&self) -> Result<(), FrameError> {
        if self.len > MAX_PAYLOAD {
            return Err(FrameError::TooLarge {
                len: self.len,
                max: MAX_PAYLOAD,
            });
        }
        Ok(())
    }
}

/// What the daemon says first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hello {
    /// guest-init's version (the library's, when both come from one build).
    pub daemon_version: String,
    /// The largest payload the daemon accepts.
    pub max_payload: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip() {
        let h = Header::new(Kind::Reply, 7, 42, 1234).with_flags(FLAG_ERROR);
        assert_eq!(Header::decode(&h.encode()), Ok(h));
    }

    #[test]
    fn bad_headers_are_errors() {
        let good = Header::new(Kind::Call, 1, 2, 3).encode();
        let mut b = good;
        b[0] = b'X';
        assert!(matches!(Header::decode(&b), Err(FrameError::Magic(_))));
        let mut b = good;
        b[4] = 9;
        assert!(matches!(
            Header::decode(&b),
            Err(FrameError::Version { theirs: 9, .. })
        ));
        let mut b = good;
        b[6] = 99;
        assert_eq!(Header::decode(&b), Err(FrameError::Kind(99)));
        let big = Header::new(Kind::Chunk, 1, 0, MAX_PAYLOAD as usize + 1);
        assert!(Header::decode(&big.encode()).unwrap().check_len().is_err());
    }

    #[test]
    fn every_header_decodes_or_errors() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            let mut b = [0u8; HEADER_LEN];
            for byte in &mut b {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *byte = seed as u8;
            }
            b[0..4].copy_from_slice(&MAGIC);
            b[4..6].copy_from_slice(&PROTOCOL_VERSION.to_le_bytes());
            let _ = Header::decode(&b).map(|h| h.check_len());
        }
    }
}
