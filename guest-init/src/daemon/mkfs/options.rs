//! mkfs's optional arguments beyond blocksize and label.

use protocol::{calls, ErrorReply};

use super::super::util::invalid;
use super::Family;

/// mkfs's features (-O: ext and btrfs), inode (ext inode size) and
/// sectorsize (xfs sector size) options.
pub(super) fn extra_options(
    fstype: &str,
    family: Family,
    args: &calls::mkfs::Args,
    argv: &mut Vec<String>,
) -> Result<(), ErrorReply> {
    let refuse = |what: &str, types: &str| {
        Err(invalid(format!(
            "mkfs: {what} is for {types} filesystems, not {fstype}"
        )))
    };
    if let Some(features) = &args.features {
        if !matches!(family, Family::Ext | Family::Btrfs) {
            return refuse("features", "ext2/3/4 and btrfs");
        }
        argv.extend(["-O".into(), features.clone()]);
    }
    if let Some(inode) = args.inode {
        if family != Family::Ext {
            return refuse("inode", "ext2/3/4");
        }
        if inode < 128 || !(inode as u64).is_power_of_two() {
            return Err(invalid(format!(
                "mkfs: inode size {inode} is not a power of two of at least 128"
            )));
        }
        argv.extend(["-I".into(), inode.to_string()]);
    }
    if let Some(sector) = args.sectorsize {
        if family != Family::Xfs {
            return refuse("sectorsize", "xfs");
        }
        if !(512..=32768).contains(&sector) || !(sector as u64).is_power_of_two() {
            return Err(invalid(format!(
                "mkfs: sectorsize {sector} is not a power of two from 512 to 32768"
            )));
        }
        argv.extend(["-s".into(), format!("size={sector}")]);
    }
    Ok(())
}
