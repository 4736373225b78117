//! Arbitrary bytes as what the appliance sends on the API channel: the
//! host's framing, stream handling and reply decoding must turn anything
//! into errors.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    libguest::connection::fuzzing::replies(data);
});
