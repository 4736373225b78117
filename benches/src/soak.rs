//! Bookkeeping of the soak bench (`benches/benches/soak.rs`): what one
//! (backend, load) cell counted, how each appliance death is classified,
//! and the table printed at the end.

use std::fmt::Write as _;
use std::time::Duration;

use libguest::Error;

/// Console lines kept for each death.
pub const TAIL_LINES: usize = 15;

/// How an appliance died (or failed to launch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeathKind {
    /// Our VMM saw KVM_EXIT_SHUTDOWN: the guest triple-faulted.
    TripleFault,
    /// qemu exited as on a reset request (`-no-reboot`) and the kernel
    /// printed no reboot message: under KVM that is how a triple fault
    /// (KVM_EXIT_SHUTDOWN) ends in qemu.
    QemuResetSilent,
    /// The kernel asked for the reset itself ("reboot:" on the console).
    KernelReboot,
    /// The debug-build guest-memory write guard of the device model fired.
    GuardViolation,
    KernelPanic,
    /// A call did not answer within the soak's call timeout, or the
    /// launch within its timeout.
    Timeout,
    /// Anything else (VMM crash, KVM error, channel closed without a reason).
    Other,
}

impl DeathKind {
    const ALL: [DeathKind; 7] = [
        DeathKind::TripleFault,
        DeathKind::QemuResetSilent,
        DeathKind::KernelReboot,
        DeathKind::GuardViolation,
        DeathKind::KernelPanic,
        DeathKind::Timeout,
        DeathKind::Other,
    ];

    /// One word, for [`record::IterRecord`] lines.
    pub fn name(self) -> &'static str {
        match self {
            DeathKind::TripleFault => "triple-fault",
            DeathKind::QemuResetSilent => "qemu-reset-silent",
            DeathKind::KernelReboot => "kernel-reboot",
            DeathKind::GuardViolation => "guard-violation",
            DeathKind::KernelPanic => "kernel-panic",
            DeathKind::Timeout => "timeout",
            DeathKind::Other => "other",
        }
    }

    /// The kind [`DeathKind::name`] names.
    pub fn from_name(name: &str) -> Option<DeathKind> {
        DeathKind::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn label(self) -> &'static str {
        match self {
            DeathKind::TripleFault => "triple fault (KVM shutdown exit)",
            DeathKind::QemuResetSilent => "qemu reset with no kernel message (triple fault)",
            DeathKind::KernelReboot => "kernel-requested reboot",
            DeathKind::GuardViolation => "device write-guard violation",
            DeathKind::KernelPanic => "kernel panic",
            DeathKind::Timeout => "timeout (call or launch)",
            DeathKind::Other => "other",
        }
    }
}

/// Classifies the error that ended an appliance, with the console tail;
/// `guard_fired`: the VMM's write guard counted a violation meanwhile
/// (`vmm::guard_violations()`; a violation stops the queue, so the call
/// then ends in a timeout).
pub fn classify(err: &Error, console_tail: &str, guard_fired: bool) -> DeathKind {
    if guard_fired || mentions_guard(&err.to_string()) || mentions_guard(console_tail) {
        return DeathKind::GuardViolation;
    }
    match err {
        Error::KernelPanic { .. } => DeathKind::KernelPanic,
        Error::CallTimeout { .. } | Error::LaunchTimeout { .. } => DeathKind::Timeout,
        Error::GuestDied { reason, .. } => match reason.as_str() {
            "triple fault" => DeathKind::TripleFault,
            "the guest rebooted" if console_tail.contains("reboot:") => DeathKind::KernelReboot,
            "the guest rebooted" => DeathKind::QemuResetSilent,
            _ => DeathKind::Other,
        },
        _ if console_tail.contains("Kernel panic") => DeathKind::KernelPanic,
        _ => DeathKind::Other,
    }
}

fn mentions_guard(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    s.contains("write guard") || s.contains("write-guard") || s.contains("guard violation")
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// One appliance that died (or a launch that failed).
#[derive(Debug, Clone)]
pub struct Death {
    /// The iteration it happened in (0-based).
    pub iteration: usize,
    /// `launch`, `upload`, `checksum`, `download`, `sync`.
    pub during: &'static str,
    pub kind: DeathKind,
    pub error: String,
    pub console_tail: String,
}

/// What one (backend, load) cell counted.
#[derive(Debug, Default)]
pub struct Cell {
    pub backend: String,
    /// Short key in record lines (`ours`, `peer`).
    pub key: String,
    pub load: bool,
    pub launches: u32,
    pub up_ok: u32,
    pub up_failed: u32,
    pub down_ok: u32,
    pub down_failed: u32,
    /// Transfers that completed but whose content differed (counted in
    /// the failed ones too).
    pub corrupt: u32,
    /// Write-guard violations counted while the cell ran.
    pub guard_violations: u64,
    /// Every death's kind (the count in the table).
    pub death_kinds: Vec<DeathKind>,
    /// Details of the deaths seen in this process (inside the test host
    /// only: the bench outside has the kinds from the record lines).
    pub deaths: Vec<Death>,
    /// Times the whole test host reset while this cell's backend ran (the
    /// TCG-emulated machine around both backends, not the appliance).
    pub host_resets: u32,
    pub up_times: Vec<Duration>,
    pub down_times: Vec<Duration>,
    pub iterations: usize,
    pub wall: Duration,
    /// Why the cell ended before its iteration count, if it did.
    pub cut_short: Option<String>,
}

/// Median throughput of transfers of `bytes` each, MiB/s.
pub fn median_mib_s(bytes: u64, times: &[Duration]) -> f64 {
    let s = crate::summarize(times);
    bytes as f64 / (1u64 << 20) as f64 / (s.median_ms / 1000.0)
}

fn ratio(ours: f64, peer: f64) -> String {
    if ours.is_finite() && peer.is_finite() && peer > 0.0 {
        format!("{:.2}", ours / peer)
    } else {
        "-".into()
    }
}

/// The table: backend x load -> counts and median MiB/s, and each cell's
/// ratio to the peer cell with the same load (`peer` names the peer's
/// backend). Then every death with its error and console tail.
pub fn report(cells: &[Cell], bytes: u64, peer: &str) -> String {
    let mut out = String::new();
    let mib = bytes >> 20;
    let _ = writeln!(
        out,
        "| backend | load | iterations | launches | uploads ok / failed | downloads ok / failed | corrupt | guard violations | appliance deaths | test-host resets | upload MiB/s (median) | download MiB/s (median) | ratio to peer (up / down) | wall |"
    );
    let _ = writeln!(
        out,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for c in cells {
        let up = median_mib_s(bytes, &c.up_times);
        let down = median_mib_s(bytes, &c.down_times);
        let peer_cell = cells.iter().find(|p| p.backend == peer && p.load == c.load);
        let ratios = match peer_cell {
            Some(p) if p.backend != c.backend => format!(
                "{} / {}",
                ratio(up, median_mib_s(bytes, &p.up_times)),
                ratio(down, median_mib_s(bytes, &p.down_times))
            ),
            Some(_) => "(peer)".into(),
            None => "-".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {}{} | {} | {} / {} | {} / {} | {} | {} | {} | {} | {:.1} | {:.1} | {} | {:.0} s |",
            c.backend,
            if c.load { "CPU hog" } else { "idle" },
            c.iterations,
            if c.cut_short.is_some() { " (cut short)" } else { "" },
            c.launches,
            c.up_ok,
            c.up_failed,
            c.down_ok,
            c.down_failed,
            c.corrupt,
            c.guard_violations,
            c.death_kinds.len(),
            c.host_resets,
            up,
            down,
            ratios,
            c.wall.as_secs_f64()
        );
    }
    let _ = writeln!(
        out,
        "({mib} MiB per transfer; each checked by sha256 in the guest and on the host)"
    );
    for c in cells {
        for kind in DeathKind::ALL {
            let n = c.death_kinds.iter().filter(|&&k| k == kind).count();
            if n > 0 {
                let _ = writeln!(
                    out,
                    "{} / {}: {n} x {}",
                    c.backend,
                    if c.load { "CPU hog" } else { "idle" },
                    kind.label()
                );
            }
        }
        if let Some(why) = &c.cut_short {
            let _ = writeln!(out, "{} / load {}: cut short: {why}", c.backend, c.load);
        }
        for d in &c.deaths {
            let _ = writeln!(
                out,
                "\nDEATH {} / {} at iteration {} during {}: {}\n  error: {}\n  console tail:\n{}",
                c.backend,
                if c.load { "CPU hog" } else { "idle" },
                d.iteration,
                d.during,
                d.kind.label(),
                d.error.lines().next().unwrap_or(""),
                indent(&d.console_tail)
            );
        }
    }
    out
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    | {l}\n")).collect()
}

pub mod record;

#[cfg(test)]
mod tests;
