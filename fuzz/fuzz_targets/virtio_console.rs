//! A hostile driver's descriptor tables, avail rings and buffers on all six
//! virtio-console queues, with the control worker and the channel's host
//! ends running over them; the write guard must see no bad device write.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vmm::testing::fuzz_console(data);
});
