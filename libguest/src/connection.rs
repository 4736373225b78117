//! The host end of the API protocol (see `protocol::frame`): one call at a
//! time per handle, streamed data in 1 MiB chunks, cancellation from any
//! thread. Payload bytes are read from the channel straight into the
//! buffer they end up in.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use protocol::frame::{self, FrameError, Header, Hello, Kind, CHUNK_LEN, HEADER_LEN, MAX_PAYLOAD};
use protocol::ErrorReply;

use crate::backend::ChannelIo;

/// Where a call's streamed data comes from or goes to.
pub(crate) enum Stream<'a> {
    None,
    In(&'a mut dyn Read),
    Out(&'a mut dyn Write),
}

/// How a call failed, before mapping to the public error type.
#[derive(Debug)]
pub(crate) enum CallFailure {
    /// The daemon ran the call and reports this error.
    Daemon(ErrorReply),
    /// The channel failed: the appliance is gone or going.
    Channel(std::io::Error),
    /// The daemon sent something that breaks the protocol.
    Protocol(String),
    /// The request is over the message limit (nothing was sent).
    TooLarge(usize),
    /// Reading the upload source or writing the download sink failed on
    /// the host; the call was cancelled in the appliance.
    Host(std::io::Error),
}

impl From<FrameError> for CallFailure {
    fn from(e: FrameError) -> CallFailure {
        CallFailure::Protocol(e.to_string())
    }
}

/// State shared with [`CancelHandle`]s.
struct Shared {
    io: Arc<dyn ChannelIo>,
    /// Serial of the call in progress, 0 when idle.
    current: AtomicU32,
    cancel_requested: AtomicBool,
    /// Frames are written whole: the caller's thread and a cancelling
    /// thread take turns.
    write_lock: Mutex<()>,
}

impl Shared {
    fn write_frame(&self, header: Header, payload: &[u8]) -> std::io::Result<()> {
        let _guard = self
            .write_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if payload.len() <= 64 * 1024 {
            let mut buf = Vec::with_capacity(HEADER_LEN + payload.len());
            buf.extend_from_slice(&header.encode());
            buf.extend_from_slice(payload);
            return self.io.write_all(&buf);
        }
        self.io.write_all(&header.encode())?;
        self.io.write_all(payload)
    }
}

/// Cancels the call in progress on a handle, from any thread. The call
/// returns `Error::Cancelled` once the daemon has stopped it.
#[derive(Clone)]
pub struct CancelHandle {
    shared: Arc<Shared>,
}

impl CancelHandle {
    pub fn cancel(&self) {
        let serial = self.shared.current.load(Ordering::SeqCst);
        if serial == 0 {
            return;
        }
        self.shared.cancel_requested.store(true, Ordering::SeqCst);
        let header = Header::new(Kind::Cancel, serial, 0, 0);
        // A failure here means the appliance is gone: the call fails anyway.
        let _ = self.shared.write_frame(header, &[]);
    }
}

pub(crate) struct Connection {
    shared: Arc<Shared>,
    next_serial: u32,
    pub(crate) hello: Hello,
    buf: Vec<u8>,
}

fn read_exact(io: &dyn ChannelIo, mut buf: &mut [u8]) -> std::io::Result<()> {
    while !buf.is_empty() {
        let n = io.read(buf)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
    }
    Ok(())
}

fn read_header(io: &dyn ChannelIo) -> Result<Header, CallFailure> {
    let mut b = [0u8; HEADER_LEN];
    read_exact(io, &mut b).map_err(CallFailure::Channel)?;
    let header = Header::decode(&b)?;
    header.check_len()?;
    Ok(header)
}

impl Connection {
    /// Waits for the daemon's hello (it opens the conversation once its
    /// end of the port is open, so nothing the host sends is lost).
    pub(crate) fn open(io: Arc<dyn ChannelIo>) -> Result<Connection, CallFailure> {
        let header = read_header(io.as_ref())?;
        if header.kind != Kind::Hello {
            return Err(CallFailure::Protocol(format!(
                "expected hello, got {:?}",
                header.kind
            )));
        }
        let mut payload = vec![0u8; header.len as usize];
        read_exact(io.as_ref(), &mut payload).map_err(CallFailure::Channel)?;
        let hello: Hello = postcard::from_bytes(&payload)
            .map_err(|e| CallFailure::Protocol(format!("bad hello: {e}")))?;
        Ok(Connection {
            shared: Arc::new(Shared {
                io,
                current: AtomicU32::new(0),
                cancel_requested: AtomicBool::new(false),
                write_lock: Mutex::new(()),
            }),
            next_serial: 1,
            hello,
            buf: Vec::new(),
        })
    }

    pub(crate) fn cancel_handle(&self) -> CancelHandle {
        CancelHandle {
            shared: self.shared.clone(),
        }
    }

    /// Runs one call and returns its encoded result.
    pub(crate) fn call(
        &mut self,
        proc_nr: u32,
        payload: &[u8],
        stream: Stream<'_>,
    ) -> Result<Vec<u8>, CallFailure> {
        if payload.len() > MAX_PAYLOAD as usize {
            return Err(CallFailure::TooLarge(payload.len()));
        }
        let serial = self.next_serial;
        self.next_serial = self.next_serial.checked_add(1).unwrap_or(1);
        self.shared.cancel_requested.store(false, Ordering::SeqCst);
        self.shared.current.store(serial, Ordering::SeqCst);
        let result = self.run(serial, proc_nr, payload, stream);
        self.shared.current.store(0, Ordering::SeqCst);
        result
    }

    fn run(
        &mut self,
        serial: u32,
        proc_nr: u32,
        payload: &[u8],
        stream: Stream<'_>,
    ) -> Result<Vec<u8>, CallFailure> {
        let shared = self.shared.clone();
        shared
            .write_frame(
                Header::new(Kind::Call, serial, proc_nr, payload.len()),
                payload,
            )
            .map_err(CallFailure::Channel)?;
        let mut host_error = None;
        let mut sink = None;
        match stream {
            Stream::None => {}
            Stream::In(source) => host_error = self.send_stream(serial, source)?,
            Stream::Out(out) => sink = Some(out),
        }
        loop {
            let header = read_header(shared.io.as_ref())?;
            let len = header.len as usize;
            if header.serial != serial {
                // Left over from an earlier call that failed mid-stream.
                self.skip(len)?;
                continue;
            }
            match header.kind {
                Kind::Chunk => {
                    self.fill_buf(len)?;
                    if let (Some(out), None) = (&mut sink, &host_error) {
                        if let Err(e) = out.write_all(&self.buf[..len]) {
                            host_error = Some(e);
                            // Stop the daemon; keep reading to its reply.
                            self.cancel_handle().cancel();
                        }
                    }
                }
                Kind::End => self.skip(len)?,
                Kind::Reply => {
                    let mut reply = vec![0u8; len];
                    read_exact(shared.io.as_ref(), &mut reply).map_err(CallFailure::Channel)?;
                    if let Some(e) = host_error {
                        return Err(CallFailure::Host(e));
                    }
                    if header.flags & frame::FLAG_ERROR != 0 {
                        let e: ErrorReply = postcard::from_bytes(&reply)
                            .map_err(|e| CallFailure::Protocol(format!("bad error reply: {e}")))?;
                        return Err(CallFailure::Daemon(e));
                    }
                    if let Some(out) = sink {
                        out.flush().map_err(CallFailure::Host)?;
                    }
                    return Ok(reply);
                }
                other => {
                    return Err(CallFailure::Protocol(format!(
                        "unexpected {other:?} frame during a call"
                    )))
                }
            }
        }
    }

    /// Sends a FileIn stream; returns the host-side error that cut it
    /// short, if any (the daemon then sees a cancelled stream).
    fn send_stream(
        &mut self,
        serial: u32,
        source: &mut dyn Read,
    ) -> Result<Option<std::io::Error>, CallFailure> {
        let shared = self.shared.clone();
        self.buf.resize(CHUNK_LEN, 0);
        loop {
            if shared.cancel_requested.load(Ordering::SeqCst) {
                let end = Header::new(Kind::End, serial, 0, 0).with_flags(frame::FLAG_CANCELLED);
                shared.write_frame(end, &[]).map_err(CallFailure::Channel)?;
                return Ok(None);
            }
            let n = match read_full(source, &mut self.buf) {
                Ok(n) => n,
                Err(e) => {
                    let end =
                        Header::new(Kind::End, serial, 0, 0).with_flags(frame::FLAG_CANCELLED);
                    shared.write_frame(end, &[]).map_err(CallFailure::Channel)?;
                    return Ok(Some(e));
                }
            };
            if n == 0 {
                shared
                    .write_frame(Header::new(Kind::End, serial, 0, 0), &[])
                    .map_err(CallFailure::Channel)?;
                return Ok(None);
            }
            shared
                .write_frame(Header::new(Kind::Chunk, serial, 0, n), &self.buf[..n])
                .map_err(CallFailure::Channel)?;
        }
    }

    fn fill_buf(&mut self, len: usize) -> Result<(), CallFailure> {
        if self.buf.len() < len {
            self.buf.resize(len, 0);
        }
        read_exact(self.shared.io.as_ref(), &mut self.buf[..len]).map_err(CallFailure::Channel)
    }

    fn skip(&mut self, len: usize) -> Result<(), CallFailure> {
        let mut left = len;
        while left > 0 {
            let n = left.min(CHUNK_LEN);
            self.fill_buf(n)?;
            left -= n;
        }
        Ok(())
    }
}

/// Reads until `buf` is full or the source ends, so chunks are big.
fn read_full(source: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match source.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Entry point for the `channel_replies` fuzz target: `data` is what a
/// hostile appliance sends on the channel. The host must turn anything into
/// errors, never a panic or a hang.
#[doc(hidden)]
pub mod fuzzing {
    use std::sync::Arc;

    use super::fuzzing_support::Replay;
    use super::{Connection, Stream};

    /// Opens a connection on `data` and runs calls of each stream kind,
    /// decoding replies as the generated methods would.
    pub fn replies(data: &[u8]) {
        let io = Arc::new(Replay::new(data.to_vec()));
        let Ok(mut conn) = Connection::open(io) else {
            return;
        };
        for round in 0..4 {
            let mut sink = Vec::new();
            let stream = match round % 2 {
                0 => Stream::None,
                _ => Stream::Out(&mut sink),
            };
            let Ok(bytes) = conn.call(1, &[], stream) else {
                continue;
            };
            let _ = postcard::from_bytes::<Vec<String>>(&bytes);
            let _ = postcard::from_bytes::<protocol::types::Statns>(&bytes);
            let _ = postcard::from_bytes::<Vec<protocol::types::Dirent>>(&bytes);
            let _ = postcard::from_bytes::<Vec<protocol::types::Application>>(&bytes);
        }
    }
}

/// A channel that replays fixed bytes (tests and fuzzing).
mod fuzzing_support {
    use std::sync::Mutex;

    use crate::backend::ChannelIo;

    pub(super) struct Replay(Mutex<(Vec<u8>, usize)>);

    impl Replay {
        pub(super) fn new(data: Vec<u8>) -> Replay {
            Replay(Mutex::new((data, 0)))
        }
    }

    impl ChannelIo for Replay {
        fn read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
            let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
            let (data, pos) = &mut *state;
            let n = buf.len().min(data.len() - *pos);
            if n == 0 {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            buf[..n].copy_from_slice(&data[*pos..*pos + n]);
            *pos += n;
            Ok(n)
        }
        fn write_all(&self, _data: &[u8]) -> std::io::Result<()> {
            Ok(())
        }
        fn close(&self) {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: Kind, serial: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = Header::new(kind, serial, 1, payload.len())
            .with_flags(flags)
            .encode()
            .to_vec();
        v.extend_from_slice(payload);
        v
    }

    fn hello() -> Vec<u8> {
        let hello = Hello {
            daemon_version: "0.1.0".into(),
            max_payload: MAX_PAYLOAD,
        };
        frame(Kind::Hello, 0, 0, &postcard::to_allocvec(&hello).unwrap())
    }

    #[test]
    fn a_stream_then_a_reply_is_delivered_and_stale_frames_skipped() {
        let mut data = hello();
        data.extend(frame(Kind::Chunk, 99, 0, b"stale"));
        data.extend(frame(Kind::Chunk, 1, 0, b"hello "));
        data.extend(frame(Kind::Chunk, 1, 0, b"world"));
        data.extend(frame(Kind::End, 1, 0, b""));
        data.extend(frame(Kind::Reply, 1, 0, b""));
        data.extend(frame(
            Kind::Reply,
            2,
            frame::FLAG_ERROR,
            &postcard::to_allocvec(&ErrorReply::cancelled()).unwrap(),
        ));
        let io = Arc::new(super::fuzzing_support::Replay::new(data));
        let mut conn = Connection::open(io).unwrap();
        let mut out = Vec::new();
        conn.call(1, &[], Stream::Out(&mut out)).unwrap();
        assert_eq!(out, b"hello world");
        match conn.call(1, &[], Stream::None) {
            Err(CallFailure::Daemon(e)) => assert_eq!(e.kind, protocol::ErrorKind::Cancelled),
            other => panic!("{other:?}"),
        }
        // The stream ended: the channel is gone.
        assert!(matches!(
            conn.call(1, &[], Stream::None),
            Err(CallFailure::Channel(_))
        ));
    }

    #[test]
    fn oversized_requests_are_refused_before_sending() {
        let io = Arc::new(super::fuzzing_support::Replay::new(hello()));
        let mut conn = Connection::open(io).unwrap();
        let big = vec![0u8; MAX_PAYLOAD as usize + 1];
        assert!(matches!(
            conn.call(1, &big, Stream::None),
            Err(CallFailure::TooLarge(_))
        ));
    }

    #[test]
    fn hostile_streams_are_errors() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        for _ in 0..2000 {
            let mut data = hello();
            let len = (seed % 200) as usize;
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                data.push(seed as u8);
            }
            // A valid header start now and then, so frames get parsed.
            if seed.is_multiple_of(3) {
                data.extend(frame(
                    Kind::Reply,
                    1,
                    (seed >> 8) as u8,
                    &data.clone()[..len.min(40)],
                ));
            }
            fuzzing::replies(&data);
        }
    }
}
