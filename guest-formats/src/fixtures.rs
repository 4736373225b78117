//! Builders of well-formed inputs for the parsers, for tests here and in
//! the crates that use them (feature `test-utils`): hostile inputs are
//! then made by cutting and flipping these.

pub mod hive;
pub mod ndb;
pub mod rpm;
pub mod rpmdb;

/// A PE header saying x86_64 (what `binarch::pe_arch` reads).
pub fn pe_x86_64() -> Vec<u8> {
    let mut pe = vec![0u8; 1024];
    pe[..2].copy_from_slice(b"MZ");
    pe[0x3C..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    pe[0x80..0x84].copy_from_slice(b"PE\0\0");
    pe[0x84..0x86].copy_from_slice(&0x8664u16.to_le_bytes());
    pe
}
