//! Arbitrary bytes as a Berkeley DB hash `Packages` file, walked as
//! inspection walks it: every pair, then rpm's header numbers and blobs
//! (`guest_formats::rpm_bdb`), each blob parsed as an rpm header. Errors
//! are fine; panics, hangs and unbounded allocations are not.
#![no_main]

use guest_formats::{rpm, rpm_bdb};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let src: &[u8] = data;
    let Ok(db) = rpm_bdb::HashDb::open(&src) else {
        return;
    };
    let _ = db.for_each(&mut |_, _| true);
    let _ = db.for_each_header(&mut |_, blob| {
        let _ = rpm::parse_header(blob);
        true
    });
});
