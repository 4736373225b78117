//! Command words to typed arguments, guestfish style: required arguments
//! by position, then optional ones as `name:value`. The CLI parses its
//! commands with it, and the table's own test cases their steps.

use super::FromWord;
use crate::ArgSource;

/// The words of one command, checked against the call's arguments.
pub struct Words<'a> {
    usage: String,
    required: std::slice::Iter<'a, String>,
    optional: Vec<(&'a str, &'a str)>,
}

impl<'a> Words<'a> {
    /// `host` extra positional words are the host file of streaming calls.
    pub fn new(
        command: &'a str,
        words: &'a [String],
        args: &[&str],
        opts: &[&str],
        host: Option<&str>,
    ) -> Result<Words<'a>, String> {
        let mut usage = String::from(command);
        let names: Vec<&str> = match host {
            Some(h) => std::iter::once(h).chain(args.iter().copied()).collect(),
            None => args.to_vec(),
        };
        for a in &names {
            usage.push_str(&format!(" {a}"));
        }
        for o in opts {
            usage.push_str(&format!(" [{o}:..]"));
        }
        let positional = words.iter().take_while(|w| !is_opt(w, opts)).count();
        if positional != names.len() {
            return Err(format!(
                "expected {} argument{}, got {positional}; usage: {usage}",
                names.len(),
                if names.len() == 1 { "" } else { "s" }
            ));
        }
        let mut optional = Vec::new();
        for w in &words[positional..] {
            match w.split_once(':') {
                Some((name, value)) if opts.contains(&name) => optional.push((name, value)),
                _ => return Err(format!("unknown optional argument {w:?}; usage: {usage}")),
            }
        }
        Ok(Words {
            usage,
            required: words[..positional].iter(),
            optional,
        })
    }

    /// The next required argument.
    pub fn next<T: FromWord>(&mut self, name: &str) -> Result<T, String> {
        let word = self
            .required
            .next()
            .ok_or_else(|| format!("missing {name}; usage: {}", self.usage))?;
        T::from_word(word).map_err(|e| format!("{name}: {e}"))
    }

    /// An optional argument, if given.
    pub fn opt<T: FromWord>(&self, name: &str) -> Result<Option<T>, String> {
        match self.optional.iter().rev().find(|(n, _)| *n == name) {
            Some((_, value)) => T::from_word(value)
                .map(Some)
                .map_err(|e| format!("{name}: {e}")),
            None => Ok(None),
        }
    }
}

/// A call's arguments from the words: usage errors as text.
impl ArgSource for Words<'_> {
    type Error = String;
    fn required<T: crate::ArgType>(&mut self, name: &'static str) -> Result<T, String> {
        self.next(name)
    }
    fn optional<T: crate::ArgType>(&mut self, name: &'static str) -> Result<Option<T>, String> {
        self.opt(name)
    }
}

fn is_opt(word: &str, opts: &[&str]) -> bool {
    word.split_once(':')
        .is_some_and(|(name, _)| opts.contains(&name))
}

#[cfg(test)]
mod tests;
