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

mod records {
    use std::time::Duration;

    use super::super::record::{at_line, last_at, IterRecord, Transfer};
    use super::super::{Cell, DeathKind};

    fn record() -> IterRecord {
        IterRecord {
            backend: "ours".into(),
            load: true,
            iteration: 41,
            up: Transfer::Ok,
            up_time: Some(Duration::from_micros(1_234_500)),
            down: Transfer::Corrupt,
            down_time: None,
            launches: 1,
            death: Some(DeathKind::QemuResetSilent),
            guard: 2,
        }
    }

    #[test]
    fn a_record_line_parses_back_even_after_console_noise() {
        let r = record();
        let line = format!("[   12.3] random: crng {}", r.line());
        assert_eq!(IterRecord::parse(&line), Some(r));
    }

    #[test]
    fn damaged_record_lines_are_skipped() {
        let line = record().line();
        for bad in [
            &line[..line.len() - 8],
            &line.replace("up=ok", "up=maybe"),
            &line.replace("iter=41", "iter=-1"),
            &line.replace("up_ms=1234.5", "up_ms=NaN"),
            &format!("{line} extra=1"),
            "SOAK-ITER",
            "SOAK-ITER backend",
        ] {
            assert_eq!(IterRecord::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_last_at_line_names_the_running_backend() {
        let out = format!(
            "{}\n{}\nSOAK-ITER junk\n{}\n",
            at_line("ours", false, 3),
            at_line("peer", false, 3),
            at_line("peer", true, 0)
        );
        assert_eq!(last_at(&out), Some(("peer".into(), true)));
        assert_eq!(last_at("no lines\n"), None);
    }

    #[test]
    fn records_add_up_in_a_cell() {
        let mut cell = Cell::default();
        cell.apply(&record());
        let mut ok = record();
        ok.iteration = 42;
        ok.down = Transfer::Ok;
        ok.down_time = Some(Duration::from_millis(900));
        ok.death = None;
        ok.launches = 0;
        ok.guard = 0;
        cell.apply(&ok);
        assert_eq!(cell.iterations, 43);
        assert_eq!((cell.up_ok, cell.up_failed), (2, 0));
        assert_eq!((cell.down_ok, cell.down_failed, cell.corrupt), (1, 1, 1));
        assert_eq!(cell.launches, 1);
        assert_eq!(cell.guard_violations, 2);
        assert_eq!(cell.death_kinds, vec![DeathKind::QemuResetSilent]);
        assert_eq!(cell.up_times.len(), 2);
        assert_eq!(cell.down_times, vec![Duration::from_millis(900)]);
    }
}
