//! The terminal escaper on hostile strings, whole and split across writes.

use super::*;

fn streamed(pieces: &[&[u8]]) -> String {
    let mut out = Vec::new();
    {
        let mut w = TerminalEscaper::new(&mut out);
        for piece in pieces {
            w.write_all(piece).unwrap();
        }
    }
    String::from_utf8(out).expect("escaped output is UTF-8")
}

fn escaped(text: &str) -> String {
    escape_for_terminal(text.as_bytes())
}

#[test]
fn escape_sequences_and_controls_are_shown_not_obeyed() {
    assert_eq!(escaped("evil\x1b[31mred"), "evil\\u001b[31mred");
    // Set the window title, then a bell.
    assert_eq!(escaped("\x1b]0;pwned\x07"), "\\u001b]0;pwned\\u0007");
    assert_eq!(escaped("a\x08b\x7fc\0"), "a\\u0008b\\u007fc\\u0000");
    // Lines and tabs stay; a lone carriage return would overwrite a line.
    assert_eq!(escaped("a\tb\nc\r\nd"), "a\tb\nc\r\nd");
    assert_eq!(escaped("safe.txt\rrm -rf"), "safe.txt\\u000drm -rf");
    assert_eq!(escaped("end\r"), "end\\u000d");
}

#[test]
fn c1_bidi_and_invalid_bytes_are_escaped_and_other_text_is_not() {
    // U+009B is CSI; as a raw byte it is not UTF-8 at all.
    assert_eq!(escaped("x\u{9b}2J"), "x\\u009b2J");
    assert_eq!(escape_for_terminal(b"x\x9b2J"), "x\\x9b2J");
    // "Trojan Source": an override that makes a name read backwards.
    assert_eq!(escaped("invoice\u{202e}fdp.exe"), "invoice\\u202efdp.exe");
    for c in [
        '\u{061c}', '\u{200e}', '\u{200f}', '\u{2028}', '\u{2029}', '\u{2066}', '\u{2069}',
    ] {
        assert!(needs_escape(c), "{:x}", c as u32);
    }
    let plain = "héllo 日本語 🦀 C:\\Windows\\System32 ~/.ssh";
    assert_eq!(escaped(plain), plain);
    assert_eq!(escape_for_terminal(b"\xff\xfe"), "\\xff\\xfe");
    // An over-long encoding of '/' is not UTF-8 either.
    assert_eq!(escape_for_terminal(b"\xc0\xaf"), "\\xc0\\xaf");
}

#[test]
fn characters_split_across_writes_are_joined_first() {
    let crab = "🦀".as_bytes();
    assert_eq!(
        streamed(&[b"a", &crab[..1], &crab[1..3], &crab[3..], b"b"]),
        "a🦀b"
    );
    let csi = "\u{9b}".as_bytes();
    assert_eq!(streamed(&[&csi[..1], &csi[1..]]), "\\u009b");
    // "\r" then "\n" in the next write is a line end.
    assert_eq!(streamed(&[b"line\r", b"\nnext"]), "line\r\nnext");
    assert_eq!(streamed(&[b"line\r", b"over"]), "line\\u000dover");
    // Incomplete when the writer goes: each byte shown.
    assert_eq!(streamed(&[b"cut", &crab[..2]]), "cut\\xf0\\x9f");
    assert_eq!(streamed(&[b"cr\r"]), "cr\\u000d");
}

/// `--json` on a terminal is still JSON, meaning the same strings.
#[test]
fn json_stays_valid_json() {
    let name = "a\u{9b}b\u{202e}c\x1bd\u{7f}";
    let json = serde_json::to_string(&serde_json::json!({ "name": name })).unwrap();
    let shown = escape_for_terminal(json.as_bytes());
    assert!(!shown.contains('\u{202e}'), "{shown}");
    let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(back["name"], name);
}

/// Any bytes, in any pieces: the same output as in one piece, and nothing
/// in it that a terminal would obey.
#[test]
fn random_bytes_in_random_pieces() {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet: Vec<Vec<u8>> = [
        "a", "\n", "\r", "\t", "\x1b", "\x7f", "é", "\u{9b}", "\u{202e}", "🦀",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .chain([vec![0xff], vec![0x9b], vec![0xe2, 0x80]])
    .collect();
    for _ in 0..500 {
        let mut input = Vec::new();
        for _ in 0..(next() % 40) {
            input.extend_from_slice(&alphabet[(next() % alphabet.len() as u64) as usize]);
        }
        let whole = escape_for_terminal(&input);
        let mut pieces = Vec::new();
        let mut at = 0;
        while at < input.len() {
            let len = 1 + (next() % 5) as usize;
            let end = (at + len).min(input.len());
            pieces.push(&input[at..end]);
            at = end;
        }
        assert_eq!(streamed(&pieces), whole, "{input:?}");
        let bytes = whole.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let line_end = b == b'\r' && bytes.get(i + 1) == Some(&b'\n');
            assert!(
                b >= 0x20 && b != 0x7f || b == b'\n' || b == b'\t' || line_end,
                "{whole:?}"
            );
        }
        assert!(
            !whole.chars().any(|c| needs_escape(c) && c != '\r'),
            "{whole:?}"
        );
    }
}
