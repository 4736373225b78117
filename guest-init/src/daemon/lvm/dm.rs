//! The device-mapper ioctls that activate an LV: create a device, load
//! its table, resume it (and remove it if a step fails), as libdm issues
//! them for lvm, with no udev cookie. Why not dmsetup: it is in the tools
//! layer, whose loading is what native activation saves.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;

use guest_formats::lvm::Target;

const CONTROL: &str = "/dev/mapper/control";
/// `sizeof(struct dm_ioctl)`.
const HEADER: usize = 312;
/// `sizeof(struct dm_target_spec)`.
const SPEC: usize = 40;
/// Offsets in `struct dm_ioctl`.
const DATA_SIZE: usize = 12;
const DATA_START: usize = 16;
const TARGET_COUNT: usize = 20;
const FLAGS: usize = 28;
const DEV: usize = 40;
const NAME: usize = 48;
const UUID: usize = 176;
const NAME_LEN: usize = 128;
const UUID_LEN: usize = 129;

const DM_READONLY_FLAG: u32 = 1 << 0;

/// `_IOWR(DM_IOCTL, nr, struct dm_ioctl)`.
const fn request(nr: u32) -> u64 {
    (3 << 30) | ((HEADER as u64) << 16) | (0xfd << 8) | nr as u64
}
const DM_DEV_CREATE: u64 = request(3);
const DM_DEV_REMOVE: u64 = request(4);
const DM_DEV_SUSPEND: u64 = request(6);
const DM_TABLE_LOAD: u64 = request(9);

/// The device-mapper control node, open.
pub(super) struct Control(File);

/// One target as the kernel takes it: sectors and parameter text.
pub(super) struct Line {
    pub(super) start: u64,
    pub(super) length: u64,
    pub(super) kind: &'static str,
    pub(super) params: String,
}

impl Line {
    /// `target` with its PVs given as `MAJ:MIN` by `dev_of`.
    pub(super) fn new(target: &Target, dev_of: &dyn Fn(usize) -> String) -> Line {
        match target {
            Target::Linear {
                start,
                length,
                pv,
                offset,
            } => Line {
                start: *start,
                length: *length,
                kind: "linear",
                params: format!("{} {offset}", dev_of(*pv)),
            },
            Target::Striped {
                start,
                length,
                chunk,
                stripes,
            } => {
                let mut params = format!("{} {chunk}", stripes.len());
                for (pv, offset) in stripes {
                    params.push_str(&format!(" {} {offset}", dev_of(*pv)));
                }
                Line {
                    start: *start,
                    length: *length,
                    kind: "striped",
                    params,
                }
            }
        }
    }
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

fn header(name: &str, uuid: &str, extra: usize) -> std::io::Result<Vec<u8>> {
    if name.len() >= NAME_LEN || uuid.len() >= UUID_LEN || name.contains('\0') {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut buf = vec![0u8; HEADER + extra];
    for (i, v) in [4u32, 0, 0].iter().enumerate() {
        put(&mut buf, i * 4, &v.to_ne_bytes());
    }
    let size =
        u32::try_from(buf.len()).map_err(|_| std::io::Error::from_raw_os_error(libc::E2BIG))?;
    put(&mut buf, DATA_SIZE, &size.to_ne_bytes());
    put(&mut buf, DATA_START, &(HEADER as u32).to_ne_bytes());
    put(&mut buf, NAME, name.as_bytes());
    put(&mut buf, UUID, uuid.as_bytes());
    Ok(buf)
}

impl Control {
    pub(super) fn open() -> std::io::Result<Control> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(CONTROL)
            .map(Control)
    }

    fn ioctl(&self, request: u64, buf: &mut [u8]) -> std::io::Result<()> {
        // SAFETY: every dm ioctl reads and writes at most `data_size`
        // bytes at the pointer, and `header` set data_size to buf's
        // length; `buf` is alive and exclusively ours for the call.
        let rc = unsafe { libc::ioctl(self.0.as_raw_fd(), request as _, buf.as_mut_ptr()) };
        if rc < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Creates `name` with `uuid` and no table; its device number.
    pub(super) fn create(&self, name: &str, uuid: &str) -> std::io::Result<(u32, u32)> {
        let mut buf = header(name, uuid, 0)?;
        self.ioctl(DM_DEV_CREATE, &mut buf)?;
        let mut dev = [0u8; 8];
        dev.copy_from_slice(buf.get(DEV..DEV + 8).unwrap_or(&[0; 8]));
        let dev = u64::from_ne_bytes(dev);
        Ok((rustix::fs::major(dev), rustix::fs::minor(dev)))
    }

    /// Loads `lines` as `name`'s inactive table.
    pub(super) fn load(&self, name: &str, lines: &[Line], read_only: bool) -> std::io::Result<()> {
        let specs: Vec<Vec<u8>> = lines
            .iter()
            .map(|line| {
                // The parameters, NUL-terminated, padded to 8 bytes.
                let len = (SPEC + line.params.len() + 1).next_multiple_of(8);
                let mut spec = vec![0u8; len];
                put(&mut spec, 0, &line.start.to_ne_bytes());
                put(&mut spec, 8, &line.length.to_ne_bytes());
                put(&mut spec, 20, &(len as u32).to_ne_bytes());
                put(&mut spec, 24, line.kind.as_bytes());
                put(&mut spec, SPEC, line.params.as_bytes());
                spec
            })
            .collect();
        let mut buf = header(name, "", specs.iter().map(Vec::len).sum())?;
        let count = u32::try_from(lines.len())
            .map_err(|_| std::io::Error::from_raw_os_error(libc::E2BIG))?;
        put(&mut buf, TARGET_COUNT, &count.to_ne_bytes());
        if read_only {
            put(&mut buf, FLAGS, &DM_READONLY_FLAG.to_ne_bytes());
        }
        let mut at = HEADER;
        for spec in &specs {
            put(&mut buf, at, spec);
            at += spec.len();
        }
        self.ioctl(DM_TABLE_LOAD, &mut buf)
    }

    /// Makes the loaded table live.
    pub(super) fn resume(&self, name: &str) -> std::io::Result<()> {
        let mut buf = header(name, "", 0)?;
        self.ioctl(DM_DEV_SUSPEND, &mut buf)
    }

    /// Removes `name` (after a failed step).
    pub(super) fn remove(&self, name: &str) -> std::io::Result<()> {
        let mut buf = header(name, "", 0)?;
        self.ioctl(DM_DEV_REMOVE, &mut buf)
    }
}
