//! Positioned, bounded reads of a device, a guest file or bytes in
//! memory, so that a 200 MiB registry hive or rpm database is never
//! loaded whole into the appliance's memory, and a parser only ever asks
//! for the pieces it bounds itself.

use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::FileTypeExt;

/// A source of known size, read at offsets: the one reader every parser
/// of this crate takes.
pub trait ReadAt {
    /// Reads up to `buf.len()` bytes at `offset`, as `pread(2)`: fewer
    /// at the end of the source, 0 past it.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    /// The size in bytes, taken when the source was made.
    fn size(&self) -> u64;
}

/// Bytes in memory (tests, fuzzing): `probe(&bytes.as_slice())`.
impl ReadAt for &[u8] {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let start = usize::try_from(offset).map_or(self.len(), |o| o.min(self.len()));
        let src = self.get(start..).unwrap_or_default();
        let n = buf.len().min(src.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), src.get(..n)) {
            dst.copy_from_slice(src);
        }
        Ok(n)
    }

    fn size(&self) -> u64 {
        self.len() as u64
    }
}

/// An open regular file or block device; its size is read once.
pub struct FileSource {
    file: File,
    size: u64,
}

impl FileSource {
    /// Takes the size from the file's metadata, or for a block device
    /// (whose metadata says 0) by seeking to its end. Reads are
    /// positioned, so the file offset left there does not matter.
    pub fn new(mut file: File) -> io::Result<FileSource> {
        let meta = file.metadata()?;
        let size = if meta.file_type().is_block_device() {
            file.seek(SeekFrom::End(0))?
        } else {
            meta.len()
        };
        Ok(FileSource { file, size })
    }
}

impl ReadAt for FileSource {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(&self.file, buf, offset)
    }

    fn size(&self) -> u64 {
        self.size
    }
}

/// Up to `len` bytes from `offset`: shorter only at the end of the
/// source; a read error is returned. `len` is the caller's bound: callers
/// check it first.
pub fn read_up_to(src: &dyn ReadAt, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; len];
    let mut done = 0;
    while done < len {
        let Some(pos) = offset.checked_add(done as u64) else {
            break;
        };
        let Some(rest) = buf.get_mut(done..) else {
            break;
        };
        match src.read_at(rest, pos) {
            Ok(0) => break,
            Ok(n) => done += n.min(len - done),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(done);
    Ok(buf)
}

/// Exactly `len` bytes at `offset`, or None (out of the source, a read
/// error). Nothing is allocated for a range past the source's size.
pub fn read_exact_at(src: &dyn ReadAt, offset: u64, len: usize) -> Option<Vec<u8>> {
    let end = offset.checked_add(len as u64)?;
    if end > src.size() {
        return None;
    }
    read_up_to(src, offset, len)
        .ok()
        .filter(|buf| buf.len() == len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_at_the_end() {
        let bytes: &[u8] = b"0123456789";
        assert_eq!(read_up_to(&bytes, 8, 4).unwrap(), b"89");
        assert_eq!(read_up_to(&bytes, u64::MAX, 4).unwrap(), b"");
        assert_eq!(read_exact_at(&bytes, 2, 3).unwrap(), b"234");
        assert_eq!(read_exact_at(&bytes, 8, 4), None);
        assert_eq!(read_exact_at(&bytes, u64::MAX, 1), None);
    }

    #[test]
    fn a_file_source_knows_its_size() {
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, b"hello").unwrap();
        let src = FileSource::new(file).unwrap();
        assert_eq!(src.size(), 5);
        assert_eq!(read_exact_at(&src, 1, 4).unwrap(), b"ello");
    }
}
