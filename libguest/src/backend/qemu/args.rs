//! The qemu command line, built from plain data so a unit test can check it.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use crate::backend::CHANNEL_PORT;
use crate::drive::{Drive, DriveFormat, DriveSource};
use crate::error::{Error, Result};

pub(super) const QEMU: &str = "qemu-system-x86_64";
pub(super) const INSTALL_HINT: &str =
    "install Debian's qemu-system-x86 package (apt-get install qemu-system-x86) or set LIBGUEST_QEMU to a qemu-system-x86_64 binary";

/// The appliance kernel resets through the i8042 (`reboot=k`), which qemu
/// microvm lacks; a triple fault is a reset request, and with `-no-reboot`
/// qemu exits with status 0. A later `reboot=` overrides the earlier one.
const CMDLINE_EXTRA: &str = "reboot=t";

/// A drive as qemu opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct QemuDrive {
    pub path: PathBuf,
    pub format: DriveFormat,
    pub readonly: bool,
    /// Writes go to a temporary overlay in qemu's TMPDIR, never to `path`.
    pub snapshot: bool,
    pub block_device: bool,
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

/// Resolves each drive's format the way the KVM backend's `disk::open`
/// does (explicit wins, else the header) and makes scratch files in `dir`.
pub(super) fn resolve_drives(drives: &[Drive], dir: &Path) -> Result<Vec<QemuDrive>> {
    let mut out = Vec::with_capacity(drives.len());
    for (i, drive) in drives.iter().enumerate() {
        let drive_err = |path: &Path, reason: String| Error::Drive {
            path: path.to_path_buf(),
            reason,
        };
        let resolved = match &drive.source {
            DriveSource::Scratch(size) => {
                let path = dir.join(format!("scratch{i}.img"));
                std::fs::File::create(&path)
                    .and_then(|f| f.set_len(*size))
                    .map_err(|e| drive_err(&path, format!("creating a scratch disk: {e}")))?;
                QemuDrive {
                    path,
                    format: DriveFormat::Raw,
                    readonly: false,
                    snapshot: false,
                    block_device: false,
                }
            }
            DriveSource::File(path) => {
                let format = match drive.options.format {
                    Some(f) => f,
                    None => match disk::detect_format(path) {
                        Ok(disk::Format::Qcow2) => DriveFormat::Qcow2,
                        Ok(disk::Format::Raw) => DriveFormat::Raw,
                        Err(e) => return Err(drive_err(path, e.to_string())),
                    },
                };
                // A file gone since add_drive is left for qemu to report.
                let block_device = std::fs::metadata(path)
                    .map(|m| m.file_type().is_block_device())
                    .unwrap_or(false);
                // As in disk::open: read-only takes precedence over overlay.
                QemuDrive {
                    path: path.clone(),
                    format,
                    readonly: drive.options.readonly,
                    snapshot: drive.options.overlay && !drive.options.readonly,
                    block_device,
                }
            }
        };
        out.push(resolved);
    }
    Ok(out)
}

/// A value inside a qemu option list: commas are doubled.
fn escape(path: &Path) -> Vec<u8> {
    let mut v = Vec::new();
    for &b in path.as_os_str().as_bytes() {
        v.push(b);
        if b == b',' {
            v.push(b',');
        }
    }
    v
}

fn drive_option(i: usize, d: &QemuDrive) -> OsString {
    let format = match d.format {
        DriveFormat::Raw => "raw",
        DriveFormat::Qcow2 => "qcow2",
    };
    // file.driver/file.filename rather than file=: a name like "nbd:x" or
    // "json:{...}" must stay a file name, never a protocol.
    let driver = if d.block_device {
        "host_device"
    } else {
        "file"
    };
    let mut v = format!("if=none,id=drive{i},format={format},file.driver={driver},file.filename=")
        .into_bytes();
    v.extend(escape(&d.path));
    // I/O errors go to the guest, as with our VMM; qemu's default pauses
    // the VM on ENOSPC, which would look like a hang.
    v.extend_from_slice(b",discard=unmap,werror=report,rerror=report");
    if d.readonly {
        v.extend_from_slice(b",readonly=on");
    }
    if d.snapshot {
        v.extend_from_slice(b",snapshot=on");
    }
    OsString::from_vec(v)
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
    push(&[
        "-M",
        "microvm,acpi=off,x-option-roms=off",
        "-accel",
        accel,
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
    for (i, d) in m.drives.iter().enumerate() {
        drive_args.push(OsString::from("-drive"));
        drive_args.push(drive_option(i, d));
        drive_args.push(OsString::from("-device"));
        drive_args.push(OsString::from(format!(
            "scsi-hd,bus=scsi0.0,channel=0,scsi-id={i},lun=0,drive=drive{i}"
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
mod tests {
    use super::*;

    fn drive(path: &str, format: DriveFormat) -> QemuDrive {
        QemuDrive {
            path: path.into(),
            format,
            readonly: false,
            snapshot: false,
            block_device: false,
        }
    }

    #[test]
    fn command_line_has_the_devices_in_order() {
        let drives = [
            drive("/img/a,b.raw", DriveFormat::Raw),
            QemuDrive {
                readonly: true,
                ..drive("/img/ro.qcow2", DriveFormat::Qcow2)
            },
            QemuDrive {
                snapshot: true,
                block_device: true,
                ..drive("/dev/sdz", DriveFormat::Raw)
            },
        ];
        let args = command_line(&Machine {
            kernel: Path::new("/k/vmlinux"),
            initramfs: Path::new("/k/initrd"),
            cmdline: "console=ttyS0 reboot=k",
            mem_mib: 768,
            vcpus: 2,
            drives: &drives,
            channel_fd: 7,
        });
        let args: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let joined = args.join(" ");
        let after = |flag: &str| -> Vec<&str> {
            args.windows(2)
                .filter(|w| w[0] == flag)
                .map(|w| w[1].as_str())
                .collect()
        };
        assert_eq!(after("-M"), ["microvm,acpi=off,x-option-roms=off"]);
        assert_eq!(after("-accel"), ["tcg"]);
        assert_eq!(after("-m"), ["768"]);
        assert_eq!(after("-smp"), ["2"]);
        for flag in ["-nodefaults", "-no-user-config", "-no-reboot"] {
            assert!(args.iter().any(|a| a == flag), "{flag} missing: {joined}");
        }
        assert_eq!(after("-serial"), ["stdio"]);
        assert_eq!(after("-append"), ["console=ttyS0 reboot=k reboot=t"]);
        assert_eq!(after("-kernel"), ["/k/vmlinux"]);
        assert_eq!(after("-initrd"), ["/k/initrd"]);
        assert_eq!(
            after("-drive"),
            [
                "if=none,id=drive0,format=raw,file.driver=file,file.filename=/img/a,,b.raw,discard=unmap,werror=report,rerror=report",
                "if=none,id=drive1,format=qcow2,file.driver=file,file.filename=/img/ro.qcow2,discard=unmap,werror=report,rerror=report,readonly=on",
                "if=none,id=drive2,format=raw,file.driver=host_device,file.filename=/dev/sdz,discard=unmap,werror=report,rerror=report,snapshot=on",
            ]
        );
        assert_eq!(
            after("-device"),
            [
                "virtio-scsi-device,id=scsi0",
                "virtio-serial-device,id=vser0",
                "virtserialport,bus=vser0.0,nr=1,chardev=channel0,name=org.libguest.channel.0",
                "scsi-hd,bus=scsi0.0,channel=0,scsi-id=0,lun=0,drive=drive0",
                "scsi-hd,bus=scsi0.0,channel=0,scsi-id=1,lun=0,drive=drive1",
                "scsi-hd,bus=scsi0.0,channel=0,scsi-id=2,lun=0,drive=drive2",
            ]
        );
        assert_eq!(after("-chardev"), ["socket,id=channel0,fd=7"]);
    }

    #[test]
    fn missing_qemu_names_the_package() {
        let err = find_qemu(Some("/nonexistent".into()), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/nonexistent") && err.contains("qemu-system-x86"),
            "{err}"
        );
        let err = find_qemu(None, Some("/nonexistent-dir".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("apt-get install qemu-system-x86"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(QEMU), b"").unwrap();
        let found = find_qemu(Some("".into()), Some(dir.path().into())).unwrap();
        assert_eq!(found, dir.path().join(QEMU));
        let named = find_qemu(Some(QEMU.into()), Some(dir.path().into())).unwrap();
        assert_eq!(named, dir.path().join(QEMU));
    }
}
