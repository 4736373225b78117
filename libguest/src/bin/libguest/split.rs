//! Splits a script or shell line into words, shell style: blanks separate
//! words, `'…'` is literal, `"…"` takes guestfish's C escapes (`\n`, `\t`,
//! `\\`, `\"`) so `write /etc/hostname "web1\n"` works, and a backslash
//! outside quotes takes the next character as it is.

pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word exists once anything (even "") was seen, so "" is a word.
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unterminated ' quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => word.push('\n'),
                            Some('t') => word.push('\t'),
                            Some('r') => word.push('\r'),
                            Some('0') => word.push('\0'),
                            Some(c @ ('\\' | '"' | '\'' | '$')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("unterminated \" quote".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("unterminated \" quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err("a backslash ends the line".into()),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// A command line as it would be typed back (for -x).
pub fn join(words: &[String]) -> String {
    let quote = |w: &String| {
        let plain = !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/._-:=+,@%".contains(c));
        if plain {
            w.clone()
        } else {
            format!("'{}'", w.replace('\'', "'\\''"))
        }
    };
    words.iter().map(quote).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(split("  ls   /etc ").unwrap(), ["ls", "/etc"]);
        assert_eq!(
            split(r#"write /etc/hostname "web 1\n""#).unwrap(),
            ["write", "/etc/hostname", "web 1\n"]
        );
        assert_eq!(
            split(r"a\ b 'c d\n' x''y").unwrap(),
            ["a b", r"c d\n", "xy"]
        );
        assert_eq!(split(r#"write /x """#).unwrap(), ["write", "/x", ""]);
        assert!(split("echo 'open").is_err());
        assert!(split("echo \"open").is_err());
        assert!(split("").unwrap().is_empty());
    }

    #[test]
    fn join_quotes_what_needs_it() {
        let words = ["write", "/a b", "it's", ""].map(String::from);
        assert_eq!(join(&words), r"write '/a b' 'it'\''s' ''");
    }
}
