//! Arbitrary bytes as a Windows registry hive for guest-init's inspection
//! parser: it may find keys or errors, but must never panic, hang or
//! allocate without bound. The base block's checksum is fixed up first so
//! that the fuzzer gets past it to the cells (`guest_formats::hive`).
#![no_main]

use guest_formats::hive;

const PATHS: [&str; 4] = [
    r"Microsoft\Windows NT\CurrentVersion",
    r"Microsoft\Windows\CurrentVersion\Uninstall",
    r"Select",
    r"ControlSet001\Control\ComputerName\ComputerName",
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if bytes.len() >= 512 {
        let sum = hive::header_checksum(&bytes);
        bytes[0x1FC..0x200].copy_from_slice(&sum.to_le_bytes());
    }
    let src: &[u8] = &bytes;
    let Ok(h) = hive::Hive::new(&src) else {
        return;
    };
    let mut keys: Vec<hive::Key> = PATHS
        .iter()
        .filter_map(|p| h.open(p).ok().flatten())
        .collect();
    if let Ok(root) = h.root() {
        keys.extend(h.subkeys(&root).unwrap_or_default().into_iter().take(16));
        keys.push(root);
    }
    for key in &keys {
        for sub in h.subkeys(key).unwrap_or_default().into_iter().take(16) {
            let _ = h.value(&sub, "DisplayName");
        }
        for r in h.values(key).unwrap_or_default().into_iter().take(16) {
            if let Ok(v) = h.read_value(&r) {
                let _ = (v.string(), v.dword());
            }
        }
    }
});
