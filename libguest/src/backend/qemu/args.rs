//! The qemu command line, built from plain data so a unit test can check it.

use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::json::Json;
use crate::backend::CHANNEL_PORT;
use disk::DiskError;

use crate::drive::{Drive, DriveFormat};
use crate::error::{Error, Result};

pub(super) const QEMU: &str = "qemu-system-x86_64";
pub(super) const INSTALL_HINT: &str =
    "install Debian's qemu-system-x86 package (apt-get install qemu-system-x86) or set LIBGUEST_QEMU to a qemu-system-x86_64 binary";

/// The appliance kernel resets through the i8042 (`reboot=k`), which qemu
/// microvm lacks; a triple fault is a reset request, and with `-no-reboot`
/// qemu exits with status 0. A later `reboot=` overrides the earlier one.
const CMDLINE_EXTRA: &str = "reboot=t";

/// One image of a drive's chain as qemu opens it.
///
/// qemu gets each image as `/dev/fdset/FD` (with `-add-fd fd=FD,set=FD`):
/// a duplicate of the descriptor `disk` opened and checked when the drive
/// was added, never a path. So qemu cannot meet a file swapped in since, a
/// read-only image is one qemu has no writable descriptor for, and a user's
/// path (`-x`, `json:{..}`, `nbd:..`, commas) never reaches the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct QemuNode {
    pub fd: RawFd,
    pub format: DriveFormat,
    pub block_device: bool,
    pub read_only: bool,
}

/// A drive as qemu opens it: the exact node graph, nothing found by qemu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct QemuDrive {
    /// Top first. Every node but the top of a read-write drive is read-only.
    pub chain: Vec<QemuNode>,
    /// An empty qcow2 (this descriptor, an unlinked file in the drive's
    /// tmpdir) on top of the read-only chain: the overlay's writes.
    pub overlay: Option<RawFd>,
    /// The guest's discards reach the writable top (`discard=unmap`);
    /// otherwise every node ignores them, as with our VMM.
    pub unmap: bool,
    /// A `copy-on-read` filter node over the top (libguestfs's
    /// `copyonread`); only where a writable top has something below it.
    pub copy_on_read: bool,
}

/// The drives, and the descriptors qemu inherits for them.
pub(super) struct ResolvedDrives {
    pub drives: Vec<QemuDrive>,
    /// Hand these to [`inherit_fds`]; the numbers in `drives` are theirs.
    pub fds: Vec<OwnedFd>,
}

/// Everything the command line depends on.
pub(super) struct Machine<'a> {
    pub kernel: &'a Path,
    pub initramfs: &'a Path,
    pub cmdline: &'a str,
    pub mem_mib: u64,
    pub vcpus: u8,
    pub drives: &'a [QemuDrive],
    /// qemu's end of the channel socket, inherited across exec.
    pub channel_fd: i32,
}

/// `LIBGUEST_QEMU` if set (a bare name is looked up on `path`), else
/// qemu-system-x86_64 on `path`.
pub(super) fn find_qemu(env: Option<OsString>, path: Option<OsString>) -> Result<PathBuf> {
    let wanted = env.filter(|v| !v.is_empty());
    let name = wanted.clone().unwrap_or_else(|| QEMU.into());
    let found = if Path::new(&name).components().count() > 1 {
        Some(PathBuf::from(&name)).filter(|p| p.is_file())
    } else {
        path.iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join(&name))
            .find(|p| p.is_file())
    };
    found.ok_or_else(|| Error::Qemu {
        reason: match wanted {
            Some(v) => format!(
                "LIBGUEST_QEMU={} is not a file; {INSTALL_HINT}",
                v.to_string_lossy()
            ),
            None => format!("{QEMU} not found on PATH; {INSTALL_HINT}"),
        },
    })
}

/// Duplicates each drive's checked descriptors for qemu, and makes the
/// qcow2 overlay of each overlay drive (in the drive's tmpdir).
pub(super) fn resolve_drives(drives: &[Drive]) -> Result<ResolvedDrives> {
    let mut fds = Vec::new();
    let mut out = Vec::with_capacity(drives.len());
    for drive in drives {
        let mut keep = |file: &std::fs::File| -> Result<RawFd> {
            // try_clone: a close-on-exec descriptor >= 3, clear of qemu's stdio.
            let fd = OwnedFd::from(file.try_clone().map_err(|source| {
                drive.error(DiskError::Io {
                    op: "descriptor duplication for qemu",
                    source,
                })
            })?);
            let raw = fd.as_raw_fd();
            fds.push(fd);
            Ok(raw)
        };
        let mut chain = Vec::with_capacity(drive.chain.len());
        for node in drive.chain.iter() {
            // qemu parses each header again, from this descriptor; the
            // image must not have gained a data file since it was added.
            // (Its backing node is given explicitly, so a changed backing
            // name is ignored.)
            node.recheck().map_err(|e| drive.error(e))?;
            chain.push(QemuNode {
                fd: keep(node.file())?,
                format: node.format(),
                block_device: node.is_block_device(),
                read_only: !node.is_writable(),
            });
        }
        let overlay = if drive.options.overlaid() {
            let file = disk::qcow2_overlay_file(Some(&drive.tmpdir), drive.size())
                .map_err(|e| drive.error(e))?;
            Some(keep(&file)?)
        } else {
            None
        };
        let writable_top = overlay.is_some() || chain.first().is_some_and(|n| !n.read_only);
        let has_below = overlay.is_some() || chain.len() > 1;
        out.push(QemuDrive {
            copy_on_read: drive.options.copy_on_read && writable_top && has_below,
            unmap: drive.unmap,
            chain,
            overlay,
        });
    }
    Ok(ResolvedDrives { drives: out, fds })
}

/// Lets qemu inherit `fds` across exec (they stay close-on-exec here, so no
/// other child of this process gets them); this process closes them when
/// `cmd` is dropped after the spawn.
pub(super) fn inherit_fds(cmd: &mut Command, fds: Vec<OwnedFd>) {
    let raw: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
    // SAFETY: the closure runs in the forked child before exec and only
    // calls fcntl (async-signal-safe) on descriptors that the closure
    // itself keeps open (it owns `fds`); it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            let _open = &fds;
            for &fd in &raw {
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// The `-blockdev` JSON of a format node over a `file`/`host_device` node
/// on `/dev/fdset/FD`. JSON, not `key=value`: no value is ever parsed as
/// an option, and `backing` is given explicitly (`null` at the bottom), so
/// qemu opens no backing file the host did not check.
fn format_node(name: &str, node: &QemuNode, unmap: bool, backing: Option<Json>) -> Json {
    let discard = if unmap && !node.read_only {
        "unmap"
    } else {
        "ignore"
    };
    let protocol = Json::Object(vec![
        (
            "driver",
            if node.block_device {
                "host_device"
            } else {
                "file"
            }
            .into(),
        ),
        ("node-name", format!("{name}-file").into()),
        ("filename", format!("/dev/fdset/{}", node.fd).into()),
        ("read-only", node.read_only.into()),
        ("auto-read-only", false.into()),
        ("discard", discard.into()),
    ]);
    let mut fields = vec![
        ("driver", node.format.to_string().into()),
        ("node-name", name.into()),
        ("file", protocol),
        ("read-only", node.read_only.into()),
        ("auto-read-only", false.into()),
        ("discard", discard.into()),
    ];
    if node.format == DriveFormat::Qcow2 {
        // No "data-file": disk refused every image that wants one.
        fields.push(("backing", backing.unwrap_or(Json::Null)));
    }
    Json::Object(fields)
}

/// The whole node graph of drive `i`, its top node named `drive{i}`.
fn drive_graph(i: usize, d: &QemuDrive) -> Json {
    let top_name = if d.copy_on_read {
        format!("drive{i}-top")
    } else {
        format!("drive{i}")
    };
    let mut below = None;
    for (level, node) in d.chain.iter().enumerate().rev() {
        let name = if level == 0 && d.overlay.is_none() {
            top_name.clone()
        } else {
            format!("drive{i}-{level}")
        };
        // Only the top is ever written: the backing nodes ignore discards.
        let unmap = d.unmap && level == 0 && d.overlay.is_none();
        below = Some(format_node(&name, node, unmap, below));
    }
    let top = match d.overlay {
        Some(fd) => {
            let overlay = QemuNode {
                fd,
                format: DriveFormat::Qcow2,
                block_device: false,
                read_only: false,
            };
            format_node(&top_name, &overlay, d.unmap, below)
        }
        None => below.unwrap_or(Json::Null),
    };
    if d.copy_on_read {
        // Every node passes discards on only with its own discard=unmap.
        let discard = if d.unmap { "unmap" } else { "ignore" };
        Json::Object(vec![
            ("driver", "copy-on-read".into()),
            ("node-name", format!("drive{i}").into()),
            ("discard", discard.into()),
            ("file", top),
        ])
    } else {
        top
    }
}

pub(super) fn command_line(m: &Machine<'_>) -> Vec<OsString> {
    let mut a: Vec<OsString> = Vec::new();
    let mut push = |items: &[&str]| a.extend(items.iter().map(OsString::from));
    // acpi=off: the kernel has no ACPI, and without it microvm appends
    // virtio_mmio.device= for each transport in use to the command line.
    // No option ROMs: the firmware (qboot) boots the kernel without them.
    // LIBGUEST_QEMU_ACCEL=kvm runs the same machine on KVM: only as a
    // benchmark peer for our own VMM, never chosen by libguest itself.
    let accel = std::env::var("LIBGUEST_QEMU_ACCEL").unwrap_or_else(|_| "tcg".into());
    let accel = if accel == "kvm" { "kvm" } else { "tcg" };
    // The peer's interrupt controller, for comparing it with our VMM's
    // full in-kernel irqchip: microvm defaults to a split irqchip (its
    // IOAPIC in qemu); LIBGUEST_QEMU_KERNEL_IRQCHIP=on|off|split overrides.
    let irqchip = std::env::var("LIBGUEST_QEMU_KERNEL_IRQCHIP").ok();
    let accel_opts = match irqchip.as_deref() {
        Some(mode @ ("on" | "off" | "split")) if accel == "kvm" => {
            format!("kvm,kernel-irqchip={mode}")
        }
        _ => accel.to_string(),
    };
    push(&[
        "-M",
        "microvm,acpi=off,x-option-roms=off",
        "-accel",
        &accel_opts,
        "-cpu",
        if accel == "kvm" { "host" } else { "max" },
    ]);
    push(&[
        "-m",
        &m.mem_mib.to_string(),
        "-smp",
        &m.vcpus.max(1).to_string(),
    ]);
    push(&["-nodefaults", "-no-user-config", "-display", "none"]);
    // Any reset request (the guest's power-off) ends qemu.
    push(&["-no-reboot", "-serial", "stdio"]);
    push(&["-device", "virtio-scsi-device,id=scsi0"]);
    let mut drive_args = Vec::new();
    for d in m.drives {
        for fd in d.chain.iter().map(|n| n.fd).chain(d.overlay) {
            drive_args.push(OsString::from("-add-fd"));
            drive_args.push(OsString::from(format!("fd={fd},set={fd}")));
        }
    }
    for (i, d) in m.drives.iter().enumerate() {
        drive_args.push(OsString::from("-blockdev"));
        drive_args.push(OsString::from(drive_graph(i, d).to_string()));
        // I/O errors go to the guest, as with our VMM; qemu's default
        // pauses the VM on ENOSPC, which would look like a hang. A
        // read-only top node makes scsi-hd write-protected.
        drive_args.push(OsString::from("-device"));
        drive_args.push(OsString::from(format!(
            "scsi-hd,bus=scsi0.0,channel=0,scsi-id={i},lun=0,drive=drive{i},werror=report,rerror=report"
        )));
    }
    let channel = format!("socket,id=channel0,fd={}", m.channel_fd);
    let port = format!("virtserialport,bus=vser0.0,nr=1,chardev=channel0,name={CHANNEL_PORT}");
    push(&["-device", "virtio-serial-device,id=vser0"]);
    push(&["-chardev", &channel, "-device", &port]);
    a.extend(drive_args);
    a.push("-kernel".into());
    a.push(m.kernel.into());
    a.push("-initrd".into());
    a.push(m.initramfs.into());
    a.push("-append".into());
    a.push(format!("{} {CMDLINE_EXTRA}", m.cmdline).into());
    a
}

#[cfg(test)]
mod tests;
