//! Results as text, as guestfish prints them: the guest's bytes as they
//! are. What reaches a terminal is escaped by the writer they are printed
//! to (`TerminalEscaper`, which the CLI puts in front of a terminal), so
//! every result takes the same path and none can skip the escaping.

use std::io::{self, Write};

use protocol::types::*;

pub trait Print {
    fn print(&self, out: &mut dyn Write) -> io::Result<()>;

    /// As `print`, numbers in the base guestfish uses for this call.
    fn print_as(&self, out: &mut dyn Write, _base: Base) -> io::Result<()> {
        self.print(out)
    }
}

/// How guestfish prints a call's integer result (its generator's
/// FishOutput flag): decimal, `0x83` or `022`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Base {
    Decimal,
    Hex,
    Octal,
}

impl Base {
    /// The calls guestfish prints in another base.
    pub fn of(call: &str) -> Base {
        match call {
            "part_get_mbr_id" => Base::Hex,
            "umask" | "get_umask" => Base::Octal,
            _ => Base::Decimal,
        }
    }
}

impl Print for () {
    fn print(&self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

impl Print for bool {
    fn print(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{self}")
    }
}

impl Print for i64 {
    fn print(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{self}")
    }

    fn print_as(&self, out: &mut dyn Write, base: Base) -> io::Result<()> {
        match base {
            Base::Decimal => self.print(out),
            Base::Hex => writeln!(out, "{self:#x}"),
            Base::Octal => writeln!(out, "0{self:o}"),
        }
    }
}

/// A string and a newline, always, as guestfish's `printf ("%s\n")`: a
/// file that ends in one (`cat`) shows a blank line after it, an empty
/// label is an empty line.
impl Print for String {
    fn print(&self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(self.as_bytes())?;
        out.write_all(b"\n")
    }
}

/// An optional string (get-append): `(null)` when there is none, as
/// guestfish prints it.
impl Print for Option<String> {
    fn print(&self, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Some(text) => text.print(out),
            // guestfish's "%s\n" of a NULL.
            None => out.write_all(b"(null)\n"),
        }
    }
}

/// A host path (get-tmpdir).
impl Print for std::path::PathBuf {
    fn print(&self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(self.as_os_str().as_encoded_bytes())?;
        out.write_all(b"\n")
    }
}

/// Raw bytes, as they are (read-file, pread).
impl Print for Vec<u8> {
    fn print(&self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(self)
    }
}

impl Print for Vec<String> {
    fn print(&self, out: &mut dyn Write) -> io::Result<()> {
        for line in self {
            writeln!(out, "{line}")?;
        }
        Ok(())
    }
}

macro_rules! print_fields {
    ($ty:ty: $($field:ident),*) => {
        impl Print for $ty {
            fn print(&self, out: &mut dyn Write) -> io::Result<()> {
                $(writeln!(out, "{}: {}", stringify!($field), self.$field)?;)*
                Ok(())
            }
        }
    };
}

print_fields!(Statns: st_dev, st_ino, st_mode, st_nlink, st_uid, st_gid, st_rdev, st_size,
    st_blksize, st_blocks, st_atime_sec, st_atime_nsec, st_mtime_sec, st_mtime_nsec,
    st_ctime_sec, st_ctime_nsec, st_spare1, st_spare2, st_spare3, st_spare4, st_spare5,
    st_spare6);
print_fields!(StatVfs: bsize, frsize, blocks, bfree, bavail, files, ffree, favail, fsid, flag, namemax);
print_fields!(Version: major, minor, release, extra);
print_fields!(Utsname: uts_sysname, uts_release, uts_version, uts_machine);
print_fields!(Partition: part_num, part_start, part_end, part_size);
print_fields!(BtrfsSubvolume: btrfssubvolume_id, btrfssubvolume_top_level_id, btrfssubvolume_path);
print_fields!(MdStat: mdstat_device, mdstat_index, mdstat_flags);
print_fields!(XfsInfo: xfs_mntpoint, xfs_inodesize, xfs_agcount, xfs_agsize, xfs_sectsize,
    xfs_attr, xfs_blocksize, xfs_datablocks, xfs_imaxpct, xfs_sunit, xfs_swidth,
    xfs_dirversion, xfs_dirblocksize, xfs_cimode, xfs_logname, xfs_logblocksize,
    xfs_logblocks, xfs_logversion, xfs_logsectsize, xfs_logsunit, xfs_lazycount,
    xfs_rtname, xfs_rtextsize, xfs_rtblocks, xfs_rtextents);

print_fields!(LvmPv: pv_name, pv_uuid, pv_fmt, pv_size, dev_size, pv_free, pv_used, pv_attr,
    pv_pe_count, pv_pe_alloc_count, pv_tags, pe_start, pv_mda_count, pv_mda_free);
print_fields!(LvmVg: vg_name, vg_uuid, vg_fmt, vg_attr, vg_size, vg_free, vg_sysid,
    vg_extent_size, vg_extent_count, vg_free_count, max_lv, max_pv, pv_count, lv_count,
    snap_count, vg_seqno, vg_tags, vg_mda_count, vg_mda_free);
print_fields!(LvmLv: lv_name, lv_uuid, lv_attr, lv_major, lv_minor, lv_kernel_major,
    lv_kernel_minor, lv_size, seg_count, origin, snap_percent, copy_percent, move_pv, lv_tags,
    mirror_log, modules);

/// Hashtables (blkid, tune2fs_l), as guestfish prints them: `key: value`.
impl Print for Vec<(String, String)> {
    fn print(&self, out: &mut dyn Write) -> io::Result<()> {
        for (key, value) in self {
            writeln!(out, "{key}: {value}")?;
        }
        Ok(())
    }
}
print_fields!(Application: app2_name, app2_display_name, app2_epoch, app2_version,
    app2_release, app2_arch, app2_install_path, app2_publisher, app2_url,
    app2_source_package, app2_summary, app2_description);

impl Print for FsEntry {
    fn print(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}: {}", self.device, self.fstype)
    }
}

impl Print for MountEntry {
    fn print(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}: {}", self.device, self.mountpoint)
    }
}

/// guestfish's form: printable bytes as they are, others as `\xNN`.
impl Print for XAttr {
    fn print(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "attrname: {}", self.attrname)?;
        write!(out, "attrval: ")?;
        for &b in &self.attrval {
            if b.is_ascii_graphic() || b == b' ' {
                out.write_all(&[b])?;
            } else {
                write!(out, "\\x{b:02x}")?;
            }
        }
        writeln!(out)
    }
}

print_fields!(Dirent: ino, ftyp, name);

/// Lists of structs: one block each, numbered as guestfish does for
/// multi-line ones.
macro_rules! print_list {
    ($($ty:ty),*) => {$(
        impl Print for Vec<$ty> {
            fn print(&self, out: &mut dyn Write) -> io::Result<()> {
                for item in self {
                    item.print(out)?;
                }
                Ok(())
            }
        }
    )*};
}
print_list!(FsEntry, MountEntry);

macro_rules! print_blocks {
    ($($ty:ty),*) => {$(
        impl Print for Vec<$ty> {
            fn print(&self, out: &mut dyn Write) -> io::Result<()> {
                for (i, item) in self.iter().enumerate() {
                    writeln!(out, "[{i}] = {{")?;
                    let mut text = Vec::new();
                    item.print(&mut text)?;
                    for line in String::from_utf8_lossy(&text).lines() {
                        writeln!(out, "  {line}")?;
                    }
                    writeln!(out, "}}")?;
                }
                Ok(())
            }
        }
    )*};
}
print_blocks!(
    Dirent,
    Partition,
    Application,
    XAttr,
    Statns,
    BtrfsSubvolume,
    MdStat,
    LvmPv,
    LvmVg,
    LvmLv
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xattr_lists_print_as_guestfish_blocks() {
        let list = vec![
            XAttr {
                attrname: "user.a".into(),
                attrval: b"hi there".to_vec(),
            },
            XAttr {
                attrname: "security.x".into(),
                attrval: vec![0, b'a', 0xff, b'\n'],
            },
        ];
        let mut out = Vec::new();
        list.print(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[0] = {\n  attrname: user.a\n  attrval: hi there\n}\n\
             [1] = {\n  attrname: security.x\n  attrval: \\x00a\\xff\\x0a\n}\n"
        );
    }
}
