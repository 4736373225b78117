//! The host's chunked FileIn and FileOut streams as `Read` and `Write`,
//! with the compressions tar_in and tar_out take. A stream's own failure
//! (cancelled, channel closed) is kept apart from the tar error it
//! causes, so the reply says what really went wrong.

use std::io::{self, BufWriter, Read, Write};

use protocol::types::Compression;
use protocol::{CallIo, ErrorReply};

use crate::daemon::util::{io_error, CHUNK};

/// The tar stream read from `input`, decompressed as the host said.
pub(super) fn decompressor<'a>(
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
        Some(Compression::Bzip2) => Box::new(bzip2::read::MultiBzDecoder::new(input)),
    })
}

/// The host's FileIn stream as a reader.
pub(super) struct ChunkReader<'a> {
    io: &'a mut dyn CallIo,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
    /// The stream's own failure (cancelled, channel closed).
    pub(super) error: Option<ErrorReply>,
}

impl<'a> ChunkReader<'a> {
    pub(super) fn new(io: &'a mut dyn CallIo) -> ChunkReader<'a> {
        ChunkReader {
            io,
            buf: Vec::new(),
            pos: 0,
            done: false,
            error: None,
        }
    }

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

    /// Reads the rest of the stream (the protocol wants it all read).
    pub(super) fn drain(&mut self) {
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
pub(in crate::daemon) struct ChunkWriter<'a> {
    io: &'a mut dyn CallIo,
    /// Set after a failure: later writes (a trailer on drop) are dropped.
    pub(super) closed: bool,
    /// The stream's own failure (cancelled, channel closed).
    pub(in crate::daemon) error: Option<ErrorReply>,
}

impl<'a> ChunkWriter<'a> {
    pub(in crate::daemon) fn new(io: &'a mut dyn CallIo) -> ChunkWriter<'a> {
        ChunkWriter {
            io,
            closed: false,
            error: None,
        }
    }

    pub(in crate::daemon) fn cancelled(&self) -> bool {
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
pub(super) enum Sink<'a> {
    Plain(Out<'a>),
    Gzip(flate2::write::GzEncoder<Out<'a>>),
    Xz(xz2::write::XzEncoder<Out<'a>>),
    Zstd(zstd::stream::write::Encoder<'static, Out<'a>>),
    Bzip2(bzip2::write::BzEncoder<Out<'a>>),
}

impl<'a> Sink<'a> {
    pub(super) fn new(out: ChunkWriter<'a>, compress: Option<Compression>) -> io::Result<Sink<'a>> {
        let out = BufWriter::with_capacity(CHUNK, out);
        Ok(match compress {
            None => Sink::Plain(out),
            Some(Compression::Gzip) => Sink::Gzip(flate2::write::GzEncoder::new(
                out,
                flate2::Compression::default(),
            )),
            Some(Compression::Xz) => Sink::Xz(xz2::write::XzEncoder::new(out, 6)),
            Some(Compression::Zstd) => Sink::Zstd(zstd::stream::write::Encoder::new(out, 3)?),
            Some(Compression::Bzip2) => Sink::Bzip2(bzip2::write::BzEncoder::new(
                out,
                bzip2::Compression::best(),
            )),
        })
    }

    fn out(&self) -> &ChunkWriter<'a> {
        match self {
            Sink::Plain(w) => w.get_ref(),
            Sink::Gzip(w) => w.get_ref().get_ref(),
            Sink::Xz(w) => w.get_ref().get_ref(),
            Sink::Zstd(w) => w.get_ref().get_ref(),
            Sink::Bzip2(w) => w.get_ref().get_ref(),
        }
    }

    pub(super) fn out_mut(&mut self) -> &mut ChunkWriter<'a> {
        match self {
            Sink::Plain(w) => w.get_mut(),
            Sink::Gzip(w) => w.get_mut().get_mut(),
            Sink::Xz(w) => w.get_mut().get_mut(),
            Sink::Zstd(w) => w.get_mut().get_mut(),
            Sink::Bzip2(w) => w.get_mut().get_mut(),
        }
    }

    pub(super) fn cancelled(&self) -> bool {
        self.out().cancelled()
    }

    /// Ends the compressed stream and sends what is buffered.
    pub(super) fn finish(self) -> io::Result<ChunkWriter<'a>> {
        let out = match self {
            Sink::Plain(w) => w,
            Sink::Gzip(w) => w.finish()?,
            Sink::Xz(w) => w.finish()?,
            Sink::Zstd(w) => w.finish()?,
            Sink::Bzip2(w) => w.finish()?,
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
            Sink::Bzip2(w) => w.write(data),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
            Sink::Xz(w) => w.flush(),
            Sink::Zstd(w) => w.flush(),
            Sink::Bzip2(w) => w.flush(),
        }
    }
}
