//! Guest-controlled descriptor chains and request bytes through the
//! virtio-scsi request and control queues.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vmm::testing::fuzz_queues(data);
});
