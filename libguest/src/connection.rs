//! The host end of the API protocol (see `protocol::frame`): one call at a
//! time per handle, streamed data in 1 MiB chunks, cancellation from any
//! thread. Payload bytes are read from the channel straight into the
//! buffer they end up in.
//!
//! The appliance is not trusted to make progress: every wait on the
//! channel ends at the call's deadline, when the channel is closed (a
//! kill), or after a short slice to look at a cancel request; frames that
//! belong to no call in progress are bounded per call. Only the caller's
//! thread writes frames, so a cancelling thread never waits for the
//! channel.

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::frame::{
    self, FrameError, Header, Hello, Kind, CHUNK_LEN, HEADER_LEN, MAX_PAYLOAD, MAX_REPLY,
};
use protocol::ErrorReply;

use crate::backend::ChannelIo;

/// How often a blocked read looks at a cancel request.
const POLL_SLICE: Duration = Duration::from_millis(25);
/// Frames of other serials, and stream frames a call does not expect, that
/// one call skips before the connection counts as broken. No correct
/// daemon sends any (every call is read to its reply), so this is a bound
/// on a hostile one, not a budget for a correct one.
pub(crate) const MAX_STRAY_FRAMES: u32 = 64;
/// The same bound on their payload bytes.
pub(crate) const MAX_STRAY_BYTES: u64 = 2 * MAX_PAYLOAD as u64;

/// Where a call's streamed data comes from or goes to, for
/// [`Guest::call`](crate::Guest::call): it must match the call's
/// [`CallKind`](protocol::CallKind).
pub enum Stream<'a> {
    /// A plain call: no data besides the arguments and the result.
    None,
    /// A `file_in` call: the data sent to the appliance, read to its end.
    In(&'a mut dyn Read),
    /// A `file_out` call: where the appliance's data is written.
    Out(&'a mut dyn Write),
}

/// When a call must end: at `cancel_at` it is cancelled; at `give_up_at`,
/// if the daemon has not answered, it fails with [`CallFailure::TimedOut`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallDeadline {
    pub cancel_at: Instant,
    pub give_up_at: Instant,
}

impl CallDeadline {
    pub(crate) fn after(timeout: Duration, grace: Duration) -> CallDeadline {
        let now = Instant::now();
        let cancel_at = now.checked_add(timeout).unwrap_or(now);
        CallDeadline {
            cancel_at,
            give_up_at: cancel_at.checked_add(grace).unwrap_or(cancel_at),
        }
    }
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
    /// The reply is over MAX_REPLY (drained; the connection is in step).
    ReplyTooLarge(usize),
    /// Reading the upload source or writing the download sink failed on
    /// the host; the call was cancelled in the appliance.
    Host(std::io::Error),
    /// The call's deadline passed. `daemon_stopped`: the daemon answered
    /// the cancel in time and the connection is still in step; otherwise
    /// it did not, and the appliance must be stopped.
    TimedOut { daemon_stopped: bool },
}

impl From<FrameError> for CallFailure {
    fn from(e: FrameError) -> CallFailure {
        CallFailure::Protocol(e.to_string())
    }
}

/// State shared with [`CancelHandle`]s.
struct Shared {
    /// Serial of the call in progress, 0 when idle.
    current: AtomicU32,
    /// Serial of the call a cancel was asked for.
    cancel: AtomicU32,
}

/// Cancels the call in progress on a handle, from any thread. The call
/// returns `Error::Cancelled` once the daemon has stopped it.
#[derive(Clone)]
pub struct CancelHandle {
    shared: Arc<Shared>,
}

impl CancelHandle {
    /// Asks for the call in progress to stop, and returns at once whatever
    /// the appliance does: the caller's thread sends the request on the
    /// channel the next time it can. A daemon that stopped reading never
    /// sees it; [`crate::KillHandle`] or a call timeout handles that.
    pub fn cancel(&self) {
        let serial = self.shared.current.load(Ordering::SeqCst);
        if serial != 0 {
            self.shared.cancel.store(serial, Ordering::SeqCst);
        }
    }
}

pub(crate) struct Connection {
    io: Arc<dyn ChannelIo>,
    shared: Arc<Shared>,
    next_serial: u32,
    pub(crate) hello: Hello,
    buf: Vec<u8>,
    /// Frames the last call read (the fuzz target checks the stray bound).
    last_call_frames: u32,
}

fn channel_error(e: std::io::Error) -> CallFailure {
    match e.kind() {
        std::io::ErrorKind::TimedOut => CallFailure::TimedOut {
            daemon_stopped: false,
        },
        _ => CallFailure::Channel(e),
    }
}

impl Connection {
    /// Waits until `deadline` for the daemon's hello (it opens the
    /// conversation once its end of the port is open, so nothing the host
    /// sends is lost).
    pub(crate) fn open(
        io: Arc<dyn ChannelIo>,
        deadline: Instant,
    ) -> Result<Connection, CallFailure> {
        let shared = Shared {
            current: AtomicU32::new(0),
            cancel: AtomicU32::new(0),
        };
        let mut wire = Wire {
            io: io.as_ref(),
            shared: &shared,
            serial: 0,
            deadline: Some(CallDeadline {
                cancel_at: deadline,
                give_up_at: deadline,
            }),
            cancel_sent: true,
            timed_out: false,
            strays: 0,
            stray_bytes: 0,
            frames: 0,
        };
        let header = wire.read_header()?;
        if header.kind != Kind::Hello {
            return Err(CallFailure::Protocol(format!(
                "expected hello, got {:?}",
                header.kind
            )));
        }
        let mut payload = vec![0u8; header.len as usize];
        wire.read_exact(&mut payload)?;
        let hello: Hello = postcard::from_bytes(&payload)
            .map_err(|e| CallFailure::Protocol(format!("bad hello: {e}")))?;
        Ok(Connection {
            io,
            shared: Arc::new(shared),
            next_serial: 1,
            hello,
            buf: Vec::new(),
            last_call_frames: 0,
        })
    }

    pub(crate) fn cancel_handle(&self) -> CancelHandle {
        CancelHandle {
            shared: self.shared.clone(),
        }
    }

    /// Runs one call and returns its encoded result. After `TimedOut {
    /// daemon_stopped: false }`, `Channel` or `Protocol` the connection is
    /// out of step and must not be used again.
    pub(crate) fn call(
        &mut self,
        proc_nr: u32,
        payload: &[u8],
        stream: Stream<'_>,
        deadline: Option<CallDeadline>,
    ) -> Result<Vec<u8>, CallFailure> {
        if payload.len() > MAX_PAYLOAD as usize {
            return Err(CallFailure::TooLarge(payload.len()));
        }
        let serial = self.next_serial;
        self.next_serial = self.next_serial.checked_add(1).unwrap_or(1);
        self.shared.current.store(serial, Ordering::SeqCst);
        let shared = self.shared.clone();
        let mut wire = Wire {
            io: self.io.as_ref(),
            shared: &shared,
            serial,
            deadline,
            cancel_sent: false,
            timed_out: false,
            strays: 0,
            stray_bytes: 0,
            frames: 0,
        };
        let result = run(&mut wire, &mut self.buf, proc_nr, payload, stream);
        self.last_call_frames = wire.frames;
        self.shared.current.store(0, Ordering::SeqCst);
        result
    }
}

fn run(
    wire: &mut Wire<'_>,
    buf: &mut Vec<u8>,
    proc_nr: u32,
    payload: &[u8],
    stream: Stream<'_>,
) -> Result<Vec<u8>, CallFailure> {
    let serial = wire.serial;
    wire.write_frame(
        Header::new(Kind::Call, serial, proc_nr, payload.len()),
        payload,
    )?;
    let mut host_error = None;
    let mut sink = None;
    match stream {
        Stream::None => {}
        Stream::In(source) => host_error = send_stream(wire, buf, source)?,
        Stream::Out(out) => sink = Some(out),
    }
    let mut stream_ended = false;
    // A reply too big for one frame: its first bytes, and whether it
    // went over MAX_REPLY (then drained, and TooLarge).
    let mut parts: Vec<u8> = Vec::new();
    let mut parts_len = 0usize;
    loop {
        let header = wire.read_header()?;
        let len = header.len as usize;
        let ours = header.serial == serial;
        match header.kind {
            Kind::ReplyPart if ours => {
                parts_len = parts_len.saturating_add(len);
                if parts_len > MAX_REPLY {
                    parts = Vec::new();
                    skip(wire, buf, len)?;
                } else {
                    let start = parts.len();
                    parts.resize(start + len, 0);
                    wire.read_exact(&mut parts[start..])?;
                }
            }
            Kind::Reply if ours => {
                let total = parts_len.saturating_add(len);
                if total > MAX_REPLY && header.flags & frame::FLAG_ERROR == 0 {
                    skip(wire, buf, len)?;
                    return Err(CallFailure::ReplyTooLarge(total));
                }
                let mut reply = vec![0u8; len];
                wire.read_exact(&mut reply)?;
                if header.flags & frame::FLAG_ERROR == 0 && !parts.is_empty() {
                    parts.extend_from_slice(&reply);
                    reply = std::mem::take(&mut parts);
                }
                if let Some(e) = host_error {
                    return Err(CallFailure::Host(e));
                }
                if header.flags & frame::FLAG_ERROR != 0 {
                    let e: ErrorReply = postcard::from_bytes(&reply)
                        .map_err(|e| CallFailure::Protocol(format!("bad error reply: {e}")))?;
                    if wire.timed_out && e.kind == protocol::ErrorKind::Cancelled {
                        return Err(CallFailure::TimedOut {
                            daemon_stopped: true,
                        });
                    }
                    return Err(CallFailure::Daemon(e));
                }
                if let Some(out) = sink {
                    out.flush().map_err(CallFailure::Host)?;
                }
                return Ok(reply);
            }
            Kind::Chunk if ours && sink.is_some() && !stream_ended => {
                fill(wire, buf, len)?;
                if let (Some(out), None) = (&mut sink, &host_error) {
                    if let Err(e) = out.write_all(&buf[..len]) {
                        host_error = Some(e);
                        // Stop the daemon; keep reading to its reply.
                        wire.request_cancel();
                    }
                }
            }
            Kind::End if ours && sink.is_some() && !stream_ended && len == 0 => {
                stream_ended = true;
            }
            Kind::Hello | Kind::Call | Kind::Cancel if ours => {
                return Err(CallFailure::Protocol(format!(
                    "unexpected {:?} frame during a call",
                    header.kind
                )))
            }
            // Another call's frame, or a stream frame this call does not
            // have: skipped, and counted.
            _ => {
                wire.count_stray(len)?;
                skip(wire, buf, len)?;
            }
        }
    }
}

/// Sends a FileIn stream; returns the host-side error that cut it short,
/// if any (the daemon then sees a cancelled stream).
fn send_stream(
    wire: &mut Wire<'_>,
    buf: &mut Vec<u8>,
    source: &mut dyn Read,
) -> Result<Option<std::io::Error>, CallFailure> {
    let serial = wire.serial;
    let cancelled = Header::new(Kind::End, serial, 0, 0).with_flags(frame::FLAG_CANCELLED);
    buf.resize(CHUNK_LEN, 0);
    loop {
        wire.check_cancel()?;
        if wire.cancel_sent {
            wire.write_frame(cancelled, &[])?;
            return Ok(None);
        }
        let n = match read_full(source, buf) {
            Ok(n) => n,
            Err(e) => {
                wire.write_frame(cancelled, &[])?;
                return Ok(Some(e));
            }
        };
        if n == 0 {
            wire.write_frame(Header::new(Kind::End, serial, 0, 0), &[])?;
            return Ok(None);
        }
        wire.write_frame(Header::new(Kind::Chunk, serial, 0, n), &buf[..n])?;
    }
}

fn fill(wire: &mut Wire<'_>, buf: &mut Vec<u8>, len: usize) -> Result<(), CallFailure> {
    if buf.len() < len {
        buf.resize(len, 0);
    }
    wire.read_exact(&mut buf[..len])
}

fn skip(wire: &mut Wire<'_>, buf: &mut Vec<u8>, len: usize) -> Result<(), CallFailure> {
    let mut left = len;
    while left > 0 {
        let n = left.min(CHUNK_LEN);
        fill(wire, buf, n)?;
        left -= n;
    }
    Ok(())
}

/// One call's view of the channel: its deadline, its cancel request, its
/// count of stray frames.
struct Wire<'a> {
    io: &'a dyn ChannelIo,
    shared: &'a Shared,
    serial: u32,
    deadline: Option<CallDeadline>,
    /// The Cancel frame went out (at most once per call).
    cancel_sent: bool,
    /// `cancel_at` passed.
    timed_out: bool,
    strays: u32,
    stray_bytes: u64,
    /// Frame headers read.
    frames: u32,
}

impl Wire<'_> {
    fn request_cancel(&mut self) {
        self.shared.cancel.store(self.serial, Ordering::SeqCst);
    }

    /// Sends the Cancel frame once it is asked for or the call is past
    /// `cancel_at`; fails the call past `give_up_at`.
    fn check_cancel(&mut self) -> Result<(), CallFailure> {
        if let Some(d) = self.deadline {
            let now = Instant::now();
            if now >= d.give_up_at {
                return Err(CallFailure::TimedOut {
                    daemon_stopped: false,
                });
            }
            if now >= d.cancel_at {
                self.timed_out = true;
            }
        }
        let asked = self.shared.cancel.load(Ordering::SeqCst) == self.serial;
        if !self.cancel_sent && (asked || self.timed_out) {
            self.cancel_sent = true;
            self.write_frame(Header::new(Kind::Cancel, self.serial, 0, 0), &[])?;
        }
        Ok(())
    }

    fn write_frame(&mut self, header: Header, payload: &[u8]) -> Result<(), CallFailure> {
        let deadline = self.deadline.map(|d| d.give_up_at);
        // One write for small frames: each write is one buffer on the ring.
        if payload.len() <= 64 * 1024 {
            let mut frame = Vec::with_capacity(HEADER_LEN + payload.len());
            frame.extend_from_slice(&header.encode());
            frame.extend_from_slice(payload);
            return self.io.write_all(&frame, deadline).map_err(channel_error);
        }
        self.io
            .write_all(&header.encode(), deadline)
            .and_then(|()| self.io.write_all(payload, deadline))
            .map_err(channel_error)
    }

    /// Reads at least one byte, in slices so a cancel request is seen
    /// while the daemon says nothing.
    fn read_some(&mut self, buf: &mut [u8]) -> Result<usize, CallFailure> {
        loop {
            self.check_cancel()?;
            let mut until = Instant::now() + POLL_SLICE;
            if let Some(d) = self.deadline {
                let next = if self.timed_out {
                    d.give_up_at
                } else {
                    d.cancel_at
                };
                until = until.min(next);
            }
            match self.io.read(buf, Some(until)) {
                Ok(0) => {
                    return Err(CallFailure::Channel(
                        std::io::ErrorKind::UnexpectedEof.into(),
                    ))
                }
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) => return Err(CallFailure::Channel(e)),
            }
        }
    }

    fn read_exact(&mut self, mut buf: &mut [u8]) -> Result<(), CallFailure> {
        while !buf.is_empty() {
            let n = self.read_some(buf)?.min(buf.len());
            buf = &mut buf[n..];
        }
        Ok(())
    }

    fn read_header(&mut self) -> Result<Header, CallFailure> {
        let mut b = [0u8; HEADER_LEN];
        self.read_exact(&mut b)?;
        self.frames = self.frames.saturating_add(1);
        let header = Header::decode(&b)?;
        header.check_len()?;
        Ok(header)
    }

    fn count_stray(&mut self, len: usize) -> Result<(), CallFailure> {
        self.strays += 1;
        self.stray_bytes += len as u64;
        if self.strays > MAX_STRAY_FRAMES || self.stray_bytes > MAX_STRAY_BYTES {
            return Err(CallFailure::Protocol(format!(
                "the appliance sent {} frames ({} bytes) that belong to no call in progress, over the limit of {MAX_STRAY_FRAMES} frames or {MAX_STRAY_BYTES} bytes: it is out of step or hostile",
                self.strays, self.stray_bytes
            )));
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

#[cfg(test)]
mod tests;
