//! `help` and `help CMD`, and the names the shell completes.

use libguest::commands;

use crate::error::{CliError, Result};

/// The commands this CLI adds on top of the API: name, usage, what.
pub const COMPOUND: &[(&str, &str, &str)] = &[
    ("copy-in", "copy-in LOCAL... REMOTEDIR", "Copies host files or directory trees into an existing guest directory (modes, times and symlinks kept)."),
    ("copy-out", "copy-out [--keep-modes] [--max-sparse-size N[K|M|G|T]] REMOTE... LOCALDIR", "Copies guest files or directory trees into an existing host directory. Modes lose group/other write and follow the umask unless --keep-modes; nothing is written through a symlink below LOCALDIR; sparse files may claim at most 16T unless --max-sparse-size."),
    ("df", "df [-h]", "Free space of every filesystem (the mounted ones if you mounted any, else each in turn, read-only); -h: human sizes."),
    ("edit", "edit REMOTEFILE", "Edits a guest file with $EDITOR (default vi); it is written back only if it changed. Aliases: vi, emacs."),
    ("exit", "exit", "Leaves the shell or stops the script (also: quit, q)."),
    ("filesystems", "filesystems [--json] [-h]", "A table of the filesystems, partitions and devices: type, label, UUID and size; -h: human sizes."),
    ("help", "help [COMMAND]", "Lists the commands, or describes one."),
    ("inspect", "inspect [--json]", "Inspects the disks for operating systems: type, distro, product, version, arch, hostname, packaging, mountpoints; with --json also the installed applications."),
    ("launch", "launch", "Launches the appliance now and prints how long it took (done anyway before the first command that needs it). Alias: run."),
    ("make-fs", "make-fs INPUT OUTPUT [--type ext4|ext2|ext3|xfs|vfat|btrfs] [--size N[KMG]|+N[KMG]] [--format raw|qcow2] [--label L]", "Makes a disk image OUTPUT holding one unpartitioned filesystem with the contents of INPUT, a host directory or a tarball (.tar, .tar.gz, .tar.xz, .tar.zst). The type defaults to ext4; the size is estimated from the input with headroom unless --size is given, and +N adds to the estimate. Needs no -a drive."),
    ("quit", "quit", "Leaves the shell or stops the script (also: exit, q)."),
];

/// Command names for the shell's completion, with `-` for `_`.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = commands::commands()
        .map(|c| c.name.replace('_', "-"))
        .chain(COMPOUND.iter().map(|(n, _, _)| n.to_string()))
        .chain(["run", "vi", "emacs", "q"].map(String::from))
        .collect();
    names.sort();
    names.dedup();
    names
}

pub fn help(args: &[String]) -> Result<()> {
    match args {
        [] => {
            outln!("Commands (help CMD for one):\n");
            let mut rows: Vec<(String, &str)> = COMPOUND
                .iter()
                .map(|(n, _, what)| (n.to_string(), first_sentence(what)))
                .collect();
            rows.extend(commands::commands().map(|c| (c.name.replace('_', "-"), c.summary())));
            rows.sort();
            let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            for (name, what) in rows {
                outln!("  {name:width$}  {what}");
            }
            outln!("\nCommands are separated by ':' on the command line, one a line in scripts.");
            Ok(())
        }
        [name] => {
            outln!("{}", describe(name)?);
            Ok(())
        }
        _ => Err(CliError::msg("usage: help [COMMAND]")),
    }
}

fn describe(name: &str) -> Result<String> {
    let wanted = name.replace('_', "-");
    let alias = match wanted.as_str() {
        "run" => "launch",
        "vi" | "emacs" => "edit",
        "q" => "quit",
        other => other,
    };
    if let Some((_, usage, what)) = COMPOUND.iter().find(|(n, _, _)| *n == alias) {
        return Ok(format!("{usage}\n\n  {what}"));
    }
    commands::help(&wanted)
        .map(|text| text.trim_end().to_string())
        .ok_or_else(|| CliError::msg(format!("help: unknown command {name:?} (try 'help')")))
}

fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(end) => &text[..=end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_help() {
        for name in names() {
            assert!(describe(&name).is_ok(), "{name}");
        }
        assert!(describe("ls").unwrap().starts_with("ls directory"));
        assert!(describe("copy_in").unwrap().starts_with("copy-in LOCAL"));
        assert!(describe("frobnicate").is_err());
    }
}
