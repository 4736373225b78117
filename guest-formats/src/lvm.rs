//! LVM2 on disk: a physical volume's label and metadata areas
//! ([`label`]), the volume-group metadata text in LVM's configuration
//! syntax ([`config`], [`metadata`]), and the device-mapper tables that
//! activate a volume group's linear and striped logical volumes
//! ([`mapping`]), as `vgchange -ay` builds them.
//!
//! Why our own and not lvm: inspecting a disk that holds LVM otherwise
//! needs the tools layer loaded and three lvm runs (pvs, vgchange,
//! vgmknodes) before the first call, which cost more than the rest of an
//! inspection. What is not plainly linear or striped (thin, raid,
//! mirrors, snapshots, caches, missing or duplicate PVs, foreign or
//! shared VGs, any flag we do not know) is [`Unsupported`], and the
//! daemon then leaves the whole activation to lvm.
//!
//! Everything here comes from a guest image and is hostile: every read
//! is bounded, every count capped, every sum checked.

pub mod config;
pub mod label;
pub mod mapping;
pub mod metadata;
#[cfg(test)]
mod tests;

pub use label::{read_label, PvLabel};
pub use mapping::{plan, LvTable, Target};
pub use metadata::{LogicalVolume, PhysicalVolume, Segment, VolumeGroup};

/// Why a PV's label or metadata was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("LVM metadata: {0}")]
pub struct LvmError(pub String);

/// A volume group that is well-formed but not one we activate ourselves
/// (lvm is asked instead): the reason, for the appliance's log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("volume group {vg}: {reason}")]
pub struct Unsupported {
    /// The VG's name.
    pub vg: String,
    /// What lvm must handle.
    pub reason: String,
}

fn error<T>(why: impl Into<String>) -> Result<T, LvmError> {
    Err(LvmError(why.into()))
}

/// LVM's `calc_crc`: CRC-32 (reflected, polynomial 0xEDB88320) from
/// `initial`, with no final inversion.
pub fn calc_crc(initial: u32, bytes: &[u8]) -> u32 {
    crate::bytes::crc32_reflected(0xEDB8_8320, initial, bytes)
}

/// The seed LVM uses for every checksum (`INITIAL_CRC`).
pub const INITIAL_CRC: u32 = 0xf597_a6cf;

/// An LVM identifier (PV, VG or LV UUID) without its dashes: 32
/// characters of LVM's alphabet, or None.
pub fn plain_id(id: &str) -> Option<String> {
    let plain: String = id.chars().filter(|&c| c != '-').collect();
    let ok = plain.len() == 32
        && plain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '!' || c == '#');
    ok.then_some(plain)
}
