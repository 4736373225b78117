//! Partition tables (guestfs(3) part-*): GPT with the `gpt` crate, MBR
//! (msdos) with `mbrman`, written straight to the whole-disk device, which
//! is then flushed and re-read by the kernel. Sector arguments are the
//! device's logical sectors (512 bytes on the appliance's disks),
//! inclusive; a negative `endsect` counts back from the end of the disk
//! (-1 is the last sector). `part_list` answers in bytes. A table read
//! from the disk is checked before the crates see it: a corrupt one gives
//! an error, never a panic.

mod disk;
mod fields;
mod gpt_fields;
mod gpt_table;
mod mbr_check;
mod mbr_fields;
mod mbr_table;
#[cfg(test)]
mod tests;

use protocol::{calls, CallIo, ErrorReply};

use super::state::GuestDaemon;
use super::util::invalid;
use disk::{Disk, Kind, Prlogex};
pub(super) use fields::{
    part_expand_gpt, part_get_bootable, part_get_disk_guid, part_get_gpt_attributes,
    part_get_gpt_guid, part_get_gpt_type, part_get_mbr_id, part_get_mbr_part_type, part_get_name,
    part_resize, part_set_disk_guid, part_set_disk_guid_random, part_set_gpt_attributes,
    part_set_gpt_guid, part_set_mbr_id, part_to_dev, part_to_partnum,
};

type Reply<T> = Result<T, ErrorReply>;

/// A partition number argument.
fn partnum(call: &str, n: i64) -> Reply<u32> {
    u32::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
        invalid(format!(
            "{call}: partition number {n} is not a positive number"
        ))
    })
}

/// An open table of either kind.
enum Table<'a> {
    Gpt(Box<gpt_table::Gpt<'a>>),
    Mbr(Box<mbr_table::Mbr>),
}

impl<'a> Table<'a> {
    fn open(disk: &'a Disk) -> Reply<Table<'a>> {
        Ok(match disk.detect()? {
            Kind::Gpt => Table::Gpt(Box::new(gpt_table::open(disk)?)),
            Kind::Mbr => Table::Mbr(Box::new(mbr_table::open(disk)?)),
        })
    }

    fn create(disk: &'a Disk, kind: Kind) -> Reply<Table<'a>> {
        Ok(match kind {
            Kind::Gpt => Table::Gpt(Box::new(gpt_table::create(disk)?)),
            Kind::Mbr => Table::Mbr(Box::new(mbr_table::create(disk)?)),
        })
    }

    fn write(&mut self, disk: &Disk) -> Reply<()> {
        match self {
            Table::Gpt(t) => t.write(disk),
            Table::Mbr(t) => t.write(disk),
        }
    }

    fn gpt_only(&mut self, disk: &Disk, what: &str) -> Reply<&mut gpt_table::Gpt<'a>> {
        match self {
            Table::Gpt(t) => Ok(t),
            Table::Mbr(_) => Err(disk.bad_arg(format!(
                "msdos (MBR) partition tables have no {what}; only GPT ones do"
            ))),
        }
    }
}

/// Opens the disk for a change, applies it to its table and commits.
fn change(
    call: &'static str,
    device: &protocol::types::Device,
    f: impl FnOnce(&Disk, &mut Table) -> Reply<()>,
) -> Reply<()> {
    let disk = Disk::open(call, device, true)?;
    let mut table = Table::open(&disk)?;
    f(&disk, &mut table)?;
    table.write(&disk)?;
    drop(table);
    disk.commit()
}

pub(super) fn part_init(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_init::Args,
) -> Result<calls::part_init::Ret, ErrorReply> {
    let kind = Kind::parse("part_init", &args.parttype)?;
    let disk = Disk::open("part_init", &args.device, true)?;
    Table::create(&disk, kind)?.write(&disk)?;
    disk.commit()
}

pub(super) fn part_add(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_add::Args,
) -> Result<calls::part_add::Ret, ErrorReply> {
    let kind = Prlogex::parse(&args.prlogex)?;
    change("part_add", &args.device, |disk, table| {
        let last = if args.endsect < 0 {
            i64::try_from(disk.sectors)
                .ok()
                .and_then(|n| n.checked_add(args.endsect))
        } else {
            Some(args.endsect)
        };
        let (first, last) = match (u64::try_from(args.startsect), last.map(u64::try_from)) {
            (Ok(first), Some(Ok(last))) if first <= last => (first, last),
            _ => {
                return Err(disk.bad_arg(format!(
                    "bad sector range {}-{} (start <= end, within the disk's {} sectors)",
                    args.startsect, args.endsect, disk.sectors
                )))
            }
        };
        match table {
            Table::Gpt(t) if kind == Prlogex::Primary => t.add(disk, first, last).map(drop),
            Table::Gpt(_) => {
                Err(disk.bad_arg("GPT has only primary partitions: use prlogex \"p\""))
            }
            Table::Mbr(t) => t.add(disk, kind, first, last).map(drop),
        }
    })
}

pub(super) fn part_del(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_del::Args,
) -> Result<calls::part_del::Ret, ErrorReply> {
    let n = partnum("part_del", args.partnum)?;
    change("part_del", &args.device, |disk, table| match table {
        Table::Gpt(t) => t.delete(disk, n),
        Table::Mbr(t) => t.delete(disk, n as usize),
    })
}

pub(super) fn part_disk(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_disk::Args,
) -> Result<calls::part_disk::Ret, ErrorReply> {
    let kind = Kind::parse("part_disk", &args.parttype)?;
    let disk = Disk::open("part_disk", &args.device, true)?;
    // From 1 MiB (aligned) to the last usable sector.
    let first = (1 << 20) / disk.sector;
    let mut table = Table::create(&disk, kind)?;
    match &mut table {
        Table::Gpt(t) => {
            let (_, last) = t.usable(&disk)?;
            t.add(&disk, first, last)?;
        }
        Table::Mbr(t) => {
            let last = disk.sectors.saturating_sub(1).min(u64::from(u32::MAX) - 1);
            if last < first {
                return Err(disk.bad_arg("the disk is too small for a partition from 1 MiB"));
            }
            t.add(&disk, Prlogex::Primary, first, last)?;
        }
    }
    table.write(&disk)?;
    drop(table);
    disk.commit()
}

pub(super) fn part_list(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_list::Args,
) -> Result<calls::part_list::Ret, ErrorReply> {
    let disk = Disk::open("part_list", &args.device, false)?;
    let table = Table::open(&disk)?;
    match &table {
        Table::Gpt(t) => t.list(&disk),
        Table::Mbr(t) => t.list(&disk),
    }
}

pub(super) fn part_get_parttype(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_get_parttype::Args,
) -> Result<calls::part_get_parttype::Ret, ErrorReply> {
    let disk = Disk::open("part_get_parttype", &args.device, false)?;
    Ok(disk.detect()?.name().to_owned())
}

pub(super) fn part_set_name(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_set_name::Args,
) -> Result<calls::part_set_name::Ret, ErrorReply> {
    let n = partnum("part_set_name", args.partnum)?;
    change("part_set_name", &args.device, |disk, table| {
        table
            .gpt_only(disk, "partition names")?
            .set_name(disk, n, &args.name)
    })
}

pub(super) fn part_set_gpt_type(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_set_gpt_type::Args,
) -> Result<calls::part_set_gpt_type::Ret, ErrorReply> {
    let n = partnum("part_set_gpt_type", args.partnum)?;
    change("part_set_gpt_type", &args.device, |disk, table| {
        table
            .gpt_only(disk, "type GUIDs")?
            .set_type(disk, n, &args.guid)
    })
}

pub(super) fn part_set_bootable(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::part_set_bootable::Args,
) -> Result<calls::part_set_bootable::Ret, ErrorReply> {
    let n = partnum("part_set_bootable", args.partnum)?;
    change(
        "part_set_bootable",
        &args.device,
        |disk, table| match table {
            Table::Gpt(t) => t.set_bootable(disk, n, args.bootable),
            Table::Mbr(t) => t.set_bootable(disk, n as usize, args.bootable),
        },
    )
}
