//! `launch` (alias `run`): boots the appliance now. As guestfish, it
//! prints nothing on stdout (scripts pipe it); how long the boot took goes
//! to stderr when that is a terminal or with -v.

use crate::error::{CliError, Result};
use crate::session::Session;

pub fn run(s: &mut Session, args: &[String]) -> Result<()> {
    if !args.is_empty() {
        return Err(CliError::msg("launch: takes no arguments"));
    }
    let ms = s
        .guest()?
        .launch_duration()
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0);
    if s.progress || s.config.verbose {
        errprint!("appliance ready in {ms:.0} ms\n");
    }
    Ok(())
}
