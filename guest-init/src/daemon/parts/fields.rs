//! The part_get_* / part_set_* calls on single fields, part_resize,
//! part_expand_gpt, and part_to_dev / part_to_partnum (from sysfs, so
//! the partition must exist, as libguestfs requires).

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use protocol::types::Device;
use protocol::{calls, CallIo};

use super::super::state::GuestDaemon;
use super::super::util::{errno_reply, invalid};
use super::disk::{random_bytes, Disk};
use super::gpt_fields::{parse_guid, upper};
use super::{change, partnum, Reply, Table};

const SYS_DEV_BLOCK: &str = "/sys/dev/block";

/// Opens the disk read-only and its table, for a getter.
fn read<T>(
    call: &'static str,
    device: &Device,
    f: impl FnOnce(&Disk, &Table) -> Reply<T>,
) -> Reply<T> {
    let disk = Disk::open(call, device, false)?;
    let table = Table::open(&disk)?;
    f(&disk, &table)
}

fn mbr_only<'t>(
    disk: &Disk,
    table: &'t mut Table,
    what: &str,
) -> Reply<&'t mut super::mbr_table::Mbr> {
    match table {
        Table::Mbr(t) => Ok(t),
        Table::Gpt(_) => Err(disk.bad_arg(format!(
            "GPT partitions have no {what}; only msdos (MBR) ones do"
        ))),
    }
}

fn gpt_ref<'t, 'a>(
    disk: &Disk,
    table: &'t Table<'a>,
    what: &str,
) -> Reply<&'t super::gpt_table::Gpt<'a>> {
    match table {
        Table::Gpt(t) => Ok(t),
        Table::Mbr(_) => Err(disk.bad_arg(format!(
            "msdos (MBR) partition tables have no {what}; only GPT ones do"
        ))),
    }
}

/// The GPT type sgdisk gives an MBR type byte when it converts a table
/// (its `0xNN00` codes); types it has no GPT twin for are Linux data.
fn gpt_type_of_mbr(id: u8) -> &'static str {
    match id {
        0x01 | 0x04 | 0x06 | 0x07 | 0x0b | 0x0c | 0x0e => "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7",
        0x27 => "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC",
        0x82 => "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F",
        0x8e => "E6D6D379-F507-44C2-A23C-238F2A3DF928",
        0xa5 => "516E7CB4-6ECF-11D6-8FF8-00022D09712B",
        0xa8 => "48465300-0000-11AA-AA11-00306543ECAC",
        0xaf => "48465300-0000-11AA-AA11-00306543ECAC",
        0xef => "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
        0xfd => "A19D880F-05FC-4D3B-A006-743F0F84911E",
        _ => "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
    }
}

pub(in crate::daemon) fn part_get_mbr_id(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_get_mbr_id::Args,
) -> Reply<i64> {
    let call = "part_get_mbr_id";
    let n = partnum(call, args.partnum)?;
    read(call, &args.device, |disk, table| match table {
        Table::Mbr(t) => Ok(i64::from(t.mbr_id(disk, n as usize)?)),
        Table::Gpt(_) => {
            Err(disk.bad_arg("GPT partitions have no MBR type byte; use part_get_gpt_type"))
        }
    })
}

pub(in crate::daemon) fn part_set_mbr_id(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_set_mbr_id::Args,
) -> Reply<()> {
    let call = "part_set_mbr_id";
    let n = partnum(call, args.partnum)?;
    let id = u8::try_from(args.idbyte).map_err(|_| {
        invalid(format!(
            "{call}: idbyte {} is not a byte (0-255)",
            args.idbyte
        ))
    })?;
    change(call, &args.device, |disk, table| {
        mbr_only(disk, table, "MBR type byte")?.set_mbr_id(disk, n as usize, id)
    })
}

/// On GPT every partition is primary (parted says so too).
pub(in crate::daemon) fn part_get_mbr_part_type(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_get_mbr_part_type::Args,
) -> Reply<String> {
    let call = "part_get_mbr_part_type";
    let n = partnum(call, args.partnum)?;
    read(call, &args.device, |disk, table| match table {
        Table::Mbr(t) => Ok(t.part_type(disk, n as usize)?.to_owned()),
        Table::Gpt(t) => t.get(disk, n).map(|_| "primary".to_owned()),
    })
}

pub(in crate::daemon) fn part_get_gpt_type(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_get_gpt_type::Args,
) -> Reply<String> {
    let call = "part_get_gpt_type";
    let n = partnum(call, args.partnum)?;
    read(call, &args.device, |disk, table| match table {
        Table::Gpt(t) => Ok(upper(&t.get(disk, n)?.part_type_guid.guid)),
        Table::Mbr(t) => Ok(gpt_type_of_mbr(t.mbr_id(disk, n as usize)?).to_owned()),
    })
}

pub(in crate::daemon) fn part_get_gpt_guid(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_get_gpt_guid::Args,
) -> Reply<String> {
    let call = "part_get_gpt_guid";
    let n = partnum(call, args.partnum)?;
    read(call, &args.device, |disk, table| {
        Ok(upper(
            &gpt_ref(disk, table, "partition GUIDs")?
                .get(disk, n)?
                .part_guid,
        ))
    })
}

pub(in crate::daemon) fn part_set_gpt_guid(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_set_gpt_guid::Args,
) -> Reply<()> {
    let call = "part_set_gpt_guid";
    let n = partnum(call, args.partnum)?;
    change(call, &args.device, |disk, table| {
        table
            .gpt_only(disk, "partition GUIDs")?
            .set_guid(disk, n, &args.guid)
    })
}

pub(in crate::daemon) fn part_get_gpt_attributes(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_get_gpt_attributes::Args,
) -> Reply<i64> {
    let call = "part_get_gpt_attributes";
    let n = partnum(call, args.partnum)?;
    read(call, &args.device, |disk, table| {
        // The 64 attribute bits, as libguestfs's int64 carries them.
        Ok(gpt_ref(disk, table, "attribute flags")?.get(disk, n)?.flags as i64)
    })
}

pub(in crate::daemon) fn part_set_gpt_attributes(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_set_gpt_attributes::Args,
) -> Reply<()> {
    let call = "part_set_gpt_attributes";
    let n = partnum(call, args.partnum)?;
    change(call, &args.device, |disk, table| {
        table
            .gpt_only(disk, "attribute flags")?
            .set_attributes(disk, n, args.attributes as u64)
    })
}

pub(in crate::daemon) fn part_get_name(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_get_name::Args,
) -> Reply<String> {
    let call = "part_get_name";
    let n = partnum(call, args.partnum)?;
    read(call, &args.device, |disk, table| {
        Ok(gpt_ref(disk, table, "partition names")?
            .get(disk, n)?
            .name
            .clone())
    })
}

pub(in crate::daemon) fn part_get_bootable(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_get_bootable::Args,
) -> Reply<bool> {
    let call = "part_get_bootable";
    let n = partnum(call, args.partnum)?;
    read(call, &args.device, |disk, table| match table {
        Table::Gpt(t) => t.bootable(disk, n),
        Table::Mbr(t) => t.bootable(disk, n as usize),
    })
}

pub(in crate::daemon) fn part_get_disk_guid(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_get_disk_guid::Args,
) -> Reply<String> {
    let call = "part_get_disk_guid";
    read(call, &args.device, |disk, table| {
        Ok(upper(&gpt_ref(disk, table, "disk GUID")?.disk_guid(disk)?))
    })
}

pub(in crate::daemon) fn part_set_disk_guid(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_set_disk_guid::Args,
) -> Reply<()> {
    let call = "part_set_disk_guid";
    change(call, &args.device, |disk, table| {
        let guid = parse_guid(disk, &args.guid)?;
        table.gpt_only(disk, "disk GUID")?.disk_guid = Some(guid);
        Ok(())
    })
}

pub(in crate::daemon) fn part_set_disk_guid_random(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_set_disk_guid_random::Args,
) -> Reply<()> {
    let call = "part_set_disk_guid_random";
    change(call, &args.device, |disk, table| {
        let guid = uuid::Builder::from_random_bytes(random_bytes::<16>()?).into_uuid();
        table.gpt_only(disk, "disk GUID")?.disk_guid = Some(guid);
        Ok(())
    })
}

pub(in crate::daemon) fn part_expand_gpt(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_expand_gpt::Args,
) -> Reply<()> {
    let call = "part_expand_gpt";
    change(call, &args.device, |disk, table| {
        table.gpt_only(disk, "backup header")?.expand(disk)
    })
}

/// `endsect` as part_add takes it: a sector, or negative from the end.
pub(in crate::daemon) fn part_resize(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_resize::Args,
) -> Reply<()> {
    let call = "part_resize";
    let n = partnum(call, args.partnum)?;
    change(call, &args.device, |disk, table| {
        let last = if args.endsect < 0 {
            i64::try_from(disk.sectors)
                .ok()
                .and_then(|s| s.checked_add(args.endsect))
        } else {
            Some(args.endsect)
        };
        let last = last
            .and_then(|l| u64::try_from(l).ok())
            .ok_or_else(|| disk.bad_arg(format!("bad end sector {}", args.endsect)))?;
        match table {
            Table::Gpt(t) => t.resize(disk, n, last),
            Table::Mbr(t) => t.resize(disk, n as usize, last),
        }
    })
}

/// The whole disk and number of a partition, from sysfs.
fn split_partition(call: &str, partition: &Device, sys_dev_block: &Path) -> Reply<(String, i64)> {
    let path = partition.as_str();
    let meta =
        std::fs::metadata(path).map_err(|e| errno_reply(&format!("{call}: stat"), path, e))?;
    if !meta.file_type().is_block_device() {
        return Err(invalid(format!("{call}: {path} is not a block device")));
    }
    let rdev = meta.rdev();
    let dir = sys_dev_block.join(format!(
        "{}:{}",
        rustix::fs::major(rdev),
        rustix::fs::minor(rdev)
    ));
    let not_partition = || invalid(format!("{call}: {path}: device name is not a partition"));
    let number = std::fs::read_to_string(dir.join("partition"))
        .ok()
        .and_then(|n| n.trim().parse::<i64>().ok())
        .ok_or_else(not_partition)?;
    let disk = std::fs::canonicalize(&dir)
        .ok()
        .and_then(|p| Some(p.parent()?.file_name()?.to_str()?.replace('!', "/")))
        .ok_or_else(not_partition)?;
    Ok((format!("/dev/{disk}"), number))
}

pub(in crate::daemon) fn part_to_dev(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_to_dev::Args,
) -> Reply<String> {
    Ok(split_partition("part_to_dev", &args.partition, Path::new(SYS_DEV_BLOCK))?.0)
}

pub(in crate::daemon) fn part_to_partnum(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_to_partnum::Args,
) -> Reply<i64> {
    Ok(split_partition("part_to_partnum", &args.partition, Path::new(SYS_DEV_BLOCK))?.1)
}
