use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};

use super::fuzzing::Replay;
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

fn cancelled_reply(serial: u32) -> Vec<u8> {
    frame(
        Kind::Reply,
        serial,
        frame::FLAG_ERROR,
        &postcard::to_allocvec(&ErrorReply::cancelled()).unwrap(),
    )
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(3600)
}

fn replay(data: Vec<u8>) -> Connection {
    Connection::open(Arc::new(Replay::new(data, 0)), far()).unwrap()
}

/// An in-memory channel whose daemon end the test plays. At most `room`
/// bytes the host writes are buffered; past that a write waits, as it does
/// for a guest that stopped reading.
struct Mem {
    state: Mutex<MemState>,
    cond: Condvar,
}

struct MemState {
    to_host: VecDeque<u8>,
    to_daemon: Vec<u8>,
    room: usize,
    closed: bool,
}

impl Mem {
    fn new(room: usize) -> Arc<Mem> {
        let mem = Arc::new(Mem {
            state: Mutex::new(MemState {
                to_host: VecDeque::new(),
                to_daemon: Vec::new(),
                room,
                closed: false,
            }),
            cond: Condvar::new(),
        });
        mem.push(&hello());
        mem
    }

    fn push(&self, bytes: &[u8]) {
        self.state.lock().unwrap().to_host.extend(bytes);
        self.cond.notify_all();
    }

    /// The frames the host sent so far.
    fn sent(&self) -> Vec<Header> {
        let state = self.state.lock().unwrap();
        let mut out = Vec::new();
        let mut at = 0;
        while at + HEADER_LEN <= state.to_daemon.len() {
            let h =
                Header::decode(state.to_daemon[at..at + HEADER_LEN].try_into().unwrap()).unwrap();
            at += HEADER_LEN + h.len as usize;
            out.push(h);
        }
        out
    }

    /// Waits (bounded) until the host has sent a frame of `kind`.
    fn wait_sent(&self, kind: Kind) -> Header {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(h) = self.sent().into_iter().find(|h| h.kind == kind) {
                return h;
            }
            assert!(Instant::now() < until, "no {kind:?} frame from the host");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn buffered_for_daemon(&self) -> usize {
        self.state.lock().unwrap().to_daemon.len()
    }
}

impl ChannelIo for Mem {
    fn read(&self, buf: &mut [u8], deadline: Option<Instant>) -> std::io::Result<usize> {
        let mut state = self.state.lock().unwrap();
        loop {
            if state.closed {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            if !state.to_host.is_empty() {
                let n = buf.len().min(state.to_host.len());
                for (b, v) in buf.iter_mut().zip(state.to_host.drain(..n)) {
                    *b = v;
                }
                return Ok(n);
            }
            state = wait(&self.cond, state, deadline)?;
        }
    }

    fn write_all(&self, mut data: &[u8], deadline: Option<Instant>) -> std::io::Result<()> {
        let mut state = self.state.lock().unwrap();
        loop {
            if state.closed {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            let n = data.len().min(state.room);
            state.room -= n;
            state.to_daemon.extend_from_slice(&data[..n]);
            data = &data[n..];
            if data.is_empty() {
                return Ok(());
            }
            state = wait(&self.cond, state, deadline)?;
        }
    }

    fn close(&self) {
        self.state.lock().unwrap().closed = true;
        self.cond.notify_all();
    }
}

fn wait<'a>(
    cond: &Condvar,
    guard: std::sync::MutexGuard<'a, MemState>,
    deadline: Option<Instant>,
) -> std::io::Result<std::sync::MutexGuard<'a, MemState>> {
    match deadline {
        None => Ok(cond.wait(guard).unwrap()),
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(std::io::ErrorKind::TimedOut.into());
            }
            Ok(cond.wait_timeout(guard, left).unwrap().0)
        }
    }
}

#[test]
fn a_stream_then_a_reply_is_delivered_and_stale_frames_skipped() {
    let mut data = hello();
    data.extend(frame(Kind::Chunk, 99, 0, b"stale"));
    data.extend(frame(Kind::Chunk, 1, 0, b"hello "));
    data.extend(frame(Kind::Chunk, 1, 0, b"world"));
    data.extend(frame(Kind::End, 1, 0, b""));
    data.extend(frame(Kind::Reply, 1, 0, b""));
    data.extend(cancelled_reply(2));
    let mut conn = replay(data);
    let mut out = Vec::new();
    conn.call(1, &[], Stream::Out(&mut out), None).unwrap();
    assert_eq!(out, b"hello world");
    match conn.call(1, &[], Stream::None, None) {
        Err(CallFailure::Daemon(e)) => assert_eq!(e.kind, protocol::ErrorKind::Cancelled),
        other => panic!("{other:?}"),
    }
    // The stream ended: the channel is gone.
    assert!(matches!(
        conn.call(1, &[], Stream::None, None),
        Err(CallFailure::Channel(_))
    ));
}

#[test]
fn oversized_requests_are_refused_before_sending() {
    let mut conn = replay(hello());
    let big = vec![0u8; MAX_PAYLOAD as usize + 1];
    assert!(matches!(
        conn.call(1, &big, Stream::None, None),
        Err(CallFailure::TooLarge(_))
    ));
}

/// Before, foreign serials and stray chunks were skipped for as long as
/// the appliance sent them.
#[test]
fn endless_foreign_serials_and_stray_chunks_are_a_protocol_error() {
    for stray in [
        frame(Kind::Reply, 99, 0, b""),
        frame(Kind::Chunk, 1, 0, b"not a download"),
        frame(Kind::End, 1, 0, b""),
    ] {
        let mut data = hello();
        for _ in 0..MAX_STRAY_FRAMES + 1 {
            data.extend_from_slice(&stray);
        }
        data.extend(frame(Kind::Reply, 1, 0, b""));
        let mut conn = replay(data);
        match conn.call(1, &[], Stream::None, None) {
            Err(CallFailure::Protocol(m)) => assert!(m.contains("belong to no call"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
    // Up to the limit they are skipped.
    let mut data = hello();
    for _ in 0..MAX_STRAY_FRAMES {
        data.extend(frame(Kind::Chunk, 7, 0, b"x"));
    }
    data.extend(frame(Kind::Reply, 1, 0, b"ok"));
    assert_eq!(
        replay(data).call(1, &[], Stream::None, None).unwrap(),
        b"ok"
    );
    // A few big strays hit the byte bound first.
    let mut data = hello();
    let big = vec![0u8; MAX_PAYLOAD as usize];
    for _ in 0..3 {
        data.extend(frame(Kind::Chunk, 7, 0, &big));
    }
    assert!(matches!(
        replay(data).call(1, &[], Stream::None, None),
        Err(CallFailure::Protocol(_))
    ));
}

#[test]
fn a_silent_daemon_is_cancelled_then_given_up_on() {
    let mem = Mem::new(usize::MAX);
    let mut conn = Connection::open(mem.clone(), far()).unwrap();
    let deadline = CallDeadline::after(Duration::from_millis(50), Duration::from_millis(100));
    let result = conn.call(1, &[], Stream::None, Some(deadline));
    assert!(
        matches!(
            result,
            Err(CallFailure::TimedOut {
                daemon_stopped: false
            })
        ),
        "{result:?}"
    );
    let kinds: Vec<Kind> = mem.sent().iter().map(|h| h.kind).collect();
    assert_eq!(kinds, [Kind::Call, Kind::Cancel]);
}

#[test]
fn a_daemon_that_answers_the_cancel_keeps_the_connection() {
    let mem = Mem::new(usize::MAX);
    let mut conn = Connection::open(mem.clone(), far()).unwrap();
    let daemon = {
        let mem = mem.clone();
        std::thread::spawn(move || {
            let cancel = mem.wait_sent(Kind::Cancel);
            mem.push(&cancelled_reply(cancel.serial));
        })
    };
    let deadline = CallDeadline::after(Duration::from_millis(50), Duration::from_secs(60));
    let result = conn.call(1, &[], Stream::None, Some(deadline));
    assert!(
        matches!(
            result,
            Err(CallFailure::TimedOut {
                daemon_stopped: true
            })
        ),
        "{result:?}"
    );
    daemon.join().unwrap();
    mem.push(&frame(Kind::Reply, 2, 0, b"next"));
    assert_eq!(conn.call(1, &[], Stream::None, None).unwrap(), b"next");
}

#[test]
fn cancel_from_another_thread_reaches_a_daemon_that_says_nothing() {
    let mem = Mem::new(usize::MAX);
    let mut conn = Connection::open(mem.clone(), far()).unwrap();
    let handle = conn.cancel_handle();
    let daemon = {
        let mem = mem.clone();
        std::thread::spawn(move || {
            let call = mem.wait_sent(Kind::Call);
            handle.cancel();
            let cancel = mem.wait_sent(Kind::Cancel);
            assert_eq!(cancel.serial, call.serial);
            mem.push(&cancelled_reply(call.serial));
        })
    };
    match conn.call(1, &[], Stream::None, None) {
        Err(CallFailure::Daemon(e)) => assert_eq!(e.kind, protocol::ErrorKind::Cancelled),
        other => panic!("{other:?}"),
    }
    daemon.join().unwrap();
}

/// Before, cancel() wrote its frame under the write lock, which the
/// caller's thread held while blocked on a full channel.
#[test]
fn cancel_returns_at_once_while_the_channel_is_full_and_close_unblocks_the_call() {
    let mem = Mem::new(1 << 20);
    let conn = Connection::open(mem.clone(), far()).unwrap();
    let handle = conn.cancel_handle();
    let caller = std::thread::spawn(move || {
        let mut conn = conn;
        let mut endless = std::io::repeat(0);
        conn.call(1, &[], Stream::In(&mut endless), None)
    });
    // Wait until the channel is full (bounded, not timed).
    let until = Instant::now() + Duration::from_secs(30);
    while mem.buffered_for_daemon() < 1 << 20 {
        assert!(
            Instant::now() < until,
            "the upload never filled the channel"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let (done, returned) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        handle.cancel();
        let _ = done.send(());
    });
    returned
        .recv_timeout(Duration::from_secs(30))
        .expect("cancel() blocked on a full channel");
    assert!(!caller.is_finished());
    mem.close();
    let result = caller.join().unwrap();
    assert!(matches!(result, Err(CallFailure::Channel(_))), "{result:?}");
}

#[test]
fn a_write_to_a_full_channel_ends_at_the_deadline() {
    let mem = Mem::new(1 << 20);
    let mut conn = Connection::open(mem.clone(), far()).unwrap();
    let mut endless = std::io::repeat(0);
    let deadline = CallDeadline::after(Duration::from_millis(50), Duration::from_millis(100));
    let result = conn.call(1, &[], Stream::In(&mut endless), Some(deadline));
    assert!(
        matches!(
            result,
            Err(CallFailure::TimedOut {
                daemon_stopped: false
            })
        ),
        "{result:?}"
    );
}

#[test]
fn the_hello_has_a_deadline() {
    let mem = Mem::new(0);
    mem.state.lock().unwrap().to_host.clear();
    let soon = Instant::now() + Duration::from_millis(50);
    assert!(matches!(
        Connection::open(mem, soon),
        Err(CallFailure::TimedOut { .. })
    ));
}

#[test]
fn hostile_streams_are_errors() {
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..2000 {
        let control = next() as u8;
        let mut data = vec![control, next() as u8];
        data.extend(hello());
        let len = (next() % 200) as usize;
        for _ in 0..len {
            data.push(next() as u8);
        }
        // Valid frames now and then, so replies get decoded.
        for _ in 0..next() % 4 {
            let serial = (next() % 3) as u32;
            let kind = [Kind::Reply, Kind::Chunk, Kind::End][(next() % 3) as usize];
            let payload = data.clone();
            data.extend(frame(
                kind,
                serial,
                next() as u8 & 1,
                &payload[..len.min(40)],
            ));
        }
        fuzzing::replies(&data);
    }
}

/// A reply over one frame comes as ReplyParts and its Reply; the host
/// joins them. Over MAX_REPLY it is drained and refused, and the next
/// call is answered in step.
#[test]
fn replies_in_parts_are_joined_and_bounded() {
    let mut data = hello();
    let part = vec![b'a'; CHUNK_LEN];
    for _ in 0..5 {
        data.extend(frame(Kind::ReplyPart, 1, 0, &part));
    }
    data.extend(frame(Kind::Reply, 1, 0, b"tail"));
    let parts = MAX_REPLY / CHUNK_LEN + 1;
    for _ in 0..parts {
        data.extend(frame(Kind::ReplyPart, 2, 0, &part));
    }
    data.extend(frame(Kind::Reply, 2, 0, b"tail"));
    data.extend(frame(Kind::Reply, 3, 0, b"next"));
    let mut conn = replay(data);
    let reply = conn.call(1, &[], Stream::None, None).unwrap();
    assert_eq!(reply.len(), 5 * CHUNK_LEN + 4);
    assert!(reply.ends_with(b"atail"));
    match conn.call(1, &[], Stream::None, None) {
        Err(CallFailure::ReplyTooLarge(len)) => assert_eq!(len, parts * CHUNK_LEN + 4),
        other => panic!("{other:?}"),
    }
    assert_eq!(conn.call(1, &[], Stream::None, None).unwrap(), b"next");
}
