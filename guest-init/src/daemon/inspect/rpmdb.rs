//! inspect_list_applications2 for rpm guests: the package database in
//! whichever of rpm's formats the guest has, in /var/lib/rpm or
//! /usr/lib/sysimage/rpm: `rpmdb.sqlite` (rpm ≥ 4.16: Fedora ≥ 33,
//! RHEL 9), else ndb `Packages.db` (SLES 15 SP3 and later, openSUSE),
//! else Berkeley DB `Packages` (RHEL/CentOS 7 and 8, older Fedora and
//! SLES), read as rpm's read-only bdb_ro backend reads it.
//! Each row is an rpm header blob, parsed by `guest_formats::rpm`.

use guest_formats::rpm::parse_header;
use guest_formats::rpm_bdb::HashDb;
use guest_formats::rpm_ndb::PackagesDb;
use guest_formats::sqlite::{Column, Db};
use guest_formats::FileSource;
use protocol::types::Application;

use super::files::{exists, open_regular};
use crate::daemon::root::Root;
use crate::log;

const DIRS: [&str; 2] = ["/var/lib/rpm", "/usr/lib/sysimage/rpm"];

/// The applications of the first database found, sqlite first.
pub(super) fn rpm(root: &Root) -> Result<Vec<Application>, String> {
    let find = |name: &str| {
        DIRS.iter()
            .map(|d| format!("{d}/{name}"))
            .find(|p| exists(root, p))
    };
    if let Some(path) = find("rpmdb.sqlite") {
        return sqlite(root, &path);
    }
    if let Some(path) = find("Packages.db") {
        return ndb(root, &path);
    }
    if let Some(path) = find("Packages") {
        return bdb(root, &path);
    }
    Err(
        "no rpm database (rpmdb.sqlite, Packages.db or Packages in /var/lib/rpm or /usr/lib/sysimage/rpm)"
            .into(),
    )
}

/// The packages parsed so far, and how many headers were unreadable.
#[derive(Default)]
struct Collect {
    apps: Vec<Application>,
    bad: usize,
}

impl Collect {
    fn header(&mut self, blob: &[u8]) {
        match parse_header(blob) {
            Ok(h) => self.apps.push(Application {
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
            Err(_) => self.bad += 1,
        }
    }

    /// A damaged database still lists what was read before the damage.
    fn finish(self, path: &str, walk: Result<(), String>) -> Vec<Application> {
        if let Err(e) = walk {
            log(&format!(
                "inspect: {path}: {e}; listing the packages read before it"
            ));
        }
        if self.bad > 0 {
            log(&format!(
                "inspect: {path}: {} unreadable package headers skipped",
                self.bad
            ));
        }
        self.apps
    }
}

fn open(root: &Root, path: &str) -> Result<FileSource, String> {
    let file = open_regular(root, path).ok_or_else(|| format!("{path}: not a readable file"))?;
    FileSource::new(file).map_err(|e| format!("{path}: {e}"))
}

/// `rpmdb.sqlite`: the blobs of table `Packages(hnum, blob)`.
fn sqlite(root: &Root, path: &str) -> Result<Vec<Application>, String> {
    if open_regular(root, &format!("{path}-wal"))
        .is_some_and(|f| f.metadata().is_ok_and(|m| m.len() > 0))
    {
        log(&format!(
            "inspect: {path}-wal is not empty: changes not checkpointed are not seen"
        ));
    }
    let src = open(root, path)?;
    let db = Db::open(&src).map_err(|e| format!("{path}: {e}"))?;
    let table = db
        .table_root("Packages")
        .map_err(|e| format!("{path}: {e}"))?
        .ok_or_else(|| format!("{path}: no Packages table"))?;
    let mut c = Collect::default();
    let walk = db.for_each_row(table, &mut |_, cols| {
        match cols.get(1) {
            Some(Column::Blob(b)) => c.header(b),
            _ => c.bad += 1,
        }
        true
    });
    Ok(c.finish(path, walk.map_err(|e| e.to_string())))
}

/// Berkeley DB `Packages`: a hash of header number to header blob.
fn bdb(root: &Root, path: &str) -> Result<Vec<Application>, String> {
    let src = open(root, path)?;
    let db = HashDb::open(&src).map_err(|e| format!("{path}: {e}"))?;
    let mut c = Collect::default();
    let walk = db.for_each_header(&mut |_, blob| {
        c.header(blob);
        true
    });
    Ok(c.finish(path, walk.map_err(|e| e.to_string())))
}

/// ndb `Packages.db`: slots naming blobs; a bad blob is skipped.
fn ndb(root: &Root, path: &str) -> Result<Vec<Application>, String> {
    let src = open(root, path)?;
    let db = PackagesDb::open(&src).map_err(|e| format!("{path}: {e}"))?;
    let mut c = Collect::default();
    let walk = db.for_each_header(&mut |_, blob| {
        match blob {
            Ok(b) => c.header(b),
            Err(_) => c.bad += 1,
        }
        true
    });
    Ok(c.finish(path, walk.map_err(|e| e.to_string())))
}
