//! The text package databases: RFC 822-style paragraphs (dpkg's
//! `/var/lib/dpkg/status`, apk's `/lib/apk/db/installed`), pacman's
//! `%FIELD%` desc files, and `[epoch:]version[-release]` strings. The
//! text is hostile; the caller caps how much of it is read, and nothing
//! here grows beyond the text's own size.

use crate::text::lines;

/// One paragraph: (field, value) pairs in order.
pub type Paragraph = Vec<(String, String)>;

/// `[epoch:]version[-release]` as dpkg (and pacman) write it: epoch 0
/// when absent or not a number, release "" when absent.
pub fn split_version(full: &str) -> (i64, String, String) {
    let (epoch, rest) = match full.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => {
            (e.parse().unwrap_or(0), rest)
        }
        _ => (0, full),
    };
    match rest.rsplit_once('-') {
        Some((v, r)) => (epoch, v.to_owned(), r.to_owned()),
        None => (epoch, rest.to_owned(), String::new()),
    }
}

/// RFC 822-style paragraphs: (field, value) with continuation lines
/// joined by `\n` (their leading blank cut, so " ." stays ".", as
/// libguestfs reports dpkg descriptions).
pub fn paragraphs(text: &str) -> Vec<Paragraph> {
    let mut out = Vec::new();
    let mut cur: Paragraph = Vec::new();
    for line in lines(text) {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = cur.last_mut() {
                let more = line.get(1..).unwrap_or_default();
                v.push('\n');
                v.push_str(more);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            cur.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A field's value in a paragraph, "" when absent (the first one wins).
pub fn field<'a>(p: &'a [(String, String)], name: &str) -> &'a str {
    p.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// A pacman `desc` file: `%FIELD%` lines, each followed by its values up
/// to an empty line. The first value of each field is kept.
pub fn pacman_desc(text: &str) -> Paragraph {
    let mut fields: Paragraph = Vec::new();
    let mut current: Option<String> = None;
    for line in lines(text) {
        if line.starts_with('%') && line.ends_with('%') && line.len() > 2 {
            current = Some(line.trim_matches('%').to_owned());
        } else if line.is_empty() {
            current = None;
        } else if let Some(k) = &current {
            if !fields.iter().any(|(f, _)| f == k) {
                fields.push((k.clone(), line.to_owned()));
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_split_like_dpkg() {
        assert_eq!(split_version("1:2.3-4-5"), (1, "2.3-4".into(), "5".into()));
        assert_eq!(split_version("x:2"), (0, "x:2".into(), "".into()));
    }

    #[test]
    fn paragraphs_and_desc_fields() {
        let text = "Package: a\nDescription: one\n second\n .\n third\n\n\nPackage: b\r\n";
        let ps = paragraphs(text);
        assert_eq!(ps.len(), 2);
        assert_eq!(field(&ps[0], "Description"), "one\nsecond\n.\nthird");
        assert_eq!(field(&ps[1], "Package"), "b");
        assert_eq!(field(&ps[1], "Missing"), "");
        let desc = pacman_desc("%NAME%\nbash\nignored\n\n%VERSION%\n5.2-1\n\n%NAME%\nzsh\n%%\n");
        assert_eq!(field(&desc, "NAME"), "bash");
        assert_eq!(field(&desc, "VERSION"), "5.2-1");
    }
}
