//! Command words to typed arguments, guestfish style: required arguments
//! by position, then optional ones as `name:value`.

use protocol::{ArgSource, FromWord};

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

    pub fn next<T: FromWord>(&mut self, name: &str) -> Result<T, String> {
        let word = self
            .required
            .next()
            .ok_or_else(|| format!("missing {name}; usage: {}", self.usage))?;
        T::from_word(word).map_err(|e| format!("{name}: {e}"))
    }

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
    fn required<T: protocol::ArgType>(&mut self, name: &'static str) -> Result<T, String> {
        self.next(name)
    }
    fn optional<T: protocol::ArgType>(&mut self, name: &'static str) -> Result<Option<T>, String> {
        self.opt(name)
    }
}

fn is_opt(word: &str, opts: &[&str]) -> bool {
    word.split_once(':')
        .is_some_and(|(name, _)| opts.contains(&name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::types::{Compression, Pathname};

    fn words(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn positional_then_optional() {
        let w2 = words(&["/dir", "compress:xz"]);
        let mut p = Words::new(
            "tar-out",
            &w2,
            &["directory"],
            &["compress", "excludes"],
            None,
        )
        .unwrap();
        assert_eq!(p.next::<Pathname>("directory").unwrap().as_str(), "/dir");
        assert_eq!(
            p.opt::<Compression>("compress").unwrap(),
            Some(Compression::Xz)
        );
        assert_eq!(p.opt::<Vec<String>>("excludes").unwrap(), None);
    }

    #[test]
    fn counts_and_types_are_checked() {
        let err = Words::new("ls", &[], &["directory"], &[], None)
            .err()
            .unwrap();
        assert!(
            err.contains("expected 1 argument, got 0; usage: ls directory"),
            "{err}"
        );
        let w = words(&["a", "b"]);
        assert!(Words::new("ls", &w, &["directory"], &[], None).is_err());
        let w = words(&["relative"]);
        let mut p = Words::new("ls", &w, &["directory"], &[], None).unwrap();
        assert!(p
            .next::<Pathname>("directory")
            .unwrap_err()
            .contains("absolute"));
        let w = words(&["0755", "/x"]);
        let mut p = Words::new("chmod", &w, &["mode", "path"], &[], None).unwrap();
        assert_eq!(p.required::<i64>("mode").unwrap(), 0o755);
        assert_eq!(p.required::<Pathname>("path").unwrap().as_str(), "/x");
    }
}
