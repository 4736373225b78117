//! inspect_list_applications2 for Linux package databases: dpkg's status
//! file, the rpm database (sqlite), pacman's local database and apk's
//! installed file, read in the guest tree mounted at `/` through `Root`.
//! Fields as libguestfs fills them.

use protocol::types::Application;

use super::super::root::Root;
use super::files::{exists, lines, list_dir, open_regular, read_text, read_whole};
use super::rpm::parse_header;
use super::source::FileSource;
use super::sqlite::{Column, Db};
use crate::log;

/// dpkg's status and apk's installed file are a few MiB.
const DB_CAP: usize = 64 << 20;

/// `[epoch:]version[-release]` as dpkg (and pacman) write it.
pub(super) fn split_version(full: &str) -> (i64, String, String) {
    let (epoch, rest) = match full.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => {
            (e.parse().unwrap_or(0), rest)
        }
        _ => (0, full),
    };
    match rest.rsplit_once('-') {
        Some((v, r)) => (epoch, v.to_owned(), r.to_owned()),
        None => (epoch, rest.to_owned(), String::new()),
    }
}

/// RFC 822-style paragraphs: (field, value) with continuation lines
/// joined by `\n` (their leading blank cut; " ." is an empty line).
fn paragraphs(text: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut cur: Vec<(String, String)> = Vec::new();
    for line in lines(text) {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = cur.last_mut() {
                let more = line.get(1..).unwrap_or_default();
                v.push('\n');
                v.push_str(if more.trim() == "." { "" } else { more });
            }
        } else if let Some((k, v)) = line.split_once(':') {
            cur.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn field<'a>(p: &'a [(String, String)], name: &str) -> &'a str {
    p.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// `/var/lib/dpkg/status`: installed packages only.
pub(super) fn dpkg(root: &Root) -> Result<Vec<Application>, String> {
    let Some(bytes) = read_whole(root, "/var/lib/dpkg/status", DB_CAP)? else {
        return Err("no dpkg database (/var/lib/dpkg/status)".into());
    };
    Ok(parse_dpkg_status(&String::from_utf8_lossy(&bytes)))
}

pub(super) fn parse_dpkg_status(text: &str) -> Vec<Application> {
    let mut apps = Vec::new();
    for p in paragraphs(text) {
        let status: Vec<&str> = field(&p, "Status").split_whitespace().collect();
        if status.get(2) != Some(&"installed") || field(&p, "Package").is_empty() {
            continue;
        }
        let (epoch, version, release) = split_version(field(&p, "Version"));
        let (summary, description) = match field(&p, "Description").split_once('\n') {
            Some((s, d)) => (s.to_owned(), d.to_owned()),
            None => (field(&p, "Description").to_owned(), String::new()),
        };
        let source = field(&p, "Source")
            .split_whitespace()
            .next()
            .unwrap_or_default();
        apps.push(Application {
            app2_name: field(&p, "Package").to_owned(),
            app2_epoch: epoch,
            app2_version: version,
            app2_release: release,
            app2_arch: field(&p, "Architecture").to_owned(),
            app2_url: field(&p, "Homepage").to_owned(),
            app2_source_package: source.to_owned(),
            app2_summary: summary,
            app2_description: description,
            ..Application::default()
        });
    }
    apps
}

/// The rpm database: sqlite (rpm ≥ 4.16). Berkeley DB and ndb databases
/// (older RHEL, SUSE) are not read: an empty list and a log line.
pub(super) fn rpm(root: &Root) -> Result<Vec<Application>, String> {
    let dirs = ["/var/lib/rpm", "/usr/lib/sysimage/rpm"];
    let sqlite = dirs
        .iter()
        .map(|d| format!("{d}/rpmdb.sqlite"))
        .find(|p| exists(root, p));
    let Some(path) = sqlite else {
        let other = dirs
            .iter()
            .flat_map(|d| [format!("{d}/Packages"), format!("{d}/Packages.db")])
            .find(|p| exists(root, p));
        match other {
            Some(p) => log(&format!(
                "inspect: {p}: Berkeley DB / ndb rpm databases are not supported; no applications listed"
            )),
            None => return Err("no rpm database (/var/lib/rpm/rpmdb.sqlite)".into()),
        }
        return Ok(Vec::new());
    };
    if open_regular(root, &format!("{path}-wal"))
        .is_some_and(|f| f.metadata().is_ok_and(|m| m.len() > 0))
    {
        log(&format!(
            "inspect: {path}-wal is not empty: changes not checkpointed are not seen"
        ));
    }
    let file = open_regular(root, &path).ok_or_else(|| format!("{path}: not a readable file"))?;
    let src = FileSource::new(file).map_err(|e| format!("{path}: {e}"))?;
    let db = Db::open(&src).map_err(|e| format!("{path}: {e}"))?;
    let table = db
        .table_root("Packages")
        .map_err(|e| format!("{path}: {e}"))?
        .ok_or_else(|| format!("{path}: no Packages table"))?;
    let mut apps = Vec::new();
    let mut bad = 0usize;
    let walk = db.for_each_row(table, &mut |_, cols| {
        let blob = match cols.get(1) {
            Some(Column::Blob(b)) => b,
            _ => {
                bad += 1;
                return true;
            }
        };
        match parse_header(blob) {
            Ok(h) => apps.push(Application {
                app2_name: h.name,
                app2_epoch: h.epoch,
                app2_version: h.version,
                app2_release: h.release,
                app2_arch: h.arch,
                app2_url: h.url,
                app2_source_package: h.sourcerpm,
                app2_summary: h.summary,
                app2_description: h.description,
                ..Application::default()
            }),
            Err(_) => bad += 1,
        }
        true
    });
    if let Err(e) = walk {
        log(&format!(
            "inspect: {path}: {e}; listing the packages read before it"
        ));
    }
    if bad > 0 {
        log(&format!(
            "inspect: {path}: {bad} unreadable package headers skipped"
        ));
    }
    Ok(apps)
}

/// pacman: `/var/lib/pacman/local/<pkg>/desc`, `%FIELD%` then values.
pub(super) fn pacman(root: &Root) -> Result<Vec<Application>, String> {
    let dir = "/var/lib/pacman/local";
    let mut apps = Vec::new();
    for entry in list_dir(root, dir) {
        let Some(text) = read_text(root, &format!("{dir}/{entry}/desc"), 1 << 20) else {
            continue;
        };
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut current: Option<String> = None;
        for line in lines(&text) {
            if line.starts_with('%') && line.ends_with('%') && line.len() > 2 {
                current = Some(line.trim_matches('%').to_owned());
            } else if line.is_empty() {
                current = None;
            } else if let Some(k) = &current {
                if !fields.iter().any(|(f, _)| f == k) {
                    fields.push((k.clone(), line.to_owned()));
                }
            }
        }
        if field(&fields, "NAME").is_empty() {
            continue;
        }
        let (epoch, version, release) = split_version(field(&fields, "VERSION"));
        apps.push(Application {
            app2_name: field(&fields, "NAME").to_owned(),
            app2_epoch: epoch,
            app2_version: version,
            app2_release: release,
            app2_arch: field(&fields, "ARCH").to_owned(),
            app2_url: field(&fields, "URL").to_owned(),
            app2_source_package: field(&fields, "BASE").to_owned(),
            app2_summary: field(&fields, "DESC").to_owned(),
            ..Application::default()
        });
    }
    Ok(apps)
}

/// apk: `/lib/apk/db/installed`, one `X:value` line per field.
pub(super) fn apk(root: &Root) -> Result<Vec<Application>, String> {
    let Some(bytes) = read_whole(root, "/lib/apk/db/installed", DB_CAP)? else {
        return Err("no apk database (/lib/apk/db/installed)".into());
    };
    let text = String::from_utf8_lossy(&bytes);
    Ok(paragraphs(&text)
        .into_iter()
        .filter(|p| !field(p, "P").is_empty())
        .map(|p| {
            let (epoch, version, release) = split_version(field(&p, "V"));
            Application {
                app2_name: field(&p, "P").to_owned(),
                app2_epoch: epoch,
                app2_version: version,
                app2_release: release,
                app2_arch: field(&p, "A").to_owned(),
                app2_url: field(&p, "U").to_owned(),
                app2_source_package: field(&p, "o").to_owned(),
                app2_summary: field(&p, "T").to_owned(),
                ..Application::default()
            }
        })
        .collect())
}
