//! PID 1 of the benches' test host; see [`libguest_tests::testhost_init`].
//! A binary of this package too, so the benches find it with
//! `CARGO_BIN_EXE_bench-testhost-init`.

fn main() {
    libguest_tests::testhost_init::main()
}
