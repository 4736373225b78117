//! Entry point for the `channel_replies` fuzz target: the input is what a
//! hostile appliance sends on the channel, plus a few control bytes that
//! pick the calls, their deadlines and cancels, and where the channel
//! stalls. The host must turn anything into errors: never a panic, a hang,
//! or a call that reads past the stray-frame limits.

use std::io::{Read, Write};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use protocol::CallKind;

use super::{CallDeadline, CallFailure, Connection, Stream, MAX_STRAY_BYTES, MAX_STRAY_FRAMES};
use crate::backend::ChannelIo;

/// Whether `bytes` decode as call `C`'s result (the answer may be
/// garbage; decoding it must not panic).
fn decodes<C: protocol::Call>(bytes: &[u8]) -> bool {
    let _ = postcard::from_bytes::<C::Ret>(bytes);
    true
}

macro_rules! decode_every_ret {
    ($($name:ident)*) => {
        /// Decodes `bytes` as call `proc_nr`'s result, as its generated
        /// `Guest` method would; false for an unknown call.
        fn decode_ret(proc_nr: u32, bytes: &[u8]) -> bool {
            $(if proc_nr == protocol::calls::$name::PROC {
                return decodes::<protocol::calls::$name::Call>(bytes);
            })*
            false
        }
    };
}
protocol::for_each_call_name!(decode_every_ret);

/// Calls made per input: several, so stale frames of one meet the next.
const ROUNDS: usize = 4;

/// `data[0]`: bits 0-1 deadline mode of the first call (the others rotate
/// through the modes), bit 2 pre-armed cancel, bit 3 a failing host
/// endpoint, bits 4-7 a stall every N reads. `data[1]`: which daemon call
/// of the table comes first. The rest is the appliance's side of the channel,
/// starting with its hello.
pub fn replies(data: &[u8]) {
    let [control, pick, channel @ ..] = data else {
        return;
    };
    let io = Arc::new(Replay::new(channel.to_vec(), usize::from(control >> 4)));
    let far = Instant::now() + Duration::from_secs(3600);
    let Ok(mut conn) = Connection::open(io.clone(), far) else {
        return;
    };
    // Host calls are never sent: only the daemon's are worth fuzzing.
    let sent: Vec<_> = protocol::CALLS
        .iter()
        .filter(|c| c.kind != CallKind::Host)
        .collect();
    for round in 0..ROUNDS {
        let info = sent[(usize::from(*pick) + round) % sent.len()];
        let now = Instant::now();
        let deadline = match (usize::from(*control) + round) % 4 {
            0 => None,
            // Past cancel_at: the Cancel goes out first thing.
            1 => Some(CallDeadline {
                cancel_at: now,
                give_up_at: far,
            }),
            // Past both: the call gives up at its first wait.
            2 => Some(CallDeadline {
                cancel_at: now,
                give_up_at: now,
            }),
            _ => Some(CallDeadline {
                cancel_at: far,
                give_up_at: far,
            }),
        };
        if control & 4 != 0 {
            conn.shared.cancel.store(conn.next_serial, Ordering::SeqCst);
        }
        let failing = control & 8 != 0;
        let mut source: Box<dyn Read> = match failing {
            true => Box::new(Failing),
            false => Box::new(&[7u8; 3000][..]),
        };
        let mut sink_vec = Vec::new();
        let mut sink_failing = Failing;
        let sink: &mut dyn Write = match failing {
            true => &mut sink_failing,
            false => &mut sink_vec,
        };
        let stream = match info.kind {
            CallKind::Plain | CallKind::Host => Stream::None,
            CallKind::FileIn => Stream::In(&mut *source),
            CallKind::FileOut => Stream::Out(sink),
        };
        let before = io.position();
        let result = conn.call(info.proc_nr, &[], stream, deadline);
        if info.kind != CallKind::FileOut {
            // Strays up to the limit, then the one over it or the reply.
            assert!(
                conn.last_call_frames <= MAX_STRAY_FRAMES + 1,
                "a call read {} frames, past the stray-frame limit",
                conn.last_call_frames
            );
            let bound = (MAX_STRAY_FRAMES as usize + 1) * protocol::frame::HEADER_LEN
                + MAX_STRAY_BYTES as usize
                + protocol::frame::MAX_PAYLOAD as usize;
            assert!(
                io.position() - before <= bound,
                "a call read past the stray-byte limit"
            );
        }
        match result {
            Ok(bytes) => assert!(decode_ret(info.proc_nr, &bytes)),
            // The connection is out of step: the handle would close it.
            Err(CallFailure::Channel(_) | CallFailure::Protocol(_)) => return,
            Err(CallFailure::TimedOut {
                daemon_stopped: false,
            }) => return,
            Err(_) => {}
        }
    }
}

/// A host endpoint that fails.
struct Failing;

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("host source fails"))
    }
}

impl Write for Failing {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("host sink fails"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A channel that replays fixed bytes, stalling (a read that times out)
/// after every `stall_every` reads; broken once the bytes run out.
pub(crate) struct Replay(Mutex<ReplayState>);

struct ReplayState {
    data: Vec<u8>,
    pos: usize,
    reads: usize,
    stall_every: usize,
}

impl Replay {
    pub(crate) fn new(data: Vec<u8>, stall_every: usize) -> Replay {
        Replay(Mutex::new(ReplayState {
            data,
            pos: 0,
            reads: 0,
            stall_every,
        }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ReplayState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn position(&self) -> usize {
        self.state().pos
    }
}

impl ChannelIo for Replay {
    fn read(&self, buf: &mut [u8], _deadline: Option<Instant>) -> std::io::Result<usize> {
        let mut state = self.state();
        state.reads += 1;
        // Never two stalls in a row: the stream always makes progress.
        if state.stall_every > 0 && state.reads.is_multiple_of(state.stall_every + 1) {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        let pos = state.pos;
        let n = buf.len().min(state.data.len() - pos);
        if n == 0 {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        buf[..n].copy_from_slice(&state.data[pos..pos + n]);
        state.pos += n;
        Ok(n)
    }
    fn write_all(&self, _data: &[u8], _deadline: Option<Instant>) -> std::io::Result<()> {
        Ok(())
    }
    fn close(&self) {}
}
