//! virt-diff: the differences between the filesystems of two disk
//! images (-a the old, -A the new), each inspected and mounted read-only
//! on an appliance of its own. Lines as libguestfs's: `- TYPE PERMS SIZE
//! PATH` for a file only in the old, `+ …` only in the new, `= … changed:
//! size content` for one that differs (then `diff -u` of regular files).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::process::Command;

use clap::Parser;
use libguest::Guest;
use protocol::types::Statns;

use super::common::{config, parse, Drives, Open, ToolResult};
use super::df::csv_field;
use super::ls::mode_string;
use crate::commands::fs::human;
use crate::error::{output_error, CliError, Result};
use crate::session::Session;

#[derive(Parser, Debug)]
#[command(
    about = "Differences between files in two virtual machines",
    version,
    disable_help_flag = true
)]
pub struct DiffArgs {
    #[command(flatten)]
    pub drives: Drives,
    /// The new disk image (repeatable); -a gives the old.
    #[arg(short = 'A', value_name = "IMAGE", required = true)]
    pub new: Vec<String>,
    /// Comma-separated values.
    #[arg(long)]
    pub csv: bool,
    /// Human-readable sizes.
    #[arg(short = 'h', long = "human-readable")]
    pub human: bool,
    /// Also report changes in directories' times and sizes (off: they change with every entry).
    #[arg(long = "dir-times")]
    pub dir_times: bool,
    /// No `diff -u` of changed regular files.
    #[arg(long = "no-content-diff", hide = true)]
    pub no_content_diff: bool,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// A file's type letter, permissions and size, for comparing and printing.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub mode: i64,
    pub size: i64,
    pub link: Option<String>,
}

/// What differs between two entries of a path.
pub fn changes(old: &Entry, new: &Entry, same_content: bool, dir_times: bool) -> Vec<&'static str> {
    let dir = old.mode & 0o170000 == 0o040000;
    let mut what = Vec::new();
    if old.mode != new.mode {
        what.push("mode");
    }
    if old.size != new.size && (!dir || dir_times) {
        what.push("size");
    }
    if !same_content || old.link != new.link {
        what.push("content");
    }
    what
}

/// `TYPE PERMS SIZE PATH [-> TARGET]` fields of one entry.
pub fn file_fields(path: &str, e: &Entry, csv: bool, human_sizes: bool) -> Vec<String> {
    let kind = mode_string(e.mode)
        .chars()
        .next()
        .unwrap_or('?')
        .to_string();
    let size = if human_sizes {
        human(e.size)
    } else {
        e.size.to_string()
    };
    let mut fields = vec![
        kind,
        format!("{:04o}", e.mode & 0o7777),
        if csv { size } else { format!("{size:>10}") },
        path.to_string(),
    ];
    if let Some(target) = &e.link {
        fields.push("->".into());
        fields.push(target.clone());
    }
    fields
}

pub fn line(fields: &[String], csv: bool) -> String {
    match csv {
        true => fields
            .iter()
            .map(|f| csv_field(f))
            .collect::<Vec<_>>()
            .join(","),
        false => fields.join(" "),
    }
}

pub fn diff(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, m): (DiffArgs, _) = parse(name, args)?;
    let old_args = a.drives.cli_args(&m, &[], Open::MountedRo)?;
    // The same options with the -A images instead of the -a ones.
    let mut new_args: Vec<String> = old_args
        .iter()
        .filter(|w| !w.starts_with("-a=") && !w.starts_with("--format="))
        .cloned()
        .collect();
    new_args.extend(a.new.iter().map(|p| format!("-a={p}")));
    let mut old = Session::new(config(&old_args)?)?;
    let mut new = Session::new(config(&new_args)?)?;
    let result = compare(&mut old, &mut new, &a);
    let closed = old.close().and(new.close());
    result.and(closed)?;
    Ok(())
}

fn compare(old: &mut Session, new: &mut Session, a: &DiffArgs) -> Result<()> {
    let before = tree(old.guest()?)?;
    let after = tree(new.guest()?)?;
    let mut paths: Vec<&String> = before.keys().chain(after.keys()).collect();
    paths.sort();
    paths.dedup();
    for path in paths {
        match (before.get(path), after.get(path)) {
            (Some(e), None) => print(&["-"], path, e, a, &[])?,
            (None, Some(e)) => print(&["+"], path, e, a, &[])?,
            (Some(o), Some(n)) => {
                let regular = |e: &Entry| e.mode & 0o170000 == 0o100000;
                let same_content = match regular(o) && regular(n) {
                    true if o.size != n.size => false,
                    true => {
                        old.guest()?.checksum("md5", path.as_str())?
                            == new.guest()?.checksum("md5", path.as_str())?
                    }
                    false => true,
                };
                let what = changes(o, n, same_content, a.dir_times);
                if what.is_empty() {
                    continue;
                }
                print(&["="], path, o, a, &what)?;
                if !same_content && regular(o) && regular(n) && !a.csv && !a.no_content_diff {
                    content_diff(old, new, path)?;
                }
            }
            (None, None) => {}
        }
    }
    Ok(())
}

fn print(mark: &[&str], path: &str, e: &Entry, a: &DiffArgs, what: &[&str]) -> Result<()> {
    let mut fields: Vec<String> = mark.iter().map(|m| m.to_string()).collect();
    fields.extend(file_fields(path, e, a.csv, a.human));
    if !what.is_empty() {
        fields.push("changed:".into());
        fields.extend(what.iter().map(|w| w.to_string()));
    }
    outln!("{}", line(&fields, a.csv));
    Ok(())
}

/// Every path under / with its entry (lstat: links are not followed).
fn tree(g: &mut Guest) -> Result<BTreeMap<String, Entry>> {
    let mut out = BTreeMap::new();
    for rel in g.find("/")? {
        let path = format!("/{rel}");
        let st: Statns = g.lstatns(path.as_str())?;
        let link = match st.st_mode & 0o170000 == 0o120000 {
            true => Some(g.readlink(path.as_str())?),
            false => None,
        };
        out.insert(
            path,
            Entry {
                mode: st.st_mode,
                size: st.st_size,
                link,
            },
        );
    }
    Ok(out)
}

/// `diff -u` of the two versions, labelled with the guest path.
fn content_diff(old: &mut Session, new: &mut Session, path: &str) -> Result<()> {
    let dir =
        tempfile::tempdir().map_err(|e| CliError::msg(format!("a temporary directory: {e}")))?;
    let (a, b) = (dir.path().join("old"), dir.path().join("new"));
    old.guest()?.download(path, &a)?;
    new.guest()?.download(path, &b)?;
    let out = Command::new("diff")
        .arg("-u")
        .arg("--label")
        .arg(format!("a{path}"))
        .arg("--label")
        .arg(format!("b{path}"))
        .arg(&a)
        .arg(&b)
        .output()
        .map_err(|e| CliError::msg(format!("cannot run diff (install diffutils): {e}")))?;
    use std::io::Write as _;
    crate::terminal::stdout()
        .write_all(&out.stdout)
        .map_err(output_error)?;
    Ok(())
}
