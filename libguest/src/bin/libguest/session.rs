//! One CLI session: the handle with its drives, launched before the first
//! command that needs the appliance (guestfish's `run`), and the command
//! dispatch: compound commands first, then every API command.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use libguest::{commands, Backend, DriveOptions, Guest};
use protocol::{CallInfo, CallKind};

use crate::error::{CliError, Result};
use crate::{copy, fs, help, inspect, makefs, split};

/// What the options asked for.
pub struct Config {
    pub drives: Vec<(PathBuf, DriveOptions)>,
    pub ro: bool,
    pub inspector: bool,
    pub mounts: Vec<MountSpec>,
    pub verbose: bool,
    pub echo: bool,
    pub progress_bars: bool,
    pub backend: Option<Backend>,
    pub kernel: Option<PathBuf>,
    pub memsize: u64,
    pub timeout: u64,
}

impl Config {
    /// A handle set up as the options say, without drives (make-fs uses
    /// one of its own).
    pub fn new_guest(&self) -> Result<Guest> {
        let mut g = Guest::new()?;
        g.set_verbose(self.verbose);
        g.set_memsize(self.memsize)?;
        g.set_launch_timeout(Duration::from_secs(self.timeout));
        if let Some(backend) = self.backend {
            g.set_backend(backend)?;
        }
        if let Some(kernel) = &self.kernel {
            g.set_kernel(kernel)?;
        }
        Ok(g)
    }
}

/// `-m DEV[:MOUNTPOINT[:OPTIONS]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MountSpec {
    pub device: String,
    pub mountpoint: String,
    pub options: Option<String>,
}

impl MountSpec {
    pub fn parse(spec: &str) -> Result<MountSpec> {
        let mut parts = spec.splitn(3, ':');
        let device = parts.next().unwrap_or_default().to_string();
        if device.is_empty() {
            return Err(CliError::msg(format!(
                "-m {spec:?}: expected DEV[:MOUNTPOINT[:OPTIONS]], e.g. -m /dev/sda1"
            )));
        }
        let mountpoint = match parts.next() {
            None | Some("") => "/".to_string(),
            Some(mp) => mp.to_string(),
        };
        let options = parts.next().filter(|o| !o.is_empty()).map(str::to_string);
        Ok(MountSpec {
            device,
            mountpoint,
            options,
        })
    }

    pub fn mount(&self, g: &mut Guest, ro: bool) -> Result<()> {
        let (dev, mp) = (self.device.as_str(), self.mountpoint.as_str());
        match &self.options {
            Some(opts) => {
                let read_only = opts.split(',').any(|o| o == "ro");
                let opts = if ro && !read_only {
                    format!("ro,{opts}")
                } else {
                    opts.clone()
                };
                g.mount_options(opts, dev, mp)?
            }
            None if ro => g.mount_ro(dev, mp)?,
            None => g.mount(dev, mp)?,
        }
        Ok(())
    }
}

enum Launch {
    NotYet,
    Running,
    Failed,
}

/// Whether the caller goes on reading commands.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

pub struct Session {
    pub config: Config,
    guest: Guest,
    launch: Launch,
    /// Progress bars on stderr: only when it is a terminal.
    pub progress: bool,
}

impl Session {
    /// Adds the drives at once: a missing or unreadable image is reported
    /// before anything boots.
    pub fn new(config: Config) -> Result<Session> {
        let mut guest = config.new_guest()?;
        for (path, options) in &config.drives {
            guest.add_drive_opts(path, options.clone())?;
        }
        Ok(Session {
            guest,
            launch: Launch::NotYet,
            progress: config.progress_bars && std::io::stderr().is_terminal(),
            config,
        })
    }

    /// The running handle, launched (and -i / -m mounted) on first use.
    pub fn guest(&mut self) -> Result<&mut Guest> {
        match self.launch {
            Launch::Running => {}
            Launch::Failed => {
                return Err(CliError::msg(
                    "the appliance failed earlier in this session; start libguest again",
                ))
            }
            Launch::NotYet => {
                self.launch = Launch::Failed;
                let result = self.guest.launch();
                if self.config.verbose {
                    errprint!("{}", self.guest.console_log());
                }
                result?;
                self.launch = Launch::Running;
                crate::interrupt::set(self.guest.cancel_handle());
                self.mount_requested()?;
            }
        }
        Ok(&mut self.guest)
    }

    fn mount_requested(&mut self) -> Result<()> {
        let ro = self.config.ro;
        if self.config.inspector {
            inspect::mount_os(&mut self.guest, ro)?;
        }
        // Parents before children, whatever the order on the command line.
        let mut mounts = self.config.mounts.clone();
        mounts.sort_by_key(|m| m.mountpoint.len());
        for m in &mounts {
            m.mount(&mut self.guest, ro)?;
        }
        Ok(())
    }

    /// Shuts the appliance down (unmount, sync, power off, flush).
    pub fn close(&mut self) -> Result<()> {
        crate::interrupt::set(None);
        self.guest.shutdown()?;
        Ok(())
    }

    /// Command-line words: commands separated by `:` words, run in order
    /// until one fails or says quit.
    pub fn run_line_words(&mut self, words: &[String]) -> Result<()> {
        for command in words.split(|w| w == ":") {
            if self.run(command)? == Flow::Quit {
                break;
            }
        }
        Ok(())
    }

    /// Runs one command.
    pub fn run(&mut self, words: &[String]) -> Result<Flow> {
        let Some((name, args)) = words.split_first() else {
            return Ok(Flow::Continue);
        };
        if self.config.echo {
            errln!("{}", split::join(words));
        }
        let name = name.replace('_', "-");
        match name.as_str() {
            "quit" | "exit" | "q" => return Ok(Flow::Quit),
            "help" => help::help(args)?,
            "launch" | "run" => self.launch_command(args)?,
            "inspect" => inspect::run(self, args)?,
            "filesystems" => fs::filesystems(self, args)?,
            "df" => fs::df(self, args)?,
            "copy-in" => copy::copy_in(self, args)?,
            "copy-out" => copy::copy_out(self, args)?,
            "edit" | "vi" | "emacs" => copy::edit(self, args)?,
            "make-fs" => makefs::run(&self.config, self.progress, args)?,
            "upload" | "download" | "tar-in" | "tar-out"
                if copy::shows_progress(self, &name, args) =>
            {
                copy::streamed(self, &name, args)?
            }
            _ => self.api(&name, args)?,
        }
        std::io::stdout()
            .flush()
            .map_err(|e| CliError::msg(format!("writing the output: {e}")))?;
        Ok(Flow::Continue)
    }

    fn launch_command(&mut self, args: &[String]) -> Result<()> {
        if !args.is_empty() {
            return Err(CliError::msg("launch: takes no arguments"));
        }
        let ms = self
            .guest()?
            .launch_duration()
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0);
        outln!("appliance ready in {ms:.0} ms");
        Ok(())
    }

    /// An API command through `commands::run`. Usage errors are caught
    /// before the appliance is launched for them.
    fn api(&mut self, name: &str, args: &[String]) -> Result<()> {
        let info = CallInfo::find(name)
            .filter(|c| !c.internal)
            .ok_or_else(|| CliError::msg(format!("unknown command {name:?} (try 'help')")))?;
        check_usage(info, name, args)?;
        let g = self.guest()?;
        let mut out = crate::terminal::stdout();
        Ok(commands::run(g, name, args, &mut out)?)
    }
}

/// Argument count, optional argument names and, for plain calls, the
/// argument types, checked without an appliance: a handle that was never
/// launched parses everything and then refuses to send.
fn check_usage(info: &CallInfo, name: &str, args: &[String]) -> Result<()> {
    let names: Vec<&str> = info.args.iter().map(|a| a.name).collect();
    let opts: Vec<&str> = info.opts.iter().map(|a| a.name).collect();
    let host = (info.kind != CallKind::Plain).then_some("HOSTFILE");
    commands::Words::new(info.name, args, &names, &opts, host)
        .map_err(|m| CliError::Msg(format!("{name}: {m}")))?;
    if info.kind == CallKind::Plain {
        let mut idle = Guest::new()?;
        match commands::run(&mut idle, name, args, &mut std::io::sink()) {
            Ok(()) | Err(libguest::Error::State { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_specs() {
        let m = MountSpec::parse("/dev/sda1").unwrap();
        assert_eq!((m.mountpoint.as_str(), m.options.as_deref()), ("/", None));
        let m = MountSpec::parse("/dev/sda2:/boot:noatime,ro").unwrap();
        assert_eq!(m.device, "/dev/sda2");
        assert_eq!(m.mountpoint, "/boot");
        assert_eq!(m.options.as_deref(), Some("noatime,ro"));
        assert!(MountSpec::parse(":/x").is_err());
    }

    #[test]
    fn usage_is_checked_without_an_appliance() {
        let ls = CallInfo::find("ls").unwrap();
        let err = check_usage(ls, "ls", &[]).unwrap_err().to_string();
        assert_eq!(err, "ls: expected 1 argument, got 0; usage: ls directory");
        let err = check_usage(ls, "ls", &["etc".into()]).unwrap_err();
        assert!(err.to_string().contains("absolute"), "{err}");
        check_usage(ls, "ls", &["/etc".into()]).unwrap();
        let up = CallInfo::find("upload").unwrap();
        assert!(check_usage(up, "upload", &["a".into()]).is_err());
    }
}
