//! Guest-controlled CDBs and UNMAP parameter lists through the command decoder.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vmm::testing::fuzz_cdb(data);
});
