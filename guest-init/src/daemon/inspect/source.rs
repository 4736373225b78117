//! Positioned, bounded reads of a guest file (or of bytes in memory) for
//! the inspection parsers, so that a 200 MiB registry hive or rpm database
//! is never loaded whole into the appliance's memory. Uses nothing from
//! the crate: the fuzz targets include it with `#[path]`.

use std::io;

/// A file of known size, read at offsets.
pub trait ReadAt {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    /// The size, taken when the source was made.
    fn size(&self) -> u64;
}

/// Bytes in memory (tests, fuzzing).
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

/// An open regular file; its size is read once.
pub struct FileSource {
    file: std::fs::File,
    size: u64,
}

impl FileSource {
    pub fn new(file: std::fs::File) -> io::Result<FileSource> {
        let size = file.metadata()?.len();
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

/// Exactly `len` bytes at `offset`, or None (out of the file, a read
/// error). `len` is the caller's bound: callers check it first.
pub fn read_exact_at(src: &dyn ReadAt, offset: u64, len: usize) -> Option<Vec<u8>> {
    let end = offset.checked_add(len as u64)?;
    if end > src.size() {
        return None;
    }
    let mut buf = vec![0; len];
    let mut done = 0;
    while done < len {
        let rest = buf.get_mut(done..)?;
        match src.read_at(rest, offset + done as u64) {
            Ok(0) => return None,
            Ok(n) => done += n.min(len - done),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(buf)
}

/// Fixed-size fields of a byte slice; None when out of bounds.
pub fn le16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(off..off.checked_add(2)?)?.try_into().ok()?,
    ))
}

pub fn le32(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(off..off.checked_add(4)?)?.try_into().ok()?,
    ))
}

pub fn be16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        b.get(off..off.checked_add(2)?)?.try_into().ok()?,
    ))
}

pub fn be32(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(off..off.checked_add(4)?)?.try_into().ok()?,
    ))
}
