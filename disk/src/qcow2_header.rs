//! The few qcow2 header fields the host must see before anything else is opened: the backing
//! file name and format, and whether the image wants an external data file.
//!
//! Security rule: everything here is attacker-controlled. Every length is bounded, every read
//! is at an offset inside the first cluster, and a header we cannot fully parse is an error, never
//! a guess.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// "QFI\xfb"
pub(crate) const QCOW2_MAGIC: [u8; 4] = *b"QFI\xfb";
/// Length of a version 2 header, the shortest valid one.
pub(crate) const MIN_HEADER_LEN: usize = 72;
/// Length of the version 3 header fields we read.
const V3_HEADER_LEN: usize = 104;
/// Header extension carrying the backing file's format name.
const EXT_BACKING_FORMAT: u32 = 0xe279_2aca;
/// Header extension carrying the external data file's name ("DATA").
const EXT_DATA_FILE: u32 = 0x4441_5441;
/// Incompatible feature bit 2: the guest data lives in an external data file.
const INCOMPAT_EXTERNAL_DATA_FILE: u64 = 1 << 2;
/// qemu refuses longer backing file names, so do we.
const MAX_BACKING_NAME: u32 = 1023;
/// Most header extensions we walk before calling the header corrupt.
const MAX_EXTENSIONS: usize = 1024;

/// What is wrong with a qcow2 header.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HeaderError {
    #[error("cannot read the header: {0}")]
    Read(io::Error),
    #[error("the file is too short for a qcow2 header")]
    TooShort,
    #[error("no qcow2 magic")]
    BadMagic,
    #[error("qcow2 version {0} is not supported (only 2 and 3 are)")]
    Version(u32),
    #[error("cluster_bits {0} is out of range (9 to 21)")]
    ClusterBits(u32),
    #[error("header_length {0} is invalid")]
    HeaderLength(u32),
    #[error("the backing file name is {0} bytes long (at most {MAX_BACKING_NAME} allowed)")]
    BackingNameTooLong(u32),
    #[error("the backing file name lies outside the first cluster")]
    BackingNameOutside,
    #[error("a file name or format in the header is not valid UTF-8")]
    NotUtf8,
    #[error("the header extensions are corrupt")]
    Extensions,
}

/// The header fields needed before handing the image to imago or qemu.
#[derive(Debug, Default)]
pub(crate) struct Header {
    pub cluster_size: u64,
    /// The virtual disk size in bytes.
    pub size: u64,
    pub backing_name: Option<String>,
    pub backing_format: Option<String>,
    /// Incompatible feature bit 2.
    pub external_data_bit: bool,
    /// The data-file header extension, if present.
    pub data_file_name: Option<String>,
}

impl Header {
    /// Whether the image uses (or names) an external data file: either sign is enough to refuse.
    pub(crate) fn has_external_data_file(&self) -> bool {
        self.external_data_bit || self.data_file_name.is_some()
    }

    pub(crate) fn read(file: &File) -> Result<Header, HeaderError> {
        let mut h = [0u8; V3_HEADER_LEN];
        let got = read_up_to(file, &mut h, 0).map_err(HeaderError::Read)?;
        if got < MIN_HEADER_LEN {
            return Err(HeaderError::TooShort);
        }
        if h[..4] != QCOW2_MAGIC {
            return Err(HeaderError::BadMagic);
        }
        let version = be32(&h, 4);
        let backing_offset = be64(&h, 8);
        let backing_len = be32(&h, 16);
        let cluster_bits = be32(&h, 20);
        if !(2..=3).contains(&version) {
            return Err(HeaderError::Version(version));
        }
        if !(9..=21).contains(&cluster_bits) {
            return Err(HeaderError::ClusterBits(cluster_bits));
        }
        let cluster_size = 1u64 << cluster_bits;
        let (header_len, incompatible) = if version == 2 {
            (MIN_HEADER_LEN as u32, 0)
        } else {
            if got < V3_HEADER_LEN {
                return Err(HeaderError::TooShort);
            }
            (be32(&h, 100), be64(&h, 72))
        };
        let min_len = if version == 2 {
            MIN_HEADER_LEN
        } else {
            V3_HEADER_LEN
        };
        if (header_len as usize) < min_len || u64::from(header_len) > cluster_size {
            return Err(HeaderError::HeaderLength(header_len));
        }

        let backing_name = if backing_offset == 0 || backing_len == 0 {
            None
        } else {
            if backing_len > MAX_BACKING_NAME {
                return Err(HeaderError::BackingNameTooLong(backing_len));
            }
            if backing_offset.saturating_add(u64::from(backing_len)) > cluster_size {
                return Err(HeaderError::BackingNameOutside);
            }
            let mut name = vec![0u8; backing_len as usize];
            file.read_exact_at(&mut name, backing_offset)
                .map_err(HeaderError::Read)?;
            Some(String::from_utf8(name).map_err(|_| HeaderError::NotUtf8)?)
        };
        let mut header = Header {
            cluster_size,
            size: be64(&h, 24),
            backing_name,
            external_data_bit: incompatible & INCOMPAT_EXTERNAL_DATA_FILE != 0,
            ..Header::default()
        };
        header.read_extensions(file, u64::from(header_len), cluster_size, backing_offset)?;
        Ok(header)
    }

    /// Walks the header extensions (between the header and the backing file name, or the end of
    /// the first cluster) for the backing format and the data file name.
    fn read_extensions(
        &mut self,
        file: &File,
        mut pos: u64,
        cluster_size: u64,
        backing_offset: u64,
    ) -> Result<(), HeaderError> {
        let end = if backing_offset > pos {
            backing_offset.min(cluster_size)
        } else {
            cluster_size
        };
        for _ in 0..MAX_EXTENSIONS {
            if pos + 8 > end {
                return Ok(());
            }
            let mut eh = [0u8; 8];
            if read_up_to(file, &mut eh, pos).map_err(HeaderError::Read)? < eh.len() {
                // A file that ends inside the extension area: no more extensions.
                return Ok(());
            }
            let (kind, len) = (be32(&eh, 0), u64::from(be32(&eh, 4)));
            pos += 8;
            if kind == 0 {
                return Ok(());
            }
            if pos + len > end {
                return Err(HeaderError::Extensions);
            }
            let slot = match kind {
                EXT_BACKING_FORMAT => Some(&mut self.backing_format),
                EXT_DATA_FILE => Some(&mut self.data_file_name),
                _ => None,
            };
            if let Some(slot) = slot {
                let mut value = vec![0u8; len as usize];
                file.read_exact_at(&mut value, pos)
                    .map_err(HeaderError::Read)?;
                *slot = Some(String::from_utf8(value).map_err(|_| HeaderError::NotUtf8)?);
            }
            pos += len.next_multiple_of(8);
        }
        Err(HeaderError::Extensions)
    }
}

/// Whether the file starts with a complete qcow2 header's magic (shorter files are raw).
pub(crate) fn has_qcow2_magic(file: &File) -> io::Result<bool> {
    let mut h = [0u8; MIN_HEADER_LEN];
    let got = read_up_to(file, &mut h, 0)?;
    Ok(got == MIN_HEADER_LEN && h[..4] == QCOW2_MAGIC)
}

/// Reads until `buf` is full or EOF; returns the bytes read.
fn read_up_to(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

fn be32(b: &[u8], at: usize) -> u32 {
    let mut v = [0u8; 4];
    v.copy_from_slice(&b[at..at + 4]);
    u32::from_be_bytes(v)
}

fn be64(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(v)
}
