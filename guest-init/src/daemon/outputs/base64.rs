//! Streaming base64 (RFC 4648, standard alphabet) as base64(1) writes
//! and reads it: lines of 76 characters on output; on input whitespace
//! is skipped, padding ends the data, anything else is an error.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Input bytes per output line (76 characters).
pub(super) const LINE_BYTES: usize = 57;

fn encode_group(group: &[u8], out: &mut Vec<u8>) {
    let b = [
        group.first().copied().unwrap_or(0),
        group.get(1).copied().unwrap_or(0),
        group.get(2).copied().unwrap_or(0),
    ];
    let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
    for i in 0..4 {
        if i <= group.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]);
        } else {
            out.push(b'=');
        }
    }
}

/// Encodes `data` as lines; `data` is whole lines except at the end.
pub(super) fn encode_lines(data: &[u8], out: &mut Vec<u8>) {
    for line in data.chunks(LINE_BYTES) {
        for group in line.chunks(3) {
            encode_group(group, out);
        }
        out.push(b'\n');
    }
}

fn sextet(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// A decoder fed piece by piece.
#[derive(Default)]
pub(super) struct Decoder {
    acc: u32,
    have: u8,
    padded: bool,
    /// Input bytes seen, for error messages.
    offset: u64,
}

impl Decoder {
    /// Decodes `input` onto `out`.
    pub(super) fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        for &c in input {
            self.offset += 1;
            if c.is_ascii_whitespace() {
                continue;
            }
            if c == b'=' {
                // One '=' after 3 sextets, two after 2.
                if self.have < 2 && !self.padded {
                    return Err(self.bad(c));
                }
                self.flush(out);
                self.padded = true;
                continue;
            }
            if self.padded {
                return Err(format!(
                    "data after the padding at byte {} (one base64 stream only)",
                    self.offset
                ));
            }
            let v = sextet(c).ok_or_else(|| self.bad(c))?;
            self.acc = (self.acc << 6) | v;
            self.have += 1;
            if self.have == 4 {
                out.extend_from_slice(&[
                    (self.acc >> 16) as u8,
                    (self.acc >> 8) as u8,
                    self.acc as u8,
                ]);
                self.acc = 0;
                self.have = 0;
            }
        }
        Ok(())
    }

    fn bad(&self, c: u8) -> String {
        format!(
            "invalid base64 character {:?} at byte {}",
            char::from(c),
            self.offset
        )
    }

    /// The bytes of a partial group (2 or 3 sextets).
    fn flush(&mut self, out: &mut Vec<u8>) {
        match self.have {
            2 => out.push((self.acc >> 4) as u8),
            3 => out.extend_from_slice(&[(self.acc >> 10) as u8, (self.acc >> 2) as u8]),
            _ => {}
        }
        self.acc = 0;
        self.have = 0;
    }

    /// Ends the input; an unpadded final group is accepted, as base64 -d does.
    pub(super) fn finish(mut self, out: &mut Vec<u8>) -> Result<(), String> {
        if self.have == 1 {
            return Err("truncated base64 input (a lone character at the end)".into());
        }
        self.flush(out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_lines(data, &mut out);
        out
    }

    fn decode(pieces: &[&[u8]]) -> Result<Vec<u8>, String> {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        for p in pieces {
            d.feed(p, &mut out)?;
        }
        d.finish(&mut out)?;
        Ok(out)
    }

    #[test]
    fn rfc4648_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg==\n"),
            ("fo", "Zm8=\n"),
            ("foo", "Zm9v\n"),
            ("foob", "Zm9vYg==\n"),
            ("fooba", "Zm9vYmE=\n"),
            ("foobar", "Zm9vYmFy\n"),
        ] {
            assert_eq!(encode(plain.as_bytes()), coded.as_bytes(), "{plain}");
            assert_eq!(decode(&[coded.as_bytes()]).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn lines_and_pieces() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let coded = encode(&data);
        assert!(coded.split(|&b| b == b'\n').all(|l| l.len() <= 76));
        // Split anywhere, even inside a group.
        let (a, b) = coded.split_at(101);
        assert_eq!(decode(&[a, b]).unwrap(), data);
        assert_eq!(decode(&[b"Zm9", b"v\r\n Y", b"g"]).unwrap(), b"foob");
    }

    #[test]
    fn bad_input() {
        assert!(decode(&[b"Zm9v!"]).unwrap_err().contains("invalid"));
        assert!(decode(&[b"Z"]).unwrap_err().contains("truncated"));
        assert!(decode(&[b"Zg==Zg=="])
            .unwrap_err()
            .contains("after the padding"));
        assert!(decode(&[b"="]).is_err());
    }
}
