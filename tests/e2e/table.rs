//! e2e: the API table's own test cases (`{ init: [[words…]…] => expect }`
//! after an entry's flags in protocol/src/table.rs), every one of them,
//! in one appliance per backend: on our VMM (through the test host where
//! /dev/kvm cannot run Linux) and on the qemu TCG backend.

use std::path::{Path, PathBuf};

use libguest::Backend;
use libguest_tests::table::{iso_image, Runner};
use libguest_tests::{e2e_test, E2eDisk};

fn iso() -> PathBuf {
    iso_image(Path::new(env!("CARGO_TARGET_TMPDIR")))
}

fn table_tests(backend: Backend, iso: &Path) {
    let mut runner = Runner::launch(backend, iso);
    let (ran, failures) = runner.run_all();
    runner.shutdown();
    let cases: usize = protocol::CALLS.iter().map(|c| c.tests.len()).sum();
    let calls = protocol::CALLS
        .iter()
        .filter(|c| !c.tests.is_empty())
        .count();
    eprintln!(
        "table tests: {ran} cases of {calls} calls, {} failed",
        failures.len()
    );
    assert_eq!(ran, cases);
    assert!(
        failures.is_empty(),
        "{} of {ran} table tests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

e2e_test! {
    fn e2e_table_tests(disks = vec![E2eDisk::read_only(iso())]) {
        table_tests(Backend::Kvm, &disks[0]);
    }
}

#[test]
fn tcg_table_tests() {
    table_tests(Backend::Tcg, &iso());
}
