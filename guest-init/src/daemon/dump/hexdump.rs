//! hexdump -C's canonical format: `%08x`, two spaces, 16 bytes in hex
//! in two groups of 8, the bytes as ASCII between bars (`.` for the
//! unprintable); a line equal to the one before becomes one `*`; the
//! last line is the length. An empty file prints nothing.

use std::fmt::Write;

#[derive(Default)]
pub(super) struct Dumper {
    out: String,
    /// The bytes of the line being filled (fewer than 16).
    line: Vec<u8>,
    offset: u64,
    /// The last full line printed, and whether `*` stands for repeats.
    previous: Option<[u8; 16]>,
    squeezing: bool,
}

impl Dumper {
    /// The dump's size so far.
    pub(super) fn len(&self) -> usize {
        self.out.len()
    }

    pub(super) fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let take = (16 - self.line.len()).min(data.len());
            self.line.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.line.len() == 16 {
                let mut full = [0u8; 16];
                full.copy_from_slice(&self.line);
                self.line.clear();
                if self.previous == Some(full) {
                    if !self.squeezing {
                        self.out.push_str("*\n");
                        self.squeezing = true;
                    }
                } else {
                    self.print(&full);
                    self.previous = Some(full);
                    self.squeezing = false;
                }
                self.offset += 16;
            }
        }
    }

    fn print(&mut self, bytes: &[u8]) {
        let start = self.out.len();
        let _ = write!(self.out, "{:08x}  ", self.offset);
        for (i, b) in bytes.iter().enumerate() {
            let _ = write!(self.out, "{b:02x} ");
            if i == 7 {
                self.out.push(' ');
            }
        }
        // Short last line: the bars line up with full ones.
        while self.out.len() - start < 60 {
            self.out.push(' ');
        }
        self.out.push('|');
        for b in bytes {
            self.out.push(if (0x20..0x7f).contains(b) {
                char::from(*b)
            } else {
                '.'
            });
        }
        self.out.push_str("|\n");
    }

    pub(super) fn finish(mut self) -> String {
        let total = self.offset + self.line.len() as u64;
        if total == 0 {
            return String::new();
        }
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.print(&line);
        }
        let _ = writeln!(self.out, "{total:08x}");
        self.out
    }
}
