//! The reader on hives built by `fixtures::hive`, and on those hives cut
//! and flipped: errors, never a panic.

use super::*;
use crate::fixtures::hive::{build_hive, software_hive};

#[test]
fn hive_parser_reads_keys_values_and_lists() {
    let bytes = build_hive(&software_hive());
    let src: &[u8] = &bytes;
    let h = Hive::new(&src).unwrap();
    let cv = h
        .open(r"microsoft\WINDOWS NT\currentversion")
        .unwrap()
        .unwrap();
    let v = |n| h.value(&cv, n).unwrap().unwrap();
    assert_eq!(v("productname").string().unwrap(), "Windows 10 Pro");
    assert_eq!(v("CurrentMajorVersionNumber").dword(), Some(10));
    assert_eq!(v("BigBlob").data, vec![0xAB; 40000]);
    assert!(h.value(&cv, "missing").unwrap().is_none());
    let un = h
        .open(r"Microsoft\Windows\CurrentVersion\Uninstall")
        .unwrap()
        .unwrap();
    let names: Vec<String> = h
        .subkeys(&un)
        .unwrap()
        .into_iter()
        .map(|k| k.name)
        .collect();
    assert_eq!(names, ["7-Zip", "{ABC-123}", "Zoom", "Hidden"]);
    let uni = h.open(r"Microsoft\ÜNÏCODE").unwrap().unwrap();
    assert_eq!(
        h.value(&uni, "").unwrap().unwrap().string().unwrap(),
        "default value"
    );
    assert!(h.open(r"Microsoft\Nope\X").unwrap().is_none());
}

#[test]
fn hostile_hives_are_errors_not_panics() {
    let good = build_hive(&software_hive());
    // Truncated anywhere: an error when opened, or when read.
    for cut in (0..good.len()).step_by(97) {
        let src: &[u8] = &good[..cut];
        if let Ok(h) = Hive::new(&src) {
            let _ = h.open(r"Microsoft\Windows NT\CurrentVersion");
        }
    }
    assert!(Hive::new(&&good[..5000]).is_err());
    // Bad checksum.
    let mut bad = good.clone();
    bad[0x30] ^= 1;
    assert!(Hive::new(&&bad[..]).is_err());
    // Flipped bytes in the cells (checksum still right): never a panic.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..3000 {
        let mut m = good.clone();
        for _ in 0..4 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = 4096 + (seed as usize % (m.len() - 4096));
            m[at] = (seed >> 32) as u8;
        }
        let src: &[u8] = &m;
        if let Ok(h) = Hive::new(&src) {
            if let Ok(Some(k)) = h.open(r"Microsoft\Windows\CurrentVersion\Uninstall") {
                for sub in h.subkeys(&k).unwrap_or_default() {
                    for r in h.values(&sub).unwrap_or_default() {
                        let _ = h.read_value(&r);
                    }
                }
            }
        }
    }
}
