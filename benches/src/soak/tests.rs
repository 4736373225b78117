use std::time::Duration;

use libguest::Error;

use super::*;

fn died(reason: &str, tail: &str) -> Error {
    Error::GuestDied {
        reason: reason.into(),
        console_tail: tail.into(),
    }
}

#[test]
fn deaths_are_classified_by_exit_reason_and_console() {
    let e = died("triple fault", "guest-init: ready");
    assert_eq!(
        classify(&e, "guest-init: ready", false),
        DeathKind::TripleFault
    );
    let e = died("the guest rebooted", "guest-init: ready");
    assert_eq!(
        classify(&e, "guest-init: ready", false),
        DeathKind::QemuResetSilent
    );
    let e = died("the guest rebooted", "reboot: Restarting system");
    assert_eq!(
        classify(&e, "reboot: Restarting system", false),
        DeathKind::KernelReboot
    );
    let e = died("KVM_RUN failed: EFAULT", "");
    assert_eq!(classify(&e, "", false), DeathKind::Other);
    let e = Error::KernelPanic {
        console_tail: "Kernel panic - not syncing".into(),
    };
    assert_eq!(classify(&e, "", false), DeathKind::KernelPanic);
    let e = Error::CallTimeout {
        call: "upload",
        timeout: Duration::from_secs(60),
        setting: "set_call_timeout",
        appliance_stopped: true,
    };
    assert_eq!(classify(&e, "guest-init: ready", false), DeathKind::Timeout);
}

#[test]
fn a_guard_report_wins_over_the_exit_reason() {
    let tail =
        "virtio-console: guest-memory write guard: write outside a device-writable descriptor";
    let e = died("triple fault", tail);
    assert_eq!(classify(&e, tail, false), DeathKind::GuardViolation);
    // The counter: a violation stops the queue and the call times out.
    let e = Error::CallTimeout {
        call: "upload",
        timeout: Duration::from_secs(60),
        setting: "set_call_timeout",
        appliance_stopped: true,
    };
    assert_eq!(classify(&e, "", true), DeathKind::GuardViolation);
}

#[test]
fn tail_keeps_the_last_lines() {
    assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
    assert_eq!(tail("a", 5), "a");
    assert_eq!(tail("", 5), "");
}

#[test]
fn report_has_one_row_per_cell_and_ratios_to_the_peer() {
    let ms = Duration::from_millis;
    let cell = |backend: &str, load, up: u64, down: u64| Cell {
        backend: backend.into(),
        load,
        launches: 1,
        up_ok: 2,
        down_ok: 2,
        up_times: vec![ms(up), ms(up)],
        down_times: vec![ms(down), ms(down)],
        iterations: 2,
        ..Cell::default()
    };
    let mut ours = cell("ours", false, 1000, 500);
    ours.deaths.push(Death {
        iteration: 1,
        during: "upload",
        kind: DeathKind::TripleFault,
        error: "the appliance stopped unexpectedly (triple fault)\nmore".into(),
        console_tail: "guest-init: ready".into(),
    });
    let cells = [ours, cell("peer", false, 2000, 500)];
    let r = report(&cells, 16 << 20, "peer");
    let rows: Vec<&str> = r.lines().filter(|l| l.starts_with("| ours")).collect();
    assert_eq!(rows.len(), 1, "{r}");
    // 16 MiB in 1 s vs 2 s: 16.0 vs 8.0 MiB/s, ratio 2.00; downloads equal.
    assert!(rows[0].contains("| 16.0 | 32.0 | 2.00 / 1.00 |"), "{r}");
    assert!(r.contains("| peer | idle |") && r.contains("(peer)"), "{r}");
    assert!(r.contains("DEATH ours / idle at iteration 1 during upload: triple fault"));
    assert!(r.contains("    | guest-init: ready"), "{r}");
}
