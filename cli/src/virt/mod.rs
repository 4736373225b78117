//! The virt-* tools of libguestfs as names of the `libguest` binary: a
//! symlink `virt-cat` to it runs virt-cat (argv[0]'s file name), and
//! `libguest virt-cat ARGS` does the same. Each tool takes libguestfs's
//! options (common.rs) and runs the CLI's commands on a [`Session`].

mod common;
mod df;
mod diff;
mod disk;
mod edit;
mod files;
mod filesystems;
mod inspector;
mod ls;
mod mount;

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use common::{Exit, ToolResult};

/// A tool: its name and what it does with its arguments (argv[1..]).
struct Tool {
    name: &'static str,
    run: fn(&'static str, Vec<OsString>) -> ToolResult,
}

/// guestmount and guestunmount, also reached as `libguest mount` and
/// `libguest unmount`. They fork before any thread starts, so they run
/// before the CLI's SIGINT thread exists.
const MOUNT_TOOLS: &[Tool] = &[
    Tool {
        name: "guestmount",
        run: mount::mount,
    },
    Tool {
        name: "guestunmount",
        run: mount::unmount,
    },
];

const TOOLS: &[Tool] = &[
    Tool {
        name: "virt-cat",
        run: files::cat,
    },
    Tool {
        name: "virt-copy-in",
        run: files::copy_in,
    },
    Tool {
        name: "virt-copy-out",
        run: files::copy_out,
    },
    Tool {
        name: "virt-tar-in",
        run: files::tar_in,
    },
    Tool {
        name: "virt-tar-out",
        run: files::tar_out,
    },
    Tool {
        name: "virt-inspector",
        run: inspector::inspector,
    },
    Tool {
        name: "virt-log",
        run: files::log,
    },
    Tool {
        name: "virt-tail",
        run: files::tail,
    },
    Tool {
        name: "virt-ls",
        run: ls::ls,
    },
    Tool {
        name: "virt-filesystems",
        run: filesystems::filesystems,
    },
    Tool {
        name: "virt-df",
        run: df::df,
    },
    Tool {
        name: "virt-edit",
        run: edit::edit,
    },
    Tool {
        name: "virt-make-fs",
        run: disk::make_fs,
    },
    Tool {
        name: "virt-format",
        run: disk::format,
    },
    Tool {
        name: "virt-alignment-scan",
        run: disk::alignment_scan,
    },
    Tool {
        name: "virt-diff",
        run: diff::diff,
    },
];

/// The tool names, for the README and `--help`.
pub fn names() -> impl Iterator<Item = &'static str> {
    TOOLS.iter().chain(MOUNT_TOOLS).map(|t| t.name)
}

fn find(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().chain(MOUNT_TOOLS).find(|t| t.name == name)
}

/// Runs a virt-* tool when argv[0]'s file name or the first argument
/// names one; `None` for a plain `libguest` command line.
pub fn dispatch_argv0() -> Option<ExitCode> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let (name, rest) = tool_of(&args)?;
    if !MOUNT_TOOLS.iter().any(|t| t.name == name) {
        crate::interrupt::install();
    }
    Some(run_tool(&name, rest))
}

/// The tool an argv asks for and its arguments: argv[0] `…/virt-cat`, or
/// `libguest virt-cat …`.
fn tool_of(args: &[OsString]) -> Option<(String, Vec<OsString>)> {
    let base = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if base.starts_with("virt-") || base == "guestmount" || base == "guestunmount" {
        return Some((base.to_string(), args[1..].to_vec()));
    }
    let first = args.get(1)?.to_str()?;
    // `libguest mount -a IMG …` is guestmount (it always takes options);
    // `libguest mount DEV MP` stays guestfish's mount command.
    let options_follow = || {
        args[2..]
            .iter()
            .any(|a| a.to_str().is_some_and(|a| a.starts_with('-')))
    };
    let name = match first {
        "mount" if options_follow() => "guestmount",
        "unmount" => "guestunmount",
        virt if virt.starts_with("virt-") => virt,
        _ => return None,
    };
    Some((name.to_string(), args[2..].to_vec()))
}

fn run_tool(name: &str, args: Vec<OsString>) -> ExitCode {
    let Some(tool) = find(name) else {
        let known: Vec<&str> = names().collect();
        errln!(
            "libguest: unknown tool {name:?}; the virt-* tools are: {}",
            known.join(", ")
        );
        return ExitCode::FAILURE;
    };
    match (tool.run)(tool.name, args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Exit::Clap(e)) => crate::clap_exit(e),
        Err(Exit::Code(code)) => ExitCode::from(code),
        Err(e) => {
            e.report(common::verbose_requested());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests;
