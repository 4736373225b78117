//! e2e: boot the real appliance through libguest's VMM.

use std::time::Duration;

use libguest::{Error, Guest};
use libguest_tests::e2e_test;

e2e_test! {
    /// launch() reaches guest-init, and shutdown() powers the appliance off.
    fn e2e_launch_reaches_ready_and_shuts_down() {
        let mut g = Guest::new().unwrap();
        let launched = g.launch();
        println!("--- appliance console ---\n{}--- end ---", g.console_log());
        launched.expect("launch");
        let ms = g.launch_duration().unwrap().as_secs_f64() * 1000.0;
        println!("appliance ready in {ms:.0} ms");
        assert!(g.is_ready().unwrap());
        assert!(g.console_log().contains(libguest::READY_LINE));
        exit_stats_count_round_trips(&mut g);
        g.shutdown().expect("shutdown");
        assert!(!g.is_ready().unwrap());
        assert_eq!(g.exit_stats(), None, "no VM, no exit counters");
        assert!(g.console_log().contains("guest-init: power off"), "{}", g.console_log());
        // A second shutdown is harmless; a launch after shutdown is refused.
        g.shutdown().unwrap();
        assert!(matches!(g.launch(), Err(Error::State { call: "launch", .. })));
    }
}

e2e_test! {
    /// A kernel that panics during boot gives KernelPanic with the console
    /// tail. With `reboot=t` its restart is a triple fault (an empty IDT,
    /// then int3), and the VMM's note says so: where the vCPU was (the IDT
    /// the kernel emptied) on Intel, or that KVM reset it (AMD SVM).
    fn e2e_kernel_panic_is_reported_with_console() {
        let mut g = Guest::new().unwrap();
        g.set_append(Some("rdinit=/no/such/init reboot=t".into())).unwrap();
        let err = g.launch().unwrap_err();
        println!("{err}");
        match err {
            Error::KernelPanic { console_tail } => {
                assert!(console_tail.contains("Kernel panic"), "{console_tail}");
                let where_it_was = console_tail.contains("triple-faulted at rip")
                    && console_tail.contains(" idt 0x0/0x0 ");
                let reset = console_tail.contains("triple-faulted; KVM reset its registers");
                assert!(where_it_was || reset, "{console_tail}");
            }
            other => panic!("expected KernelPanic, got {other:?}"),
        }
    }
}

e2e_test! {
    /// A guest that hangs (panic=0: the kernel halts forever) hits the
    /// launch timeout, and the error carries the last console lines. 40 s:
    /// the kernel must reach its panic first, and nested KVM in an
    /// emulated test host on a loaded machine can stall for many seconds.
    fn e2e_hung_guest_times_out() {
        let mut g = Guest::new().unwrap();
        g.set_append(Some("rdinit=/no/such/init panic=0".into())).unwrap();
        g.set_launch_timeout(Duration::from_secs(40));
        let err = g.launch().unwrap_err();
        println!("{err}");
        match err {
            Error::LaunchTimeout { seconds, console_tail } => {
                assert_eq!(seconds, 40);
                assert!(console_tail.contains("Kernel panic"), "{console_tail}");
            }
            other => panic!("expected LaunchTimeout, got {other:?}"),
        }
    }
}

e2e_test! {
    /// A file that is not a kernel is refused before anything boots.
    fn e2e_bad_kernel_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let bogus = dir.path().join("vmlinux");
        std::fs::write(&bogus, b"not an ELF file").unwrap();
        let mut g = Guest::new().unwrap();
        g.set_kernel(&bogus).unwrap();
        let err = g.launch().unwrap_err();
        assert!(err.to_string().contains("vmlinux"), "{err}");
        assert!(matches!(err, Error::Vmm(vmm::Error::KernelLoad { .. })), "{err:?}");
    }
}

e2e_test! {
    /// Handles launched one after another in one process each boot cleanly.
    fn e2e_sequential_launches_in_one_process() {
        for round in 0..3 {
            let mut g = Guest::new().unwrap();
            let launched = g.launch();
            if let Err(e) = &launched {
                panic!("round {round}: {e}\nconsole:\n{}", g.console_log());
            }
            println!("round {round}: ready in {:?}", g.launch_duration().unwrap());
            g.shutdown().unwrap();
        }
    }
}

/// KVM's exit counters (KVM_GET_STATS_FD, Linux 5.14+) move with the
/// guest's work: every round trip on the channel makes the guest exit at
/// least once (its queue notification), and its interrupt handler reads
/// the virtio-mmio interrupt status, an MMIO exit to the VMM.
fn exit_stats_count_round_trips(g: &mut Guest) {
    let Some(before) = g.exit_stats() else {
        assert!(
            !kernel_at_least(5, 14),
            "KVM on Linux 5.14+ keeps binary statistics, but exit_stats() gave none"
        );
        return;
    };
    assert!(before.exits > 0, "a booted guest has exited: {before}");
    for _ in 0..10 {
        g.ping_daemon().unwrap();
    }
    let d = g
        .exit_stats()
        .expect("counters while running")
        .since(&before);
    println!("10 ping_daemon round trips: {d}");
    assert!(d.exits >= 10, "{d}");
    assert!(d.mmio_exits >= 1, "{d}");
    assert!(d.exits >= d.mmio_exits + d.io_exits, "{d}");
}

fn kernel_at_least(major: u32, minor: u32) -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release
        .trim()
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= (major, minor)
}
