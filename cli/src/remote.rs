//! `--listen` and `--remote`, as guestfish's: one long-lived libguest
//! holds the appliance, and later `libguest --remote CMD…` runs commands
//! in it, so a shell script pays for one boot.
//!
//! ```sh
//! eval "$(libguest --listen -a disk.img -m /dev/sda1)"
//! libguest --remote cat /etc/hostname
//! libguest --remote exit
//! ```
//!
//! The server is a re-run of this binary in its own process group; once
//! its socket is bound it says so on a pipe and the first process prints
//! `GUESTFISH_PID=N; export GUESTFISH_PID` (the variable guestfish
//! scripts already use). Each request carries the client's standard
//! input, output and error (SCM_RIGHTS), which the server puts in place
//! of its own while the command runs, so output, `-` files and errors
//! reach the client's terminal or pipes directly; a status byte ends it.
//!
//! Security rule: the socket lives in a directory only the user can
//! enter (`$XDG_RUNTIME_DIR/libguest`, else `/tmp/.libguest-UID`, made
//! 0700 and refused when someone else owns it or can enter it), and the
//! server serves only peers of its own uid (SO_PEERCRED). A client's
//! request is bounded in size and time, so a stuck or hostile client
//! cannot wedge the server.

use std::io::{BufRead, IoSlice, IoSliceMut, IsTerminal, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use rustix::net::{
    recvmsg, sendmsg, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

use crate::error::{CliError, Result};
use crate::session::Session;
use crate::{fish, registry};

/// Set in the server's environment by the process that starts it.
const SERVER_ENV: &str = "LIBGUEST_LISTEN_SERVER";
/// What the server prints on its pipe once it accepts connections.
const READY: &str = "libguest-listening";
/// Request header: magic, kind, payload length.
const MAGIC: &[u8; 4] = b"LGR1";
const HEADER: usize = 9;
/// The most a request may carry (words or one script line).
const MAX_PAYLOAD: u32 = 1 << 20;
/// How long a client may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What a request holds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Command-line words, ':' between commands.
    Words = b'W' as isize,
    /// One script line, with guestfish's syntax (`!`, `|`, `-`).
    Line = b'L' as isize,
}

/// Whether this process is the server `--listen` started.
pub fn is_server() -> bool {
    std::env::var_os(SERVER_ENV).is_some()
}

/// `--listen` in the user's process: starts the server and prints the
/// line that tells the shell its PID.
pub fn start_server() -> Result<()> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::msg(format!("--listen: cannot find this program: {e}")))?;
    let mut child = Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(SERVER_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group: Ctrl-C in the user's shell does not reach it.
        .process_group(0)
        .spawn()
        .map_err(|e| CliError::msg(format!("--listen: cannot start the server: {e}")))?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = std::io::BufReader::new(out).read_line(&mut line);
    }
    if line.trim_end() != READY {
        let mut why = String::new();
        if let Some(mut err) = child.stderr.take() {
            let _ = err.read_to_string(&mut why);
        }
        let _ = child.wait();
        let why = why.trim().trim_start_matches("libguest: ");
        return Err(CliError::msg(format!(
            "--listen: the server did not start: {}",
            if why.is_empty() { "it exited" } else { why }
        )));
    }
    let pid = child.id();
    let csh = std::env::var("SHELL").is_ok_and(|s| s.ends_with("csh"));
    match csh {
        true => outln!("setenv GUESTFISH_PID {pid}"),
        false => outln!("GUESTFISH_PID={pid}; export GUESTFISH_PID"),
    }
    Ok(())
}

/// The server's loop: binds the socket, tells the starter, then runs
/// requests until `exit` / `quit`.
pub fn serve(session: &mut Session) -> Result<()> {
    let path = socket_path(std::process::id())?;
    // Our PID is in the name: one left behind is a dead server's.
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)
        .map_err(|e| CliError::msg(format!("--listen: cannot bind {}: {e}", path.display())))?;
    let socket = RemoveOnDrop(path);
    outln!("{READY}");
    let _ = std::io::stdout().flush();
    // Nothing more to say to the starter: its pipes close.
    detach_stdio()?;
    let uid = rustix::process::geteuid();
    loop {
        let Ok((conn, _)) = listener.accept() else {
            continue;
        };
        match rustix::net::sockopt::socket_peercred(&conn) {
            Ok(cred) if cred.uid == uid => {}
            _ => continue,
        }
        if let Ok(true) = serve_one(session, conn, &socket.0) {
            break;
        }
    }
    Ok(())
}

/// One request; true when it asked the server to stop.
fn serve_one(session: &mut Session, mut conn: UnixStream, socket: &Path) -> Result<bool> {
    let (kind, payload, fds) = match read_request(&conn) {
        Ok(request) => request,
        // A client that sent nothing usable gets nothing.
        Err(_) => return Ok(false),
    };
    let text = String::from_utf8_lossy(&payload).into_owned();
    let words: Vec<String> = match kind {
        Kind::Words => text.split('\0').map(str::to_string).collect(),
        Kind::Line => vec![text.clone()],
    };
    let quit =
        matches!(words.first().map(|w| w.trim()), Some("exit" | "quit" | "q")) && words.len() == 1;
    let status = {
        let _stdio = ClientStdio::install(&fds)?;
        let result = match (quit, kind) {
            // Shut down before answering: when `--remote exit` returns,
            // every write is in the image.
            (true, _) => session.close(),
            (false, Kind::Words) => registry::run_line(session, &words),
            (false, Kind::Line) => fish::run_line(session, &text).map(|_| ()),
        };
        match result {
            Ok(()) => 0u8,
            Err(e) => {
                e.report(session.config.verbose);
                1
            }
        }
    };
    if quit {
        // Gone before the answer: a client run after `exit` returns finds
        // no socket rather than one nobody accepts on.
        let _ = std::fs::remove_file(socket);
    }
    let _ = conn.write_all(&[status]);
    Ok(quit)
}

/// The header (with the client's three descriptors) and the payload.
fn read_request(conn: &UnixStream) -> std::io::Result<(Kind, Vec<u8>, [OwnedFd; 3])> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    conn.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    let mut header = [0u8; HEADER];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(3))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let got = recvmsg(
        conn,
        &mut [IoSliceMut::new(&mut header)],
        &mut control,
        RecvFlags::CMSG_CLOEXEC,
    )?;
    let mut fds: Vec<OwnedFd> = Vec::new();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = message {
            fds.extend(received);
        }
    }
    if got.bytes != HEADER || &header[..4] != MAGIC {
        return Err(bad("not a libguest --remote request"));
    }
    let kind = match header[4] {
        b'W' => Kind::Words,
        b'L' => Kind::Line,
        _ => return Err(bad("unknown request kind")),
    };
    let len = u32::from_le_bytes([header[5], header[6], header[7], header[8]]);
    if len > MAX_PAYLOAD {
        return Err(bad("request too large"));
    }
    let fds: [OwnedFd; 3] = fds
        .try_into()
        .map_err(|_| bad("a request carries three descriptors"))?;
    let mut payload = vec![0u8; len as usize];
    (&*conn).read_exact(&mut payload)?;
    Ok((kind, payload, fds))
}

/// `--remote[=PID]`: runs the words (or, with none, each line of
/// standard input) in the server; the exit status is the last one's.
pub fn client(pid: Option<u32>, words: &[String]) -> Result<u8> {
    let pid = match pid {
        Some(pid) => pid,
        None => std::env::var("GUESTFISH_PID")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| {
                CliError::msg(
                    "--remote: no server named: start one with eval \"$(libguest --listen -a IMAGE)\" (it sets GUESTFISH_PID) or pass --remote=PID",
                )
            })?,
    };
    let path = socket_path(pid)?;
    if !words.is_empty() {
        return request(&path, pid, Kind::Words, words.join("\0").as_bytes());
    }
    for line in std::io::stdin().lock().lines() {
        let line =
            line.map_err(|e| CliError::msg(format!("--remote: reading standard input: {e}")))?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let status = request(&path, pid, Kind::Line, line.as_bytes())?;
        if status != 0 {
            return Ok(status);
        }
    }
    Ok(0)
}

fn request(path: &Path, pid: u32, kind: Kind, payload: &[u8]) -> Result<u8> {
    let mut conn = UnixStream::connect(path).map_err(|e| {
        CliError::msg(format!(
            "--remote: no libguest --listen server with PID {pid} ({}: {e})",
            path.display()
        ))
    })?;
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|&n| n <= MAX_PAYLOAD)
        .ok_or_else(|| CliError::msg("--remote: the command is longer than 1 MiB"))?;
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.push(kind as u8);
    header.extend_from_slice(&len.to_le_bytes());
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let fds: [BorrowedFd<'_>; 3] = [stdin.as_fd(), stdout.as_fd(), stderr.as_fd()];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(3))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    control.push(SendAncillaryMessage::ScmRights(&fds));
    let lost = |e: std::io::Error| CliError::msg(format!("--remote: server {pid}: {e}"));
    let sent = sendmsg(
        &conn,
        &[IoSlice::new(&header)],
        &mut control,
        SendFlags::empty(),
    )
    .map_err(|e| lost(e.into()))?;
    if sent != header.len() {
        return Err(CliError::msg(format!("--remote: server {pid}: short send")));
    }
    conn.write_all(payload).map_err(lost)?;
    let mut status = [0u8; 1];
    conn.read_exact(&mut status).map_err(|e| {
        CliError::msg(format!(
            "--remote: server {pid} ended without an answer ({e}); it may have exited"
        ))
    })?;
    Ok(status[0])
}

/// The socket of server `pid`, in the user's private directory.
fn socket_path(pid: u32) -> Result<PathBuf> {
    Ok(private_dir()?.join(format!("remote-{pid}.sock")))
}

/// `$XDG_RUNTIME_DIR/libguest` or `/tmp/.libguest-UID`, 0700 and ours.
fn private_dir() -> Result<PathBuf> {
    let uid = rustix::process::geteuid().as_raw();
    let dir = match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| Path::new(d).is_dir()) {
        Some(runtime) => PathBuf::from(runtime).join("libguest"),
        None => PathBuf::from(format!("/tmp/.libguest-{uid}")),
    };
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    let meta = std::fs::symlink_metadata(&dir)
        .map_err(|e| CliError::msg(format!("cannot create {}: {e}", dir.display())))?;
    if !meta.file_type().is_dir() || meta.uid() != uid || meta.permissions().mode() & 0o077 != 0 {
        return Err(CliError::msg(format!(
            "refusing {}: the socket directory must be a directory owned by uid {uid} with mode 0700 (it is {}, uid {}, mode {:o}); remove it and retry",
            dir.display(),
            if meta.file_type().is_dir() { "a directory" } else { "not a directory" },
            meta.uid(),
            meta.permissions().mode() & 0o7777
        )));
    }
    Ok(dir)
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The server's own standard streams onto /dev/null.
fn detach_stdio() -> Result<()> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| CliError::msg(format!("--listen: /dev/null: {e}")))?;
    for fd in 0..3 {
        crate::terminal::replace_std_stream(null.as_raw_fd(), fd)?;
    }
    Ok(())
}

/// The client's streams in place of the server's for one request; the
/// server's (/dev/null) come back on drop.
struct ClientStdio {
    saved: [OwnedFd; 3],
}

impl ClientStdio {
    fn install(client: &[OwnedFd; 3]) -> Result<ClientStdio> {
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        let save = |fd: BorrowedFd<'_>| {
            fd.try_clone_to_owned()
                .map_err(|e| CliError::msg(format!("--listen: cannot save a descriptor: {e}")))
        };
        let saved = [
            save(std::io::stdin().as_fd())?,
            save(std::io::stdout().as_fd())?,
            save(std::io::stderr().as_fd())?,
        ];
        for (fd, target) in client.iter().zip(0..) {
            crate::terminal::replace_std_stream(fd.as_raw_fd(), target)?;
        }
        crate::terminal::set_client_terminals(Some((
            client[1].is_terminal(),
            client[2].is_terminal(),
        )));
        Ok(ClientStdio { saved })
    }
}

impl Drop for ClientStdio {
    fn drop(&mut self) {
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        for (fd, target) in self.saved.iter().zip(0..) {
            let _ = crate::terminal::replace_std_stream(fd.as_raw_fd(), target);
        }
        crate::terminal::set_client_terminals(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_with_a_bad_header_or_no_descriptors_is_refused() {
        let (a, b) = UnixStream::pair().unwrap();
        (&a).write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(read_request(&b).is_err());
        let (a, b) = UnixStream::pair().unwrap();
        let mut header = MAGIC.to_vec();
        header.push(b'W');
        header.extend_from_slice(&3u32.to_le_bytes());
        (&a).write_all(&header).unwrap();
        (&a).write_all(b"a\0b").unwrap();
        let e = read_request(&b).unwrap_err();
        assert!(e.to_string().contains("three descriptors"), "{e}");
        let (a, b) = UnixStream::pair().unwrap();
        let mut header = MAGIC.to_vec();
        header.push(b'W');
        header.extend_from_slice(&(MAX_PAYLOAD + 1).to_le_bytes());
        (&a).write_all(&header).unwrap();
        assert!(read_request(&b)
            .unwrap_err()
            .to_string()
            .contains("too large"));
    }

    #[test]
    fn a_request_carries_its_words_and_descriptors() {
        let (a, b) = UnixStream::pair().unwrap();
        let (r, _w) = UnixStream::pair().unwrap();
        let fds = [r.as_fd(), r.as_fd(), r.as_fd()];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(3))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        control.push(SendAncillaryMessage::ScmRights(&fds));
        let mut header = MAGIC.to_vec();
        header.push(b'W');
        header.extend_from_slice(&7u32.to_le_bytes());
        sendmsg(
            &a,
            &[IoSlice::new(&header)],
            &mut control,
            SendFlags::empty(),
        )
        .unwrap();
        (&a).write_all(b"ls\0/etc").unwrap();
        let (kind, payload, fds) = read_request(&b).unwrap();
        assert_eq!(kind, Kind::Words);
        assert_eq!(payload, b"ls\0/etc");
        assert_eq!(fds.len(), 3);
    }
}
