//! Arbitrary bytes as what the appliance sends on the API channel, with
//! two control bytes that pick the calls (every call of the API table, its
//! result decoded as its own `Ret` type), their deadlines, cancels, failing
//! host endpoints and stalls of the channel. The host's framing, stream
//! handling, stray-frame limits, timeouts and reply decoding must turn
//! anything into errors: no panic, no hang, no call that reads past the
//! limits.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    libguest::fuzzing::replies(data);
});
