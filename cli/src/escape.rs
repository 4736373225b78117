//! Guest text made harmless for a terminal.
//!
//! A guest chooses file names, inspection fields, file contents and the
//! paths its error messages quote. Written raw to a terminal, an escape
//! sequence in one can move the cursor and rewrite what is on screen, set
//! the window title, change colours for good or, on some terminals, make
//! the terminal answer with text the shell then reads as typed input.
//!
//! Security rule: the CLI writes everything it prints on a terminal
//! through [`TerminalEscaper`]; to a pipe or a file it writes the bytes
//! as they are, as guestfish does, so scripts see exactly what the guest
//! holds. Escaped, each as `\uXXXX` (JSON's spelling, so `--json` output
//! stays valid JSON on a terminal):
//!
//! - C0 controls (ESC included) except `\n` and `\t`; `\r` only passes
//!   as part of a `\r\n` line end (alone it could overwrite a line);
//! - DEL and the C1 controls U+0080..U+009F (U+009B is a one-character CSI);
//! - the bidirectional marks, embeddings, overrides and isolates
//!   (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069), which can
//!   make a name read differently from what it is, and the line and
//!   paragraph separators U+2028, U+2029;
//!
//! and every byte that is not part of valid UTF-8, as `\xNN` (a lone
//! 0x9B is CSI to a terminal in an 8-bit mode). Backslashes stay as they
//! are: the terminal output is for reading, the piped output for parsing.

use std::io::{self, Write};

/// Whether `c` is escaped on a terminal (see the module docs).
pub fn needs_escape(c: char) -> bool {
    matches!(c,
        '\0'..='\x08' | '\x0b'..='\x1f' | '\x7f'..='\u{9f}'
        | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

/// `text` as it is shown on a terminal.
pub fn escape_for_terminal(text: &[u8]) -> String {
    let mut out = Vec::with_capacity(text.len());
    escape_into(text, true, &mut out);
    // Only ASCII escapes and whole UTF-8 characters were written.
    String::from_utf8_lossy(&out).into_owned()
}

/// Escapes `data` into `out`; returns how many bytes at its end wait for
/// what follows (an incomplete UTF-8 character, or a `\r` that may start
/// `\r\n`) unless `last`.
fn escape_into(data: &[u8], last: bool, out: &mut Vec<u8>) -> usize {
    let mut rest = data;
    loop {
        let (valid, invalid) = match std::str::from_utf8(rest) {
            Ok(text) => (text, None),
            Err(e) => {
                let (valid, _) = rest.split_at(e.valid_up_to());
                // Valid up to there, by from_utf8's word.
                (std::str::from_utf8(valid).unwrap_or_default(), Some(e))
            }
        };
        let at_end = invalid.is_none();
        if let Some(kept) = escape_text(valid, at_end && !last, out) {
            return kept;
        }
        let Some(e) = invalid else {
            return 0;
        };
        let bad = &rest[e.valid_up_to()..];
        match e.error_len() {
            Some(n) => {
                for b in &bad[..n] {
                    out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
                }
                rest = &bad[n..];
            }
            // Cut short at the end: the rest of the character may come next.
            None if !last => return bad.len(),
            None => {
                for b in bad {
                    out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
                }
                return 0;
            }
        }
    }
}

/// Escapes valid text; `Some(1)` when it ends in a `\r` that must wait
/// for the next byte (`hold_cr`).
fn escape_text(text: &str, hold_cr: bool, out: &mut Vec<u8>) -> Option<usize> {
    let mut plain_from = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let keep_cr = c == '\r' && chars.peek().is_some_and(|&(_, next)| next == '\n');
        if !needs_escape(c) || keep_cr {
            continue;
        }
        out.extend_from_slice(&text.as_bytes()[plain_from..at]);
        plain_from = at + c.len_utf8();
        if c == '\r' && hold_cr && chars.peek().is_none() {
            return Some(1);
        }
        out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
    }
    out.extend_from_slice(&text.as_bytes()[plain_from..]);
    None
}

/// A writer that escapes what it is given before it reaches `inner` (a
/// terminal). Characters split across writes are put together first;
/// what is still incomplete when it is dropped is written escaped.
pub struct TerminalEscaper<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> TerminalEscaper<W> {
    pub fn new(inner: W) -> TerminalEscaper<W> {
        TerminalEscaper {
            inner,
            pending: Vec::new(),
        }
    }

    /// Writes what is still pending, escaped (also done on drop).
    pub fn finish(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut out = Vec::new();
        escape_into(&std::mem::take(&mut self.pending), true, &mut out);
        self.inner.write_all(&out)
    }
}

impl<W: Write> Write for TerminalEscaper<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut out = Vec::with_capacity(buf.len() + 16);
        let kept = if self.pending.is_empty() {
            let kept = escape_into(buf, false, &mut out);
            self.pending.extend_from_slice(&buf[buf.len() - kept..]);
            kept
        } else {
            let mut data = std::mem::take(&mut self.pending);
            data.extend_from_slice(buf);
            let kept = escape_into(&data, false, &mut out);
            data.drain(..data.len() - kept);
            self.pending = data;
            kept
        };
        debug_assert!(kept <= 4);
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for TerminalEscaper<W> {
    fn drop(&mut self) {
        // A writer being dropped has no caller left to tell.
        let _ = self.finish();
        let _ = self.inner.flush();
    }
}

#[cfg(test)]
mod tests;
