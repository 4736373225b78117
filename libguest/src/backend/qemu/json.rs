//! The JSON of qemu's `-blockdev` node graphs.
//!
//! Our own small writer rather than serde_json: these few objects are all
//! the JSON the library writes, and every key and word in them is
//! libguest's own (node names, driver names, `/dev/fdset/N`), never a
//! user's path; a JSON library would sit in every embedder's build for
//! them. Strings are escaped all the same.

use std::fmt::{self, Write};

/// A JSON value; an object keeps its keys in the order given.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Json {
    Null,
    Bool(bool),
    Str(String),
    Object(Vec<(&'static str, Json)>),
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::Str(s.into())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::Str(s)
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Bool(b)
    }
}

fn write_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            c if u32::from(c) < 0x20 => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => write!(f, "{b}"),
            Json::Str(s) => write_str(f, s),
            Json::Object(fields) => {
                f.write_char('{')?;
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write_str(f, key)?;
                    write!(f, ":{value}")?;
                }
                f.write_char('}')
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde_json reads back is what was written, escapes included.
    #[test]
    fn objects_and_escapes_read_back_as_json() {
        let odd = "a\"b\\c\nd\u{1}é";
        let v = Json::Object(vec![
            ("null", Json::Null),
            ("t", true.into()),
            ("odd", odd.into()),
            ("nested", Json::Object(vec![("k", "v".into())])),
            ("empty", Json::Object(Vec::new())),
        ]);
        let text = v.to_string();
        let back: serde_json::Value = serde_json::from_str(&text).expect(&text);
        assert_eq!(
            back,
            serde_json::json!({"null": null, "t": true, "odd": odd,
                               "nested": {"k": "v"}, "empty": {}})
        );
        assert!(text.starts_with(r#"{"null":null,"t":true,"#), "{text}");
    }
}
