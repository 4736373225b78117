//! Running lvm: the configuration every command gets (no udev, only the
//! appliance's disks or the lvm_set_filter devices, no backups, nothing
//! written by commands that only read) and a runner that keeps stdout
//! apart from stderr, bounded.

use std::ffi::OsStr;
use std::io::Read;
use std::process::Stdio;

use protocol::{ErrorKind, ErrorReply};

use super::super::mkfs::run::{command, wait};
use super::super::util::{too_large, MAX_DATA};

/// Stderr kept for error messages.
const MAX_STDERR: usize = 16 << 10;

/// Where lvm looks for lvm.conf: a directory of ours with none in it, so
/// the built-in defaults and our --config are all that count (on a test
/// host too), and no devices file is read.
const SYSTEM_DIR: &str = "/run/libguest-lvm";

/// The devices LVM may scan by default: the appliance's disks and their
/// partitions, md arrays and device-mapper devices (opened LUKS); never
/// loop or ram devices.
const DEFAULT_ACCEPT: &[&str] = &[
    "^/dev/(sd|vd|hd|xvd|ubd)[a-z]+[0-9]*$",
    "^/dev/nvme[0-9]+n[0-9]+(p[0-9]+)?$",
    "^/dev/mmcblk[0-9]+(p[0-9]+)?$",
    "^/dev/md[0-9]+(p[0-9]+)?$",
    "^/dev/md/",
    "^/dev/mapper/",
    "^/dev/dm-[0-9]+$",
];

/// What a command may change.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Reports and activation: metadata_read_only, so LVM never repairs
    /// or rewrites metadata on the way.
    Read,
    /// Commands that change metadata.
    Write,
}

/// The LVM state of the daemon: the lvm_set_filter devices (None: the
/// default), and whether LVs found at start-up were activated.
#[derive(Default)]
pub(crate) struct LvmState {
    pub(super) filter: Option<Vec<String>>,
    pub(super) activated: bool,
}

/// A device name as an anchored lvm filter regex.
fn exact(device: &str) -> String {
    let mut re = String::from("^");
    for c in device.chars() {
        if ".+".contains(c) {
            re.push('\\');
        }
        re.push(c);
    }
    re.push('$');
    re
}

/// The --config string; `read_only_vgs` are activated read-only.
pub(super) fn config(state: &LvmState, mode: Mode, read_only_vgs: &[String]) -> String {
    let accept: Vec<String> = match &state.filter {
        Some(devices) => devices.iter().map(|d| exact(d)).collect(),
        None => DEFAULT_ACCEPT.iter().map(|s| s.to_string()).collect(),
    };
    let mut filter: Vec<String> = accept.iter().map(|re| format!("\"a|{re}|\"")).collect();
    filter.push("\"r|.*|\"".into());
    let ro: Vec<String> = read_only_vgs.iter().map(|v| format!("\"{v}\"")).collect();
    format!(
        "devices{{filter=[{}] use_devicesfile=0 obtain_device_list_from_udev=0 scan_lvs=0 \
         external_device_info_source=\"none\"}} \
         activation{{udev_sync=0 udev_rules=0 monitoring=0 read_only_volume_list=[{}]}} \
         global{{use_lvmpolld=0 metadata_read_only={}}} backup{{backup=0 archive=0}}",
        filter.join(","),
        ro.join(","),
        u8::from(mode == Mode::Read),
    )
}

/// How lvm ended.
pub(super) struct LvmOutput {
    pub(super) code: i32,
    pub(super) stdout: String,
    pub(super) stderr: String,
}

impl LvmOutput {
    /// The error for a failed command: its last stderr lines.
    pub(super) fn failed(&self, call: &str, what: &str) -> ErrorReply {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("WARNING: "))
            .collect();
        let tail = lines[lines.len().saturating_sub(4)..].join("; ");
        let what = if what.is_empty() {
            String::new()
        } else {
            format!(" {what}")
        };
        ErrorReply::new(
            ErrorKind::Other,
            format!(
                "{call}{what}: lvm failed (exit status {}): {tail}",
                self.code
            ),
        )
    }
}

/// Runs `lvm SUBCOMMAND --config … ARGS`; any exit status is returned.
/// Stdout over the message limit is an error, not a truncated answer.
pub(super) fn lvm(
    state: &LvmState,
    call: &str,
    mode: Mode,
    read_only_vgs: &[String],
    subcommand: &str,
    args: &[&str],
) -> Result<LvmOutput, ErrorReply> {
    let io_err = |what: &str, e: std::io::Error| {
        ErrorReply::new(ErrorKind::Other, format!("{call}: {what} lvm: {e}"))
    };
    // Its run and lock directories, on the appliance's writable root.
    for dir in [SYSTEM_DIR, "/run/lvm", "/run/lock/lvm"] {
        let _ = std::fs::create_dir_all(dir);
    }
    let mut cmd = command("lvm")?;
    cmd.arg(subcommand)
        .arg("--config")
        .arg(config(state, mode, read_only_vgs))
        .args(args.iter().map(OsStr::new))
        .env("LVM_SYSTEM_DIR", SYSTEM_DIR)
        .env("LVM_SUPPRESS_FD_WARNINGS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| io_err("cannot run", e))?;
    let stderr = child.stderr.take();
    let errors = std::thread::spawn(move || {
        let mut kept = Vec::new();
        if let Some(mut stderr) = stderr {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > 2 * MAX_STDERR {
                    kept.drain(..kept.len() - MAX_STDERR);
                }
            }
        }
        kept
    });
    let mut stdout = Vec::new();
    let mut over = false;
    if let Some(out) = child.stdout.take() {
        let mut limited = out.take(MAX_DATA as u64 + 1);
        if let Err(e) = limited.read_to_end(&mut stdout) {
            let _ = child.kill();
            wait(&mut child);
            return Err(io_err("read the output of", e));
        }
        over = stdout.len() > MAX_DATA;
    }
    if over {
        let _ = child.kill();
    }
    let status = wait(&mut child);
    let stderr = errors.join().unwrap_or_default();
    if over {
        return Err(too_large(call, subcommand, "lvm's report"));
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok(LvmOutput {
        code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

/// Runs lvm and fails unless it exits 0; `what` names the object.
pub(super) fn lvm_ok(
    state: &LvmState,
    call: &str,
    mode: Mode,
    subcommand: &str,
    args: &[&str],
    what: &str,
) -> Result<String, ErrorReply> {
    let out = lvm(state, call, mode, &[], subcommand, args)?;
    if out.code != 0 {
        return Err(out.failed(call, what));
    }
    Ok(out.stdout)
}

/// The rows of a `--noheadings --separator |` report with `fields`
/// columns each; a row of another shape is an error (never a guess).
pub(super) fn rows<'a>(
    call: &str,
    text: &'a str,
    fields: usize,
) -> Result<Vec<Vec<&'a str>>, ErrorReply> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() {
            continue;
        }
        let row: Vec<&str> = line.split('|').collect();
        if row.len() != fields {
            return Err(ErrorReply::new(
                ErrorKind::Other,
                format!(
                    "{call}: unexpected lvm report row ({} fields, {fields} asked for)",
                    row.len()
                ),
            ));
        }
        out.push(row);
    }
    Ok(out)
}

/// The common arguments of a machine-readable report.
pub(super) const REPORT: &[&str] = &[
    "--noheadings",
    "--separator",
    "|",
    "--units",
    "b",
    "--nosuffix",
];
