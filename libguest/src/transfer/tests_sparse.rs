//! Sparse entries cost their stored data, not their apparent size: GNU
//! sparse headers built by hand (the map in the header and in extension
//! blocks), huge holes, the size limit, and stopping an endless entry.
//! Each case runs on a thread with a generous deadline, so a regression
//! that reads holes fails instead of hanging the test run.

use std::fs;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use tar::{EntryType, GnuExtSparseHeader, Header};

use super::tests_support::*;
use super::{TransferError, UnpackOptions, DEFAULT_MAX_SPARSE_SIZE};

/// A GNU sparse entry (type `S`) of apparent size `real_size` holding
/// `segments` (offset, data); every segment but the last must be a
/// multiple of 512 bytes long, as tar writes them.
fn gnu_sparse(name: &[u8], real_size: u64, segments: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut h = Header::new_gnu();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_entry_type(EntryType::GNUSparse);
    h.set_mode(0o644);
    h.set_mtime(1_500_000_000);
    h.set_size(segments.iter().map(|(_, d)| d.len() as u64).sum());
    let gnu = h.as_gnu_mut().unwrap();
    gnu.set_real_size(real_size);
    for (slot, (offset, data)) in gnu.sparse.iter_mut().zip(segments) {
        slot.set_offset(*offset);
        slot.set_length(data.len() as u64);
    }
    let rest: Vec<_> = segments.iter().skip(4).collect();
    gnu.set_is_extended(!rest.is_empty());
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    let chunks: Vec<_> = rest.chunks(21).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let mut ext = GnuExtSparseHeader::new();
        for (slot, (offset, data)) in ext.sparse_mut().iter_mut().zip(chunk.iter()) {
            slot.set_offset(*offset);
            slot.set_length(data.len() as u64);
        }
        ext.set_is_extended(i + 1 < chunks.len());
        out.extend_from_slice(ext.as_bytes());
    }
    for (_, data) in segments {
        out.extend_from_slice(data);
    }
    out.resize(out.len().next_multiple_of(512), 0);
    out
}

/// Runs `f` on a thread; fails if it takes longer than `limit` (it would
/// take hours or years if holes were read).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .expect("the unpacker is still busy: it is reading holes or ignoring the stop check")
}

/// Options that count the entry data the unpacker processes.
fn counted(max_sparse_size: u64) -> (UnpackOptions, Arc<AtomicU64>) {
    let seen = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&seen);
    let opts = UnpackOptions {
        max_sparse_size,
        stop: Some(Arc::new(move |n| {
            counter.store(n, Ordering::Relaxed);
            false
        })),
        ..UnpackOptions::default()
    };
    (opts, seen)
}

#[test]
fn a_2_pow_60_byte_sparse_entry_is_refused_at_once() {
    let result = within(Duration::from_secs(20), || {
        let sb = Sandbox::new();
        let entry = gnu_sparse(b"huge", 1 << 60, &[((1 << 60) - 4, b"tail".to_vec())]);
        let (opts, seen) = counted(DEFAULT_MAX_SPARSE_SIZE);
        let result = sb.unpack_opts(&archive(&[entry]), &opts);
        assert!(names(&sb.dest).is_empty(), "{:?}", names(&sb.dest));
        (
            result.map_err(|e| e.to_string()),
            seen.load(Ordering::Relaxed),
        )
    });
    match result {
        (Err(e), 0) => {
            assert!(e.contains("huge") && e.contains("max_sparse_size"), "{e}");
            assert!(e.contains(&(1u64 << 60).to_string()), "{e}");
        }
        other => panic!("expected a refusal before any data, got {other:?}"),
    }
}

#[test]
fn a_terabyte_of_holes_costs_its_four_bytes() {
    let (len, seen, blocks, tail, head, summary) = within(Duration::from_secs(30), || {
        let sb = Sandbox::new();
        let real = 1u64 << 40;
        let entry = gnu_sparse(b"tb", real, &[(real - 4, b"tail".to_vec())]);
        let (opts, seen) = counted(DEFAULT_MAX_SPARSE_SIZE);
        let summary = sb.unpack_opts(&archive(&[entry]), &opts).unwrap();
        let file = fs::File::open(sb.dest.join("tb")).unwrap();
        let meta = file.metadata().unwrap();
        let (mut tail, mut head) = ([0u8; 4], [1u8; 4]);
        file.read_exact_at(&mut tail, real - 4).unwrap();
        file.read_exact_at(&mut head, 0).unwrap();
        sb.assert_untouched();
        (
            meta.len(),
            seen.load(Ordering::Relaxed),
            meta.blocks(),
            tail,
            head,
            summary,
        )
    });
    assert_eq!(len, 1 << 40);
    assert_eq!(seen, 4, "only the stored data is processed");
    assert!(blocks * 512 < 1 << 20, "holes were written out");
    assert_eq!((&tail, head), (b"tail", [0; 4]));
    assert_eq!((summary.files, summary.bytes), (1, 1 << 40));
}

#[test]
fn an_extended_sparse_map_is_followed() {
    let sb = Sandbox::new();
    // 30 segments and the empty one that marks the end, as tar writes
    // it: 4 in the header, 21 and 6 in two extension blocks.
    let real = 31 << 20;
    let mut segments: Vec<(u64, Vec<u8>)> = (0..30u64)
        .map(|i| (i << 20, vec![i as u8 + 1; 512]))
        .collect();
    segments.push((real, Vec::new()));
    let entry = gnu_sparse(b"many", real, &segments);
    let after = file(b"after", b"next entry");
    let s = sb.unpack(&archive(&[entry, after])).unwrap();
    assert_eq!((s.files, s.bytes), (2, real + 10));
    let data = fs::read(sb.dest.join("many")).unwrap();
    assert_eq!(data.len() as u64, real);
    for (offset, bytes) in &segments[..30] {
        let at = *offset as usize;
        assert_eq!(&data[at..at + 512], &bytes[..], "segment at {offset}");
        assert!(data[at + 512..at + (1 << 20)].iter().all(|&b| b == 0));
    }
    // The stream stayed in step: the entry after it is whole.
    assert_eq!(fs::read(sb.dest.join("after")).unwrap(), b"next entry");
    sb.assert_untouched();
}

#[test]
fn the_sparse_limit_is_an_option() {
    let sb = Sandbox::new();
    let entry = gnu_sparse(b"big", 8 << 20, &[(0, vec![7; 512]), (8 << 20, vec![])]);
    let small = UnpackOptions {
        max_sparse_size: 1 << 20,
        ..UnpackOptions::default()
    };
    let err = sb
        .unpack_opts(&archive(std::slice::from_ref(&entry)), &small)
        .unwrap_err();
    assert!(
        matches!(&err, TransferError::SparseTooLarge { size, limit, .. } if *size == 8 << 20 && *limit == 1 << 20),
        "{err}"
    );
    let exact = UnpackOptions {
        max_sparse_size: 8 << 20,
        ..UnpackOptions::default()
    };
    sb.unpack_opts(&archive(&[entry]), &exact).unwrap();
    assert_eq!(fs::metadata(sb.dest.join("big")).unwrap().len(), 8 << 20);
}

#[test]
fn a_bad_sparse_map_is_an_error_not_a_hang() {
    let sb = Sandbox::new();
    // Segments out of order: the crate and our map reader both refuse.
    let entry = gnu_sparse(b"bad", 4096, &[(2048, vec![1; 512]), (0, vec![2; 512])]);
    assert!(sb.unpack(&archive(&[entry])).is_err());
    sb.assert_untouched();
}

/// An entry whose data never ends: the stop check ends the extraction.
#[test]
fn the_stop_check_stops_an_endless_entry() {
    let result = within(Duration::from_secs(60), || {
        let sb = Sandbox::new();
        let mut h = Header::new_gnu();
        h.set_path("endless").unwrap();
        h.set_size(1 << 40);
        h.set_cksum();
        let endless = std::io::Read::chain(&h.as_bytes()[..], std::io::repeat(1));
        let opts = UnpackOptions {
            stop: Some(Arc::new(|n| n > 4 << 20)),
            ..UnpackOptions::default()
        };
        let result = super::unpack_into_opts(endless, &sb.dest, &opts);
        let len = fs::metadata(sb.dest.join("endless")).unwrap().len();
        (result.map_err(|e| e.to_string()), len)
    });
    match result {
        (Err(e), len) if e.contains("stopped") => assert!(len <= 5 << 20, "{len}"),
        other => panic!("expected a stop, got {other:?}"),
    }
}
