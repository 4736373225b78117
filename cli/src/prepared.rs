//! `-N [FILENAME=]TYPE[:PARAM…]`: guestfish's prepared disks. Each makes a
//! sparse raw image before launch (`test1.img`, `test2.img`… unless
//! named) and lays it out right after launch, before `-m` mounts. The
//! types, their parameters and defaults are guestfish's, in its order:
//! `fs:ext4:2G:gpt` is a 2G GPT disk with one ext4 partition.

use std::path::PathBuf;

use libguest::{calls, Guest};

use crate::commands::local;
use crate::error::{CliError, Result};

/// One parameter: name, default, what it is.
type Param = (&'static str, &'static str, &'static str);

/// What is laid out after launch.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Layout {
    Blank,
    Partition,
    Filesystem,
    Lv,
    LvFilesystem,
    BootRoot,
    BootRootLv,
}

/// One type of prepared disk.
#[derive(Debug)]
struct Kind {
    name: &'static str,
    layout: Layout,
    summary: &'static str,
    params: &'static [Param],
}

const SIZE: Param = ("size", "1G", "the size of the disk image");
const PARTITION: Param = ("partition", "mbr", "partition table type");
const NAME: Param = ("name", "/dev/VG/LV", "the name of the VG and LV to use");

const KINDS: &[Kind] = &[
    Kind {
        name: "disk",
        layout: Layout::Blank,
        summary: "create a blank disk",
        params: &[SIZE],
    },
    Kind {
        name: "part",
        layout: Layout::Partition,
        summary: "create a partitioned disk",
        params: &[SIZE, PARTITION],
    },
    Kind {
        name: "fs",
        layout: Layout::Filesystem,
        summary: "create a filesystem",
        params: &[
            ("filesystem", "ext2", "the type of filesystem to use"),
            SIZE,
            PARTITION,
        ],
    },
    Kind {
        name: "lv",
        layout: Layout::Lv,
        summary: "create a disk with logical volume",
        params: &[NAME, SIZE, PARTITION],
    },
    Kind {
        name: "lvfs",
        layout: Layout::LvFilesystem,
        summary: "create a disk with logical volume and filesystem",
        params: &[
            NAME,
            ("filesystem", "ext2", "the type of filesystem to use"),
            SIZE,
            PARTITION,
        ],
    },
    Kind {
        name: "bootroot",
        layout: Layout::BootRoot,
        summary: "create a boot and root filesystem",
        params: &[
            ("bootfs", "ext2", "the type of filesystem to use for boot"),
            ("rootfs", "ext2", "the type of filesystem to use for root"),
            SIZE,
            ("bootsize", "128M", "the size of the boot filesystem"),
            PARTITION,
        ],
    },
    Kind {
        name: "bootrootlv",
        layout: Layout::BootRootLv,
        summary: "create a boot and root filesystem using LVM",
        params: &[
            ("name", "/dev/VG/LV", "the name of the VG and LV for root"),
            ("bootfs", "ext2", "the type of filesystem to use for boot"),
            ("rootfs", "ext2", "the type of filesystem to use for root"),
            SIZE,
            ("bootsize", "128M", "the size of the boot filesystem"),
            PARTITION,
        ],
    },
];

/// `-N help`: every type with its parameters.
pub fn help() -> String {
    let mut out = String::from(
        "-N [FILENAME=]TYPE[:PARAM...]: a new sparse raw disk (test1.img, test2.img… unless named), laid out after launch.\n\
         Parameters are positional, separated by ':'; an empty or missing one takes its default.\n",
    );
    for kind in KINDS {
        out.push_str(&format!("\n{}: {}\n", kind.name, kind.summary));
        for (name, default, what) in kind.params {
            out.push_str(&format!("    {name:<11} {what} (default {default})\n"));
        }
    }
    out
}

/// A parsed `-N`.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub file: PathBuf,
    kind: &'static Kind,
    /// One per parameter of the type, defaults filled in.
    params: Vec<String>,
}

impl Prepared {
    /// `spec` is the `-N` argument; `number` counts the `-N`s from 1 and
    /// names the file when the spec does not.
    pub fn parse(spec: &str, number: usize) -> Result<Prepared> {
        let (file, rest) = match spec.split_once('=') {
            Some((file, rest)) if !file.is_empty() => (PathBuf::from(file), rest),
            _ => (PathBuf::from(format!("test{number}.img")), spec),
        };
        let mut words = rest.split(':');
        let type_name = words.next().unwrap_or_default();
        let kind = KINDS.iter().find(|k| k.name == type_name).ok_or_else(|| {
            CliError::msg(format!(
                "-N {spec}: no prepared disk type {type_name:?}; the types are {} (-N help describes them)",
                KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
            ))
        })?;
        let given: Vec<&str> = words.collect();
        if given.len() > kind.params.len() {
            return Err(CliError::msg(format!(
                "-N {spec}: {} takes at most {} parameters ({}), not {}",
                kind.name,
                kind.params.len(),
                kind.params
                    .iter()
                    .map(|p| p.0)
                    .collect::<Vec<_>>()
                    .join(":"),
                given.len()
            )));
        }
        let params = kind
            .params
            .iter()
            .enumerate()
            .map(|(i, (_, default, _))| match given.get(i) {
                Some(word) if !word.is_empty() => word.to_string(),
                _ => default.to_string(),
            })
            .collect();
        let prepared = Prepared { file, kind, params };
        // Checked now, before any file is made or anything boots.
        local::parse_size(&prepared.context(), prepared.param("size"))?;
        if prepared.has("bootsize") {
            local::parse_size(&prepared.context(), prepared.param("bootsize"))?;
        }
        if prepared.has("name") {
            prepared.vg_lv()?;
        }
        Ok(prepared)
    }

    fn context(&self) -> String {
        format!("-N {}", self.file.display())
    }

    fn has(&self, name: &str) -> bool {
        self.kind.params.iter().any(|p| p.0 == name)
    }

    fn param(&self, name: &str) -> &str {
        self.kind
            .params
            .iter()
            .position(|p| p.0 == name)
            .and_then(|i| self.params.get(i))
            .map_or("", String::as_str)
    }

    /// `/dev/VG/LV` (or `VG/LV`) into its two names.
    fn vg_lv(&self) -> Result<(&str, &str)> {
        let name = self.param("name");
        let path = name.strip_prefix("/dev/").unwrap_or(name);
        match path.split_once('/') {
            Some((vg, lv)) if !vg.is_empty() && !lv.is_empty() && !lv.contains('/') => Ok((vg, lv)),
            _ => Err(CliError::msg(format!(
                "{}: the LV name {name:?} is not of the form /dev/VG/LV",
                self.context()
            ))),
        }
    }

    /// Before launch: the sparse image, made or truncated.
    pub fn create(&self) -> Result<()> {
        let size = local::parse_size(&self.context(), self.param("size"))?;
        let file = self.file.to_string_lossy();
        local::create(&self.context(), &file, size)?;
        Ok(())
    }

    /// After launch: partitions, PV/VG/LV and filesystems on `device`,
    /// the drive this image was added as.
    pub fn lay_out(&self, g: &mut Guest, device: &str) -> Result<()> {
        self.steps(g, device)
            .map_err(|e| e.context(format!("{}: preparing {device}", self.context())))
    }

    fn steps(&self, g: &mut Guest, device: &str) -> Result<()> {
        let table = self.param("partition");
        let part1 = format!("{device}1");
        let part2 = format!("{device}2");
        match self.kind.layout {
            Layout::Blank => {}
            Layout::Partition => g.part_disk(device, table)?,
            Layout::Filesystem => {
                g.part_disk(device, table)?;
                mkfs(g, self.param("filesystem"), &part1)?;
            }
            Layout::Lv | Layout::LvFilesystem => {
                g.part_disk(device, table)?;
                let lv = self.lvm(g, &part1)?;
                if self.kind.layout == Layout::LvFilesystem {
                    mkfs(g, self.param("filesystem"), &lv)?;
                }
            }
            Layout::BootRoot | Layout::BootRootLv => {
                self.boot_and_root(g, device, table)?;
                mkfs(g, self.param("bootfs"), &part1)?;
                let root = match self.kind.layout {
                    Layout::BootRootLv => self.lvm(g, &part2)?,
                    _ => part2,
                };
                mkfs(g, self.param("rootfs"), &root)?;
            }
        }
        Ok(())
    }

    /// Two primary partitions as guestfish lays them: boot from sector 64
    /// for `bootsize`, root from there to 64 sectors before the end.
    fn boot_and_root(&self, g: &mut Guest, device: &str, table: &str) -> Result<()> {
        let bootsize = local::parse_size(&self.context(), self.param("bootsize"))?;
        let sector = u64::try_from(g.blockdev_getss(device)?)
            .ok()
            .filter(|&s| s > 0)
            .ok_or_else(|| CliError::msg(format!("{device}: no sector size")))?;
        let last_boot = i64::try_from(64 + bootsize / sector - 1).map_err(|_| {
            CliError::msg(format!("{}: the boot size is too large", self.context()))
        })?;
        g.part_init(device, table)?;
        g.part_add(device, "primary", 64, last_boot)?;
        g.part_add(device, "primary", last_boot + 1, -64)?;
        Ok(())
    }

    /// A PV on `part`, the VG on it and the LV filling it; the LV's path.
    fn lvm(&self, g: &mut Guest, part: &str) -> Result<String> {
        let (vg, lv) = self.vg_lv()?;
        g.pvcreate(part)?;
        g.vgcreate(vg, vec![part.to_string()])?;
        g.lvcreate_free(lv, vg, 100)?;
        Ok(format!("/dev/{vg}/{lv}"))
    }
}

fn mkfs(g: &mut Guest, fstype: &str, device: &str) -> Result<()> {
    g.mkfs(fstype, device, calls::mkfs::Opts::default())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_missing_and_empty_parameters() {
        let p = Prepared::parse("fs", 1).unwrap();
        assert_eq!(p.file, PathBuf::from("test1.img"));
        assert_eq!(p.params, ["ext2", "1G", "mbr"]);
        let p = Prepared::parse("out.img=fs:ext4::gpt", 2).unwrap();
        assert_eq!(p.file, PathBuf::from("out.img"));
        assert_eq!(p.params, ["ext4", "1G", "gpt"]);
        let p = Prepared::parse("bootrootlv:/dev/vg0/root", 3).unwrap();
        assert_eq!(p.file, PathBuf::from("test3.img"));
        assert_eq!(p.vg_lv().unwrap(), ("vg0", "root"));
        assert_eq!(p.param("bootsize"), "128M");
        assert_eq!(p.param("partition"), "mbr");
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let e = Prepared::parse("floppy", 1).unwrap_err().to_string();
        assert!(e.contains("\"floppy\"") && e.contains("bootrootlv"), "{e}");
        let e = Prepared::parse("disk:1G:mbr", 1).unwrap_err().to_string();
        assert!(e.contains("at most 1"), "{e}");
        let e = Prepared::parse("disk:lots", 1).unwrap_err().to_string();
        assert!(e.contains("\"lots\""), "{e}");
        let e = Prepared::parse("lv:novg", 1).unwrap_err().to_string();
        assert!(e.contains("/dev/VG/LV"), "{e}");
        let e = Prepared::parse("bootroot:ext2:ext4:1G:0", 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"0\""), "{e}");
    }

    #[test]
    fn help_lists_every_type_with_its_defaults() {
        let text = help();
        for kind in KINDS {
            assert!(
                text.contains(&format!("\n{}: ", kind.name)),
                "{}",
                kind.name
            );
        }
        assert!(text.contains("bootsize    the size of the boot filesystem (default 128M)"));
    }
}
