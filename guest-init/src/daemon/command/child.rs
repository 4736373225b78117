//! Running the program: chroot into the guest tree, its own process
//! group (so a cancel kills what it started too), both output pipes
//! read until they close. stdout is kept up to the reply limit and
//! counted beyond it (the program is never blocked on a full pipe);
//! stderr keeps its last [`TAIL`] bytes for the error message.

use std::ffi::CString;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use protocol::tools::SEARCH_DIRS;
use protocol::{CallIo, ErrorKind, ErrorReply};

use crate::daemon::mkfs::run::wait;
use crate::daemon::util::{errno_reply, MAX_OUTPUT};

/// Output quoted in an error, per stream.
pub(super) const TAIL: usize = 64 << 10;
/// How often a quiet program is checked for a cancel.
const POLL_MS: libc::c_int = 200;

pub(super) struct Ran {
    /// The exit status; 128 + the signal when killed.
    pub(super) status: i32,
    pub(super) signal: Option<i32>,
    /// The first MAX_OUTPUT + 1 bytes of stdout.
    pub(super) stdout: Vec<u8>,
    /// All bytes written to stdout.
    pub(super) stdout_len: u64,
    pub(super) stderr_tail: Vec<u8>,
}

impl Ran {
    pub(super) fn stdout_tail(&self) -> Vec<u8> {
        let start = self.stdout.len().saturating_sub(TAIL);
        self.stdout[start..].to_vec()
    }
}

struct Stream<R> {
    pipe: Option<R>,
    kept: Vec<u8>,
    len: u64,
}

impl<R: Read + AsRawFd> Stream<R> {
    /// Reads what is there; closes the stream at its end.
    fn read_some(&mut self, buf: &mut [u8], keep: impl Fn(&mut Vec<u8>, &[u8])) {
        let Some(pipe) = self.pipe.as_mut() else {
            return;
        };
        match pipe.read(buf) {
            Ok(0) => self.pipe = None,
            Ok(n) => {
                self.len += n as u64;
                keep(&mut self.kept, &buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => self.pipe = None,
        }
    }
}

fn keep_head(kept: &mut Vec<u8>, data: &[u8]) {
    let room = (MAX_OUTPUT + 1).saturating_sub(kept.len());
    kept.extend_from_slice(&data[..data.len().min(room)]);
}

fn keep_tail(kept: &mut Vec<u8>, data: &[u8]) {
    kept.extend_from_slice(data);
    if kept.len() > 2 * TAIL {
        kept.drain(..kept.len() - TAIL);
    }
}

/// Runs `argv` chrooted into `root` and collects its output.
pub(super) fn run(
    io: &dyn CallIo,
    root: &Path,
    argv: &[String],
    call: &str,
) -> Result<Ran, ErrorReply> {
    let program = argv.first().map_or("", String::as_str);
    let root_c = CString::new(root.as_os_str().as_bytes())
        .map_err(|_| ErrorReply::new(ErrorKind::Other, format!("{call}: root path holds NUL")))?;
    let mut cmd = Command::new(program);
    cmd.args(&argv[1..])
        .env_clear()
        .env("PATH", SEARCH_DIRS.join(":"))
        .env("HOME", "/root")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: the closure runs in the forked child before exec and only
    // makes the async-signal-safe chroot and chdir system calls on a
    // CString made before the fork; errno is read into an io::Error
    // without allocating.
    unsafe {
        cmd.pre_exec(move || {
            if libc::chroot(root_c.as_ptr()) != 0 || libc::chdir(c"/".as_ptr()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| errno_reply(&format!("{call}: run"), program, e))?;
    let pid = libc::pid_t::try_from(child.id()).unwrap_or(-1);
    let mut out = Stream {
        pipe: child.stdout.take(),
        kept: Vec::new(),
        len: 0,
    };
    let mut err = Stream {
        pipe: child.stderr.take(),
        kept: Vec::new(),
        len: 0,
    };
    let mut cancelled = false;
    let mut buf = vec![0u8; 64 << 10];
    while out.pipe.is_some() || err.pipe.is_some() {
        if !cancelled && io.cancelled() {
            cancelled = true;
            // SAFETY: signals the program's own process group (pgid = its
            // pid, set by process_group(0)); no memory is involved.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        let mut fds: Vec<libc::pollfd> = [
            out.pipe.as_ref().map(|p| p.as_raw_fd()),
            err.pipe.as_ref().map(|p| p.as_raw_fd()),
        ]
        .into_iter()
        .map(|fd| libc::pollfd {
            fd: fd.unwrap_or(-1),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
        // SAFETY: `fds` is a live array of two pollfd for the duration of
        // the call; a negative fd is ignored by poll.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, POLL_MS) };
        if n <= 0 {
            continue;
        }
        if fds[0].revents != 0 {
            out.read_some(&mut buf, keep_head);
        }
        if fds[1].revents != 0 {
            err.read_some(&mut buf, keep_tail);
        }
    }
    let raw = wait(&mut child);
    if cancelled {
        return Err(ErrorReply::cancelled());
    }
    let (status, signal) = if libc::WIFEXITED(raw) {
        (libc::WEXITSTATUS(raw), None)
    } else if libc::WIFSIGNALED(raw) {
        let sig = libc::WTERMSIG(raw);
        (128 + sig, Some(sig))
    } else {
        (255, None)
    };
    let start = err.kept.len().saturating_sub(TAIL);
    Ok(Ran {
        status,
        signal,
        stdout: out.kept,
        stdout_len: out.len,
        stderr_tail: err.kept.split_off(start),
    })
}
