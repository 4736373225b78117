//! tar_in and tar_out: tar streams between the host and a guest
//! directory, optionally compressed. Unpacking refuses absolute and `..`
//! names and never writes through a symlink leading out of the target
//! directory (unpack.rs); packing never follows symlinks (pack.rs). Data
//! streams through in chunks: no file is ever held whole in memory.

mod pack;
#[cfg(test)]
mod raw_tests;
#[cfg(test)]
mod tests;
mod unpack;

use std::io::{self, BufWriter, Read, Write};

use protocol::types::Compression;
use protocol::{calls, CallIo, ErrorKind, ErrorReply};
use rustix::fs::{Mode, OFlags};

use super::GuestDaemon;

/// What goes to the host per write_chunk (at most).
const CHUNK: usize = 1 << 20;

pub(super) fn tar_in(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::tar_in::Args,
) -> Result<calls::tar_in::Ret, ErrorReply> {
    let mut input = ChunkReader {
        io,
        buf: Vec::new(),
        pos: 0,
        done: false,
        error: None,
    };
    let result = (|| {
        let dir = d.root.open(
            &args.directory,
            OFlags::PATH | OFlags::DIRECTORY,
            Mode::empty(),
        )?;
        let reader = decompressor(&mut input, args.compress)?;
        unpack::unpack(reader, &dir, args.xattrs.unwrap_or(false))
    })();
    // The protocol wants the whole stream read, even after a failure.
    input.drain();
    match input.error {
        Some(stream_error) => Err(stream_error),
        None => result,
    }
}

pub(super) fn tar_out(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::tar_out::Args,
) -> Result<calls::tar_out::Ret, ErrorReply> {
    let dir = d.root.open(
        &args.directory,
        OFlags::PATH | OFlags::DIRECTORY,
        Mode::empty(),
    )?;
    let excludes = args.excludes.unwrap_or_default();
    // Owners are always numeric: names would come from the appliance's
    // own passwd file, not the guest's.
    let _ = args.numericowner;
    let result = (|| {
        let out = ChunkWriter {
            io: &mut *io,
            closed: false,
            error: None,
        };
        let sink = Sink::new(out, args.compress).map_err(|e| io_error("tar_out", "zstd", e))?;
        let mut builder = tar::Builder::new(sink);
        if let Err(e) = pack::pack(&mut builder, &dir, &excludes) {
            // Nothing more goes out (the builder writes a trailer on drop).
            let out = builder.get_mut().out_mut();
            out.closed = true;
            return Err(out.error.take().unwrap_or(e));
        }
        let sink = builder
            .into_inner()
            .map_err(|e| io_error("tar_out", "write", e))?;
        let out = sink.finish().map_err(|e| io_error("tar_out", "write", e))?;
        out.error.map_or(Ok(()), Err)
    })();
    if result.is_err() && io.cancelled() {
        return Err(ErrorReply::cancelled());
    }
    result
}

/// An I/O error as a reply: `op what: No such file or directory`.
pub(super) fn io_error(op: &str, what: &str, e: io::Error) -> ErrorReply {
    match e.raw_os_error() {
        Some(_) => super::root::errno_reply(op, what, e),
        None => ErrorReply::new(ErrorKind::Other, format!("{op} {what}: {e}")),
    }
}

fn decompressor<'a>(
    input: &'a mut ChunkReader<'_>,
    compress: Option<Compression>,
) -> Result<Box<dyn Read + 'a>, ErrorReply> {
    Ok(match compress {
        None => Box::new(input),
        Some(Compression::Gzip) => Box::new(flate2::read::MultiGzDecoder::new(input)),
        Some(Compression::Xz) => Box::new(xz2::read::XzDecoder::new_multi_decoder(input)),
        Some(Compression::Zstd) => Box::new(
            zstd::stream::read::Decoder::new(input).map_err(|e| io_error("tar_in", "zstd", e))?,
        ),
    })
}

/// The host's FileIn stream as a reader.
struct ChunkReader<'a> {
    io: &'a mut dyn CallIo,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
    /// The stream's own failure (cancelled, channel closed).
    error: Option<ErrorReply>,
}

impl ChunkReader<'_> {
    fn fill(&mut self) -> io::Result<bool> {
        while self.pos >= self.buf.len() {
            if self.done {
                return Ok(false);
            }
            match self.io.read_chunk(&mut self.buf) {
                Ok(0) => self.done = true,
                Ok(n) => {
                    self.buf.truncate(n);
                    self.pos = 0;
                }
                Err(e) => {
                    self.done = true;
                    let text = e.message.clone();
                    self.error = Some(e);
                    return Err(io::Error::other(text));
                }
            }
        }
        Ok(true)
    }

    fn drain(&mut self) {
        self.pos = self.buf.len();
        while let Ok(true) = self.fill() {
            self.pos = self.buf.len();
        }
    }
}

impl Read for ChunkReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if !self.fill()? {
            return Ok(0);
        }
        let available = self.buf.get(self.pos..).unwrap_or_default();
        let n = out.len().min(available.len());
        out[..n].copy_from_slice(&available[..n]);
        self.pos += n;
        Ok(n)
    }
}

/// The host's FileOut stream as a writer.
struct ChunkWriter<'a> {
    io: &'a mut dyn CallIo,
    /// Set after a failure: later writes (a trailer on drop) are dropped.
    closed: bool,
    error: Option<ErrorReply>,
}

impl ChunkWriter<'_> {
    fn cancelled(&self) -> bool {
        self.io.cancelled()
    }
}

impl Write for ChunkWriter<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(data.len());
        }
        if let Err(e) = self.io.write_chunk(data) {
            self.closed = true;
            let text = e.message.clone();
            self.error = Some(e);
            return Err(io::Error::other(text));
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

type Out<'a> = BufWriter<ChunkWriter<'a>>;

/// The (optionally compressing) writer the tar builder writes into.
enum Sink<'a> {
    Plain(Out<'a>),
    Gzip(flate2::write::GzEncoder<Out<'a>>),
    Xz(xz2::write::XzEncoder<Out<'a>>),
    Zstd(zstd::stream::write::Encoder<'static, Out<'a>>),
}

impl<'a> Sink<'a> {
    fn new(out: ChunkWriter<'a>, compress: Option<Compression>) -> io::Result<Sink<'a>> {
        let out = BufWriter::with_capacity(CHUNK, out);
        Ok(match compress {
            None => Sink::Plain(out),
            Some(Compression::Gzip) => Sink::Gzip(flate2::write::GzEncoder::new(
                out,
                flate2::Compression::default(),
            )),
            Some(Compression::Xz) => Sink::Xz(xz2::write::XzEncoder::new(out, 6)),
            Some(Compression::Zstd) => Sink::Zstd(zstd::stream::write::Encoder::new(out, 3)?),
        })
    }

    fn out(&self) -> &ChunkWriter<'a> {
        match self {
            Sink::Plain(w) => w.get_ref(),
            Sink::Gzip(w) => w.get_ref().get_ref(),
            Sink::Xz(w) => w.get_ref().get_ref(),
            Sink::Zstd(w) => w.get_ref().get_ref(),
        }
    }

    fn out_mut(&mut self) -> &mut ChunkWriter<'a> {
        match self {
            Sink::Plain(w) => w.get_mut(),
            Sink::Gzip(w) => w.get_mut().get_mut(),
            Sink::Xz(w) => w.get_mut().get_mut(),
            Sink::Zstd(w) => w.get_mut().get_mut(),
        }
    }

    pub(super) fn cancelled(&self) -> bool {
        self.out().cancelled()
    }

    /// Ends the compressed stream and sends what is buffered.
    fn finish(self) -> io::Result<ChunkWriter<'a>> {
        let out = match self {
            Sink::Plain(w) => w,
            Sink::Gzip(w) => w.finish()?,
            Sink::Xz(w) => w.finish()?,
            Sink::Zstd(w) => w.finish()?,
        };
        out.into_inner().map_err(|e| e.into_error())
    }
}

impl Write for Sink<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(data),
            Sink::Gzip(w) => w.write(data),
            Sink::Xz(w) => w.write(data),
            Sink::Zstd(w) => w.write(data),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
            Sink::Xz(w) => w.flush(),
            Sink::Zstd(w) => w.flush(),
        }
    }
}
