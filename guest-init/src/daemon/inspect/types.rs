//! What inspection finds and keeps: the facts of each OS root, the
//! filesystems the prober saw, and the results of the last inspect_os.
//! Shared by the scan (scan.rs), the detectors (linux.rs, windows.rs),
//! fstab resolution and the inspect_* calls; it imports none of them.

use std::io;
use std::path::Path;

use protocol::types::{MountEntry, Mountable};
use protocol::{ErrorKind, ErrorReply};

/// A filesystem as the prober sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FsDevice {
    pub(crate) device: String,
    pub(crate) fstype: String,
    pub(crate) label: String,
    pub(crate) uuid: String,
}

/// Mounts a filesystem read-only on a directory.
pub(crate) type Mounter = dyn Fn(&FsDevice, &Path) -> io::Result<()>;

/// What inspection found about one OS; "" (and version 0.0) is "not
/// found", which the inspect_get_* calls answer as "unknown".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OsFacts {
    pub(crate) os_type: String,
    pub(crate) distro: String,
    pub(crate) product_name: String,
    pub(crate) product_variant: String,
    pub(crate) major: i64,
    pub(crate) minor: i64,
    pub(crate) build_id: String,
    pub(crate) arch: String,
    pub(crate) hostname: String,
    pub(crate) package_format: String,
    pub(crate) package_management: String,
    pub(crate) windows: WindowsFacts,
}

/// The Windows-only facts (paths as spelt in the guest tree).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WindowsFacts {
    pub(crate) systemroot: String,
    pub(crate) software_hive: String,
    pub(crate) system_hive: String,
    pub(crate) current_control_set: String,
    /// Drive letter and device, from HKLM\SYSTEM\MountedDevices.
    pub(crate) drive_mappings: Vec<(String, String)>,
}

impl OsFacts {
    /// Fills what this root's inspection did not find from its separate
    /// /usr (libguestfs's merge_inspection_data).
    pub(crate) fn fill_from(&mut self, usr: &OsFacts) {
        let fill = |mine: &mut String, theirs: &String| {
            if mine.is_empty() {
                mine.clone_from(theirs);
            }
        };
        fill(&mut self.os_type, &usr.os_type);
        fill(&mut self.distro, &usr.distro);
        fill(&mut self.package_format, &usr.package_format);
        fill(&mut self.package_management, &usr.package_management);
        fill(&mut self.product_name, &usr.product_name);
        fill(&mut self.product_variant, &usr.product_variant);
        fill(&mut self.build_id, &usr.build_id);
        fill(&mut self.arch, &usr.arch);
        fill(&mut self.hostname, &usr.hostname);
        if (self.major, self.minor) == (0, 0) {
            (self.major, self.minor) = (usr.major, usr.minor);
        }
    }
}

/// One OS root and its filesystems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OsInfo {
    pub(crate) root: String,
    pub(crate) facts: OsFacts,
    /// "/" first, parents before children.
    pub(crate) mountpoints: Vec<MountEntry>,
    /// The root first.
    pub(crate) filesystems: Vec<String>,
}

/// The results of the last inspect_os.
#[derive(Debug, Default)]
pub(crate) struct Inspection {
    /// None until inspect_os has run.
    pub(super) roots: Option<Vec<OsInfo>>,
}

impl Inspection {
    /// The roots of the last inspect_os (none before it ran).
    pub(super) fn root_names(&self) -> Vec<String> {
        self.roots
            .iter()
            .flatten()
            .map(|r| r.root.clone())
            .collect()
    }

    pub(super) fn get(&self, call: &str, root: &Mountable) -> Result<&OsInfo, ErrorReply> {
        let Some(roots) = &self.roots else {
            return Err(ErrorReply::new(
                ErrorKind::InvalidArgument,
                format!("{call} {root}: no inspection data: call inspect_os first"),
            ));
        };
        roots
            .iter()
            .find(|r| r.root == root.as_str())
            .ok_or_else(|| {
                let known: Vec<&str> = roots.iter().map(|r| r.root.as_str()).collect();
                ErrorReply::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "{call} {root}: not an OS root found by inspect_os (roots: {})",
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    ),
                )
            })
    }
}
