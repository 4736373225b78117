//! PID 1 of the e2e test host; see [`libguest_tests::testhost_init`].

fn main() {
    libguest_tests::testhost_init::main()
}
