//! Arbitrary bytes as a block device for guest-init's filesystem prober
//! (`guest_formats::probe`): it may find anything or nothing, but must
//! never panic or hang.
#![no_main]

use guest_formats::probe;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = probe::probe(&data);
    for number in 1..=4 {
        let _ = probe::mbr_partition_type(&data, number);
    }
});
