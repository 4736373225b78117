//! Arbitrary virtio-mmio register sequences (negotiation, hostile queue
//! setup, resets, notifies) against the virtio-scsi or virtio-console
//! model; nothing may panic and the write guard must see no bad write.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vmm::testing::fuzz_mmio(data);
});
