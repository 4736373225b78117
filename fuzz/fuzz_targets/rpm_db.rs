//! Arbitrary bytes as guest-init's rpm database readers: the first byte
//! picks an rpm header blob or a whole `rpmdb.sqlite` file (walked as
//! inspection walks it). Errors are fine; panics and hangs are not
//! (`guest_formats::{rpm, sqlite}`).
#![no_main]

use guest_formats::{rpm, sqlite};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let _ = rpm::parse_header(rest);
        return;
    }
    let src: &[u8] = rest;
    let Ok(db) = sqlite::Db::open(&src) else {
        return;
    };
    let root = match db.table_root("Packages") {
        Ok(Some(root)) => root,
        // Walk the schema table's b-tree as a table of its own.
        _ => 1,
    };
    let _ = db.for_each_row(root, &mut |_, cols| {
        if let Some(sqlite::Column::Blob(b)) = cols.get(1) {
            let _ = rpm::parse_header(b);
        }
        true
    });
});
