//! GNU sparse entries (type `S`). The tar crate serves their holes as
//! `io::repeat(0)` readers, so reading such an entry costs its apparent
//! size: a 2 KiB entry claiming 2^60 bytes would pin a core for about a
//! year. extract.rs therefore never reads a sparse entry through the crate:
//! it takes the map from here (the four slots in the header, then the
//! extension blocks the crate read and the stream recorded), reads each
//! segment's data past the crate and writes it at its offset, so a hole
//! costs nothing.
//!
//! (pax sparse formats, `GNU.sparse.*` records, are not expanded by the
//! crate: their data, map included, is extracted as a plain file, which
//! costs what the data costs.)

use tar::{GnuExtSparseHeader, GnuSparseHeader, Header};

/// One run of stored data: `len` bytes at `offset` of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Segment {
    pub(super) offset: u64,
    pub(super) len: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) struct SparseMap {
    pub(super) segments: Vec<Segment>,
    /// The file's apparent size.
    pub(super) real_size: u64,
    /// Bytes of data in the archive: the sum of the segments.
    pub(super) stored: u64,
}

/// The map of a GNU sparse entry, from its header and the extension blocks
/// that followed it (`ext`, a multiple of 512 bytes). The checks are the
/// crate's (which has accepted the entry already): segments in order and
/// apart, ending at the real size.
pub(super) fn gnu_map(header: &Header, ext: &[u8]) -> Result<SparseMap, String> {
    let gnu = header
        .as_gnu()
        .ok_or("it is a sparse entry without a GNU header")?;
    let mut map = SparseMap {
        segments: Vec::new(),
        real_size: gnu
            .real_size()
            .map_err(|e| format!("its sparse real size is unreadable ({e})"))?,
        stored: 0,
    };
    let mut end = 0u64;
    let mut add = |block: &GnuSparseHeader| -> Result<(), String> {
        // The crate's rule for an unused slot.
        if block.is_empty() {
            return Ok(());
        }
        let bad = |e: std::io::Error| format!("its sparse map is unreadable ({e})");
        let (offset, len) = (block.offset().map_err(bad)?, block.length().map_err(bad)?);
        if offset < end {
            return Err("its sparse map has overlapping or unordered segments".into());
        }
        end = offset
            .checked_add(len)
            .ok_or("its sparse map overflows 64 bits")?;
        map.stored = map
            .stored
            .checked_add(len)
            .ok_or("its sparse map overflows 64 bits")?;
        map.segments.push(Segment { offset, len });
        Ok(())
    };
    gnu.sparse.iter().try_for_each(&mut add)?;
    let mut blocks = ext.chunks_exact(512);
    let mut extended = gnu.is_extended();
    while extended {
        let bytes = blocks
            .next()
            .ok_or("its sparse map extension blocks are missing")?;
        let mut block = GnuExtSparseHeader::new();
        block.as_mut_bytes().copy_from_slice(bytes);
        block.sparse().iter().try_for_each(&mut add)?;
        extended = block.is_extended();
    }
    if blocks.next().is_some() || !blocks.remainder().is_empty() {
        return Err("its sparse map does not match the blocks that follow its header".into());
    }
    if end != map.real_size {
        return Err(format!(
            "its sparse map ends at {end}, not at its size {}",
            map.real_size
        ));
    }
    Ok(map)
}
