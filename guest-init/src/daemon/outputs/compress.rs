//! compress_out's and compress_device_out's compressors. gzip, xz and
//! bzip2 run in the daemon (flate2, xz2, bzip2: no tool to load);
//! compress (LZW, `.Z`) and lzop have no well-kept Rust encoder, so they
//! run the tools from the tools layer (ncompress, lzop), the file as
//! their stdin and their stdout streamed back piece by piece.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::process::Stdio;

use protocol::{CallIo, ErrorKind, ErrorReply};

use super::read_piece;
use crate::daemon::archive::stream::ChunkWriter;
use crate::daemon::mkfs::run;
use crate::daemon::util::{invalid, io_error, CHUNK};

type Out<'a> = BufWriter<ChunkWriter<'a>>;

/// A parsed ctype and level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Method {
    Gzip(u32),
    Xz(u32),
    Bzip2(u32),
    /// compress(1): it has no levels.
    Lzw,
    Lzop(u32),
}

impl Method {
    /// libguestfs's ctypes; the level's meaning and default are the
    /// program's own (gzip and xz 0-9, bzip2 and lzop 1-9, compress none).
    pub(super) fn parse(call: &str, ctype: &str, level: Option<i64>) -> Result<Method, ErrorReply> {
        let ranged = |lo: i64, default: u32| match level {
            None => Ok(default),
            Some(l) if (lo..=9).contains(&l) => Ok(l as u32),
            Some(l) => Err(invalid(format!(
                "{call}: level {l} is out of range for {ctype} ({lo} to 9)"
            ))),
        };
        match ctype {
            "gzip" => Ok(Method::Gzip(ranged(0, 6)?)),
            "xz" => Ok(Method::Xz(ranged(0, 6)?)),
            "bzip2" => Ok(Method::Bzip2(ranged(1, 9)?)),
            "lzop" => Ok(Method::Lzop(ranged(1, 3)?)),
            "compress" if level.is_some() => Err(invalid(format!(
                "{call}: compress has no compression levels: leave level out"
            ))),
            "compress" => Ok(Method::Lzw),
            other => Err(invalid(format!(
                "{call}: unknown compression type {:?} (use compress, gzip, bzip2, xz or lzop)",
                other.chars().take(40).collect::<String>()
            ))),
        }
    }

    /// Compresses all of `file` onto the call's stream.
    pub(super) fn run(
        self,
        io: &mut dyn CallIo,
        call: &str,
        file: File,
        path: &str,
    ) -> Result<(), ErrorReply> {
        let sink = |io| BufWriter::with_capacity(CHUNK, ChunkWriter::new(io));
        let out = match self {
            Method::Lzw => return tool(io, call, "compress", &["-c", "-f"], file),
            Method::Lzop(l) => return tool(io, call, "lzop", &["-c", &format!("-{l}")], file),
            Method::Gzip(l) => {
                let z = flate2::write::GzEncoder::new(sink(io), flate2::Compression::new(l));
                encode(z, call, file, path)?
            }
            Method::Xz(l) => encode(xz2::write::XzEncoder::new(sink(io), l), call, file, path)?,
            Method::Bzip2(l) => {
                let z = bzip2::write::BzEncoder::new(sink(io), bzip2::Compression::new(l));
                encode(z, call, file, path)?
            }
        };
        let out = out
            .into_inner()
            .map_err(|e| io_error(call, "write", e.into_error()))?;
        out.error.map_or(Ok(()), Err)
    }
}

/// An in-process encoder over the call's stream.
trait Encoder<'a>: Write {
    fn out(&self) -> &Out<'a>;
    fn done(self) -> std::io::Result<Out<'a>>;
}

macro_rules! encoder {
    ($($t:ty),*) => {$(
        impl<'a> Encoder<'a> for $t {
            fn out(&self) -> &Out<'a> {
                self.get_ref()
            }
            fn done(self) -> std::io::Result<Out<'a>> {
                self.finish()
            }
        }
    )*};
}
encoder!(
    flate2::write::GzEncoder<Out<'a>>,
    xz2::write::XzEncoder<Out<'a>>,
    bzip2::write::BzEncoder<Out<'a>>
);

/// Feeds `file` through an encoder, cancellable between pieces.
fn encode<'a>(
    mut z: impl Encoder<'a>,
    call: &str,
    mut file: File,
    path: &str,
) -> Result<Out<'a>, ErrorReply> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        if z.out().get_ref().cancelled() {
            return Err(ErrorReply::cancelled());
        }
        let n = read_piece(&mut file, &mut buf, call, path)?;
        if n == 0 {
            break;
        }
        z.write_all(&buf[..n])
            .map_err(|e| io_error(call, "write", e))?;
    }
    z.done().map_err(|e| io_error(call, "write", e))
}

/// Stderr kept for an error message.
const MAX_STDERR: usize = 8 << 10;

/// Runs `tool` with `file` as its stdin and streams its stdout back.
fn tool(
    io: &mut dyn CallIo,
    call: &str,
    tool: &str,
    args: &[&str],
    file: File,
) -> Result<(), ErrorReply> {
    let io_err = |what: &str, e: std::io::Error| {
        ErrorReply::new(ErrorKind::Other, format!("{call}: {what} {tool}: {e}"))
    };
    let mut cmd = run::command(tool)?;
    cmd.args(args)
        .stdin(Stdio::from(file))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| io_err("cannot run", e))?;
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(io_err("no pipes to", std::io::ErrorKind::BrokenPipe.into()));
    };
    // Drained on its own thread so a chatty tool never blocks on it.
    let errors = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = (&mut stderr).take(MAX_STDERR as u64).read_to_end(&mut text);
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        String::from_utf8_lossy(&text).into_owned()
    });
    let mut buf = vec![0u8; CHUNK];
    let mut result = Ok(());
    loop {
        if io.cancelled() {
            result = Err(ErrorReply::cancelled());
            break;
        }
        match stdout.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if let Err(e) = io.write_chunk(&buf[..n]) {
                    result = Err(e);
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                result = Err(io_err("reading the output of", e));
                break;
            }
        }
    }
    if result.is_err() {
        let _ = child.kill();
    }
    drop(stdout);
    let status = run::wait(&mut child);
    let stderr = errors.join().unwrap_or_default();
    result?;
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        return Ok(());
    }
    Err(ErrorReply::new(
        ErrorKind::Other,
        format!(
            "{call}: {tool} failed (wait status {status}): {}",
            stderr.trim()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_each_program() {
        let p = |c: &str, l| Method::parse("compress_out", c, l);
        assert_eq!(p("gzip", None).unwrap(), Method::Gzip(6));
        assert_eq!(p("gzip", Some(0)).unwrap(), Method::Gzip(0));
        assert_eq!(p("xz", Some(9)).unwrap(), Method::Xz(9));
        assert_eq!(p("bzip2", None).unwrap(), Method::Bzip2(9));
        assert_eq!(p("lzop", None).unwrap(), Method::Lzop(3));
        assert_eq!(p("compress", None).unwrap(), Method::Lzw);
        for (c, l, text) in [
            ("bzip2", Some(0), "1 to 9"),
            ("lzop", Some(10), "1 to 9"),
            ("gzip", Some(-1), "0 to 9"),
            ("compress", Some(1), "no compression levels"),
            ("zip", None, "unknown compression type"),
        ] {
            let e = p(c, l).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidArgument);
            assert!(e.message.contains(text), "{c} {l:?}: {}", e.message);
        }
    }
}
