//! The architecture of an executable, from its ELF or PE header, named
//! as libguestfs's `file_architecture` names it.

use crate::bytes::{be16, le16, le32};

/// From the first bytes of an ELF file (64 are enough).
pub fn elf_arch(head: &[u8]) -> Option<&'static str> {
    if head.get(..4) != Some(b"\x7fELF") {
        return None;
    }
    let is64 = *head.get(4)? == 2;
    let machine = match *head.get(5)? {
        1 => le16(head, 18)?,
        2 => be16(head, 18)?,
        _ => return None,
    };
    let little = *head.get(5)? == 1;
    Some(match (machine, is64) {
        (3, _) => "i386",
        (62, _) => "x86_64",
        (183, _) => "aarch64",
        (40, _) => "arm",
        (20, _) => "ppc",
        (21, _) if little => "ppc64le",
        (21, _) => "ppc64",
        (22, true) => "s390x",
        (22, false) => "s390",
        (243, true) => "riscv64",
        (243, false) => "riscv32",
        (8, true) => "mips64",
        (8, false) => "mips",
        (2, _) => "sparc",
        (43, _) => "sparc64",
        (50, _) => "ia64",
        (258, _) => "loongarch64",
        _ => return None,
    })
}

/// From the first bytes of a PE file (the PE header is usually within
/// the first 512 bytes; `head` is whatever the caller read).
pub fn pe_arch(head: &[u8]) -> Option<&'static str> {
    if head.get(..2) != Some(b"MZ") {
        return None;
    }
    let pe = usize::try_from(le32(head, 0x3C)?).ok()?;
    if head.get(pe..pe.checked_add(4)?) != Some(b"PE\0\0") {
        return None;
    }
    Some(match le16(head, pe + 4)? {
        0x014C => "i386",
        0x8664 => "x86_64",
        0xAA64 => "aarch64",
        0x01C0 | 0x01C4 => "arm",
        0x0200 => "ia64",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elf_and_pe_machines() {
        let mut elf = vec![0u8; 64];
        elf[..4].copy_from_slice(b"\x7fELF");
        elf[4] = 2;
        elf[5] = 1;
        elf[18..20].copy_from_slice(&62u16.to_le_bytes());
        assert_eq!(elf_arch(&elf), Some("x86_64"));
        elf[18..20].copy_from_slice(&21u16.to_le_bytes());
        assert_eq!(elf_arch(&elf), Some("ppc64le"));
        elf[5] = 2;
        elf[18..20].copy_from_slice(&22u16.to_be_bytes());
        assert_eq!(elf_arch(&elf), Some("s390x"));
        assert_eq!(elf_arch(&elf[..10]), None);
        assert_eq!(elf_arch(b"#!/bin/sh\n"), None);

        let mut pe = vec![0u8; 256];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3C..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        pe[0x84..0x86].copy_from_slice(&0x8664u16.to_le_bytes());
        assert_eq!(pe_arch(&pe), Some("x86_64"));
        pe[0x3C..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(pe_arch(&pe), None);
    }

    #[test]
    fn a_host_binary() {
        let head = std::fs::read("/proc/self/exe").unwrap();
        let expected = match std::env::consts::ARCH {
            "x86" => "i386",
            other => other,
        };
        assert_eq!(elf_arch(&head[..64]), Some(expected));
    }
}
