//! md assembly and LVM activation. libguestfs's appliance runs `mdadm -As`
//! and `vgchange -aay` at boot, so /dev/md127 and /dev/VG/LV work in every
//! call. We do it before the first call instead, and only when the daemon
//! finds md members or LVM physical volumes on the disks (a cheap
//! signature probe, no tools): launch() stays as fast as before, and
//! plain disks never load the tools layer for it. Plain linear and
//! striped LVs the daemon activates itself from their metadata, with no
//! tools either; md members and anything else (thin, raid, snapshots…)
//! make the first call load the tools layer (mdadm, lvm) once, which later
//! calls reuse.

use super::{Guest, State};
use crate::error::{Error, Result};

impl Guest {
    pub(super) fn ensure_lvm_activated(&mut self) -> Result<()> {
        let State::Running(run) = &mut self.state else {
            return Ok(());
        };
        if run.lvm_checked {
            return Ok(());
        }
        run.lvm_checked = true;
        if self.internal_lvm_pending()? && !self.internal_lvm_activate_native()? {
            match self.internal_lvm_activate() {
                // No tools layer: the disks stay usable without their LVs,
                // and LVM calls then say what is missing.
                Err(Error::Tools { source, .. }) => {
                    tracing::warn!("md arrays and LVM volumes not activated: {source}");
                }
                other => other?,
            }
        }
        Ok(())
    }
}
