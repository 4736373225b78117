//! Splits a script or shell line into words, shell style: blanks separate
//! words, `'…'` is literal, `"…"` takes guestfish's C escapes (`\n`, `\t`,
//! `\r`, `\a`, `\b`, `\f`, `\v`, `\\`, `\"`, `\xHH`, octal `\NNN`, all up to
//! 0x7f) so `write /etc/hostname "web1\n"` works, and a backslash outside
//! quotes takes the next character as it is.

pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word exists once anything (even "") was seen, so "" is a word.
    let mut in_word = false;
    let mut chars = line.chars().peekable();
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
                            Some('a') => word.push('\x07'),
                            Some('b') => word.push('\x08'),
                            Some('f') => word.push('\x0c'),
                            Some('v') => word.push('\x0b'),
                            Some('x') => word.push(numeric(&mut chars, None, 16, 2, "\\xHH")?),
                            Some(c @ '0'..='7') => {
                                let first = c.to_digit(8);
                                word.push(numeric(&mut chars, first, 8, 3, "\\NNN")?)
                            }
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

/// The character of a numeric escape: up to `max` digits in `radix`
/// (`first` already read), at most 0x7f (a byte above would not be a
/// character on its own).
fn numeric(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    first: Option<u32>,
    radix: u32,
    max: usize,
    form: &str,
) -> Result<char, String> {
    let mut value = first.unwrap_or(0);
    let mut digits = usize::from(first.is_some());
    while digits < max {
        let Some(d) = chars.peek().and_then(|c| c.to_digit(radix)) else {
            break;
        };
        value = value * radix + d;
        digits += 1;
        chars.next();
    }
    match u8::try_from(value) {
        _ if digits == 0 => Err(format!("{form} needs a digit")),
        Ok(byte) if byte <= 0x7f => Ok(char::from(byte)),
        _ => Err(format!(
            "{form} is {value:#x}, above 0x7f: write such characters as they are"
        )),
    }
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
    fn numeric_escapes_as_guestfish() {
        assert_eq!(
            split(r#""\x1b[1m" "\033x" "\0" "\7a""#).unwrap(),
            ["\x1b[1m", "\x1bx", "\0", "\x07a"]
        );
        assert_eq!(
            split(r#""\a\b\f\v\x41\x4""#).unwrap(),
            ["\x07\x08\x0c\x0bA\x04"]
        );
        assert!(split(r#""\xff""#).is_err());
        assert!(split(r#""\377""#).is_err());
        assert!(split(r#""\xg""#).is_err());
    }

    #[test]
    fn join_quotes_what_needs_it() {
        let words = ["write", "/a b", "it's", ""].map(String::from);
        assert_eq!(join(&words), r"write '/a b' 'it'\''s' ''");
    }
}
