//! Arbitrary bytes as a block device for guest-init's filesystem prober:
//! it may find anything or nothing, but must never panic or hang. The
//! prober is included by path (guest-init is a binary crate).
#![no_main]

#[allow(dead_code)]
#[path = "../../guest-init/src/daemon/probe.rs"]
mod probe;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = probe::probe(&data);
    for number in 1..=4 {
        let _ = probe::mbr_partition_type(&data, number);
    }
});
