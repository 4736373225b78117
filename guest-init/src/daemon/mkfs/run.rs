//! Finding and running the filesystem tools. In the appliance they come
//! from the tools layer (`internal_load_tools`); in host tests they are
//! the host's own.

use std::ffi::OsStr;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use protocol::{ErrorKind, ErrorReply};

use protocol::tools::SEARCH_DIRS;

use protocol::tools::TOOLS;

/// Output kept from one run (the tail: errors are at the end).
const MAX_OUTPUT: usize = 64 << 10;
/// Lines of output quoted in an error.
const ERROR_LINES: usize = 6;

static TOOLS_LOADED: AtomicBool = AtomicBool::new(false);
/// Directories of the layer's shared libraries, for LD_LIBRARY_PATH: the
/// appliance has no ld.so.cache, and the host may have found a library
/// through one.
static LIBRARY_DIRS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records a loaded layer.
pub(super) fn set_loaded(library_dirs: Vec<String>) {
    let mut dirs = LIBRARY_DIRS.lock().unwrap_or_else(|e| e.into_inner());
    for dir in library_dirs {
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    TOOLS_LOADED.store(true, Ordering::SeqCst);
}

/// A tool's path, or an error saying which host package provides it.
pub(crate) fn find(name: &str) -> Result<PathBuf, ErrorReply> {
    use std::os::unix::fs::PermissionsExt;
    for dir in SEARCH_DIRS {
        let path = PathBuf::from(dir).join(name);
        if let Ok(meta) = std::fs::metadata(&path) {
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return Ok(path);
            }
        }
    }
    Err(not_available(name))
}

/// The error for a tool that is not there.
pub(crate) fn not_available(name: &str) -> ErrorReply {
    let package = TOOLS
        .iter()
        .find(|(tool, _)| *tool == name)
        .map_or("the package that provides it", |(_, p)| *p);
    let mut msg = format!(
        "{name} is not available: install {package} on the host (apt-get install {package}) and retry"
    );
    // PID 1: we are the appliance, where tools only come from the layer.
    if std::process::id() == 1 && !TOOLS_LOADED.load(Ordering::SeqCst) {
        msg.push_str(" (no tools layer has been loaded into the appliance)");
    }
    ErrorReply::new(ErrorKind::Other, msg)
}

/// How a tool ended and what it printed (stdout and stderr together).
pub(crate) struct Output {
    pub(crate) code: i32,
    pub(crate) text: String,
}

impl Output {
    /// The last lines of output, for error messages. A usage dump after
    /// the real complaint (mkfs.xfs: "Filesystem must be larger than
    /// 300MB." then 40 lines of usage) is left out: the lines before it
    /// say what went wrong.
    pub(crate) fn tail(&self) -> String {
        let mut lines: Vec<&str> = self
            .text
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .collect();
        if let Some(usage) = lines
            .iter()
            .position(|l| l.to_ascii_lowercase().starts_with("usage:"))
            .filter(|&at| at > 0)
        {
            lines.truncate(usage);
        }
        let start = lines.len().saturating_sub(ERROR_LINES);
        lines[start..].join("\n")
    }
}

/// The error for a tool that exited with `code`.
pub(crate) fn failed(call: &str, tool: &str, out: &Output) -> ErrorReply {
    let tail = out.tail();
    let sep = if tail.is_empty() { "" } else { ": " };
    ErrorReply::new(
        ErrorKind::Other,
        format!(
            "{call}: {tool} failed (exit status {}){sep}{tail}",
            out.code
        ),
    )
}

/// A tool's command with the environment every tool runs in: only our
/// search path, the C locale and the layer's library directories.
pub(crate) fn command(tool: &str) -> Result<Command, ErrorReply> {
    let mut cmd = Command::new(find(tool)?);
    cmd.env_clear()
        .env("PATH", SEARCH_DIRS.join(":"))
        .env("LC_ALL", "C");
    let dirs = LIBRARY_DIRS.lock().unwrap_or_else(|e| e.into_inner());
    if !dirs.is_empty() {
        cmd.env("LD_LIBRARY_PATH", dirs.join(":"));
    }
    Ok(cmd)
}

/// Runs a tool to completion; any exit status is returned, a tool killed
/// by a signal or not started is an error.
pub(crate) fn run(call: &str, tool: &str, args: &[&OsStr]) -> Result<Output, ErrorReply> {
    run_with(call, tool, args, Stdio::null(), &[])
}

/// As [`run`], with `stdin` as the tool's standard input (a pipe holding
/// a key, for cryptsetup) and `env` added to its environment.
pub(crate) fn run_with(
    call: &str,
    tool: &str,
    args: &[&OsStr],
    stdin: Stdio,
    env: &[(&str, &str)],
) -> Result<Output, ErrorReply> {
    let io_err = |what: &str, e: std::io::Error| {
        ErrorReply::new(ErrorKind::Other, format!("{call}: {what} {tool}: {e}"))
    };
    // One pipe for stdout and stderr: the output in order, as a terminal
    // shows it.
    let (mut reader, writer) = std::io::pipe().map_err(|e| io_err("pipe for", e))?;
    let writer2 = writer.try_clone().map_err(|e| io_err("pipe for", e))?;
    let mut cmd = command(tool)?;
    cmd.args(args)
        .envs(env.iter().copied())
        .stdin(stdin)
        .stdout(writer)
        .stderr(writer2);
    let spawned = cmd.spawn();
    // Our copies of the write end must go, or the read never ends.
    drop(cmd);
    let mut child = spawned.map_err(|e| io_err("cannot run", e))?;
    let mut text = Vec::new();
    let mut buf = vec![0u8; 16 << 10];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                text.extend_from_slice(&buf[..n]);
                if text.len() > 2 * MAX_OUTPUT {
                    text.drain(..text.len() - MAX_OUTPUT);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let status = wait(&mut child);
    let text = String::from_utf8_lossy(&text).into_owned();
    if libc::WIFEXITED(status) {
        return Ok(Output {
            code: libc::WEXITSTATUS(status),
            text,
        });
    }
    let signal = if libc::WIFSIGNALED(status) {
        libc::WTERMSIG(status)
    } else {
        0
    };
    let out = Output { code: -1, text };
    Err(ErrorReply::new(
        ErrorKind::Other,
        format!(
            "{call}: {tool} was killed by signal {signal}: {}",
            out.tail()
        ),
    ))
}

/// The child's raw wait status. Our waitpid races the PID 1 reaper
/// thread; when the reaper won (ECHILD), it has kept the status for us.
pub(in crate::daemon) fn wait(child: &mut std::process::Child) -> libc::c_int {
    use std::os::unix::process::ExitStatusExt;
    match child.wait() {
        Ok(status) => status.into_raw(),
        Err(e) if e.raw_os_error() == Some(libc::ECHILD) => {
            let pid = libc::pid_t::try_from(child.id()).unwrap_or(-1);
            crate::reaper::wait_child(pid)
        }
        // Not seen in practice; reported as exit status 255.
        Err(_) => 255 << 8,
    }
}

/// Runs a tool and fails unless it exits 0.
pub(crate) fn run_ok(call: &str, tool: &str, args: &[&OsStr]) -> Result<Output, ErrorReply> {
    let out = run(call, tool, args)?;
    if out.code != 0 {
        return Err(failed(call, tool, &out));
    }
    Ok(out)
}
