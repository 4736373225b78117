//! Round trips through the public API on real files; no VM involved.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use vm_memory::{GuestAddress, GuestMemoryBackend, GuestMemoryMmap};

use super::*;

const MIB: usize = 1 << 20;

fn guest_mem() -> GuestMemoryMmap<()> {
    GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 16 * MIB)]).unwrap()
}

/// Slices of the given lengths, laid out in guest memory from `base` with gaps between them.
fn slices<'a>(mem: &'a GuestMemoryMmap<()>, base: u64, lens: &[usize]) -> Vec<VolatileSlice<'a>> {
    let mut addr = base;
    lens.iter()
        .map(|&len| {
            let s = mem.get_slice(GuestAddress(addr), len).unwrap();
            addr += len as u64 + 64;
            s
        })
        .collect()
}

fn fill(bufs: &[VolatileSlice<'_>], data: &[u8]) {
    let mut pos = 0;
    for b in bufs {
        b.copy_from(&data[pos..pos + b.len()]);
        pos += b.len();
    }
    assert_eq!(pos, data.len());
}

fn collect(bufs: &[VolatileSlice<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for b in bufs {
        let mut v = vec![0u8; b.len()];
        b.copy_to(&mut v[..]);
        out.extend_from_slice(&v);
    }
    out
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 9) as u8)
        .collect()
}

/// Reads `len` bytes at `offset` through `lens`-sized slices (lens must sum to len).
fn read(disk: &dyn BlockBackend, offset: u64, lens: &[usize]) -> Vec<u8> {
    let mem = guest_mem();
    let bufs = slices(&mem, 0, lens);
    fill(&bufs, &vec![0xee; lens.iter().sum()]);
    disk.read_vectored(offset, &bufs).unwrap();
    collect(&bufs)
}

fn write(disk: &dyn BlockBackend, offset: u64, lens: &[usize], data: &[u8]) {
    let mem = guest_mem();
    let bufs = slices(&mem, 8 * MIB as u64, lens);
    fill(&bufs, data);
    disk.write_vectored(offset, &bufs).unwrap();
}

fn raw_image(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, data).unwrap();
    path
}

/// Backdates the mtime so that any write during the test would show.
fn backdate(path: &Path) -> SystemTime {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
    fs::metadata(path).unwrap().modified().unwrap()
}

fn qemu_img(args: &[&str]) -> Option<String> {
    let out = match Command::new("qemu-img").args(args).output() {
        Ok(out) => out,
        Err(_) => {
            eprintln!("note: qemu-img not found, skipping this qcow2 test");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "qemu-img {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn rw() -> OpenOptions {
    OpenOptions::default()
}

fn ro() -> OpenOptions {
    OpenOptions {
        readonly: true,
        ..Default::default()
    }
}

fn overlay() -> OpenOptions {
    OpenOptions {
        overlay: true,
        ..Default::default()
    }
}

/// `options` with the format given: how a caller vouches for a qcow2 backing chain.
pub(crate) fn qcow2(options: OpenOptions) -> OpenOptions {
    OpenOptions {
        format: Some(Format::Qcow2),
        ..options
    }
}

#[test]
fn backends_are_send_sync() {
    fn check<T: Send + Sync + ?Sized>() {}
    check::<dyn BlockBackend>();
    check::<raw::RawBackend>();
    check::<qcow2::Qcow2Backend>();
    check::<overlay::Overlay>();
}

#[test]
fn raw_round_trip_across_slices() {
    let dir = tempfile::tempdir().unwrap();
    let path = raw_image(dir.path(), "disk.raw", &pattern(MIB, 1));
    let disk = open(&path, &rw()).unwrap();
    assert_eq!(disk.size(), MIB as u64);
    assert!(!disk.is_read_only());
    assert!(disk.supports_discard());

    let data = pattern(7000, 9);
    write(disk.as_ref(), 4096 + 3, &[100, 4000, 2900], &data);
    assert_eq!(read(disk.as_ref(), 4096 + 3, &[7000]), data);
    assert_eq!(read(disk.as_ref(), 4096 + 3, &[1, 6998, 1]), data);
    // Neighbours untouched.
    let orig = pattern(MIB, 1);
    assert_eq!(read(disk.as_ref(), 0, &[4099]), orig[..4099]);
    disk.flush().unwrap();

    disk.discard(64 * 1024, 128 * 1024).unwrap();
    assert!(read(disk.as_ref(), 64 * 1024, &[128 * 1024])
        .iter()
        .all(|&b| b == 0));
    assert_eq!(
        read(disk.as_ref(), 192 * 1024, &[512]),
        orig[192 * 1024..192 * 1024 + 512]
    );
    drop(disk);

    let on_disk = fs::read(&path).unwrap();
    assert_eq!(&on_disk[4099..4099 + 7000], &data[..]);
    assert_eq!(on_disk.len(), MIB);
}

#[test]
fn raw_more_slices_than_iov_max() {
    let dir = tempfile::tempdir().unwrap();
    let path = raw_image(dir.path(), "disk.raw", &vec![0; MIB]);
    let disk = open(&path, &rw()).unwrap();
    let lens = vec![256; 2500];
    let data = pattern(256 * 2500, 3);
    write(disk.as_ref(), 512, &lens, &data);
    assert_eq!(read(disk.as_ref(), 512, &lens), data);
}

#[test]
fn raw_read_past_eof_is_zero() {
    let dir = tempfile::tempdir().unwrap();
    let path = raw_image(dir.path(), "disk.raw", &pattern(64 * 1024, 5));
    let disk = open(&path, &ro()).unwrap();
    // Someone shrinks the file under us: the missing tail reads as zeroes.
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(1000)
        .unwrap();
    let got = read(disk.as_ref(), 0, &[512, 1536]);
    assert_eq!(got[..1000], pattern(64 * 1024, 5)[..1000]);
    assert!(got[1000..].iter().all(|&b| b == 0));
}

#[test]
fn out_of_range_is_rejected() {
    let disk = scratch(64 * 1024).unwrap();
    let mem = guest_mem();
    let bufs = slices(&mem, 0, &[512, 512]);
    for offset in [63 * 1024 + 1, 64 * 1024, u64::MAX - 100] {
        assert!(matches!(
            disk.read_vectored(offset, &bufs),
            Err(DiskError::OutOfRange { .. })
        ));
        assert!(matches!(
            disk.write_vectored(offset, &bufs),
            Err(DiskError::OutOfRange { .. })
        ));
    }
    assert!(matches!(
        disk.discard(u64::MAX, 2),
        Err(DiskError::OutOfRange { .. })
    ));
    assert!(matches!(
        disk.discard(0, 64 * 1024 + 512),
        Err(DiskError::OutOfRange { .. })
    ));
    // Exactly up to the end is fine.
    disk.read_vectored(63 * 1024, &bufs).unwrap();
}

#[test]
fn readonly_refuses_writes_and_leaves_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let data = pattern(256 * 1024, 7);
    let path = raw_image(dir.path(), "disk.raw", &data);
    let mtime = backdate(&path);

    let disk = open(&path, &ro()).unwrap();
    assert!(disk.is_read_only());
    assert!(!disk.supports_discard());
    assert_eq!(read(disk.as_ref(), 1000, &[3000, 5000]), data[1000..9000]);
    let mem = guest_mem();
    let bufs = slices(&mem, 0, &[512]);
    assert!(matches!(
        disk.write_vectored(0, &bufs),
        Err(DiskError::ReadOnly)
    ));
    assert!(matches!(disk.discard(0, 512), Err(DiskError::ReadOnly)));
    disk.flush().unwrap();
    drop(disk);

    assert_eq!(fs::read(&path).unwrap(), data);
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), mtime);
}

#[test]
fn overlay_writes_visible_base_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let size = 512 * 1024 + 1536; // last chunk is short
    let data = pattern(size, 11);
    let path = raw_image(dir.path(), "disk.raw", &data);
    let mtime = backdate(&path);

    let disk = open(&path, &overlay()).unwrap();
    assert!(!disk.is_read_only());
    assert!(disk.supports_discard());
    let mut expect = data.clone();

    // Partial chunk at both ends, across slices.
    let w1 = pattern(10_000, 42);
    write(disk.as_ref(), 1000, &[3000, 7000], &w1);
    expect[1000..11_000].copy_from_slice(&w1);
    // A write inside one chunk, and one to the short last chunk.
    let w2 = pattern(100, 43);
    write(disk.as_ref(), 40_000, &[100], &w2);
    expect[40_000..40_100].copy_from_slice(&w2);
    let w3 = pattern(700, 44);
    write(disk.as_ref(), size as u64 - 700, &[700], &w3);
    expect[size - 700..].copy_from_slice(&w3);

    assert_eq!(read(disk.as_ref(), 0, &[size - 5000, 5000]), expect);

    // Discard: partial head, whole chunks, partial tail.
    disk.discard(100_000, 50_000).unwrap();
    expect[100_000..150_000].fill(0);
    disk.discard(size as u64 - 3000, 3000).unwrap();
    expect[size - 3000..].fill(0);
    assert_eq!(read(disk.as_ref(), 0, &[size]), expect);
    disk.flush().unwrap();
    drop(disk);

    assert_eq!(fs::read(&path).unwrap(), data);
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), mtime);
}

/// Reads skip a leaf of the chunk map with nothing in it: a read across
/// the 128 MiB leaf boundary, with written chunks on both sides and an
/// empty leaf after them, returns each byte from the side that holds it.
#[test]
fn overlay_reads_across_empty_and_written_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse.raw");
    let leaf = 128u64 << 20;
    let file = fs::File::create(&path).unwrap();
    file.set_len(3 * leaf).unwrap();
    let base = pattern(64 << 10, 5);
    std::os::unix::fs::FileExt::write_all_at(&file, &base, leaf - (32 << 10)).unwrap();
    drop(file);
    let disk = open(&path, &overlay()).unwrap();
    let near = leaf - (32 << 10);
    let mut expect = base.clone();
    let w1 = pattern(4096, 6);
    write(disk.as_ref(), leaf - 8192, &[4096], &w1);
    expect[(32 << 10) - 8192..(32 << 10) - 4096].copy_from_slice(&w1);
    let w2 = pattern(100, 7);
    write(disk.as_ref(), leaf + 5000, &[100], &w2);
    expect[(32 << 10) + 5000..(32 << 10) + 5100].copy_from_slice(&w2);
    assert_eq!(read(disk.as_ref(), near, &[40 << 10, 24 << 10]), expect);
    // The third leaf was never written: the base's zeroes, in one run.
    assert_eq!(
        read(disk.as_ref(), 2 * leaf - 4096, &[1 << 20]),
        vec![0u8; 1 << 20]
    );
}

#[test]
fn overlay_concurrent_writes_to_one_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let path = raw_image(dir.path(), "disk.raw", &vec![0xaa; 64 * 1024]);
    let disk: std::sync::Arc<dyn BlockBackend> = open(&path, &overlay()).unwrap().into();
    // Eight threads write the eight sectors of chunk 1, each needing a copy-up.
    let threads: Vec<_> = (0..8u8)
        .map(|i| {
            let disk = disk.clone();
            std::thread::spawn(move || {
                let mut buf = vec![i + 1; 512];
                let slice = VolatileSlice::from(buf.as_mut_slice());
                disk.write_vectored(4096 + u64::from(i) * 512, &[slice])
                    .unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let got = read(disk.as_ref(), 4096, &[4096]);
    for i in 0..8 {
        assert!(got[i * 512..(i + 1) * 512]
            .iter()
            .all(|&b| b == i as u8 + 1));
    }
    assert!(read(disk.as_ref(), 0, &[4096]).iter().all(|&b| b == 0xaa));
}

#[test]
fn readonly_wins_over_overlay() {
    let dir = tempfile::tempdir().unwrap();
    let path = raw_image(dir.path(), "disk.raw", &vec![0; 4096]);
    let opts = OpenOptions {
        readonly: true,
        overlay: true,
        ..Default::default()
    };
    assert!(open(&path, &opts).unwrap().is_read_only());
}

#[test]
fn scratch_is_blank_sized_and_writable() {
    let disk = scratch(8 * MIB as u64).unwrap();
    assert_eq!(disk.size(), 8 * MIB as u64);
    assert!(!disk.is_read_only());
    assert!(read(disk.as_ref(), 7 * MIB as u64, &[MIB])
        .iter()
        .all(|&b| b == 0));
    let data = pattern(4096, 1);
    write(disk.as_ref(), 512, &[4096], &data);
    assert_eq!(read(disk.as_ref(), 512, &[2048, 2048]), data);
    disk.flush().unwrap();
    assert!(matches!(scratch(0), Err(DiskError::InvalidSize(0))));
    assert!(matches!(scratch(513), Err(DiskError::InvalidSize(513))));
}

#[test]
fn detect_format_and_explicit_raw_is_never_probed() {
    let dir = tempfile::tempdir().unwrap();
    let plain = raw_image(dir.path(), "plain.raw", &pattern(4096, 0));
    assert_eq!(detect_format(&plain).unwrap(), Format::Raw);

    // Shorter than any qcow2 header: raw, even with the magic.
    let short = raw_image(dir.path(), "short.raw", b"QFI\xfb\0\0\0\x03");
    assert_eq!(detect_format(&short).unwrap(), Format::Raw);
    let empty = raw_image(dir.path(), "empty.raw", b"");
    assert_eq!(detect_format(&empty).unwrap(), Format::Raw);

    // A raw disk whose guest wrote the qcow2 magic at sector 0.
    let mut evil = pattern(64 * 1024, 2);
    evil[..4].copy_from_slice(b"QFI\xfb");
    let evil_path = raw_image(dir.path(), "evil.raw", &evil);
    assert_eq!(detect_format(&evil_path).unwrap(), Format::Qcow2);
    let opts = OpenOptions {
        format: Some(Format::Raw),
        ..Default::default()
    };
    let disk = open(&evil_path, &opts).unwrap();
    assert_eq!(disk.size(), evil.len() as u64);
    assert_eq!(read(disk.as_ref(), 0, &[evil.len()]), evil);

    assert!(matches!(
        detect_format(&dir.path().join("missing")),
        Err(DiskError::NotFound { .. })
    ));
    assert_eq!("qcow2".parse::<Format>().unwrap(), Format::Qcow2);
    assert!(matches!(
        "vmdk".parse::<Format>(),
        Err(DiskError::UnknownFormat(_))
    ));

    let Some(_) = qemu_img(&["--version"]) else {
        return;
    };
    let q = dir.path().join("d.qcow2");
    qemu_img(&["create", "-q", "-f", "qcow2", q.to_str().unwrap(), "1M"]);
    assert_eq!(detect_format(&q).unwrap(), Format::Qcow2);
}

#[test]
fn open_errors_name_the_file_and_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.img");
    let err = open(&missing, &rw()).unwrap_err();
    assert!(matches!(err, DiskError::NotFound { .. }));
    assert!(err.to_string().contains("nope.img"), "{err}");

    let err = open(dir.path(), &ro()).unwrap_err();
    assert!(matches!(err, DiskError::NotADisk { .. }), "{err}");

    // Root bypasses file permissions, so check the classification directly.
    let denied = std::io::Error::from_raw_os_error(libc::EACCES);
    let err = DiskError::open(Path::new("/x/disk.img"), true, denied);
    assert!(matches!(err, DiskError::PermissionDenied { .. }));
    assert!(err.to_string().contains("/x/disk.img"));
    assert!(err.to_string().contains("read-only"), "{err}");
    let rofs = std::io::Error::from_raw_os_error(libc::EROFS);
    assert!(matches!(
        DiskError::open(Path::new("/x"), true, rofs),
        DiskError::PermissionDenied { .. }
    ));
}

#[test]
fn corrupt_qcow2_header_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let qcow2 = Some(Format::Qcow2);
    let opts = OpenOptions {
        format: qcow2,
        ..Default::default()
    };

    let mut bad_version = vec![0u8; 4096];
    bad_version[..8].copy_from_slice(b"QFI\xfb\0\0\0\x63");
    let path = raw_image(dir.path(), "badversion.qcow2", &bad_version);
    let err = open(&path, &opts).unwrap_err();
    assert!(matches!(err, DiskError::Qcow2 { .. }), "{err}");
    assert!(err.to_string().contains("badversion.qcow2"), "{err}");
    assert!(err.to_string().contains("version 99"), "{err}");

    // Auto-detected as qcow2 (magic), garbage everywhere else.
    let mut garbage = pattern(4096, 77);
    garbage[..8].copy_from_slice(b"QFI\xfb\0\0\0\x03");
    let path = raw_image(dir.path(), "garbage.img", &garbage);
    let err = open(&path, &rw()).unwrap_err();
    assert!(matches!(err, DiskError::Qcow2 { .. }), "{err}");
    assert!(err.to_string().contains("garbage.img"), "{err}");

    let path = raw_image(dir.path(), "notqcow2.img", &[0u8; 4096]);
    let err = open(&path, &opts).unwrap_err();
    assert!(err.to_string().contains("notqcow2.img"), "{err}");

    let Some(_) = qemu_img(&["--version"]) else {
        return;
    };
    // A real image whose L1 table offset points far outside the file.
    let q = dir.path().join("badl1.qcow2");
    qemu_img(&["create", "-q", "-f", "qcow2", q.to_str().unwrap(), "16M"]);
    let mut bytes = fs::read(&q).unwrap();
    bytes[40..48].copy_from_slice(&0x7fff_ffff_ff00_0000u64.to_be_bytes());
    fs::write(&q, &bytes).unwrap();
    let err = open(&q, &rw()).unwrap_err();
    assert!(matches!(err, DiskError::Qcow2 { .. }), "{err}");
    assert!(err.to_string().contains("badl1.qcow2"), "{err}");
}

#[test]
fn qcow2_round_trip_passes_qemu_img_check() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("d.qcow2");
    let Some(_) = qemu_img(&["create", "-q", "-f", "qcow2", q.to_str().unwrap(), "16M"]) else {
        return;
    };
    let disk = open(&q, &rw()).unwrap();
    assert_eq!(disk.size(), 16 * MIB as u64);
    assert!(disk.supports_discard());
    assert!(read(disk.as_ref(), 0, &[MIB]).iter().all(|&b| b == 0));

    let a = pattern(200_000, 21);
    write(disk.as_ref(), 70_000, &[1000, 99_000, 100_000], &a);
    let b = pattern(4096, 22);
    write(disk.as_ref(), 15 * MIB as u64, &[4096], &b);
    assert_eq!(read(disk.as_ref(), 70_000, &[200_000]), a);
    assert_eq!(read(disk.as_ref(), 15 * MIB as u64, &[1024, 3072]), b);

    disk.discard(2 * MIB as u64, 2 * MIB as u64).unwrap();
    let c = pattern(3 * MIB, 23);
    write(disk.as_ref(), 2 * MIB as u64, &[3 * MIB], &c);
    disk.discard(3 * MIB as u64, MIB as u64).unwrap();
    let got = read(disk.as_ref(), 2 * MIB as u64, &[3 * MIB]);
    assert_eq!(got[..MIB], c[..MIB]);
    assert!(got[MIB..2 * MIB].iter().all(|&x| x == 0));
    assert_eq!(got[2 * MIB..], c[2 * MIB..]);
    disk.flush().unwrap();
    drop(disk);

    qemu_img(&["check", "-q", q.to_str().unwrap()]);
    // Another reader sees the same bytes.
    let raw = dir.path().join("d.raw");
    qemu_img(&[
        "convert",
        "-O",
        "raw",
        q.to_str().unwrap(),
        raw.to_str().unwrap(),
    ]);
    let flat = fs::read(&raw).unwrap();
    assert_eq!(flat[70_000..270_000], a);
    assert_eq!(flat[15 * MIB..15 * MIB + 4096], b);
    assert!(flat[3 * MIB..4 * MIB].iter().all(|&x| x == 0));

    // Read-only: writes refused, reads work, file untouched.
    let before = fs::read(&q).unwrap();
    let mtime = backdate(&q);
    let disk = open(&q, &ro()).unwrap();
    assert!(disk.is_read_only());
    assert_eq!(read(disk.as_ref(), 70_000, &[200_000]), a);
    let mem = guest_mem();
    assert!(matches!(
        disk.write_vectored(0, &slices(&mem, 0, &[512])),
        Err(DiskError::ReadOnly)
    ));
    drop(disk);
    assert_eq!(fs::read(&q).unwrap(), before);
    assert_eq!(fs::metadata(&q).unwrap().modified().unwrap(), mtime);
}

#[test]
fn qcow2_over_raw_backing_writes_land_in_top() {
    let dir = tempfile::tempdir().unwrap();
    let base_data = pattern(4 * MIB, 31);
    let base = raw_image(dir.path(), "base.raw", &base_data);
    let top = dir.path().join("top.qcow2");
    let created = qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        "base.raw",
        "-F",
        "raw",
        top.to_str().unwrap(),
    ]);
    if created.is_none() {
        return;
    }
    let base_mtime = backdate(&base);

    let disk = open(&top, &qcow2(rw())).unwrap();
    assert_eq!(disk.size(), 4 * MIB as u64);
    assert_eq!(read(disk.as_ref(), 0, &[MIB, 3 * MIB]), base_data);
    let w = pattern(5000, 32);
    write(disk.as_ref(), 65_000, &[5000], &w);
    let mut expect = base_data.clone();
    expect[65_000..70_000].copy_from_slice(&w);
    assert_eq!(read(disk.as_ref(), 0, &[4 * MIB]), expect);
    disk.flush().unwrap();
    drop(disk);

    assert_eq!(fs::read(&base).unwrap(), base_data);
    assert_eq!(fs::metadata(&base).unwrap().modified().unwrap(), base_mtime);
    qemu_img(&["check", "-q", top.to_str().unwrap()]);

    // Overlay over the qcow2 chain: writable for the guest, top and base left alone.
    let top_bytes = fs::read(&top).unwrap();
    let disk = open(&top, &qcow2(overlay())).unwrap();
    write(disk.as_ref(), 0, &[512], &[0x55; 512]);
    assert_eq!(read(disk.as_ref(), 0, &[512]), vec![0x55; 512]);
    assert_eq!(read(disk.as_ref(), 65_000, &[5000]), w);
    drop(disk);
    assert_eq!(fs::read(&top).unwrap(), top_bytes);
    assert_eq!(fs::read(&base).unwrap(), base_data);
}

#[test]
fn qcow2_over_qcow2_backing() {
    let dir = tempfile::tempdir().unwrap();
    let mid = dir.path().join("mid.qcow2");
    let top = dir.path().join("top.qcow2");
    if qemu_img(&["create", "-q", "-f", "qcow2", mid.to_str().unwrap(), "1M"]).is_none() {
        return;
    }
    let disk = open(&mid, &rw()).unwrap();
    write(disk.as_ref(), 4096, &[512], &[0x77; 512]);
    drop(disk);
    let mid_name = mid.to_str().unwrap();
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        mid_name,
        "-F",
        "qcow2",
        top.to_str().unwrap(),
    ]);
    let disk = open(&top, &qcow2(rw())).unwrap();
    assert_eq!(read(disk.as_ref(), 4096, &[512]), vec![0x77; 512]);
}

#[test]
fn missing_backing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let base = raw_image(dir.path(), "gone-base.raw", &vec![0; MIB]);
    let top = dir.path().join("top.qcow2");
    let created = qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        base.to_str().unwrap(),
        "-F",
        "raw",
        top.to_str().unwrap(),
    ]);
    if created.is_none() {
        return;
    }
    fs::remove_file(&base).unwrap();
    for opts in [qcow2(rw()), qcow2(ro()), qcow2(overlay())] {
        let err = open(&top, &opts).unwrap_err();
        assert!(matches!(err, DiskError::Backing { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("gone-base.raw") && msg.contains("top.qcow2"),
            "{msg}"
        );
    }
}

/// The depth-0 (top image) data ranges `qemu-img map` reports, as (start, length), adjacent
/// ones merged.
fn top_data_ranges(image: &Path) -> Option<Vec<(u64, u64)>> {
    let out = qemu_img(&["map", "--output=json", image.to_str()?])?;
    let map: Vec<serde_json::Value> = serde_json::from_str(&out).ok()?;
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    let top = map.iter().filter(|e| e["depth"] == 0 && e["data"] == true);
    for (start, len) in top.filter_map(|e| Some((e["start"].as_u64()?, e["length"].as_u64()?))) {
        match ranges.last_mut() {
            Some((s, l)) if *s + *l == start => *l += len,
            _ => ranges.push((start, len)),
        }
    }
    Some(ranges)
}

/// libguestfs's `copyonread`: what a read finds in the backing file is written into the
/// top, the data stays the same, a write inside the copied range is kept, and the
/// backing file is untouched. Without it, reads leave the top empty.
#[test]
fn qcow2_copy_on_read_fills_the_top_from_its_backing_file() {
    let dir = tempfile::tempdir().unwrap();
    let base_data = pattern(4 * MIB, 41);
    let base = raw_image(dir.path(), "base.raw", &base_data);
    let top = dir.path().join("top.qcow2");
    let create = ["create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw"];
    if qemu_img(&[&create[..], &[top.to_str().unwrap()]].concat()).is_none() {
        return;
    }
    let base_mtime = backdate(&base);

    let disk = open(&top, &qcow2(rw())).unwrap();
    assert_eq!(
        read(disk.as_ref(), MIB as u64, &[MIB]),
        base_data[MIB..2 * MIB]
    );
    drop(disk);
    assert_eq!(
        top_data_ranges(&top).unwrap(),
        vec![],
        "a plain read copied"
    );

    let cor = OpenOptions {
        copy_on_read: true,
        ..qcow2(rw())
    };
    let disk = open(&top, &cor).unwrap();
    assert_eq!(
        read(disk.as_ref(), MIB as u64, &[4096, MIB - 4096]),
        base_data[MIB..2 * MIB]
    );
    let w = pattern(3000, 42);
    write(disk.as_ref(), 1_500_000, &[3000], &w);
    // Read again: served by the top now, with the write in it.
    let mut expect = base_data.clone();
    expect[1_500_000..1_503_000].copy_from_slice(&w);
    assert_eq!(read(disk.as_ref(), 0, &[4 * MIB]), expect);
    disk.flush().unwrap();
    drop(disk);

    // The whole disk was read once: all of it is in the top.
    assert_eq!(top_data_ranges(&top).unwrap(), vec![(0, 4 * MIB as u64)]);
    assert!(qemu_img(&["check", "-q", top.to_str().unwrap()]).is_some());
    assert_eq!(fs::read(&base).unwrap(), base_data);
    assert_eq!(fs::metadata(&base).unwrap().modified().unwrap(), base_mtime);
    // The top alone now holds the data: a changed backing file no longer shows through.
    fs::write(&base, pattern(4 * MIB, 43)).unwrap();
    let disk = open(&top, &qcow2(rw())).unwrap();
    assert_eq!(read(disk.as_ref(), 0, &[4 * MIB]), expect);
}

/// Copy-on-read on an overlay keeps what the guest read in the overlay's store: a change
/// to the image underneath afterwards no longer shows, while unread parts still come
/// from the image, and the image itself is never written.
#[test]
fn overlay_copy_on_read_keeps_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let data = pattern(2 * MIB, 44);
    let base = raw_image(dir.path(), "base.raw", &data);
    let options = OpenOptions {
        copy_on_read: true,
        ..overlay()
    };
    let disk = open(&base, &options).unwrap();
    // Unaligned: the chunks around it are copied whole.
    assert_eq!(read(disk.as_ref(), 5000, &[10_000]), data[5000..15_000]);
    assert_eq!(fs::read(&base).unwrap(), data);
    let changed = pattern(2 * MIB, 45);
    fs::write(&base, &changed).unwrap();
    assert_eq!(read(disk.as_ref(), 4096, &[12_288]), data[4096..16_384]);
    assert_eq!(read(disk.as_ref(), 0, &[4096]), changed[..4096]);
    assert_eq!(
        read(disk.as_ref(), MIB as u64, &[4096]),
        changed[MIB..MIB + 4096]
    );
}
