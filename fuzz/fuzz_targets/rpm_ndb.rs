//! Arbitrary bytes as rpm's ndb `Packages.db`, walked as inspection
//! walks it (`guest_formats::rpm_ndb`), each blob parsed as an rpm
//! header. Errors are fine; panics, hangs and unbounded allocations are
//! not.
#![no_main]

use guest_formats::{rpm, rpm_ndb};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let src: &[u8] = data;
    let Ok(db) = rpm_ndb::PackagesDb::open(&src) else {
        return;
    };
    let _ = db.for_each_header(&mut |_, blob| {
        if let Ok(b) = blob {
            let _ = rpm::parse_header(b);
        }
        true
    });
});
