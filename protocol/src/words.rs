//! The text form of argument values, as commands and scripts write them
//! (guestfish style): what an [`ArgSource`](crate::ArgSource) parses each
//! word with.

use crate::types::{ArgError, Compression, Device, Key, Mountable, Pathname};

/// A type that can be given as one command word.
pub trait FromWord: Sized {
    /// Parses `word`; the error says what is wrong with it.
    fn from_word(word: &str) -> Result<Self, String>;
}

impl FromWord for String {
    fn from_word(word: &str) -> Result<Self, String> {
        Ok(word.to_owned())
    }
}

/// A host path (`host` calls), as written.
impl FromWord for std::path::PathBuf {
    fn from_word(word: &str) -> Result<Self, String> {
        Ok(word.into())
    }
}

/// An optional string (libguestfs's OptString): `""` is none, as guestfish
/// reads it.
impl FromWord for Option<String> {
    fn from_word(word: &str) -> Result<Self, String> {
        Ok((!word.is_empty()).then(|| word.to_owned()))
    }
}

/// An optional host path: `""` is none.
impl FromWord for Option<std::path::PathBuf> {
    fn from_word(word: &str) -> Result<Self, String> {
        Ok((!word.is_empty()).then(|| word.into()))
    }
}

impl FromWord for Vec<u8> {
    fn from_word(word: &str) -> Result<Self, String> {
        Ok(word.as_bytes().to_vec())
    }
}

/// A key as typed: its bytes (guestfish reads keys this way with --keys-from-stdin).
impl FromWord for Key {
    fn from_word(word: &str) -> Result<Self, String> {
        Ok(Key::new(word))
    }
}

/// Devices (md_create): one word, separated by spaces.
impl FromWord for Vec<Device> {
    fn from_word(word: &str) -> Result<Self, String> {
        word.split_whitespace()
            .map(|w| Device::new(w).map_err(|e| e.to_string()))
            .collect()
    }
}

/// A list is one word, its items separated by spaces (quote it).
impl FromWord for Vec<String> {
    fn from_word(word: &str) -> Result<Self, String> {
        Ok(word.split_whitespace().map(str::to_owned).collect())
    }
}

impl FromWord for i64 {
    fn from_word(word: &str) -> Result<Self, String> {
        let parsed = if let Some(hex) = word.strip_prefix("0x") {
            i64::from_str_radix(hex, 16)
        } else if word.len() > 1 && word.starts_with('0') {
            // guestfish reads a leading 0 as octal: chmod 0755 /x.
            i64::from_str_radix(&word[1..], 8)
        } else {
            word.parse()
        };
        parsed.map_err(|_| format!("{word:?} is not an integer"))
    }
}

impl FromWord for bool {
    fn from_word(word: &str) -> Result<Self, String> {
        match word.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" => Ok(false),
            _ => Err(format!("{word:?} is not a boolean (true or false)")),
        }
    }
}

macro_rules! from_str_words {
    ($($ty:ty),*) => {$(
        impl FromWord for $ty {
            fn from_word(word: &str) -> Result<Self, String> {
                word.parse().map_err(|e: ArgError| e.to_string())
            }
        }
    )*};
}
from_str_words!(Device, Mountable, Pathname, Compression);

#[cfg(test)]
mod tests;
