//! Fixed-size fields of a byte slice, read bounds-checked: each is None
//! when the field does not lie wholly inside the slice, so a hostile
//! offset is a parse failure, never a panic.

/// `len` bytes at `off`.
pub fn slice(b: &[u8], off: usize, len: usize) -> Option<&[u8]> {
    b.get(off..off.checked_add(len)?)
}

/// `N` bytes at `off`, as an array.
pub fn array<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    slice(b, off, N)?.try_into().ok()
}

/// The byte at `off`.
pub fn u8at(b: &[u8], off: usize) -> Option<u8> {
    b.get(off).copied()
}

/// A little-endian u16 at `off`.
pub fn le16(b: &[u8], off: usize) -> Option<u16> {
    array(b, off).map(u16::from_le_bytes)
}

/// A little-endian u32 at `off`.
pub fn le32(b: &[u8], off: usize) -> Option<u32> {
    array(b, off).map(u32::from_le_bytes)
}

/// A little-endian u64 at `off`.
pub fn le64(b: &[u8], off: usize) -> Option<u64> {
    array(b, off).map(u64::from_le_bytes)
}

/// A big-endian u16 at `off`.
pub fn be16(b: &[u8], off: usize) -> Option<u16> {
    array(b, off).map(u16::from_be_bytes)
}

/// A big-endian u32 at `off`.
pub fn be32(b: &[u8], off: usize) -> Option<u32> {
    array(b, off).map(u32::from_be_bytes)
}

/// A big-endian u64 at `off`.
pub fn be64(b: &[u8], off: usize) -> Option<u64> {
    array(b, off).map(u64::from_be_bytes)
}

/// A reflected CRC-32 with polynomial `poly` (reversed form), from `crc`,
/// with no final inversion: bitwise, as the checked structures are small
/// (superblocks, LVM labels and metadata text).
pub fn crc32_reflected(poly: u32, mut crc: u32, data: &[u8]) -> u32 {
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ poly
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_out_of_the_slice_are_none() {
        let b = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(le16(&b, 0), Some(0x0201));
        assert_eq!(be32(&b, 4), Some(0x0506_0708));
        assert_eq!(le64(&b, 0), Some(0x0807_0605_0403_0201));
        assert_eq!(le32(&b, 5), None);
        assert_eq!(be64(&b, 1), None);
        assert_eq!(slice(&b, usize::MAX, 2), None);
        assert_eq!(u8at(&b, 8), None);
    }
}
