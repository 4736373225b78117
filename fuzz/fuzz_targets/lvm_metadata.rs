//! Arbitrary bytes as an LVM physical volume (`guest_formats::lvm`): the
//! label and metadata-area reader, then the bytes as metadata text, and
//! the device-mapper plan for any VG that parses. Each may refuse; none
//! may panic, hang or allocate without bound.
#![no_main]

use guest_formats::lvm::{plan, read_label, VolumeGroup};

fn try_text(text: &str) {
    if let Ok(vg) = VolumeGroup::from_text(text) {
        let sizes: Vec<Option<u64>> = vg.pvs.iter().map(|_| Some(1 << 30)).collect();
        let _ = plan(&vg, &sizes);
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(Some(label)) = read_label(&data) {
        for text in &label.metadata {
            try_text(text);
        }
    }
    try_text(&String::from_utf8_lossy(data));
});
