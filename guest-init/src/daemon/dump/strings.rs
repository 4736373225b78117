//! strings(1)'s scan, as binutils does it: characters of 1, 2 or 4
//! bytes; a run of at least [`MIN_LEN`] printable characters is a
//! string; after a character that is not printable the scan goes on at
//! that character's second byte (binutils' unget_part_char).

use protocol::ErrorReply;

use crate::daemon::util::MAX_DATA;

/// strings' default minimum length.
const MIN_LEN: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Encoding {
    /// `s`: 7-bit bytes.
    Seven,
    /// `S`: 8-bit bytes.
    Eight,
    /// `b`, `l`: 16-bit big and little endian.
    Big16,
    Little16,
    /// `B`, `L`: 32-bit big and little endian.
    Big32,
    Little32,
}

impl Encoding {
    pub(super) fn from_letter(s: &str) -> Option<Encoding> {
        Some(match s {
            "s" => Encoding::Seven,
            "S" => Encoding::Eight,
            "b" => Encoding::Big16,
            "l" => Encoding::Little16,
            "B" => Encoding::Big32,
            "L" => Encoding::Little32,
            _ => return None,
        })
    }

    fn width(self) -> usize {
        match self {
            Encoding::Seven | Encoding::Eight => 1,
            Encoding::Big16 | Encoding::Little16 => 2,
            Encoding::Big32 | Encoding::Little32 => 4,
        }
    }

    fn value(self, b: &[u8]) -> u32 {
        let be = b.iter().fold(0u32, |v, x| v << 8 | u32::from(*x));
        let le = b.iter().rev().fold(0u32, |v, x| v << 8 | u32::from(*x));
        match self {
            Encoding::Little16 | Encoding::Little32 => le,
            _ => be,
        }
    }

    /// binutils' STRING_ISGRAPHIC: tab or printable ASCII, and any byte
    /// over 127 for `S`.
    fn printable(self, c: u32) -> bool {
        c == u32::from(b'\t')
            || (0x20..=0x7e).contains(&c)
            || (self == Encoding::Eight && (128..=255).contains(&c))
    }
}

pub(super) struct Scanner {
    encoding: Encoding,
    /// Bytes not yet scanned: fewer than one character's width.
    pending: Vec<u8>,
    /// The printable characters found since the last string ended.
    run: Vec<u8>,
}

impl Scanner {
    pub(super) fn new(encoding: Encoding) -> Scanner {
        Scanner {
            encoding,
            pending: Vec::new(),
            run: Vec::new(),
        }
    }

    fn end_run(
        &mut self,
        emit: &mut impl FnMut(&[u8]) -> Result<(), ErrorReply>,
    ) -> Result<(), ErrorReply> {
        if self.run.len() >= MIN_LEN {
            emit(&self.run)?;
        }
        self.run.clear();
        Ok(())
    }

    /// Scans the next bytes of the file; calls `emit` for each string.
    pub(super) fn feed(
        &mut self,
        piece: &[u8],
        emit: &mut impl FnMut(&[u8]) -> Result<(), ErrorReply>,
    ) -> Result<(), ErrorReply> {
        let mut buf = std::mem::take(&mut self.pending);
        buf.extend_from_slice(piece);
        let width = self.encoding.width();
        let mut pos = 0;
        while pos + width <= buf.len() {
            let c = self.encoding.value(&buf[pos..pos + width]);
            if self.encoding.printable(c) {
                // A printable character is at most 255: one output byte.
                self.run.push(c as u8);
                pos += width;
                if self.run.len() > MAX_DATA {
                    // Over the message limit: emit fails with TooLarge.
                    emit(&self.run)?;
                }
            } else {
                self.end_run(emit)?;
                pos += 1;
            }
        }
        self.pending = buf.split_off(pos);
        Ok(())
    }

    /// The end of the file: a run in progress is a string if long enough.
    pub(super) fn finish(
        &mut self,
        emit: &mut impl FnMut(&[u8]) -> Result<(), ErrorReply>,
    ) -> Result<(), ErrorReply> {
        self.end_run(emit)
    }
}
