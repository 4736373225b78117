//! Arbitrary text as a `--key` selector (user data from the command line
//! or a script): it parses or errors, but must never panic. File
//! selectors are skipped: they would open whatever path the fuzzer makes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(selector) = std::str::from_utf8(data) else {
        return;
    };
    if selector.contains(":file:") {
        return;
    }
    if let Ok((_, key)) = libguest::parse_key_selector(selector) {
        assert!(selector.len() >= key.as_bytes().len());
    }
});
