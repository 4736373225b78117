//! `call()`: one API call over the channel, with its timeout and cancel;
//! the tools layer loaded before the first call that needs it; the
//! daemon's errors mapped to typed ones; and closing the handle when the
//! channel breaks.

use std::time::{Duration, Instant};

use appliance::tools;
use protocol::{ErrorKind, ErrorReply};
use vmm::ExitReason;

use super::{describe, shutdown, Guest, State};
use crate::connection::{CallDeadline, CallFailure, CancelHandle, Stream};
use crate::error::{Error, Result};

/// How long a call that lost its channel waits for the appliance to
/// report why it stopped.
const EXIT_REASON_GRACE: Duration = Duration::from_secs(2);
/// How long a call past its timeout waits for the daemon to answer the
/// cancel before the appliance is stopped.
const CANCEL_GRACE: Duration = Duration::from_secs(5);
const CALL_TIMEOUT_SETTING: &str = "Guest::set_call_timeout";

impl Guest {
    /// A handle that cancels the call in progress from another thread;
    /// None before launch.
    pub fn cancel_handle(&self) -> Option<CancelHandle> {
        match &self.state {
            State::Running(run) => Some(run.conn.cancel_handle()),
            _ => None,
        }
    }

    /// Runs call `C` with arguments the caller built: what each generated
    /// method does, for code that picks the call at run time (a command
    /// line) and is written once for every call (see [`protocol::Call`]).
    /// `stream` must match the call's kind: [`Stream::None`] for a plain
    /// call, [`Stream::In`] for a `file_in` call, [`Stream::Out`] for a
    /// `file_out` call; anything else is [`Error::InvalidArgument`].
    ///
    /// The arguments are sent as they are: values built with the types'
    /// constructors (`Pathname::new`, …) are checked, and the daemon
    /// checks them again.
    ///
    /// `host` calls are answered by the handle (with [`Stream::None`]).
    pub fn call<C: protocol::Call>(
        &mut self,
        args: &C::Args,
        stream: Stream<'_>,
    ) -> Result<C::Ret> {
        let matches = matches!(
            (C::INFO.kind, &stream),
            (protocol::CallKind::Plain, Stream::None)
                | (protocol::CallKind::Host, Stream::None)
                | (protocol::CallKind::FileIn, Stream::In(_))
                | (protocol::CallKind::FileOut, Stream::Out(_))
        );
        if !matches {
            return Err(Error::InvalidArgument {
                call: C::META.name,
                message: format!(
                    "the streamed data does not match the call's kind ({:?})",
                    C::INFO.kind
                ),
            });
        }
        if C::INFO.kind == protocol::CallKind::Host {
            return self.host_call::<C>(args);
        }
        let traced = self.trace_call::<C>(args);
        let result = self.send_call(C::META, args, stream);
        self.trace_result(traced, C::META.name, &result);
        result
    }

    /// A `host` call, answered by this handle's [`protocol::Handle`]
    /// implementation, traced like the others.
    pub(crate) fn host_call<C: protocol::Call>(&mut self, args: &C::Args) -> Result<C::Ret> {
        let traced = self.trace_call::<C>(args);
        let result = C::host(self, args).unwrap_or_else(|| {
            Err(Error::InvalidArgument {
                call: C::META.name,
                message: "not a host call".into(),
            })
        });
        self.trace_result(traced, C::META.name, &result);
        result
    }

    /// `libguest: trace: [ID: ]name args`, as libguestfs traces. Returns
    /// whether it traced: as in libguestfs, the flag at entry decides both
    /// lines (set_trace(true) prints none, set_trace(false) both).
    fn trace_call<C: protocol::Call>(&self, args: &C::Args) -> bool {
        if self.trace {
            eprintln!(
                "libguest: trace: {}{}{}",
                self.trace_prefix(),
                C::META.name,
                C::trace_args(args)
            );
        }
        self.trace
    }

    /// `libguest: trace: [ID: ]name = result` (or `= error: …`).
    fn trace_result<T: std::fmt::Debug>(&self, traced: bool, call: &str, result: &Result<T>) {
        if traced {
            let shown = match result {
                Ok(value) => protocol::generate_support::trace_value(value),
                Err(e) => format!("error: {e}"),
            };
            eprintln!("libguest: trace: {}{call} = {shown}", self.trace_prefix());
        }
    }

    fn trace_prefix(&self) -> String {
        match self.identifier.as_str() {
            "" => String::new(),
            id => format!("{id}: "),
        }
    }

    /// Runs one call over the channel.
    pub(crate) fn send_call<R: serde::de::DeserializeOwned>(
        &mut self,
        meta: protocol::CallMeta,
        args: &impl serde::Serialize,
        stream: Stream<'_>,
    ) -> Result<R> {
        let (call, proc_nr) = (meta.name, meta.proc_nr);
        if !call.starts_with("internal_") && self.shutdown_step.is_none() {
            self.ensure_lvm_activated()?;
            if call == "inspect_os" {
                self.ensure_decrypted()?;
            }
        }
        if meta.needs_tools {
            self.ensure_tools(call)?;
        }
        if self.kill.is_killed() && matches!(self.state, State::Running(_)) {
            self.close_after_failure();
            return Err(Error::Killed { call });
        }
        let (timeout, setting) = match self.shutdown_step {
            Some(step) => (Some(step), shutdown::SHUTDOWN_TIMEOUT_SETTING),
            None => (self.call_timeout, CALL_TIMEOUT_SETTING),
        };
        let State::Running(run) = &mut self.state else {
            return Err(Error::State {
                call,
                reason: "the appliance is not running; call launch() first",
            });
        };
        let payload = postcard::to_allocvec(args).map_err(|e| Error::InvalidArgument {
            call,
            message: format!("cannot encode the arguments: {e}"),
        })?;
        let deadline = timeout.map(|t| CallDeadline::after(t, CANCEL_GRACE));
        let failure = match run.conn.call(proc_nr, &payload, stream, deadline) {
            Ok(bytes) => {
                return postcard::from_bytes(&bytes).map_err(|e| {
                    self.close_after_failure();
                    Error::Protocol {
                        call,
                        message: format!("the reply does not decode: {e}"),
                    }
                })
            }
            Err(failure) => failure,
        };
        Err(match failure {
            CallFailure::Daemon(reply) => map_reply(call, reply),
            CallFailure::TooLarge(len) => Error::TooLarge {
                call,
                message: format!(
                    "the request is {len} bytes, over the {} MiB message limit; use upload for large data",
                    protocol::frame::MAX_PAYLOAD >> 20
                ),
            },
            CallFailure::ReplyTooLarge(len) => Error::TooLarge {
                call,
                message: format!(
                    "the reply is {len} bytes, over the {} MiB reply limit; write the data to a file in the guest and use download",
                    protocol::frame::MAX_REPLY >> 20
                ),
            },
            CallFailure::Host(source) => Error::HostIo {
                call,
                what: "host-side I/O of the streamed data failed (the call was cancelled)".into(),
                source,
            },
            CallFailure::TimedOut { daemon_stopped } => {
                if !daemon_stopped {
                    self.stop_now();
                }
                if self.kill.is_killed() {
                    return Err(Error::Killed { call });
                }
                Error::CallTimeout {
                    call,
                    timeout: timeout.unwrap_or_default(),
                    setting,
                    appliance_stopped: !daemon_stopped,
                }
            }
            CallFailure::Protocol(message) => {
                self.close_after_failure();
                Error::Protocol { call, message }
            }
            CallFailure::Channel(e) => {
                tracing::debug!("{call}: channel failed: {e}");
                let reason = self.close_after_failure();
                if self.kill.is_killed() {
                    return Err(Error::Killed { call });
                }
                self.died(reason)
            }
        })
    }

    /// Loads the tools layer (mkfs and friends) into the appliance the
    /// first time a call needs it.
    fn ensure_tools(&mut self, call: &'static str) -> Result<()> {
        let State::Running(run) = &self.state else {
            return Ok(()); // call() says the appliance is not running
        };
        // A few stat calls: a tool installed on the host since the last
        // load makes a new key, so "install it and retry" works.
        let key = tools::tools_key();
        if run.tools_loaded.as_deref() == Some(key.as_str()) {
            return Ok(());
        }
        let started = Instant::now();
        let layer = tools::build_tools_layer().map_err(|source| Error::Tools { call, source })?;
        let built = started.elapsed();
        // The checked bytes, not the file again.
        self.internal_load_tools(&mut &layer.bytes[..])?;
        tracing::debug!(
            "{call}: tools layer {} ({:?}) built in {built:?}, loaded in {:?}",
            layer.key,
            layer.tools,
            started.elapsed() - built
        );
        if let State::Running(run) = &mut self.state {
            run.tools_loaded = Some(layer.key);
        }
        Ok(())
    }

    /// The channel broke: the appliance is gone or unusable. Stop it and
    /// return why it stopped.
    fn close_after_failure(&mut self) -> ExitReason {
        let State::Running(mut run) = std::mem::replace(&mut self.state, State::Closed) else {
            return ExitReason::Stopped;
        };
        let grace = Instant::now() + EXIT_REASON_GRACE;
        let reason = run.appliance.console().wait_exit(grace);
        let stopped = run.appliance.stop();
        self.kill.disarm();
        reason.unwrap_or(ExitReason::Crashed(format!(
            "the API channel closed while the appliance was running ({})",
            describe(&stopped)
        )))
    }

    /// The appliance does not answer: stop it without waiting for a
    /// reason, and close the handle.
    fn stop_now(&mut self) {
        if let State::Running(mut run) = std::mem::replace(&mut self.state, State::Closed) {
            run.appliance.stop();
        }
        self.kill.disarm();
    }
}

/// The daemon's message without the call's name in front (`CALL: …`, or
/// `CALL /dev/sda: …`): the typed error's text starts with it already.
fn without_call_name(call: &str, message: String) -> String {
    let Some(rest) = message.strip_prefix(call) else {
        return message;
    };
    if let Some(rest) = rest.strip_prefix(": ") {
        rest.to_owned()
    } else if rest.starts_with(" /") {
        rest[1..].to_owned()
    } else {
        message
    }
}

/// The daemon's error, as a typed error.
fn map_reply(call: &'static str, reply: ErrorReply) -> Error {
    let message = without_call_name(call, reply.message);
    match reply.kind {
        ErrorKind::Errno => match reply.errno {
            libc::ENOENT => Error::NotFound { call, message },
            libc::EACCES | libc::EPERM => Error::PermissionDenied { call, message },
            libc::EROFS => Error::ReadOnly { call, message },
            libc::EEXIST => Error::AlreadyExists { call, message },
            libc::ENOTDIR => Error::NotADirectory { call, message },
            libc::EISDIR => Error::IsADirectory { call, message },
            libc::ENOTEMPTY => Error::DirectoryNotEmpty { call, message },
            libc::ENOSPC => Error::NoSpace { call, message },
            libc::EINVAL => Error::InvalidArgument { call, message },
            errno => Error::Guest {
                call,
                errno,
                message,
            },
        },
        ErrorKind::InvalidArgument => Error::InvalidArgument { call, message },
        ErrorKind::NotMounted => Error::NotMounted { call, message },
        ErrorKind::Cancelled => Error::Cancelled { call },
        ErrorKind::TooLarge => Error::TooLarge { call, message },
        ErrorKind::CommandFailed => Error::CommandFailed {
            call,
            status: reply.errno,
            message,
        },
        ErrorKind::UnknownProcedure | ErrorKind::Other => Error::Guest {
            call,
            errno: 0,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::without_call_name;

    #[test]
    fn the_call_name_is_said_once() {
        let strip = |m: &str| without_call_name("vfs_type", m.to_owned());
        assert_eq!(strip("vfs_type: no filesystem"), "no filesystem");
        assert_eq!(
            strip("vfs_type /dev/sda: no filesystem"),
            "/dev/sda: no filesystem"
        );
        assert_eq!(strip("vfs_typed: other"), "vfs_typed: other");
        assert_eq!(strip("vfs_type ext4 failed"), "vfs_type ext4 failed");
        assert_eq!(strip("no filesystem"), "no filesystem");
    }
}
