//! The soak's per-iteration record: one console line from inside the test
//! host per (backend, iteration), which the bench outside parses into its
//! cells. A test host that resets mid-run loses nothing counted before the
//! reset, and the bench boots another one that resumes where it stopped.
//!
//! The lines come from a serial console (kernel messages may interleave),
//! so parsing is lenient: an unreadable line is skipped, never a panic.

use std::time::Duration;

use super::{Cell, DeathKind};

/// Marks a record line.
pub const ITER_TAG: &str = "SOAK-ITER";
/// Printed before a backend's iteration starts: the last one seen says
/// which backend was running when a test host reset.
pub const AT_TAG: &str = "SOAK-AT";

/// How one transfer went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    Ok,
    /// The call failed.
    Failed,
    /// The call succeeded but the bytes differ.
    Corrupt,
}

impl Transfer {
    fn name(self) -> &'static str {
        match self {
            Transfer::Ok => "ok",
            Transfer::Failed => "failed",
            Transfer::Corrupt => "corrupt",
        }
    }

    fn parse(s: &str) -> Option<Transfer> {
        [Transfer::Ok, Transfer::Failed, Transfer::Corrupt]
            .into_iter()
            .find(|t| t.name() == s)
    }
}

/// One backend's iteration: an upload and a download of the same file.
#[derive(Debug, Clone, PartialEq)]
pub struct IterRecord {
    /// [`Cell::backend`]'s short key (`ours`, `peer`).
    pub backend: String,
    pub load: bool,
    pub iteration: usize,
    pub up: Transfer,
    pub up_time: Option<Duration>,
    pub down: Transfer,
    pub down_time: Option<Duration>,
    /// Appliances launched for this iteration (0 or 1; more after deaths).
    pub launches: u32,
    /// The appliance died during this iteration, and how.
    pub death: Option<DeathKind>,
    /// Write-guard violations counted during it.
    pub guard: u64,
}

fn load_name(load: bool) -> &'static str {
    if load {
        "hog"
    } else {
        "idle"
    }
}

fn ms(t: Option<Duration>) -> String {
    t.map_or("-".into(), |d| format!("{:.1}", d.as_secs_f64() * 1e3))
}

fn parse_ms(s: &str) -> Option<Option<Duration>> {
    if s == "-" {
        return Some(None);
    }
    let v: f64 = s.parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| Some(Duration::from_secs_f64(v / 1e3)))
}

impl IterRecord {
    /// An iteration in which nothing has succeeded yet.
    pub fn failed(backend: String, load: bool, iteration: usize) -> IterRecord {
        IterRecord {
            backend,
            load,
            iteration,
            up: Transfer::Failed,
            up_time: None,
            down: Transfer::Failed,
            down_time: None,
            launches: 0,
            death: None,
            guard: 0,
        }
    }

    /// The console line.
    pub fn line(&self) -> String {
        format!(
            "{ITER_TAG} backend={} load={} iter={} up={} up_ms={} down={} down_ms={} launches={} death={} guard={}",
            self.backend,
            load_name(self.load),
            self.iteration,
            self.up.name(),
            ms(self.up_time),
            self.down.name(),
            ms(self.down_time),
            self.launches,
            self.death.map_or("-", DeathKind::name),
            self.guard
        )
    }

    /// Parses a line printed by [`IterRecord::line`], wherever the tag
    /// starts in it.
    pub fn parse(line: &str) -> Option<IterRecord> {
        let rest = &line[line.find(ITER_TAG)? + ITER_TAG.len()..];
        let mut r = IterRecord::failed(String::new(), false, 0);
        let mut seen = 0u32;
        for field in rest.split_whitespace() {
            let (k, v) = field.split_once('=')?;
            match k {
                "backend" => r.backend = v.to_string(),
                "load" => r.load = parse_load(v)?,
                "iter" => r.iteration = v.parse().ok()?,
                "up" => r.up = Transfer::parse(v)?,
                "up_ms" => r.up_time = parse_ms(v)?,
                "down" => r.down = Transfer::parse(v)?,
                "down_ms" => r.down_time = parse_ms(v)?,
                "launches" => r.launches = v.parse().ok()?,
                "death" if v == "-" => r.death = None,
                "death" => r.death = Some(DeathKind::from_name(v)?),
                "guard" => r.guard = v.parse().ok()?,
                _ => return None,
            }
            seen += 1;
        }
        (seen == 10 && !r.backend.is_empty()).then_some(r)
    }
}

fn parse_load(s: &str) -> Option<bool> {
    match s {
        "idle" => Some(false),
        "hog" => Some(true),
        _ => None,
    }
}

/// The line printed before `backend`'s iteration `i` under `load`.
pub fn at_line(backend: &str, load: bool, i: usize) -> String {
    format!(
        "{AT_TAG} backend={backend} load={} iter={i}",
        load_name(load)
    )
}

/// The (backend key, load) of the last [`at_line`] in `output`.
pub fn last_at(output: &str) -> Option<(String, bool)> {
    output.lines().rev().find_map(|line| {
        let rest = &line[line.find(AT_TAG)? + AT_TAG.len()..];
        let mut backend = None;
        let mut load = None;
        for field in rest.split_whitespace() {
            match field.split_once('=')? {
                ("backend", v) => backend = Some(v.to_string()),
                ("load", v) => load = parse_load(v),
                _ => {}
            }
        }
        Some((backend?, load?))
    })
}

impl Cell {
    /// Counts one record of this cell.
    pub fn apply(&mut self, r: &IterRecord) {
        self.iterations = self.iterations.max(r.iteration + 1);
        self.launches += r.launches;
        self.guard_violations += r.guard;
        match r.up {
            Transfer::Ok => {
                self.up_ok += 1;
                self.up_times.extend(r.up_time);
            }
            Transfer::Corrupt => {
                self.up_failed += 1;
                self.corrupt += 1;
            }
            Transfer::Failed => self.up_failed += 1,
        }
        match r.down {
            Transfer::Ok => {
                self.down_ok += 1;
                self.down_times.extend(r.down_time);
            }
            Transfer::Corrupt => {
                self.down_failed += 1;
                self.corrupt += 1;
            }
            Transfer::Failed => self.down_failed += 1,
        }
        if let Some(kind) = r.death {
            self.death_kinds.push(kind);
        }
    }
}
