//! virt-edit: edit files in a disk image with $EDITOR (the `edit`
//! command), or non-interactively with `-e 's/RE/REPLACEMENT/FLAGS'`
//! applied to each line as perl -pe would (flags g, i, m, s, x; `$1`,
//! `\1`, `$&` and `\n`-style escapes in the replacement). Other perl
//! expressions are refused with what to use instead.

use std::ffi::OsString;

use clap::Parser;
use regex::bytes::{Regex, RegexBuilder};

use super::common::{command, parse, with_session, Drives, Mounts, Open, ToolResult};
use crate::error::{CliError, Result};
use crate::session::Session;

#[derive(Parser, Debug)]
#[command(about = "Edit a file in a virtual machine", version)]
pub struct EditArgs {
    #[command(flatten)]
    pub drives: Drives,
    #[command(flatten)]
    pub mounts: Mounts,
    /// Keep the original as FILE plus this extension (e.g. -b .orig).
    #[arg(short = 'b', long = "backup", value_name = "EXTENSION")]
    pub backup: Option<String>,
    /// A perl substitution s/RE/REPLACEMENT/FLAGS applied to each line, instead of an editor.
    #[arg(
        short = 'e',
        long = "expr",
        visible_alias = "edit",
        value_name = "EXPR"
    )]
    pub expr: Option<String>,
    /// Guest files to edit.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
}

/// A parsed `s/RE/REPLACEMENT/FLAGS`.
#[derive(Debug)]
pub struct Subst {
    pub regex: Regex,
    /// In the regex crate's syntax (`${1}`, `$$`).
    pub replacement: Vec<u8>,
    pub global: bool,
}

pub fn edit(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, m): (EditArgs, _) = parse(name, args)?;
    let subst = a.expr.as_deref().map(Subst::parse).transpose()?;
    let s = a.drives.session(&m, &a.mounts.mounts, Open::MountedRw)?;
    with_session(s, |s| {
        for file in &a.files {
            edit_one(s, file, a.backup.as_deref(), subst.as_ref())?;
        }
        Ok(())
    })?;
    Ok(())
}

fn edit_one(
    s: &mut Session,
    file: &str,
    backup: Option<&str>,
    subst: Option<&Subst>,
) -> Result<()> {
    if let Some(ext) = backup {
        let g = s.guest()?;
        g.cp_a(file, format!("{file}{ext}").as_str())?;
    }
    let Some(subst) = subst else {
        return command(s, &["edit", file]);
    };
    let g = s.guest()?;
    let before = g.read_file(file)?;
    let after = subst.apply(&before);
    if after != before {
        g.write(file, after)?;
    }
    Ok(())
}

impl Subst {
    pub fn parse(expr: &str) -> Result<Subst> {
        let refuse = |why: &str| {
            CliError::msg(format!(
                "-e {expr:?}: {why}; virt-edit -e takes a perl substitution s/REGEX/REPLACEMENT/FLAGS (flags g, i, m, s, x), applied to each line; for other edits run virt-edit without -e to use $EDITOR"
            ))
        };
        let body = expr
            .trim()
            .strip_prefix('s')
            .ok_or_else(|| refuse("not an s/// substitution"))?;
        let delim = body
            .chars()
            .next()
            .filter(|c| !c.is_alphanumeric() && !c.is_whitespace() && *c != '\\');
        let delim = delim.ok_or_else(|| refuse("no delimiter after s"))?;
        let parts = split_unescaped(&body[delim.len_utf8()..], delim);
        let [re, rep, flags] = parts.as_slice() else {
            return Err(refuse("expected three parts s/REGEX/REPLACEMENT/FLAGS"));
        };
        let mut b = RegexBuilder::new(re);
        let mut global = false;
        for f in flags.chars() {
            match f {
                'g' => global = true,
                'i' => {
                    b.case_insensitive(true);
                }
                'm' => {
                    b.multi_line(true);
                }
                's' => {
                    b.dot_matches_new_line(true);
                }
                'x' => {
                    b.ignore_whitespace(true);
                }
                other => return Err(refuse(&format!("flag {other:?} is not supported"))),
            }
        }
        let regex = b.build().map_err(|e| {
            refuse(&format!(
                "bad regex: {}",
                crate::error::one_line(&e.to_string())
            ))
        })?;
        Ok(Subst {
            regex,
            replacement: replacement(rep).map_err(|m| refuse(&m))?,
            global,
        })
    }

    /// Each line (without its newline, as perl's `$` sees it) substituted.
    pub fn apply(&self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len());
        for line in text.split_inclusive(|b| *b == b'\n') {
            let (body, nl) = match line.strip_suffix(b"\n") {
                Some(body) => (body, &b"\n"[..]),
                None => (line, &b""[..]),
            };
            let rep = self.replacement.as_slice();
            let new = match self.global {
                true => self.regex.replace_all(body, rep),
                false => self.regex.replace(body, rep),
            };
            out.extend_from_slice(&new);
            out.extend_from_slice(nl);
        }
        out
    }
}

/// The parts between unescaped delimiters; `\DELIM` becomes DELIM, other
/// escapes stay for the regex (or the replacement) to read.
fn split_unescaped(text: &str, delim: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        let part = parts.last_mut().expect("parts is never empty");
        match c {
            '\\' => match chars.next() {
                Some(d) if d == delim => part.push(d),
                Some(other) => {
                    part.push('\\');
                    part.push(other);
                }
                None => part.push('\\'),
            },
            c if c == delim => parts.push(String::new()),
            c => part.push(c),
        }
    }
    parts
}

/// A perl replacement in the regex crate's syntax.
fn replacement(rep: &str) -> std::result::Result<Vec<u8>, String> {
    let mut out = String::new();
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(d @ '1'..='9') => out.push_str(&format!("${{{d}}}")),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            '$' => match chars.peek().copied() {
                Some('&') => {
                    chars.next();
                    out.push_str("${0}");
                }
                Some(d) if d.is_ascii_digit() => {
                    let mut n = String::new();
                    while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                        n.push(d);
                        chars.next();
                    }
                    out.push_str(&format!("${{{n}}}"));
                }
                Some('{') => {
                    chars.next();
                    let n: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
                        return Err(format!("${{{n}}} in the replacement: only numbered groups"));
                    }
                    out.push_str(&format!("${{{n}}}"));
                }
                _ => {
                    return Err(
                        "a perl variable in the replacement: only $1, ${1}, $& and \\1 are".into(),
                    )
                }
            },
            c => out.push(c),
        }
    }
    Ok(out.into_bytes())
}
