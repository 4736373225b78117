//! The API channel, guest side: the virtio-console port named
//! `org.libguest.channel.0` (/dev/vportNpM; there is no udev to make the
//! /dev/virtio-ports/ symlink, so the name is looked up in sysfs).
//!
//! A reader thread turns the byte stream into frames: calls and stream
//! chunks go to the worker (this thread) in order; `Cancel` only raises a
//! flag, so a long call sees it while it runs. Only the worker writes.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::frame::{self, Header, Hello, Kind, CHUNK_LEN, HEADER_LEN, MAX_PAYLOAD};
use protocol::{CallIo, CallKind, ErrorKind, ErrorReply, CALLS};

use crate::daemon::root::{Root, SYSROOT};
use crate::daemon::GuestDaemon;
use crate::log;

use protocol::CHANNEL_PORT as PORT_NAME;
/// The port's device appears when the virtio driver probes it.
const PORT_WAIT: Duration = Duration::from_secs(10);

/// What the reader hands the worker.
enum Incoming {
    Call {
        serial: u32,
        proc_nr: u32,
        payload: Vec<u8>,
    },
    /// A call whose payload was over the limit (skipped, not buffered).
    Oversized {
        serial: u32,
        len: u32,
    },
    Chunk {
        serial: u32,
        data: Vec<u8>,
    },
    End {
        serial: u32,
        cancelled: bool,
    },
}

/// Finds and opens the channel port; None if the host gave us none.
fn open_port() -> Option<File> {
    let deadline = Instant::now() + PORT_WAIT;
    loop {
        if let Ok(entries) = std::fs::read_dir("/sys/class/virtio-ports") {
            for entry in entries.flatten() {
                let name = std::fs::read_to_string(entry.path().join("name")).unwrap_or_default();
                if name.trim() == PORT_NAME {
                    let dev = format!("/dev/{}", entry.file_name().to_string_lossy());
                    match OpenOptions::new().read(true).write(true).open(&dev) {
                        Ok(f) => return Some(f),
                        Err(e) => log(&format!("open {dev}: {e}")),
                    }
                }
            }
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Serves the API until the host asks for power-off. Returns false if
/// there is no channel (then the console control loop is all there is).
pub(crate) fn serve() -> bool {
    let Some(port) = open_port() else {
        log(&format!(
            "no virtio port named {PORT_NAME}; API channel unavailable"
        ));
        return false;
    };
    if let Err(e) = std::fs::create_dir_all(SYSROOT) {
        log(&format!("mkdir {SYSROOT}: {e}"));
    }
    let reader = match port.try_clone() {
        Ok(r) => r,
        Err(e) => {
            log(&format!("cannot clone the channel descriptor: {e}"));
            return false;
        }
    };
    let cancel = Arc::new(AtomicU32::new(0));
    let (tx, rx) = std::sync::mpsc::channel();
    let reader_cancel = cancel.clone();
    if let Err(e) = std::thread::Builder::new()
        .name("channel-reader".into())
        .spawn(move || read_frames(reader, tx, reader_cancel))
    {
        log(&format!("cannot start the channel reader: {e}"));
        return false;
    }
    let mut out = port;
    let hello = Hello {
        daemon_version: env!("CARGO_PKG_VERSION").into(),
        max_payload: MAX_PAYLOAD,
    };
    let Ok(hello) = postcard::to_allocvec(&hello) else {
        return false;
    };
    if let Err(e) = send(
        &mut out,
        Header::new(Kind::Hello, 0, 0, hello.len()),
        &hello,
    ) {
        log(&format!("channel write: {e}"));
        return false;
    }
    let mut daemon = GuestDaemon::new(Root::new(SYSROOT));
    worker(&mut daemon, &mut out, &rx, &cancel);
    true
}

fn send(out: &mut File, header: Header, payload: &[u8]) -> std::io::Result<()> {
    // One write for small frames: each write is one buffer on the ring.
    if payload.len() <= 64 * 1024 {
        let mut buf = Vec::with_capacity(HEADER_LEN + payload.len());
        buf.extend_from_slice(&header.encode());
        buf.extend_from_slice(payload);
        return out.write_all(&buf);
    }
    out.write_all(&header.encode())?;
    out.write_all(payload)
}

/// A reply, in `ReplyPart`s of [`CHUNK_LEN`] while it is over one frame's
/// limit, then the `Reply` (`header` with its length set) with the rest.
fn send_reply(out: &mut File, header: Header, payload: &[u8]) -> std::io::Result<()> {
    let mut rest = payload;
    while rest.len() > MAX_PAYLOAD as usize {
        let (part, tail) = rest.split_at(CHUNK_LEN);
        send(
            out,
            Header::new(Kind::ReplyPart, header.serial, header.proc_nr, part.len()),
            part,
        )?;
        rest = tail;
    }
    let last = Header::new(Kind::Reply, header.serial, header.proc_nr, rest.len())
        .with_flags(header.flags);
    send(out, last, rest)
}

/// The reader thread: frames in, in order. A malformed header means the
/// stream is out of step; resynchronise on the next magic.
fn read_frames(mut port: File, tx: Sender<Incoming>, cancel: Arc<AtomicU32>) {
    let mut header = [0u8; HEADER_LEN];
    loop {
        if let Err(e) = port.read_exact(&mut header) {
            log(&format!("channel closed: {e}"));
            return;
        }
        #[cfg(feature = "test-hooks")]
        crate::testhooks::hang::reader_gate();
        let h = match Header::decode(&header) {
            Ok(h) => h,
            Err(e) => {
                log(&format!("channel: {e}; resynchronising"));
                if resync(&mut port, &mut header).is_err() {
                    return;
                }
                continue;
            }
        };
        if h.check_len().is_err() {
            if skip(&mut port, h.len).is_err() {
                return;
            }
            if h.kind == Kind::Call
                && tx
                    .send(Incoming::Oversized {
                        serial: h.serial,
                        len: h.len,
                    })
                    .is_err()
            {
                return;
            }
            continue;
        }
        let mut payload = vec![0u8; h.len as usize];
        if let Err(e) = port.read_exact(&mut payload) {
            log(&format!("channel closed mid-frame: {e}"));
            return;
        }
        let msg = match h.kind {
            Kind::Call => Incoming::Call {
                serial: h.serial,
                proc_nr: h.proc_nr,
                payload,
            },
            Kind::Chunk => Incoming::Chunk {
                serial: h.serial,
                data: payload,
            },
            Kind::End => Incoming::End {
                serial: h.serial,
                cancelled: h.flags & frame::FLAG_CANCELLED != 0,
            },
            Kind::Cancel => {
                cancel.store(h.serial, Ordering::SeqCst);
                continue;
            }
            Kind::Hello | Kind::Reply | Kind::ReplyPart => continue,
        };
        if tx.send(msg).is_err() {
            return;
        }
    }
}

/// Drops bytes until the buffer starts with the frame magic again.
fn resync(port: &mut File, header: &mut [u8; HEADER_LEN]) -> std::io::Result<()> {
    loop {
        header.copy_within(1.., 0);
        port.read_exact(&mut header[HEADER_LEN - 1..])?;
        if header[..4] == frame::MAGIC {
            port.read_exact(&mut header[4..])?;
            if Header::decode(header).is_ok() {
                return Ok(());
            }
        }
    }
}

fn skip(port: &mut File, mut len: u32) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    while len > 0 {
        let n = (len as usize).min(buf.len());
        port.read_exact(&mut buf[..n])?;
        len -= n as u32;
    }
    Ok(())
}

fn worker(daemon: &mut GuestDaemon, out: &mut File, rx: &Receiver<Incoming>, cancel: &AtomicU32) {
    while let Ok(msg) = rx.recv() {
        let (serial, proc_nr, result) = match msg {
            Incoming::Call {
                serial,
                proc_nr,
                payload,
            } => {
                let kind = CALLS.iter().find(|c| c.proc_nr == proc_nr).map(|c| c.kind);
                let mut io = ChannelIo {
                    out,
                    rx,
                    cancel,
                    serial,
                    input_done: kind != Some(CallKind::FileIn),
                    broken: false,
                };
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    protocol::dispatch(daemon, &mut io, proc_nr, &payload)
                }))
                .unwrap_or_else(|_| {
                    Err(ErrorReply::new(
                        ErrorKind::Other,
                        "the daemon panicked in this call (a bug: see the console log)",
                    ))
                });
                // The protocol's stream rules: a FileIn stream is read to
                // its end; a FileOut stream is closed before the reply.
                io.drain_input();
                if kind == Some(CallKind::FileOut) {
                    let flags = if result.is_err() {
                        frame::FLAG_CANCELLED
                    } else {
                        0
                    };
                    io.send(
                        Header::new(Kind::End, serial, proc_nr, 0).with_flags(flags),
                        &[],
                    );
                }
                if io.broken {
                    return;
                }
                (serial, proc_nr, result)
            }
            Incoming::Oversized { serial, len } => (
                serial,
                0,
                Err(ErrorReply::new(
                    ErrorKind::TooLarge,
                    format!("request of {len} bytes exceeds the {MAX_PAYLOAD}-byte limit"),
                )),
            ),
            // Stray stream frames of a call that already finished.
            Incoming::Chunk { .. } | Incoming::End { .. } => continue,
        };
        let reply = match &result {
            Ok(bytes) => Ok((
                Header::new(Kind::Reply, serial, proc_nr, bytes.len()),
                bytes.clone(),
            )),
            Err(e) => postcard::to_allocvec(e).map(|b| {
                (
                    Header::new(Kind::Reply, serial, proc_nr, b.len())
                        .with_flags(frame::FLAG_ERROR),
                    b,
                )
            }),
        };
        match reply {
            Ok((header, payload)) => {
                if let Err(e) = send_reply(out, header, &payload) {
                    log(&format!("channel write: {e}"));
                    return;
                }
            }
            Err(e) => log(&format!("encoding a reply: {e}")),
        }
        if daemon.poweroff_requested {
            crate::power::power_off();
        }
    }
}

/// A call's view of the channel.
struct ChannelIo<'a> {
    out: &'a mut File,
    rx: &'a Receiver<Incoming>,
    cancel: &'a AtomicU32,
    serial: u32,
    /// No (more) FileIn data to read.
    input_done: bool,
    /// The channel failed: stop serving.
    broken: bool,
}

impl ChannelIo<'_> {
    fn send(&mut self, header: Header, payload: &[u8]) {
        if let Err(e) = send(self.out, header, payload) {
            log(&format!("channel write: {e}"));
            self.broken = true;
        }
    }

    fn drain_input(&mut self) {
        let mut buf = Vec::new();
        while !self.input_done && !self.broken {
            if self.read_chunk(&mut buf).is_err() {
                break;
            }
        }
    }
}

impl CallIo for ChannelIo<'_> {
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst) == self.serial
    }

    fn read_chunk(&mut self, buf: &mut Vec<u8>) -> Result<usize, ErrorReply> {
        while !self.input_done {
            match self.rx.recv() {
                Ok(Incoming::Chunk { serial, data }) if serial == self.serial => {
                    *buf = data;
                    if !buf.is_empty() {
                        return Ok(buf.len());
                    }
                }
                Ok(Incoming::End { serial, cancelled }) if serial == self.serial => {
                    self.input_done = true;
                    if cancelled {
                        return Err(ErrorReply::cancelled());
                    }
                }
                Ok(_) => {} // frames of another serial: stale, dropped
                Err(_) => {
                    self.input_done = true;
                    self.broken = true;
                    return Err(ErrorReply::new(ErrorKind::Other, "the channel closed"));
                }
            }
        }
        buf.clear();
        Ok(0)
    }

    fn write_chunk(&mut self, data: &[u8]) -> Result<(), ErrorReply> {
        for piece in data.chunks(frame::CHUNK_LEN) {
            if self.cancelled() {
                return Err(ErrorReply::cancelled());
            }
            self.send(Header::new(Kind::Chunk, self.serial, 0, piece.len()), piece);
            if self.broken {
                return Err(ErrorReply::new(ErrorKind::Other, "the channel closed"));
            }
        }
        Ok(())
    }
}
