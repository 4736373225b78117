//! LVM activation. libguestfs's appliance runs `vgchange -aay` at boot, so
//! /dev/VG/LV works in every call. We do it before the first call instead,
//! and only when the daemon finds LVM physical volumes on the disks (a
//! cheap signature probe, no tools): launch() stays as fast as before, and
//! plain disks never load the tools layer for it. On an LVM disk the first
//! call loads the tools layer (lvm) once, which later LVM calls reuse.

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
        if self.internal_lvm_pending()? {
            match self.internal_lvm_activate() {
                // No tools layer: the disks stay usable without their LVs,
                // and LVM calls then say what is missing.
                Err(Error::Tools { source, .. }) => {
                    tracing::warn!("LVM volumes not activated: {source}");
                }
                other => other?,
            }
        }
        Ok(())
    }
}
