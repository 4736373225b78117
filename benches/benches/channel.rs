//! The API channel's host end without KVM: one `ping_daemon`-sized frame
//! down into a receive buffer the driver posted and one back from a
//! transmit chain, through the virtio-console model over mock rings; next
//! to the same two frames over a Unix socket pair (what a qemu chardev
//! would move them through), in the same run.
//!
//!     cargo bench -p libguest-benches --bench channel
//!
//! For instructions per round trip (stable on noisy machines):
//!
//!     LIBGUEST_CHANNEL_CALLGRIND=100000 valgrind --tool=callgrind \
//!         --toggle-collect='*ChannelHost*' target/release/deps/channel-*[!.d]
//!     # instructions per round trip = the total in callgrind.out.* / 100000

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use vmm::testing::ChannelModel;

/// A frame header and a small body, about what a `ping_daemon` call and
/// its reply take on the wire.
const FRAME: usize = 64;
const ROUND_TRIPS: usize = 200_000;

fn best(rounds: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..rounds).map(|_| f()).min().unwrap_or_default()
}

fn main() {
    let request: Vec<u8> = (0..FRAME as u8).collect();
    let reply: Vec<u8> = (0..FRAME as u8).rev().collect();
    let mut buf = vec![0u8; 64 * 1024];
    let mut model = ChannelModel::new();

    if let Some(n) = std::env::var("LIBGUEST_CHANNEL_CALLGRIND")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
    {
        for _ in 0..n {
            model
                .round_trip(&request, &reply, &mut buf)
                .expect("round trip");
        }
        return;
    }

    let n = model
        .round_trip(&request, &reply, &mut buf)
        .expect("round trip");
    assert_eq!(&buf[..n], &reply[..], "the reply read back");
    assert_eq!(model.received(FRAME), request, "the request delivered");

    let ours = best(5, || {
        let t = Instant::now();
        for _ in 0..ROUND_TRIPS {
            let n = model
                .round_trip(&request, &reply, &mut buf)
                .expect("round trip");
            assert_eq!(n, FRAME);
        }
        t.elapsed()
    });

    // The peer: the host writes the request into one end of a socket pair,
    // the "guest" end reads it and writes the reply, the host reads it.
    let (mut host, mut guest) = UnixStream::pair().expect("socketpair");
    let mut small = [0u8; FRAME];
    let socket = best(5, || {
        let t = Instant::now();
        for _ in 0..ROUND_TRIPS {
            host.write_all(&request).expect("write");
            guest.read_exact(&mut small).expect("read");
            guest.write_all(&reply).expect("write");
            host.read_exact(&mut small).expect("read");
        }
        t.elapsed()
    });

    let per = |d: Duration| d.as_nanos() as f64 / ROUND_TRIPS as f64;
    println!(
        "API channel host end, {FRAME}-byte frame each way, {ROUND_TRIPS} round trips (best of 5), no KVM:"
    );
    println!(
        "  virtio-console model: {:>7.0} ns per round trip (both directions, the mock driver's side included)",
        per(ours)
    );
    println!(
        "  Unix socket pair:     {:>7.0} ns per round trip (four syscalls)     ratio {:.2}",
        per(socket),
        per(ours) / per(socket)
    );
}
