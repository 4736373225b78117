//! The contract between the libguest library and guest-init, the daemon
//! inside the appliance: the framed channel protocol ([`frame`]), the
//! argument and result types ([`types`]), and the API table
//! ([`for_each_call!`]) from which the request types, the daemon's
//! dispatch ([`Daemon`], [`dispatch`]), the `Guest` methods, one [`Call`]
//! type per call (`calls::<name>::Call`, for code written once for every
//! call, such as the CLI's commands), the call list ([`CALLS`]) and the
//! docs are all generated.
//!
//! Adding a call: one entry in `table.rs` and one method in guest-init's
//! `Daemon` implementation; for a `host` call (answered by the library's
//! handle, never sent), one method in libguest's [`Handle`] implementation.

#![warn(missing_docs)]
#![recursion_limit = "512"]

pub mod frame;
pub mod generate;
#[doc(hidden)]
pub use generate as generate_support;
mod table;
pub mod tools;
pub mod types;
pub mod value;
pub mod words;

pub use generate::{
    dispatch, docs_markdown, tidy_type, ArgInfo, ArgSource, Call, CallInfo, CallKind, CallMeta,
    Daemon, Handle, TableTest, TestExpect, TestInit, CALLS,
};
pub use types::{ErrorKind, ErrorReply};
pub use value::{ArgType, FromValue, Value, ValueError};
pub use words::FromWord;

/// The line guest-init prints on the console once it can serve requests;
/// the library waits for it at launch.
pub const READY_LINE: &str = "guest-init: ready";

/// The name of the virtio-console port that carries the API channel: the
/// library's VMM (or qemu) names the port, guest-init looks for it.
pub const CHANNEL_PORT: &str = "org.libguest.channel.0";

/// Generated per-call modules: `calls::<name>::{Args, Opts, Ret, PROC,
/// NAME, META, INFO}` and `calls::<name>::Call`, the call as a type
/// implementing [`Call`].
pub mod calls {
    crate::for_each_call!(crate::__call_modules);
}

/// The I/O a call can do besides its arguments and result: streamed data
/// and cancellation. Implemented by guest-init over the channel.
pub trait CallIo {
    /// Whether the host asked to cancel the call in progress; long loops
    /// poll this and return [`ErrorKind::Cancelled`].
    fn cancelled(&self) -> bool;
    /// FileIn calls: the next chunk of the host's stream into `buf`
    /// (`Ok(0)` at its end). A stream the host cancelled is an error.
    fn read_chunk(&mut self, buf: &mut Vec<u8>) -> Result<usize, ErrorReply>;
    /// FileOut calls: sends `data` (any length; split into chunks).
    fn write_chunk(&mut self, data: &[u8]) -> Result<(), ErrorReply>;
}

#[cfg(test)]
mod tests_host;
