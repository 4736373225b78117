//! Hostile qcow2 images opened through `disk::open` with the format given,
//! and I/O on them compared with a plain-file reference.
//!
//! Each input picks one of three regimes:
//! - hostile, read-only: a valid empty image (our own layout) with
//!   fuzzer-chosen patches over any byte (header fields, extensions, L1,
//!   refcounts, backing name), or the input bytes as the whole file. Opening
//!   and reading must never panic or hang; two reads of one range agree.
//! - hostile, overlay: the same images under a copy-on-write overlay; every
//!   read must match a read-only view of the image plus the writes and
//!   discards done so far.
//! - valid, read-write (or overlay): an intact image, optionally over a raw
//!   backing file; every write, discard and read is done on a raw file too,
//!   and must read back the same, including after a flush and reopen.
//!
//! Backing names are followed (the format is explicit), so inputs whose
//! name is absolute or leaves the image's directory are skipped: the harness
//! must not read host files.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use disk::{open, BlockBackend, Format, OpenOptions, VolatileSlice};

const CLUSTER: usize = 1 << 16;
/// I/O stays in the first WINDOW bytes of the disk.
const WINDOW: u64 = 1 << 20;
const MAX_OPS: usize = 48;
const MAX_IO: u64 = 128 << 10;
const MAX_PATCHES: usize = 32;

/// Reads fuzz bytes as numbers; past the end, zeroes.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | u32::from(self.u16()) << 16
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn put32(img: &mut [u8], at: usize, v: u32) {
    img[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

fn put64(img: &mut [u8], at: usize, v: u64) {
    img[at..at + 8].copy_from_slice(&v.to_be_bytes());
}

/// A valid, empty qcow2 v3 image: 64 KiB clusters, header in cluster 0,
/// refcount table, refcount block and L1 table in clusters 1 to 3;
/// optionally backed by `backing` in `format`.
fn valid_image(size: u64, backing: Option<(&str, &str)>) -> Vec<u8> {
    let mut img = vec![0u8; 4 * CLUSTER];
    img[..4].copy_from_slice(b"QFI\xfb");
    put32(&mut img, 4, 3);
    put32(&mut img, 20, 16);
    put64(&mut img, 24, size);
    put32(&mut img, 36, size.div_ceil(512 << 20).max(1) as u32);
    put64(&mut img, 40, 3 * CLUSTER as u64);
    put64(&mut img, 48, CLUSTER as u64);
    put32(&mut img, 56, 1);
    put32(&mut img, 96, 4);
    put32(&mut img, 100, 104);
    if let Some((name, format)) = backing {
        put32(&mut img, 104, 0xe279_2aca);
        put32(&mut img, 108, format.len() as u32);
        img[112..112 + format.len()].copy_from_slice(format.as_bytes());
        put64(&mut img, 8, 2048);
        put32(&mut img, 16, name.len() as u32);
        img[2048..2048 + name.len()].copy_from_slice(name.as_bytes());
    }
    put64(&mut img, CLUSTER, 2 * CLUSTER as u64);
    for c in 0..4 {
        img[2 * CLUSTER + 2 * c + 1] = 1;
    }
    img
}

/// Whether the backing name the header gives stays in the image's directory.
fn backing_stays_local(img: &[u8]) -> bool {
    let be = |at: usize, n: usize| {
        img.get(at..at + n)
            .map(|b| b.iter().fold(0u64, |v, &x| v << 8 | u64::from(x)))
    };
    let (Some(offset), Some(len)) = (be(8, 8), be(16, 4)) else {
        return true;
    };
    if offset == 0 || len == 0 {
        return true;
    }
    let name = usize::try_from(offset)
        .ok()
        .and_then(|o| img.get(o..o.checked_add(len as usize)?));
    match name {
        Some(name) => {
            !name.starts_with(b"/") && !name.windows(2).any(|w| w == b"..") && !name.contains(&0)
        }
        // A name beyond the file cannot be read: the open fails.
        None => true,
    }
}

fn read(disk: &dyn BlockBackend, offset: u64, len: u64) -> Option<Vec<u8>> {
    let mut buf = vec![0xa5u8; len as usize];
    // Two slices, so vectored paths are exercised too.
    let (a, b) = buf.split_at_mut(len as usize / 2);
    disk.read_vectored(offset, &[VolatileSlice::from(a), VolatileSlice::from(b)])
        .ok()?;
    Some(buf)
}

fn write(disk: &dyn BlockBackend, offset: u64, data: &mut [u8]) -> bool {
    disk.write_vectored(offset, &[VolatileSlice::from(data)])
        .is_ok()
}

/// An I/O range inside the window of a `size`-byte disk.
fn range(input: &mut Input<'_>, size: u64, align: u64) -> (u64, u64) {
    let window = size.min(WINDOW);
    if window < align {
        return (0, 0);
    }
    let offset = (u64::from(input.u32()) % window) / align * align;
    let len = (u64::from(input.u32()) % MAX_IO.min(window - offset) + 1).div_ceil(align) * align;
    (offset, len.min(window - offset))
}

/// One directory for the whole run, with base.raw (a pattern) for backing
/// names to find: making them per input would cost more than the input.
fn work_dir() -> Option<&'static Path> {
    static DIR: OnceLock<Option<tempfile::TempDir>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().ok()?;
        let pattern: Vec<u8> = (0..WINDOW).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(dir.path().join("base.raw"), pattern).ok()?;
        Some(dir)
    })
    .as_ref()
    .map(|d| d.path())
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let Some(dir) = work_dir() else {
        return;
    };
    match input.u8() % 3 {
        0 => hostile(&mut input, dir, false),
        1 => hostile(&mut input, dir, true),
        _ => valid(&mut input, dir),
    }
});

/// A hostile image, read-only or under an overlay.
fn hostile(input: &mut Input<'_>, dir: &Path, overlay: bool) {
    let flags = input.u8();
    let mut img = if flags & 1 == 0 {
        let size = u64::from(input.u32()) * 512;
        let backing = match flags >> 1 & 3 {
            1 => Some(("base.raw", "raw")),
            2 => Some(("base.raw", "qcow2")),
            _ => None,
        };
        let mut img = valid_image(size, backing);
        for _ in 0..(input.u8() as usize % MAX_PATCHES) {
            let at = input.u32() as usize % img.len();
            let n = input.u8() as usize % 16 + 1;
            let patch = input.bytes(n).to_vec();
            let end = (at + patch.len()).min(img.len());
            img[at..end].copy_from_slice(&patch[..end - at]);
        }
        img
    } else {
        let len = input.u16() as usize * 16;
        input.bytes(len).to_vec()
    };
    if flags & 8 != 0 {
        // Grow the file: clusters the (patched) tables may point at.
        img.resize(img.len() + (flags as usize >> 4) * CLUSTER, 0x3c);
    }
    if !backing_stays_local(&img) {
        return;
    }
    let path = dir.join("image.qcow2");
    if std::fs::write(&path, &img).is_err() {
        return;
    }
    let read_only = OpenOptions {
        format: Some(Format::Qcow2),
        readonly: true,
        ..Default::default()
    };
    let Ok(view) = open(&path, &read_only) else {
        return;
    };
    let size = view.size();
    if !overlay {
        for _ in 0..MAX_OPS {
            if input.is_empty() {
                break;
            }
            let (offset, len) = range(input, size, 1);
            if len == 0 {
                break;
            }
            let first = read(view.as_ref(), offset, len);
            if first.is_some() {
                assert_eq!(first, read(view.as_ref(), offset, len), "reads differ");
            }
        }
        return;
    }
    let window = size.min(WINDOW);
    let Some(mut model) = read(view.as_ref(), 0, window) else {
        return;
    };
    let options = OpenOptions {
        readonly: false,
        overlay: true,
        tmpdir: Some(dir.to_path_buf()),
        ..read_only
    };
    let disk = open(&path, &options).expect("the read-only view opened, so must the overlay");
    run_ops(input, disk.as_ref(), &mut model, None);
}

/// An intact image, read-write or under an overlay, against a raw file.
fn valid(input: &mut Input<'_>, dir: &Path) {
    let flags = input.u8();
    let size = (u64::from(input.u16()) % (WINDOW / 512) + 1) * 512;
    let backed = flags & 1 != 0;
    let img = valid_image(size, backed.then_some(("base.raw", "raw")));
    let path = dir.join("image.qcow2");
    let reference = dir.join("reference.raw");
    let mut model = if backed {
        std::fs::read(dir.join("base.raw")).unwrap_or_default()
    } else {
        Vec::new()
    };
    model.resize(size as usize, 0);
    if std::fs::write(&path, &img).is_err() || std::fs::write(&reference, &model).is_err() {
        return;
    }
    let overlay = flags & 2 != 0;
    let options = OpenOptions {
        format: Some(Format::Qcow2),
        overlay,
        tmpdir: Some(dir.to_path_buf()),
        ..Default::default()
    };
    let disk = open(&path, &options).expect("a valid image opens");
    let raw_options = OpenOptions {
        format: Some(Format::Raw),
        ..Default::default()
    };
    let raw = open(&reference, &raw_options).expect("the reference opens");
    run_ops(input, disk.as_ref(), &mut model, Some(raw.as_ref()));
    if overlay {
        return;
    }
    disk.flush().expect("flush");
    drop(disk);
    let read_only = OpenOptions {
        format: Some(Format::Qcow2),
        readonly: true,
        ..Default::default()
    };
    let disk = open(&path, &read_only).expect("the image reopens");
    assert_eq!(
        read(disk.as_ref(), 0, size),
        Some(model),
        "data lost on reopen"
    );
}

/// Writes, discards and reads on `disk`, mirrored into `model` (the first
/// `model.len()` bytes of the disk) and on `raw`, and checked against both.
fn run_ops(
    input: &mut Input<'_>,
    disk: &dyn BlockBackend,
    model: &mut [u8],
    raw: Option<&dyn BlockBackend>,
) {
    let size = model.len() as u64;
    for _ in 0..MAX_OPS {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        // Sector-aligned I/O, as a guest's.
        let (offset, len) = range(input, size, 512);
        if len == 0 {
            break;
        }
        let span = offset as usize..(offset + len) as usize;
        match op % 3 {
            0 => {
                let seed = input.u8();
                let mut data: Vec<u8> = (0..len).map(|i| seed ^ (i as u8)).collect();
                assert!(write(disk, offset, &mut data.clone()), "write failed");
                if let Some(raw) = raw {
                    assert!(write(raw, offset, &mut data), "reference write failed");
                }
                model[span].copy_from_slice(&data);
            }
            1 => {
                disk.discard(offset, len).expect("discard failed");
                if let Some(raw) = raw {
                    raw.discard(offset, len).expect("reference discard failed");
                }
                model[span].fill(0);
            }
            _ => {
                let got = read(disk, offset, len).expect("read failed");
                assert!(
                    got[..] == model[span.clone()],
                    "read differs from the model"
                );
                if let Some(raw) = raw {
                    let want = read(raw, offset, len).expect("reference read failed");
                    assert!(got == want, "read differs from the raw file");
                }
            }
        }
    }
    let whole = read(disk, 0, size).expect("final read failed");
    assert!(whole[..] == model[..], "the disk differs from the model");
}
