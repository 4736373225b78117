//! Argument values from a dynamically typed caller (the Python binding):
//! the few shapes such a language has ([`Value`]), and how each table
//! type takes one ([`FromValue`]). The words of a command line have their
//! own parser ([`FromWord`]); an [`ArgSource`](crate::ArgSource) may use
//! either, so every argument type implements both ([`ArgType`]).
//!
//! The conversions are strict where libguestfs's bindings are (a string
//! is not an integer) and lenient where they are (`readonly=1` is true,
//! text is accepted for a buffer and sent as its UTF-8 bytes).

use std::path::PathBuf;

use crate::types::{Compression, Device, Key, Mountable, Pathname};
use crate::words::FromWord;

/// One argument value as a dynamically typed language holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `None`.
    Null,
    /// `True` / `False`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// Text.
    Str(String),
    /// Bytes (also host paths that are not UTF-8).
    Bytes(Vec<u8>),
    /// A list or tuple.
    List(Vec<Value>),
}

impl Value {
    /// The value's kind as an error names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "None",
            Value::Bool(_) => "a bool",
            Value::Int(_) => "an int",
            Value::Str(_) => "a str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "a list",
        }
    }

    fn expected<T>(&self, expected: &'static str) -> Result<T, ValueError> {
        Err(ValueError::WrongKind {
            expected,
            got: self.kind(),
        })
    }
}

/// Why a [`Value`] is not an argument of the type asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// The value is of another kind (Python raises `TypeError`).
    #[error("expected {expected}, got {got}")]
    WrongKind {
        /// What the type takes.
        expected: &'static str,
        /// What was given.
        got: &'static str,
    },
    /// The right kind, but not a valid value (a relative path).
    #[error("{0}")]
    Invalid(String),
    /// An item of a list is wrong.
    #[error("item {index}: {source}")]
    Item {
        /// Its position.
        index: usize,
        /// What is wrong with it.
        source: Box<ValueError>,
    },
}

impl ValueError {
    /// Whether the value was of the wrong kind, here or in a list item.
    pub fn is_wrong_kind(&self) -> bool {
        match self {
            ValueError::WrongKind { .. } => true,
            ValueError::Invalid(_) => false,
            ValueError::Item { source, .. } => source.is_wrong_kind(),
        }
    }
}

/// A table type built from a [`Value`]; the error says what was wrong.
pub trait FromValue: Sized {
    /// Converts `value`.
    fn from_value(value: Value) -> Result<Self, ValueError>;
}

/// An argument type: given as a command word or as a [`Value`].
pub trait ArgType: FromWord + FromValue {}
impl<T: FromWord + FromValue> ArgType for T {}

impl FromValue for String {
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Str(s) => Ok(s),
            other => other.expected("a str"),
        }
    }
}

impl FromValue for i64 {
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Int(i) => Ok(i),
            Value::Bool(b) => Ok(i64::from(b)),
            other => other.expected("an int"),
        }
    }
}

/// libguestfs's bindings take any integer for a bool (`readonly=1`).
impl FromValue for bool {
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Bool(b) => Ok(b),
            Value::Int(i) => Ok(i != 0),
            other => other.expected("a bool"),
        }
    }
}

/// A buffer: bytes, or text as its UTF-8 bytes.
impl FromValue for Vec<u8> {
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Bytes(b) => Ok(b),
            Value::Str(s) => Ok(s.into_bytes()),
            other => other.expected("bytes or a str"),
        }
    }
}

impl FromValue for Key {
    fn from_value(value: Value) -> Result<Self, ValueError> {
        Vec::<u8>::from_value(value).map(Key::new)
    }
}

/// A host path: text, or bytes for a name that is not UTF-8.
impl FromValue for PathBuf {
    fn from_value(value: Value) -> Result<Self, ValueError> {
        use std::os::unix::ffi::OsStringExt;
        match value {
            Value::Str(s) => Ok(s.into()),
            Value::Bytes(b) => Ok(std::ffi::OsString::from_vec(b).into()),
            other => other.expected("a path (str or bytes)"),
        }
    }
}

/// libguestfs's OptString: `None` is none.
impl FromValue for Option<String> {
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Null => Ok(None),
            other => String::from_value(other).map(Some),
        }
    }
}

impl FromValue for Option<PathBuf> {
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Null => Ok(None),
            other => PathBuf::from_value(other).map(Some),
        }
    }
}

fn list<T: FromValue>(value: Value) -> Result<Vec<T>, ValueError> {
    match value {
        Value::List(items) => items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                T::from_value(item).map_err(|e| ValueError::Item {
                    index,
                    source: Box::new(e),
                })
            })
            .collect(),
        other => other.expected("a list"),
    }
}

impl FromValue for Vec<String> {
    fn from_value(value: Value) -> Result<Self, ValueError> {
        list(value)
    }
}

impl FromValue for Vec<Device> {
    fn from_value(value: Value) -> Result<Self, ValueError> {
        list(value)
    }
}

/// The validated types take their text form, checked as the words are.
macro_rules! from_text_values {
    ($($ty:ty),*) => {$(
        impl FromValue for $ty {
            fn from_value(value: Value) -> Result<Self, ValueError> {
                <$ty as FromWord>::from_word(&String::from_value(value)?)
                    .map_err(ValueError::Invalid)
            }
        }
    )*};
}
from_text_values!(Device, Mountable, Pathname, Compression);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_where_libguestfs_is() {
        assert_eq!(bool::from_value(Value::Int(1)), Ok(true));
        assert_eq!(bool::from_value(Value::Int(0)), Ok(false));
        assert_eq!(
            Vec::<u8>::from_value(Value::Str("é".into())),
            Ok("é".as_bytes().to_vec())
        );
        assert_eq!(Option::<String>::from_value(Value::Null), Ok(None));
    }

    #[test]
    fn strict_elsewhere() {
        let e = i64::from_value(Value::Str("1".into())).unwrap_err();
        assert_eq!(e.to_string(), "expected an int, got a str");
        assert!(e.is_wrong_kind());
        assert!(String::from_value(Value::Bytes(b"x".to_vec())).is_err());
        let e = Vec::<String>::from_value(Value::List(vec![Value::Str("a".into()), Value::Int(2)]))
            .unwrap_err();
        assert_eq!(e.to_string(), "item 1: expected a str, got an int");
        assert!(e.is_wrong_kind());
    }

    #[test]
    fn validated_types_check_their_text() {
        let e = Pathname::from_value(Value::Str("relative".into())).unwrap_err();
        assert!(!e.is_wrong_kind(), "{e}");
        assert!(Pathname::from_value(Value::Str("/etc".into())).is_ok());
        assert!(Device::from_value(Value::Str("/etc/passwd".into())).is_err());
        assert_eq!(
            Compression::from_value(Value::Str("gzip".into())),
            Ok(Compression::Gzip)
        );
    }

    #[test]
    fn host_paths_may_be_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let p = PathBuf::from_value(Value::Bytes(vec![b'/', 0xff])).unwrap();
        assert_eq!(p.as_os_str().as_bytes(), &[b'/', 0xff]);
    }
}
