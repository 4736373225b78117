//! Tab completion in the shell: command names in the first word, then
//! guest paths (`/etc/ho` → `/etc/hostname`, directories with a `/`) and
//! device names (`/dev/sd` → `/dev/sda1`), as guestfish completes them.
//! Paths and devices come from the appliance only once it is running: a
//! Tab never boots it, and an error (nothing mounted yet) completes
//! nothing.

use std::cell::RefCell;

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use crate::session::Session;

pub struct ShellHelper<'c, 's> {
    pub names: Vec<String>,
    /// The session the shell runs commands on; borrowed only while
    /// completing, never while a command runs.
    pub session: &'c RefCell<&'s mut Session>,
}

impl Completer for ShellHelper<'_, '_> {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before.rfind(char::is_whitespace).map_or(0, |at| {
            at + before[at..].chars().next().map_or(1, char::len_utf8)
        });
        let word = &before[start..];
        let first = before[..start].trim().is_empty();
        let candidates = if first {
            command_candidates(&self.names, word)
        } else if word.starts_with('/') {
            match self.session.try_borrow_mut() {
                Ok(mut session) => guest_candidates(&mut session, word),
                Err(_) => Vec::new(),
            }
        } else {
            Vec::new()
        };
        Ok((start, candidates))
    }
}

impl Hinter for ShellHelper<'_, '_> {
    type Hint = String;
}

impl Highlighter for ShellHelper<'_, '_> {}

impl Validator for ShellHelper<'_, '_> {}
impl Helper for ShellHelper<'_, '_> {}

fn command_candidates(names: &[String], word: &str) -> Vec<Pair> {
    names
        .iter()
        .filter(|n| n.starts_with(word))
        .map(|n| Pair {
            display: n.clone(),
            replacement: format!("{n} "),
        })
        .collect()
}

/// Devices for `/dev/…`, else the entries of the word's directory.
fn guest_candidates(session: &mut Session, word: &str) -> Vec<Pair> {
    if !session.launched() {
        return Vec::new();
    }
    let Ok(g) = session.guest() else {
        return Vec::new();
    };
    let (dir, _) = split_path(word);
    let mut entries: Vec<(String, bool)> = Vec::new();
    if dir == "/dev/" {
        for list in [g.list_devices(), g.list_partitions()] {
            let names = list.unwrap_or_default();
            entries.extend(
                names
                    .into_iter()
                    .filter_map(|d| d.strip_prefix("/dev/").map(|n| (n.to_string(), false))),
            );
        }
    }
    let listed = match dir {
        "/" => g.readdir("/"),
        _ => g.readdir(dir.trim_end_matches('/')),
    };
    for entry in listed.unwrap_or_default() {
        if entry.name != "." && entry.name != ".." && !entries.iter().any(|(n, _)| *n == entry.name)
        {
            entries.push((entry.name, entry.ftyp == 'd'));
        }
    }
    path_candidates(word, &entries)
}

/// `/a/b/pre` into (`/a/b/`, `pre`).
fn split_path(word: &str) -> (&str, &str) {
    let cut = word.rfind('/').map_or(0, |at| at + 1);
    word.split_at(cut)
}

/// The entries (name, is a directory) of the word's directory that start
/// with its last component; directories end in `/` so Tab goes on into
/// them, anything else in a space.
fn path_candidates(word: &str, entries: &[(String, bool)]) -> Vec<Pair> {
    let (dir, prefix) = split_path(word);
    let mut out: Vec<Pair> = entries
        .iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .map(|(name, is_dir)| Pair {
            display: if *is_dir {
                format!("{name}/")
            } else {
                name.clone()
            },
            replacement: format!("{dir}{name}{}", if *is_dir { "/" } else { " " }),
        })
        .collect();
    out.sort_by(|a, b| a.display.cmp(&b.display));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_complete_within_their_directory() {
        assert_eq!(split_path("/etc/ho"), ("/etc/", "ho"));
        assert_eq!(split_path("/"), ("/", ""));
        let entries = [
            ("hostname".to_string(), false),
            ("hosts".to_string(), false),
            ("home".to_string(), true),
            ("passwd".to_string(), false),
        ];
        let got: Vec<String> = path_candidates("/etc/ho", &entries)
            .into_iter()
            .map(|p| p.replacement)
            .collect();
        assert_eq!(got, ["/etc/home/", "/etc/hostname ", "/etc/hosts "]);
        assert!(path_candidates("/etc/x", &entries).is_empty());
    }

    #[test]
    fn commands_complete_in_the_first_word_only() {
        let names = vec!["cat".to_string(), "copy-in".to_string(), "ls".to_string()];
        let got: Vec<String> = command_candidates(&names, "c")
            .into_iter()
            .map(|p| p.replacement)
            .collect();
        assert_eq!(got, ["cat ", "copy-in "]);
    }
}
