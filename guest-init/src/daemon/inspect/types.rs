//! What inspection finds and keeps: the facts of each OS root, the
//! filesystems the prober saw, and the results of the last inspect_os.
//! Shared by the scan (scan.rs), the detectors (linux.rs, windows.rs),
//! fstab resolution and the inspect_* calls; it imports none of them.

use std::io;
use std::path::Path;

use protocol::types::{Device, MountEntry};
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

/// What inspection found about one OS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OsFacts {
    pub(crate) os_type: String,
    pub(crate) distro: String,
    pub(crate) product_name: String,
    pub(crate) major: i64,
    pub(crate) minor: i64,
    pub(crate) arch: String,
    pub(crate) hostname: String,
    pub(crate) package_format: String,
    pub(crate) package_management: String,
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
    pub(super) fn get(&self, call: &str, root: &Device) -> Result<&OsInfo, ErrorReply> {
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
