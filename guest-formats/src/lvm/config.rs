//! LVM's configuration syntax, as its metadata text uses it: sections
//! `name { … }`, assignments `key = value`, values that are integers,
//! quoted strings or `[ … ]` lists of those, and `#` comments.
//!
//! Written here because no maintained crate parses it. Bounded: nesting
//! depth and the number of nodes are capped, strings cannot outgrow the
//! input, and nothing recurses deeper than [`MAX_DEPTH`].

use super::{error, LvmError};

/// Sections nest this deep at most (metadata uses 4).
pub const MAX_DEPTH: usize = 8;
/// Values, sections and list items in one text, at most.
pub const MAX_NODES: usize = 1 << 20;

/// A scalar or list value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An integer.
    Int(i64),
    /// A number with a fraction (kept only to be skipped).
    Float(f64),
    /// A quoted string, escapes undone.
    Str(String),
    /// A `[ … ]` list of scalars.
    List(Vec<Value>),
}

/// A section's entries, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Section {
    /// `(key, node)` pairs as written.
    pub entries: Vec<(String, Node)>,
}

/// What a key holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `key = value`.
    Value(Value),
    /// `key { … }`.
    Section(Section),
}

impl Section {
    /// The first value named `key`.
    pub fn value(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find_map(|(k, n)| match n {
            Node::Value(v) if k == key => Some(v),
            _ => None,
        })
    }

    /// The first section named `key`.
    pub fn section(&self, key: &str) -> Option<&Section> {
        self.entries.iter().find_map(|(k, n)| match n {
            Node::Section(s) if k == key => Some(s),
            _ => None,
        })
    }

    /// The subsections, in order.
    pub fn sections(&self) -> impl Iterator<Item = (&str, &Section)> {
        self.entries.iter().filter_map(|(k, n)| match n {
            Node::Section(s) => Some((k.as_str(), s)),
            Node::Value(_) => None,
        })
    }

    /// An integer value, or None if absent or of another kind.
    pub fn int(&self, key: &str) -> Option<i64> {
        match self.value(key)? {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A string value, or None if absent or of another kind.
    pub fn str(&self, key: &str) -> Option<&str> {
        match self.value(key)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A list of strings (`status = ["READ", "WRITE"]`); absent is
    /// empty, anything else None.
    pub fn strings(&self, key: &str) -> Option<Vec<&str>> {
        match self.value(key) {
            None => Some(Vec::new()),
            Some(Value::List(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect(),
            Some(_) => None,
        }
    }
}

/// Parses a whole text into its top-level section.
pub fn parse(text: &str) -> Result<Section, LvmError> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        nodes: 0,
    };
    let top = p.section(0)?;
    p.skip_blank();
    if p.pos < p.s.len() {
        return error(format!("unexpected '}}' at byte {}", p.pos));
    }
    Ok(top)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    nodes: usize,
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"_.+-/".contains(&c)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_blank(&mut self) {
        while let Some(c) = self.peek() {
            if c == b'#' {
                while self.peek().is_some_and(|c| c != b'\n') {
                    self.pos += 1;
                }
            } else if c.is_ascii_whitespace() {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn count(&mut self) -> Result<(), LvmError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return error(format!("more than {MAX_NODES} entries"));
        }
        Ok(())
    }

    /// Entries until `}` (left unread) or the end.
    fn section(&mut self, depth: usize) -> Result<Section, LvmError> {
        let mut out = Section::default();
        loop {
            self.skip_blank();
            match self.peek() {
                None | Some(b'}') => return Ok(out),
                Some(_) => {}
            }
            let key = self.ident()?;
            self.count()?;
            self.skip_blank();
            match self.peek() {
                Some(b'{') => {
                    if depth + 1 >= MAX_DEPTH {
                        return error(format!("sections nested deeper than {MAX_DEPTH}"));
                    }
                    self.pos += 1;
                    let inner = self.section(depth + 1)?;
                    if self.peek() != Some(b'}') {
                        return error(format!("section {key:?} is not closed"));
                    }
                    self.pos += 1;
                    out.entries.push((key, Node::Section(inner)));
                }
                Some(b'=') => {
                    self.pos += 1;
                    self.skip_blank();
                    let value = if self.peek() == Some(b'[') {
                        self.pos += 1;
                        self.list()?
                    } else {
                        self.scalar()?
                    };
                    out.entries.push((key, Node::Value(value)));
                }
                _ => return error(format!("expected '=' or '{{' after {key:?}")),
            }
        }
    }

    fn ident(&mut self) -> Result<String, LvmError> {
        let start = self.pos;
        while self.peek().is_some_and(is_ident) {
            self.pos += 1;
        }
        if start == self.pos {
            return error(format!("expected a name at byte {start}"));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    /// After `[`: scalars separated by commas, then `]`.
    fn list(&mut self) -> Result<Value, LvmError> {
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            if self.peek() == Some(b']') {
                self.pos += 1;
                return Ok(Value::List(items));
            }
            if !items.is_empty() {
                if self.peek() != Some(b',') {
                    return error(format!("expected ',' or ']' at byte {}", self.pos));
                }
                self.pos += 1;
                self.skip_blank();
            }
            self.count()?;
            items.push(self.scalar()?);
        }
    }

    fn scalar(&mut self) -> Result<Value, LvmError> {
        match self.peek() {
            Some(b'"') => self.string(),
            Some(c) if c.is_ascii_digit() || c == b'-' || c == b'+' => self.number(),
            _ => error(format!("expected a value at byte {}", self.pos)),
        }
    }

    fn string(&mut self) -> Result<Value, LvmError> {
        self.pos += 1;
        let mut bytes = Vec::new();
        loop {
            match self.peek() {
                None => return error("a string is not closed"),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let Some(c) = self.peek() else {
                        return error("a string is not closed");
                    };
                    bytes.push(c);
                    self.pos += 1;
                }
                Some(c) => {
                    bytes.push(c);
                    self.pos += 1;
                }
            }
        }
        Ok(Value::Str(String::from_utf8_lossy(&bytes).into_owned()))
    }

    fn number(&mut self) -> Result<Value, LvmError> {
        let start = self.pos;
        self.pos += 1;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || c == b'.') {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or_default();
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::Int(i));
        }
        match text.parse::<f64>() {
            Ok(f) => Ok(Value::Float(f)),
            Err(_) => error(format!("{text:?} is not a number")),
        }
    }
}
