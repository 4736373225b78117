//! os-release (and other shell-style `KEY=value` files such as
//! `/etc/sysconfig/network`) and version strings, as inspection reads
//! them. The text is hostile: it is only split, never evaluated, and
//! numbers that overflow read as their first 18 digits.

use crate::text::lines;

/// `KEY=value` lines, in order; values may be quoted, with backslash
/// escapes inside double quotes. Comments and lines without `=` are
/// skipped; a key given twice is there twice (the last one wins in
/// os-release).
pub fn parse(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in lines(text) {
        let line = line.trim();
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        if key.is_empty() || line.starts_with('#') {
            continue;
        }
        let value = match raw.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let inner = raw.get(1..).unwrap_or_default();
                let inner = inner.strip_suffix(q).unwrap_or(inner);
                let mut v = String::new();
                let mut chars = inner.chars();
                while let Some(c) = chars.next() {
                    match (c, q) {
                        ('\\', '"') => v.extend(chars.next()),
                        _ => v.push(c),
                    }
                }
                v
            }
            _ => raw.to_owned(),
        };
        out.push((key.trim().to_owned(), value));
    }
    out
}

/// "12", "22.04", "3.19.1", "7.9.2009" → (major, minor); 0 when absent.
pub fn parse_version(v: &str) -> (i64, i64) {
    let num = |s: Option<&str>| {
        let s = s.unwrap_or_default();
        let digits: String = s
            .chars()
            .take_while(char::is_ascii_digit)
            .take(18)
            .collect();
        digits.parse().unwrap_or(0)
    };
    let mut parts = v.trim().split('.');
    (num(parts.next()), num(parts.next()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_comments_and_versions() {
        let fields = parse("ID=\"opensuse-leap\"\n# c\nNAME='x y'\nE=\"a\\\"b\"\nbad line\n");
        assert_eq!(fields[0], ("ID".into(), "opensuse-leap".into()));
        assert_eq!(fields[1], ("NAME".into(), "x y".into()));
        assert_eq!(fields[2], ("E".into(), "a\"b".into()));
        assert_eq!(fields.len(), 3);
        assert_eq!(parse_version("22.04"), (22, 4));
        assert_eq!(parse_version("3.19.1"), (3, 19));
        assert_eq!(parse_version("rolling"), (0, 0));
        assert_eq!(
            parse_version("99999999999999999999999"),
            (999_999_999_999_999_999, 0)
        );
    }
}
