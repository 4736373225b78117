//! The console copy on the host's disk (`VmConfig::console_file`). The
//! guest decides how much it prints, so a regular file is capped: once it
//! would grow past its limit, its last half is moved to the front behind a
//! marker line and the rest cut off. The file never exceeds the limit and
//! always ends with the newest output. Only the file the caller named is
//! touched (no rotated siblings). A terminal, pipe or other non-regular
//! file costs no disk and is written as it comes.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The default cap of a console file: 16 MiB.
pub const DEFAULT_CONSOLE_FILE_LIMIT: u64 = 16 << 20;
/// The smallest cap accepted (a cap must hold the marker and some output).
pub const MIN_CONSOLE_FILE_LIMIT: u64 = 4096;

/// Output is written in pieces of at most this size (flushed at newlines).
const BUFFER: usize = 8192;
/// Block size of the copy that moves the kept half to the front.
const COPY_BLOCK: usize = 64 * 1024;

const MARKER: &[u8] =
    b"[libguest: the console file reached its size limit; older output was dropped]\n";

/// A console file with its size cap.
pub struct ConsoleFile {
    file: File,
    path: PathBuf,
    /// Regular file: written at `len` with pwrite, capped.
    capped: bool,
    len: u64,
    limit: u64,
    pending: Vec<u8>,
    /// Set after the first write error, so a full disk is reported once.
    failed: bool,
}

impl ConsoleFile {
    /// Opens (or creates) `path`; existing content is kept and counts
    /// toward `limit` (raised to [`MIN_CONSOLE_FILE_LIMIT`] if below).
    pub fn open(path: &Path, limit: u64) -> std::io::Result<ConsoleFile> {
        // Read access: compaction reads the part it keeps. No O_APPEND:
        // Linux pwrite appends on such descriptors.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let meta = file.metadata()?;
        Ok(ConsoleFile {
            file,
            path: path.to_path_buf(),
            capped: meta.is_file(),
            len: meta.len(),
            limit: limit.max(MIN_CONSOLE_FILE_LIMIT),
            pending: Vec::with_capacity(BUFFER),
            failed: false,
        })
    }

    /// The file's path, as given to [`ConsoleFile::open`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Buffers `data`; writes it out at a newline or when the buffer is
    /// full. Errors are logged once and otherwise ignored: the file is a
    /// convenience copy, and a full disk must not stop the guest.
    pub fn write(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
        if self.pending.len() >= BUFFER || data.contains(&b'\n') {
            self.flush();
        }
    }

    /// Writes out buffered bytes now (also done at each newline); errors
    /// are handled as in [`ConsoleFile::write`].
    pub fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let data = std::mem::take(&mut self.pending);
        let result = if self.capped {
            self.write_capped(&data)
        } else {
            (&self.file).write_all(&data)
        };
        self.pending = data;
        self.pending.clear();
        if let Err(e) = result {
            if !self.failed {
                tracing::warn!("console file {}: {e}", self.path.display());
            }
            self.failed = true;
        }
    }

    fn write_capped(&mut self, mut data: &[u8]) -> std::io::Result<()> {
        let room = self.limit - MARKER.len() as u64;
        if data.len() as u64 > room / 2 {
            // More than the kept half at once: only its end survives anyway.
            data = &data[data.len() - (room / 2) as usize..];
        }
        if self.len + data.len() as u64 > self.limit {
            self.compact(room / 2 - data.len() as u64)?;
        }
        self.file.write_all_at(data, self.len)?;
        self.len += data.len() as u64;
        Ok(())
    }

    /// Moves the last `keep` bytes behind the marker at the front and cuts
    /// the file there. Copying forward is safe: the destination is always
    /// before the source.
    fn compact(&mut self, keep: u64) -> std::io::Result<()> {
        let keep = keep.min(self.len);
        let mut from = self.len - keep;
        self.file.write_all_at(MARKER, 0)?;
        let mut to = MARKER.len() as u64;
        let mut block = vec![0u8; COPY_BLOCK];
        while from < self.len {
            let n = (self.len - from).min(COPY_BLOCK as u64) as usize;
            self.file.read_exact_at(&mut block[..n], from)?;
            self.file.write_all_at(&block[..n], to)?;
            from += n as u64;
            to += n as u64;
        }
        self.file.set_len(to)?;
        self.len = to;
        Ok(())
    }
}

impl Drop for ConsoleFile {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(from: u64, to: u64) -> Vec<u8> {
        (from..to)
            .flat_map(|i| format!("line {i:08}\n").into_bytes())
            .collect()
    }

    #[test]
    fn a_guest_that_prints_forever_stays_under_the_cap_and_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("console.log");
        let limit = 64 * 1024;
        let mut f = ConsoleFile::open(&path, limit).unwrap();
        // 100x the limit, in console-sized pieces.
        for i in 0..(100 * limit / 14) {
            f.write(&lines(i, i + 1));
            assert!(f.len <= limit);
        }
        f.flush();
        let text = std::fs::read(&path).unwrap();
        assert!(text.len() as u64 <= limit, "{}", text.len());
        assert!(text.len() as u64 >= limit / 2 - MARKER.len() as u64);
        assert!(text.starts_with(MARKER));
        let last = 100 * limit / 14 - 1;
        assert!(text.ends_with(format!("line {last:08}\n").as_bytes()));
        // What follows the marker is contiguous output, not a splice.
        let body = String::from_utf8_lossy(&text[MARKER.len()..]).into_owned();
        let numbers: Vec<u64> = body
            .lines()
            .filter_map(|l| l.strip_prefix("line ").and_then(|n| n.parse().ok()))
            .collect();
        assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1));
    }

    #[test]
    fn existing_content_counts_and_one_huge_write_keeps_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("console.log");
        std::fs::write(&path, vec![b'x'; 10_000]).unwrap();
        let mut f = ConsoleFile::open(&path, 8192).unwrap();
        assert_eq!(f.len, 10_000);
        let big = lines(0, 10_000);
        f.write(&big);
        drop(f);
        let text = std::fs::read(&path).unwrap();
        assert!(text.len() <= 8192);
        assert!(text.starts_with(MARKER));
        assert!(!text.contains(&b'x'));
        assert!(text.ends_with(b"line 00009999\n"));
    }

    #[test]
    fn small_limits_are_raised_and_non_regular_files_are_not_capped() {
        let dir = tempfile::tempdir().unwrap();
        let f = ConsoleFile::open(&dir.path().join("c"), 1).unwrap();
        assert_eq!(f.limit, MIN_CONSOLE_FILE_LIMIT);
        let mut null = ConsoleFile::open(Path::new("/dev/null"), 4096).unwrap();
        assert!(!null.capped);
        null.write(&vec![b'y'; 1 << 20]);
        null.flush();
        assert!(!null.failed);
    }
}
