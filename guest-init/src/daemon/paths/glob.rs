//! glob_expand: glob(3) with GLOB_BRACE and (unless directoryslash is
//! false) GLOB_MARK, done here instead of in libc so that every directory
//! is read through `Root` and a symlink can never lead out of the guest
//! tree. Matching is on bytes, as glob(3) in the C locale.

use std::os::unix::ffi::OsStrExt;

use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{FileType, Mode, OFlags};

use crate::daemon::dirs::read_entries;
use crate::daemon::root::Root;
use crate::daemon::state::GuestDaemon;
use crate::daemon::util::{check_cancel, invalid, Budget};

/// Bounds on what one pattern may cost.
const MAX_PATTERN: usize = 4096;
const MAX_ALTERNATIVES: usize = 4096;

/// Every path matching the pattern, sorted per brace alternative as
/// glob(3) sorts; no match is an empty list, not an error. Unreadable
/// directories are skipped, as glob(3) does without GLOB_ERR.
pub(in crate::daemon) fn glob_expand(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::glob_expand::Args,
) -> Result<calls::glob_expand::Ret, ErrorReply> {
    let pattern = args.pattern.as_bytes();
    if pattern.len() > MAX_PATTERN {
        return Err(invalid(format!(
            "glob_expand: the pattern is {} bytes, over the {MAX_PATTERN} byte limit",
            pattern.len()
        )));
    }
    let mark = args.directoryslash.unwrap_or(true);
    let mut alternatives = Vec::new();
    brace_expand(pattern, &mut alternatives)?;
    let mut budget = Budget::new("glob_expand", &args.pattern);
    let mut out = Vec::new();
    for alternative in alternatives {
        let mut found = expand(&d.root, io, &alternative, mark)?;
        found.sort_unstable();
        for path in found {
            let path = String::from_utf8_lossy(&path).into_owned();
            budget.add(path.len())?;
            out.push(path);
        }
    }
    Ok(out)
}

/// The index of the `}` closing the `{` at `open`, and the commas at its
/// level; None when unbalanced (then the `{` is literal).
fn brace_group(p: &[u8], open: usize) -> Option<(usize, Vec<usize>)> {
    let mut depth = 0;
    let mut commas = Vec::new();
    let mut i = open;
    while i < p.len() {
        match p[i] {
            b'\\' => i += 1,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((i, commas));
                }
            }
            b',' if depth == 1 => commas.push(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// GLOB_BRACE: `a{b,c}d` → `abd`, `acd`, nested braces included.
fn brace_expand(p: &[u8], out: &mut Vec<Vec<u8>>) -> Result<(), ErrorReply> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'\\' => i += 2,
            b'{' => {
                if let Some((close, commas)) = brace_group(p, i) {
                    let mut start = i + 1;
                    for end in commas.into_iter().chain(std::iter::once(close)) {
                        let mut one = p[..i].to_vec();
                        one.extend_from_slice(&p[start..end]);
                        one.extend_from_slice(&p[close + 1..]);
                        brace_expand(&one, out)?;
                        start = end + 1;
                    }
                    return Ok(());
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    if out.len() >= MAX_ALTERNATIVES {
        return Err(invalid(format!(
            "glob_expand: the braces expand to over {MAX_ALTERNATIVES} patterns"
        )));
    }
    out.push(p.to_vec());
    Ok(())
}

/// Whether a pattern element has wildcards.
fn has_magic(p: &[u8]) -> bool {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'\\' => i += 1,
            b'*' | b'?' | b'[' => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

fn unescape(p: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(p.len());
    let mut i = 0;
    while i < p.len() {
        if p[i] == b'\\' && i + 1 < p.len() {
            i += 1;
        }
        out.push(p[i]);
        i += 1;
    }
    out
}

/// The type of a guest path, following symlinks (inside the root) or not.
fn file_type(root: &Root, path: &[u8], follow: bool) -> Option<FileType> {
    let path = std::str::from_utf8(path).ok()?;
    let abs = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let flags = if follow {
        OFlags::PATH
    } else {
        OFlags::PATH | OFlags::NOFOLLOW
    };
    let fd = root.open_str(&abs, flags, Mode::empty()).ok()?;
    let st = rustix::fs::fstat(&fd).ok()?;
    Some(FileType::from_raw_mode(st.st_mode))
}

/// The matches of one brace-free pattern, unsorted.
fn expand(
    root: &Root,
    io: &dyn CallIo,
    pattern: &[u8],
    mark: bool,
) -> Result<Vec<Vec<u8>>, ErrorReply> {
    let absolute = pattern.starts_with(b"/");
    let only_dirs = pattern.len() > 1 && pattern.ends_with(b"/");
    let elements: Vec<&[u8]> = pattern
        .split(|b| *b == b'/')
        .filter(|e| !e.is_empty())
        .collect();
    let mut current: Vec<Vec<u8>> = vec![if absolute { b"/".to_vec() } else { Vec::new() }];
    let mut last_literal = true;
    for element in &elements {
        check_cancel(io)?;
        let mut next = Vec::new();
        last_literal = !has_magic(element);
        for base in &current {
            let join = |name: &[u8]| {
                let mut p = base.clone();
                if !p.is_empty() && !p.ends_with(b"/") {
                    p.push(b'/');
                }
                p.extend_from_slice(name);
                p
            };
            if last_literal {
                next.push(join(&unescape(element)));
                continue;
            }
            let dir_path = match std::str::from_utf8(base) {
                Ok("") => "/".to_owned(),
                Ok(s) if s.starts_with('/') => s.to_owned(),
                Ok(s) => format!("/{s}"),
                Err(_) => continue,
            };
            let Ok(dir) =
                root.open_str(&dir_path, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())
            else {
                continue;
            };
            let Ok(entries) = read_entries(&dir, &dir_path) else {
                continue;
            };
            for entry in entries {
                let name = entry.name.as_bytes();
                if !entry.is_dot() && fnmatch(element, name) {
                    next.push(join(name));
                }
            }
        }
        current = next;
        if current.is_empty() {
            break;
        }
    }
    let mut out = Vec::new();
    for mut path in current {
        // A literal last element was never read from a directory.
        if last_literal && file_type(root, &path, false).is_none() {
            continue;
        }
        let is_dir =
            (mark || only_dirs) && file_type(root, &path, true) == Some(FileType::Directory);
        if only_dirs && !is_dir {
            continue;
        }
        if (mark || only_dirs) && is_dir && !path.ends_with(b"/") {
            path.push(b'/');
        }
        out.push(path);
    }
    Ok(out)
}

/// One `[...]` at `p[0]`: whether it matches `c`, and its length; None
/// when it does not close (then `[` is literal).
fn bracket(p: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some(b'!') | Some(b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let &b = p.get(i)?;
        if b == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if b == b'[' && p.get(i + 1) == Some(&b':') {
            let rest = &p[i + 2..];
            if let Some(end) = rest.windows(2).position(|w| w == b":]") {
                matched |= class(&rest[..end], c);
                i += end + 4;
                continue;
            }
        }
        let (lo, step) = match b {
            b'\\' => (*p.get(i + 1)?, 2),
            _ => (b, 1),
        };
        i += step;
        if p.get(i) == Some(&b'-') && p.get(i + 1).is_some_and(|b| *b != b']') {
            let (hi, step) = match p[i + 1] {
                b'\\' => (*p.get(i + 2)?, 3),
                b => (b, 2),
            };
            i += step;
            matched |= lo <= c && c <= hi;
        } else {
            matched |= lo == c;
        }
    }
}

fn class(name: &[u8], c: u8) -> bool {
    match name {
        b"alpha" => c.is_ascii_alphabetic(),
        b"digit" => c.is_ascii_digit(),
        b"alnum" => c.is_ascii_alphanumeric(),
        b"upper" => c.is_ascii_uppercase(),
        b"lower" => c.is_ascii_lowercase(),
        b"space" => matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c),
        b"blank" => matches!(c, b' ' | b'\t'),
        b"punct" => c.is_ascii_punctuation(),
        b"xdigit" => c.is_ascii_hexdigit(),
        b"print" => c.is_ascii_graphic() || c == b' ',
        b"graph" => c.is_ascii_graphic(),
        b"cntrl" => c.is_ascii_control(),
        _ => false,
    }
}

/// fnmatch(3) with FNM_PERIOD for one path element: a leading `.` only
/// matches a literal `.`.
pub(super) fn fnmatch(p: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && !p.starts_with(b".") && !p.starts_with(b"\\.") {
        return false;
    }
    let (mut pi, mut ni) = (0, 0);
    // Where to resume after the last `*`: (pattern index, name index).
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            let step = match p[pi] {
                b'*' => {
                    star = Some((pi + 1, ni));
                    pi += 1;
                    continue;
                }
                b'?' if ni < name.len() => Some(1),
                b'[' if ni < name.len() => match bracket(&p[pi..], name[ni]) {
                    Some((true, len)) => Some(len),
                    Some((false, _)) => None,
                    None => (name[ni] == b'[').then_some(1),
                },
                b'\\' if pi + 1 < p.len() => {
                    (ni < name.len() && name[ni] == p[pi + 1]).then_some(2)
                }
                c if ni < name.len() && name[ni] == c => Some(1),
                _ => None,
            };
            if let Some(len) = step {
                pi += len;
                ni += 1;
                continue;
            }
        } else if ni == name.len() {
            return true;
        }
        match star {
            Some((sp, sn)) if sn < name.len() => {
                star = Some((sp, sn + 1));
                pi = sp;
                ni = sn + 1;
            }
            _ => return false,
        }
    }
}
