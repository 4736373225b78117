//! Syncing and powering off. The appliance kernel has no ACPI, so "power
//! off" is a reboot through the i8042 reset line (`reboot=k` on the command
//! line), which the host's VMM sees as the end of the VM.

use crate::log;

pub(crate) fn sync_filesystems() {
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
}

pub(crate) fn power_off() -> ! {
    sync_filesystems();
    println!("guest-init: power off");
    loop {
        // SAFETY: reboot(2) with a valid command; it does not return on success.
        let rc = unsafe { libc::reboot(libc::RB_AUTOBOOT) };
        log(&format!(
            "reboot failed (rc {rc}): {}",
            std::io::Error::last_os_error()
        ));
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
