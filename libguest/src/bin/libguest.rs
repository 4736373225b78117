//! The `libguest` command line.
//!
//! `libguest [-a IMAGE]... [--ro] [-v] COMMAND...`, guestfish style. The
//! commands so far: `launch` (boot the appliance, print its launch time,
//! shut down), `build-kernel [appliance|testhost]`, `version`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use libguest::{DriveFormat, DriveOptions, Guest};

#[derive(Parser)]
#[command(
    name = "libguest",
    version,
    about = "Inspect and edit virtual machine disk images"
)]
struct Cli {
    /// Add a disk image (repeatable).
    #[arg(short = 'a', long = "add", value_name = "IMAGE")]
    drives: Vec<PathBuf>,
    /// Image format of the drives that follow (raw or qcow2); detected if absent.
    #[arg(long)]
    format: Option<DriveFormat>,
    /// Add drives read-only.
    #[arg(long)]
    ro: bool,
    /// Verbose: show the appliance console.
    #[arg(short, long)]
    verbose: bool,
    /// Appliance kernel (default: LIBGUEST_KERNEL or the cached build).
    #[arg(long, value_name = "VMLINUX")]
    kernel: Option<PathBuf>,
    /// Appliance memory in MiB.
    #[arg(short = 'm', long = "memsize", default_value_t = 512)]
    memsize: u64,
    /// Seconds to wait for the appliance to become ready.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true)]
    command: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("libguest: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<(), Box<dyn std::error::Error>> {
    let words: Vec<&str> = cli.command.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["version"] => {
            println!("libguest {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        ["build-kernel"] => build_kernel("appliance"),
        ["build-kernel", kind] => build_kernel(kind),
        ["launch"] | [] => launch(cli),
        [other, ..] => {
            Err(format!("unknown command {other:?} (try: launch, build-kernel, version)").into())
        }
    }
}

fn build_kernel(kind: &str) -> Result<(), Box<dyn std::error::Error>> {
    println!("{}", libguest::appliance::build_kernel(kind)?.display());
    Ok(())
}

fn launch(cli: &Cli) -> Result<(), Box<dyn std::error::Error>> {
    let mut g = Guest::new()?;
    g.set_verbose(cli.verbose);
    g.set_memsize(cli.memsize)?;
    g.set_launch_timeout(Duration::from_secs(cli.timeout));
    if let Some(k) = &cli.kernel {
        g.set_kernel(k)?;
    }
    for path in &cli.drives {
        let options = DriveOptions {
            format: cli.format,
            readonly: cli.ro,
            ..Default::default()
        };
        g.add_drive_opts(path, options)?;
    }
    let result = g.launch();
    if cli.verbose {
        eprint!("{}", g.console_log());
    }
    result?;
    let ms = g
        .launch_duration()
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0);
    println!("appliance ready in {ms:.0} ms");
    g.shutdown()?;
    Ok(())
}
