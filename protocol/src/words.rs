//! The text form of argument values, as commands and scripts write them
//! (guestfish style): what an [`ArgSource`](crate::ArgSource) parses each
//! word with.

use crate::types::{ArgError, Compression, Device, Key, Mountable, Pathname};

mod command;
pub use command::Words;

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

/// An integer as guestfish reads one (gnulib `xstrtoll`, base 0, suffixes
/// `0kKMGTPE`): `0x` hex, a leading `0` octal (`chmod 0755 /x`), and a size
/// suffix: `k`/`K`, `M`, `G`, `T`, `P`, `E` are powers of 1024, or of
/// 1000 with `B` after them (`10MB`); `MiB` is 1024 again.
impl FromWord for i64 {
    fn from_word(word: &str) -> Result<Self, String> {
        parse_integer(word).ok_or_else(|| {
            format!("{word:?} is not an integer (digits, 0x hex or 0 octal, with an optional size suffix: 512K, 10M, 1G, 1GB)")
        })
    }
}

fn parse_integer(word: &str) -> Option<i64> {
    let (negative, unsigned) = match word.as_bytes().first()? {
        b'-' => (true, &word[1..]),
        b'+' => (false, &word[1..]),
        _ => (false, word),
    };
    let (radix, digits) = if let Some(hex) = unsigned
        .strip_prefix("0x")
        .or_else(|| unsigned.strip_prefix("0X"))
    {
        (16, hex)
    } else if unsigned.len() > 1 && unsigned.starts_with('0') {
        (8, &unsigned[1..])
    } else {
        (10, unsigned)
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    let (number, suffix) = digits.split_at(end);
    if number.is_empty() && radix != 8 {
        return None;
    }
    let magnitude = match number {
        "" => 0,
        n => i128::from(u64::from_str_radix(n, radix).ok()?),
    };
    let multiplier: i128 = match suffix {
        "" => 1,
        s => {
            let mut chars = s.chars();
            let power = match chars.next()? {
                'k' | 'K' => 1,
                'M' => 2,
                'G' => 3,
                'T' => 4,
                'P' => 5,
                'E' => 6,
                _ => return None,
            };
            let base: i128 = match chars.as_str() {
                "" | "iB" => 1024,
                "B" | "D" => 1000,
                _ => return None,
            };
            base.pow(power)
        }
    };
    let value = magnitude.checked_mul(multiplier)?;
    i64::try_from(if negative { -value } else { value }).ok()
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
