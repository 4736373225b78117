//! The control loop on the console: one request per line, one reply line
//! each. This is the boot-time control path; the API channel replaces it for
//! everything but power-off.

use std::io::{BufRead, Write};

use crate::{log, power, testhooks};

/// Longest request line accepted; longer input is discarded up to its newline.
const MAX_REQUEST: usize = 4096;

pub(crate) fn serve() {
    disable_echo();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        match read_bounded_line(&mut input, &mut line) {
            Ok(0) => {
                log("console input closed");
                return;
            }
            Ok(_) => {}
            Err(e) => {
                log(&format!("console read: {e}"));
                std::thread::sleep(std::time::Duration::from_millis(100));
                continue;
            }
        }
        let request = String::from_utf8_lossy(&line);
        let reply = std::panic::catch_unwind(|| handle(request.trim()));
        let reply = reply.unwrap_or_else(|_| "error internal: request handler panicked".into());
        println!("guest-init: {reply}");
        let _ = std::io::stdout().flush();
    }
}

/// A request is `[ID] COMMAND [ARGS...]`; the reply repeats the ID so the
/// host can match it among other console lines: `ID ok TEXT` or
/// `ID error TEXT`.
fn handle(request: &str) -> String {
    let mut words: Vec<&str> = request.split_whitespace().collect();
    let id = match words.first() {
        Some(w) if w.bytes().all(|b| b.is_ascii_digit()) => Some(words.remove(0)),
        _ => None,
    };
    let result = match words.split_first() {
        None => Ok(String::new()),
        Some((&"ping", _)) => Ok("pong".into()),
        Some((&"sync", _)) => {
            power::sync_filesystems();
            Ok("synced".into())
        }
        Some((&"poweroff", _)) => power::power_off(),
        Some((cmd, args)) => testhooks::run(cmd, args)
            .unwrap_or_else(|| Err(format!("unknown request {:?}", truncate(cmd, 64)))),
    };
    let (status, text) = match result {
        Ok(text) => ("ok", text),
        Err(text) => ("error", text),
    };
    match id {
        Some(id) => format!("{id} {status} {text}"),
        None => format!("{status} {text}"),
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Reads one line of at most MAX_REQUEST bytes; the rest of an overlong line
/// is skipped. Returns 0 at end of input.
fn read_bounded_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(total);
        }
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], i + 1),
            None => (buf, buf.len()),
        };
        let room = MAX_REQUEST.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let consumed = done;
        let finished = consumed > chunk.len();
        input.consume(consumed);
        total += consumed;
        if finished {
            return Ok(total);
        }
    }
}

/// The console echoes by default; replies must not be mixed with echoes.
fn disable_echo() {
    // SAFETY: tcgetattr/tcsetattr on fd 0 with a zero-initialised termios
    // that tcgetattr fills; failures are reported and ignored.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(0, &mut t) != 0 {
            return;
        }
        t.c_lflag &= !(libc::ECHO | libc::ECHONL);
        if libc::tcsetattr(0, libc::TCSANOW, &t) != 0 {
            log("cannot turn off console echo");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_and_the_next_line_survives() {
        let mut data = vec![b'a'; MAX_REQUEST * 3];
        data.extend_from_slice(b"\nping\n");
        let mut input = std::io::BufReader::with_capacity(100, &data[..]);
        let mut line = Vec::new();
        read_bounded_line(&mut input, &mut line).unwrap();
        assert_eq!(line.len(), MAX_REQUEST);
        line.clear();
        read_bounded_line(&mut input, &mut line).unwrap();
        assert_eq!(line, b"ping");
        line.clear();
        assert_eq!(read_bounded_line(&mut input, &mut line).unwrap(), 0);
    }

    #[test]
    fn requests_are_answered() {
        assert_eq!(handle("ping"), "ok pong");
        assert_eq!(handle("17 ping"), "17 ok pong");
        assert!(handle("3 rm -rf /").starts_with("3 error unknown request"));
        assert_eq!(truncate("héllo", 2), "hé");
    }
}
