//! virtio-scsi device-model throughput, without KVM: READ(16) requests
//! through the mock queue into guest memory from a real raw file, next to
//! plain `pread` of the same file into a buffer, in the same run.
//!
//!     cargo bench -p libguest-benches --bench scsi
//!
//! For instruction counts per 4 KiB request (stable on noisy machines):
//!
//!     LIBGUEST_SCSI_CALLGRIND=10000 valgrind --tool=callgrind \
//!         --toggle-collect='*process_requests*' target/release/deps/scsi-*[!.d]
//!     # instructions per request = the total in callgrind.out.* / 10000

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vmm::testing::ScsiModel;

const FILE_SIZE: u64 = 256 << 20;
const SEQ_CHUNK: usize = 1 << 20;
const RAND_CHUNK: usize = 4096;
const RAND_OPS: usize = 50_000;

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn random_offsets(n: usize) -> Vec<u64> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let blocks = FILE_SIZE / RAND_CHUNK as u64;
    (0..n)
        .map(|_| (xorshift(&mut s) % blocks) * RAND_CHUNK as u64)
        .collect()
}

fn make_file() -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    let mut s = 1u64;
    let chunk: Vec<u8> = (0..SEQ_CHUNK / 8)
        .flat_map(|_| xorshift(&mut s).to_le_bytes())
        .collect();
    for _ in 0..FILE_SIZE / SEQ_CHUNK as u64 {
        f.write_all(&chunk).expect("write temp file");
    }
    f.flush().expect("flush");
    f
}

fn mib_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / d.as_secs_f64()
}

/// Best of `rounds` (the least disturbed run on a noisy machine).
fn best(rounds: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..rounds).map(|_| f()).min().unwrap_or_default()
}

fn main() {
    let file = make_file();
    let path = file.path();
    let raw = File::open(path).expect("open");
    let backend: Arc<dyn disk::BlockBackend> = Arc::from(
        disk::open(
            path,
            &disk::OpenOptions {
                format: Some(disk::Format::Raw),
                readonly: true,
                overlay: false,
                tmpdir: None,
                copy_on_read: false,
            },
        )
        .expect("open backend"),
    );
    let mut model = ScsiModel::new(backend);
    let offsets = random_offsets(RAND_OPS);

    if let Some(n) = std::env::var("LIBGUEST_SCSI_CALLGRIND")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
    {
        for &off in offsets.iter().cycle().take(n) {
            model.read(off / 512, (RAND_CHUNK / 512) as u32);
        }
        return;
    }

    // Warm the page cache so both sides read memory, not the disk.
    let mut buf = vec![0u8; SEQ_CHUNK];
    for i in 0..FILE_SIZE / SEQ_CHUNK as u64 {
        raw.read_exact_at(&mut buf, i * SEQ_CHUNK as u64)
            .expect("pread");
    }

    let pread_seq = best(5, || {
        let t = Instant::now();
        for i in 0..FILE_SIZE / SEQ_CHUNK as u64 {
            raw.read_exact_at(&mut buf, i * SEQ_CHUNK as u64)
                .expect("pread");
        }
        t.elapsed()
    });
    let model_seq = best(5, || {
        let t = Instant::now();
        for i in 0..FILE_SIZE / SEQ_CHUNK as u64 {
            assert_eq!(
                model.read(i * (SEQ_CHUNK / 512) as u64, (SEQ_CHUNK / 512) as u32),
                0
            );
        }
        t.elapsed()
    });
    let mut small = vec![0u8; RAND_CHUNK];
    let pread_rand = best(5, || {
        let t = Instant::now();
        for &off in &offsets {
            raw.read_exact_at(&mut small, off).expect("pread");
        }
        t.elapsed()
    });
    let model_rand = best(5, || {
        let t = Instant::now();
        for &off in &offsets {
            assert_eq!(model.read(off / 512, (RAND_CHUNK / 512) as u32), 0);
        }
        t.elapsed()
    });
    // The device really moved the file's bytes.
    let last = offsets[offsets.len() - 1];
    raw.read_exact_at(&mut small, last).expect("pread");
    assert!(
        model.data_in(RAND_CHUNK) == small,
        "device read other bytes than pread"
    );

    // Queue depth 32: one pass of the device serves 32 requests and raises
    // one interrupt, as with a guest that keeps several reads in flight.
    let batches: Vec<Vec<(u64, u32)>> = offsets
        .chunks(32)
        .map(|c| {
            c.iter()
                .map(|&o| (o / 512, (RAND_CHUNK / 512) as u32))
                .collect()
        })
        .collect();
    let model_rand_qd = best(5, || {
        let t = Instant::now();
        for b in &batches {
            assert_eq!(model.read_batch(b), b.len());
        }
        t.elapsed()
    });

    let seq_bytes = FILE_SIZE;
    let rand_bytes = (RAND_OPS * RAND_CHUNK) as u64;
    println!(
        "virtio-scsi device model vs pread, same {} MiB file (page cache warm), best of 5",
        FILE_SIZE >> 20
    );
    println!(
        "1 MiB sequential reads:  device {:>8.0} MiB/s   pread {:>8.0} MiB/s   ratio {:.2}",
        mib_per_s(seq_bytes, model_seq),
        mib_per_s(seq_bytes, pread_seq),
        pread_seq.as_secs_f64() / model_seq.as_secs_f64()
    );
    println!(
        "4 KiB random reads, QD1: device  {:>8.0} IOPS     pread {:>8.0} IOPS     ratio {:.2}",
        RAND_OPS as f64 / model_rand.as_secs_f64(),
        RAND_OPS as f64 / pread_rand.as_secs_f64(),
        pread_rand.as_secs_f64() / model_rand.as_secs_f64()
    );
    println!(
        "4 KiB random reads, QD32: device {:>8.0} IOPS     pread {:>8.0} IOPS     ratio {:.2}",
        RAND_OPS as f64 / model_rand_qd.as_secs_f64(),
        RAND_OPS as f64 / pread_rand.as_secs_f64(),
        pread_rand.as_secs_f64() / model_rand_qd.as_secs_f64()
    );
    let _ = rand_bytes;
}
