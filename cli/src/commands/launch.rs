//! `launch` (alias `run`): boots the appliance now and says how long it
//! took.

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
    outln!("appliance ready in {ms:.0} ms");
    Ok(())
}
