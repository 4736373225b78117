//! tar_in and tar_out: tar streams between the host and a guest
//! directory, optionally compressed. Unpacking refuses absolute and `..`
//! names and never writes through a symlink leading out of the target
//! directory (unpack.rs); packing never follows symlinks (pack.rs). Data
//! streams through in chunks (stream.rs): no file is ever held whole in
//! memory.

mod pack;
pub(super) mod stream;
#[cfg(test)]
mod tests;
mod unpack;

use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{Mode, OFlags};

use super::state::GuestDaemon;
use super::util::io_error;
use stream::{decompressor, ChunkReader, ChunkWriter, Sink};

pub(super) fn tar_in(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::tar_in::Args,
) -> Result<calls::tar_in::Ret, ErrorReply> {
    let mut input = ChunkReader::new(io);
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
        let out = ChunkWriter::new(&mut *io);
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
