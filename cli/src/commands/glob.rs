//! `glob CMD ARGS…`, as guestfish: every argument that is an absolute
//! guest path with a wildcard (`*`, `?`, `[…]`) is expanded, and the
//! command runs once for each combination. `/dev/…` patterns match the
//! device names (disks, partitions, md devices, logical volumes); other
//! paths go to `glob_expand` in the appliance. A pattern that matches
//! nothing is passed as it is. Every combination runs; the command fails
//! if any of them failed.

use crate::error::{CliError, Result};
use crate::registry::{self, Flow};
use crate::session::Session;

fn has_wildcard(word: &str) -> bool {
    word.starts_with('/') && word.contains(['*', '?', '['])
}

/// The words `word` stands for.
fn expand(s: &mut Session, word: &str) -> Result<Vec<String>> {
    if !has_wildcard(word) {
        return Ok(vec![word.to_string()]);
    }
    let g = s.guest()?;
    let mut found: Vec<String> = if word.starts_with("/dev/") {
        let mut names: Vec<String> = Vec::new();
        names.extend(g.list_devices()?.iter().map(|d| d.to_string()));
        names.extend(g.list_partitions()?.iter().map(|d| d.to_string()));
        names.extend(g.list_md_devices()?.iter().map(|d| d.to_string()));
        // No LVM tools, no logical volumes to match: not an error here.
        names.extend(g.lvs().unwrap_or_default());
        names.into_iter().filter(|n| matches(word, n)).collect()
    } else {
        let opts = protocol::calls::glob_expand::Opts {
            directoryslash: Some(false),
        };
        g.glob_expand(word, opts)?
    };
    found.sort();
    found.dedup();
    if found.is_empty() {
        found.push(word.to_string());
    }
    Ok(found)
}

pub fn run(s: &mut Session, args: &[String]) -> Result<Flow> {
    let Some((command, rest)) = args.split_first() else {
        return Err(CliError::msg("glob: give a command: glob CMD ARGS…"));
    };
    let mut choices = Vec::with_capacity(rest.len());
    for word in rest {
        choices.push(expand(s, word)?);
    }
    let mut failed = 0usize;
    let mut runs = 0usize;
    for combination in product(&choices) {
        let mut words = vec![command.clone()];
        words.extend(combination);
        runs += 1;
        match registry::run(s, &words) {
            Ok(Flow::Quit) => return Ok(Flow::Quit),
            Ok(Flow::Continue) => {}
            Err(e) => {
                e.report(s.config.verbose);
                failed += 1;
            }
        }
    }
    match failed {
        0 => Ok(Flow::Continue),
        n => Err(CliError::msg(format!(
            "glob: {n} of {runs} runs of {command} failed"
        ))),
    }
}

/// Every way to pick one word from each list, in order.
fn product(choices: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut all = vec![Vec::new()];
    for list in choices {
        all = all
            .into_iter()
            .flat_map(|prefix| {
                list.iter().map(move |w| {
                    let mut next = prefix.clone();
                    next.push(w.clone());
                    next
                })
            })
            .collect();
    }
    all
}

/// fnmatch(3) without flags, for device names: `*`, `?`, `[abc]`, `[a-z]`,
/// `[!…]`. Ours because the names are a short list already in memory and
/// the workspace has no glob crate; paths are matched in the guest.
fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_at(&p, &n)
}

fn match_at(p: &[char], n: &[char]) -> bool {
    match p.split_first() {
        None => n.is_empty(),
        Some(('*', rest)) => (0..=n.len()).any(|skip| match_at(rest, &n[skip..])),
        Some(('?', rest)) => !n.is_empty() && match_at(rest, &n[1..]),
        Some(('[', rest)) => match (n.split_first(), class(rest)) {
            (Some((&c, tail)), Some((set, after))) => set(c) && match_at(after, tail),
            // An unclosed [ is a plain character, as fnmatch takes it.
            (Some((&c, tail)), None) => c == '[' && match_at(rest, tail),
            (None, _) => false,
        },
        Some((&c, rest)) => n.first() == Some(&c) && match_at(rest, &n[1..]),
    }
}

type Set<'a> = Box<dyn Fn(char) -> bool + 'a>;

/// The set of `[…]` (after the `[`) and what follows its `]`.
fn class(p: &[char]) -> Option<(Set<'_>, &[char])> {
    let (negated, body) = match p.first() {
        Some('!' | '^') => (true, &p[1..]),
        _ => (false, p),
    };
    // A `]` first in the set is a member, not the end.
    let close = body.iter().skip(1).position(|&c| c == ']')? + 1;
    let members = &body[..close];
    let set = move |c: char| {
        let mut i = 0;
        let mut hit = false;
        while i < members.len() {
            if i + 2 < members.len() && members[i + 1] == '-' {
                hit |= (members[i]..=members[i + 2]).contains(&c);
                i += 3;
            } else {
                hit |= members[i] == c;
                i += 1;
            }
        }
        hit != negated
    };
    Some((Box::new(set), &body[close + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_patterns_match_as_fnmatch() {
        assert!(matches("/dev/sd*", "/dev/sda1"));
        assert!(matches("/dev/sd?", "/dev/sdb"));
        assert!(!matches("/dev/sd?", "/dev/sdb1"));
        assert!(matches("/dev/sd[ab]1", "/dev/sdb1"));
        assert!(!matches("/dev/sd[!ab]1", "/dev/sdb1"));
        assert!(matches("/dev/sd[a-c]", "/dev/sdc"));
        assert!(!matches("/dev/sd[a-c]", "/dev/sdd"));
        assert!(matches("/dev/x[]]", "/dev/x]"));
        assert!(matches("/dev/x[", "/dev/x["));
        assert!(matches("*", ""));
        assert!(!matches("/dev/*/lv", "/dev/vg/other"));
    }

    #[test]
    fn every_combination_in_order() {
        let choices = vec![
            vec!["a".to_string(), "b".to_string()],
            vec!["1".to_string(), "2".to_string()],
        ];
        let runs: Vec<String> = product(&choices).iter().map(|c| c.join(" ")).collect();
        assert_eq!(runs, ["a 1", "a 2", "b 1", "b 2"]);
        assert_eq!(product(&[]), vec![Vec::<String>::new()]);
        assert!(has_wildcard("/etc/*.conf"));
        assert!(!has_wildcard("*.conf"), "guest paths are absolute");
    }
}
