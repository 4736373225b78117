//! Commands from a script or standard input (one a line; the first error
//! stops them) and the interactive shell (an error is printed and the
//! shell goes on), as guestfish does.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use std::cell::RefCell;

use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};

use crate::complete::ShellHelper;
use crate::error::{CliError, Result};
use crate::fish;
use crate::registry::{self, Flow};
use crate::session::Session;

/// Runs the commands of `script` (`-` is standard input), stopping at the
/// first error, which names the line.
pub fn run_script(session: &mut Session, script: &Path) -> Result<()> {
    let name = script.display().to_string();
    // Standard input through std's shared buffer, line by line, so that a
    // command given `-` (upload - /x) reads what follows.
    let reader: Box<dyn BufRead> = if script == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(script)
            .map_err(|e| CliError::msg(format!("cannot open script {name}: {e}")))?;
        Box::new(std::io::BufReader::new(file))
    };
    for (number, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| CliError::msg(format!("reading {name}: {e}")))?;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        // A script file's errors say where; standard input's need not.
        let flow =
            fish::run_line(session, trimmed).map_err(|e| match script == Path::new("-") {
                true => e,
                false => e.context(format!("{name}:{}", number + 1)),
            })?;
        if flow == Flow::Quit {
            break;
        }
    }
    Ok(())
}

/// $XDG_DATA_HOME/libguest/history, else ~/.local/share/libguest/history.
fn history_path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".local/share"),
    };
    Some(base.join("libguest").join("history"))
}

pub fn interactive(session: &mut Session) -> Result<()> {
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .max_history_size(1000)
        .map_err(|e| CliError::msg(format!("shell: {e}")))?
        .build();
    let mut editor: Editor<ShellHelper, DefaultHistory> =
        Editor::with_config(config).map_err(|e| CliError::msg(format!("shell: {e}")))?;
    // The completer reads guest paths through the session between
    // commands; a command borrows it only while it runs.
    let session = RefCell::new(session);
    editor.set_helper(Some(ShellHelper {
        names: registry::names(),
        session: &session,
    }));
    let history = history_path();
    if let Some(path) = &history {
        // No history yet is the normal first run.
        let _ = editor.load_history(path);
    }
    outln!("libguest shell: 'help' lists the commands, 'help CMD' describes one, 'quit' leaves.");
    loop {
        let line = match editor.readline("libguest> ") {
            Ok(line) => line,
            // Ctrl-C drops the line being typed, as in a shell.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(CliError::msg(format!("shell: {e}"))),
        };
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let _ = editor.add_history_entry(trimmed);
        let mut session = session.borrow_mut();
        match fish::run_line(&mut session, trimmed) {
            Ok(Flow::Quit) => break,
            Ok(Flow::Continue) => {}
            Err(e) => e.report(session.config.verbose),
        }
    }
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = editor.save_history(path) {
            errln!(
                "libguest: warning: cannot save the history to {}: {e}",
                path.display()
            );
        }
    }
    Ok(())
}
