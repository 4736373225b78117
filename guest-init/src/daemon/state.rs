//! The daemon's state, apart from the calls that change it: the guest
//! tree's root, the mount table and the last inspection's results.

use super::inspect::types::Inspection;
use super::lvm::LvmState;
use super::mount::table::MountTable;
use super::root::Root;

/// The daemon's state: where the guest tree is and what is mounted.
pub(crate) struct GuestDaemon {
    pub(crate) root: Root,
    pub(crate) mounts: MountTable,
    /// Set by internal_poweroff; acted on once its reply is sent.
    pub(crate) poweroff_requested: bool,
    /// What the last inspect_os found.
    pub(crate) inspection: Inspection,
    /// The LVM filter and whether LVs were activated.
    pub(crate) lvm: LvmState,
}

impl GuestDaemon {
    pub(crate) fn new(root: Root) -> GuestDaemon {
        GuestDaemon {
            root,
            mounts: MountTable::default(),
            poweroff_requested: false,
            inspection: Inspection::default(),
            lvm: LvmState::default(),
        }
    }
}
