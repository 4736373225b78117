//! virt-inspector: the operating systems in the disk images, as
//! virt-inspector's XML (commands/inspect_xml.rs), drives read-only.

use std::ffi::OsString;

use clap::Parser;

use super::common::{parse, with_session, Drives, Open, ToolResult};
use crate::commands::inspect::{applications, describe};
use crate::error::{CliError, Result};
use crate::session::Session;

/// virt-inspector: display information about a virtual machine.
#[derive(Parser, Debug)]
#[command(
    about = "Display operating system version and other information about a virtual machine",
    version
)]
pub struct InspectorArgs {
    #[command(flatten)]
    pub drives: Drives,
    /// Leave the installed applications out.
    #[arg(long = "no-applications")]
    pub no_applications: bool,
    /// Leave the icon out (libguest never writes one).
    #[arg(long = "no-icon")]
    pub no_icon: bool,
}

pub fn inspector(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, m): (InspectorArgs, _) = parse(name, args)?;
    let s = a.drives.session(&m, &[], Open::UnmountedRo)?;
    with_session(s, |s| print(s, !a.no_applications))?;
    Ok(())
}

fn print(s: &mut Session, with_apps: bool) -> Result<()> {
    let g = s.guest()?;
    let roots = g.inspect_os()?;
    if roots.is_empty() {
        return Err(CliError::msg(
            "no operating system could be detected inside this disk image; list its filesystems with virt-filesystems -a IMAGE",
        ));
    }
    let mut systems = Vec::new();
    for root in &roots {
        let mut os = describe(g, root)?;
        if with_apps {
            if let Some(apps) = applications(g, root)? {
                os["applications"] = apps;
            }
        }
        systems.push(os);
    }
    outln!("{}", crate::commands::inspect_xml::render(&systems));
    Ok(())
}
