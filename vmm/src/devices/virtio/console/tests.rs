//! The device driven as its driver would, through mock queues: the control
//! handshake, both directions of the channel, timeouts and close, and
//! hostile chains that must fail alone.

use std::time::{Duration, Instant};

use vm_memory::{Bytes, GuestAddress};

use super::control::*;
use super::device::{ConsoleDevice, VIRTIO_CONSOLE_F_MULTIPORT, VIRTIO_ID_CONSOLE};
use super::port::ChannelError;
use super::test_utils::*;
use crate::devices::virtio::VirtioDevice;

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

fn msg(id: u32, event: u16, value: u16) -> ControlMsg {
    ControlMsg { id, event, value }
}

#[test]
fn config_and_features() {
    let (dev, _) = ConsoleDevice::new(PORT_NAME);
    assert_eq!(dev.device_type(), VIRTIO_ID_CONSOLE);
    assert_eq!(dev.features(), VIRTIO_CONSOLE_F_MULTIPORT);
    assert_eq!(dev.queue_max_sizes().len(), 6);
    let mut c = [0xffu8; 12];
    dev.read_config(0, &mut c);
    assert_eq!(c, [0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
    let mut n = [0u8; 4];
    dev.read_config(4, &mut n);
    assert_eq!(u32::from_le_bytes(n), 2);
}

#[test]
fn control_handshake() {
    let (mut h, queues, irq) = Harness::new();
    let (mut w, host) = h.worker(queues, irq);

    // DEVICE_READY before any control buffer: the answers wait.
    h.send_control(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    w.process_control_tx();
    assert!(h.received_control().is_empty());
    assert_eq!(w.control.pending(), 2);
    h.post_control_buffers(16);
    w.flush_control();
    let got: Vec<_> = h.received_control().into_iter().map(|m| m.0).collect();
    assert_eq!(
        got,
        [
            msg(0, VIRTIO_CONSOLE_PORT_ADD, 1),
            msg(1, VIRTIO_CONSOLE_PORT_ADD, 1)
        ]
    );

    h.send_control(1, VIRTIO_CONSOLE_PORT_READY, 1);
    w.process_control_tx();
    let got = h.received_control();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, msg(1, VIRTIO_CONSOLE_PORT_NAME, 1));
    assert_eq!(got[0].1, PORT_NAME.as_bytes(), "the name, with no NUL");
    assert_eq!(got[1], (msg(1, VIRTIO_CONSOLE_PORT_OPEN, 1), vec![]));

    h.send_control(0, VIRTIO_CONSOLE_PORT_READY, 1);
    w.process_control_tx();
    let got: Vec<_> = h.received_control().into_iter().map(|m| m.0).collect();
    assert_eq!(
        got,
        [
            msg(0, VIRTIO_CONSOLE_CONSOLE_PORT, 1),
            msg(0, VIRTIO_CONSOLE_PORT_OPEN, 1)
        ]
    );

    // The guest opens and closes the channel; the console port's open
    // state does not matter.
    assert!(!host.guest_connected());
    h.send_control(1, VIRTIO_CONSOLE_PORT_OPEN, 1);
    w.process_control_tx();
    assert!(host.guest_connected());
    host.wait_guest_connected(soon()).unwrap();
    h.send_control(0, VIRTIO_CONSOLE_PORT_OPEN, 0);
    w.process_control_tx();
    assert!(host.guest_connected());
    h.send_control(1, VIRTIO_CONSOLE_PORT_OPEN, 0);
    w.process_control_tx();
    assert!(!host.guest_connected());

    // A second DEVICE_READY adds nothing; every control chain went back.
    h.send_control(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    w.process_control_tx();
    assert!(h.received_control().is_empty());
    let used = h.queues[CONTROL_TX].take_used(&h.mem);
    assert_eq!(used.len(), 7);
    assert!(used.iter().all(|&(_, len)| len == 0));
    assert_eq!(w.violations() + host.violations(), 0);
}

#[test]
fn pending_control_messages_are_bounded() {
    let (mut h, queues, irq) = Harness::new();
    let (mut w, _host) = h.worker(queues, irq);
    for _ in 0..40 {
        h.send_control(1, VIRTIO_CONSOLE_PORT_READY, 1);
    }
    w.process_control_tx();
    assert_eq!(w.control.pending(), MAX_PENDING);
    h.post_control_buffers(60);
    w.flush_control();
    assert_eq!(h.received_control().len(), 60);
    assert_eq!(w.control.pending(), MAX_PENDING - 60);
}

#[test]
fn guest_to_host_large_write_read_in_pieces() {
    let (mut h, queues, irq) = Harness::new();
    let (_w, host) = h.worker(queues, irq);
    let data = pattern(10_000, 7);
    let parts = [
        (DATA, 3000u32),
        (DATA + 0x10_000, 5000),
        (DATA + 0x20_000, 2000),
    ];
    let mut at = 0;
    for &(addr, len) in &parts {
        h.mem
            .write_slice(&data[at..at + len as usize], GuestAddress(addr))
            .unwrap();
        at += len as usize;
    }
    let descs: Vec<_> = parts.iter().map(|&(a, l)| (a, l, false)).collect();
    let head = h.queues[CHANNEL_TX].add_chain(&h.mem, &descs);

    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    for expect in [4096, 4096, 1808] {
        assert_eq!(
            h.queues[CHANNEL_TX].used_idx(&h.mem),
            0,
            "not used before fully read"
        );
        assert!(h.irq.read().is_err(), "no interrupt yet");
        let n = host.read(&mut buf, soon()).unwrap();
        assert_eq!(n, expect);
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, data);
    assert_eq!(h.queues[CHANNEL_TX].take_used(&h.mem), [(head, 0)]);
    // The ring was far from full: Linux reclaims the chain at its next
    // write and waits for no interrupt.
    assert!(h.irq.read().is_err(), "no interrupt for a transmit chain");
    assert_eq!(
        h.queues[CHANNEL_TX].used_flags(&h.mem),
        VRING_USED_F_NO_NOTIFY,
        "no kicks asked for while the host reads"
    );

    // Nothing left.
    let err = host
        .read(&mut buf, Instant::now() + Duration::from_millis(20))
        .unwrap_err();
    assert!(matches!(err, ChannelError::TimedOut));
    assert_eq!(
        h.queues[CHANNEL_TX].used_flags(&h.mem),
        0,
        "kicks armed before the host waited"
    );
    assert_eq!(host.violations(), 0);
}

/// Transmit chains go back with an interrupt only when the guest may be
/// waiting for one: every descriptor of the ring was in flight.
#[test]
fn transmit_interrupts_only_when_the_ring_was_full() {
    let (mut h, queues, irq) = Harness::new();
    let (_w, host) = h.worker(queues, irq);
    let mut buf = vec![0u8; 4096];
    let half = QUEUE_LEN / 2;
    // One descriptor short of full, in one-descriptor chains.
    for i in 0..QUEUE_LEN - 1 {
        h.queues[CHANNEL_TX].add_chain(&h.mem, &[(DATA + u64::from(i), 1, false)]);
    }
    assert_eq!(
        host.read(&mut buf, soon()).unwrap(),
        usize::from(QUEUE_LEN - 1)
    );
    assert_eq!(
        h.queues[CHANNEL_TX].take_used(&h.mem).len(),
        usize::from(QUEUE_LEN - 1)
    );
    assert!(
        h.irq.read().is_err(),
        "{} of {QUEUE_LEN} in flight",
        QUEUE_LEN - 1
    );

    // Full, in two-descriptor chains: half as many chains.
    for i in 0..half {
        let at = DATA + 0x1000 + 2 * u64::from(i);
        h.queues[CHANNEL_TX].add_chain(&h.mem, &[(at, 1, false), (at + 1, 1, false)]);
    }
    assert_eq!(host.read(&mut buf, soon()).unwrap(), usize::from(QUEUE_LEN));
    assert_eq!(
        h.queues[CHANNEL_TX].take_used(&h.mem).len(),
        usize::from(half)
    );
    assert_eq!(h.irq.read().unwrap(), 1, "a full ring gets its interrupt");

    // A pass that stops with chains left cannot tell: it interrupts.
    for i in 0..3u64 {
        h.queues[CHANNEL_TX].add_chain(&h.mem, &[(DATA + i, 4, false)]);
    }
    assert_eq!(host.read(&mut buf[..6], soon()).unwrap(), 6);
    assert_eq!(h.queues[CHANNEL_TX].take_used(&h.mem).len(), 1);
    assert_eq!(h.irq.read().unwrap(), 1, "chains left in the ring");
    // The chain read in part counts as in flight, and the pass runs dry.
    assert_eq!(host.read(&mut buf, soon()).unwrap(), 6);
    assert_eq!(h.queues[CHANNEL_TX].take_used(&h.mem).len(), 2);
    assert!(h.irq.read().is_err());
    assert_eq!(host.violations(), 0);
}

/// The guest's receive buffers need no kick: the host looks at the ring
/// when it has bytes, and asks for kicks only while it waits for buffers.
#[test]
fn receive_buffers_are_kicked_only_while_the_host_waits() {
    let (mut h, queues, irq) = Harness::new();
    let (_w, host) = h.worker(queues, irq);
    h.queues[CHANNEL_RX].add_chain(&h.mem, &[(DATA, 8, true)]);
    host.write_all(b"12345678", soon()).unwrap();
    assert_eq!(h.irq.read().unwrap(), 1, "received bytes interrupt");
    assert_eq!(
        h.queues[CHANNEL_RX].used_flags(&h.mem),
        VRING_USED_F_NO_NOTIFY
    );
    // A buffer posted with kicks off is found by the next write.
    h.queues[CHANNEL_RX].add_chain(&h.mem, &[(DATA + 8, 8, true)]);
    host.write_all(b"abcdefgh", soon()).unwrap();
    assert_eq!(h.queues[CHANNEL_RX].take_used(&h.mem), [(0, 8), (1, 8)]);
    // No buffer: kicks are armed before the host waits.
    let err = host
        .write_all(b"x", Instant::now() + Duration::from_millis(20))
        .unwrap_err();
    assert!(matches!(err, ChannelError::TimedOut));
    assert_eq!(h.queues[CHANNEL_RX].used_flags(&h.mem), 0);
    assert_eq!(host.violations(), 0);
}

#[test]
fn read_gathers_several_chains_into_one_buffer() {
    let (mut h, queues, irq) = Harness::new();
    let (_w, host) = h.worker(queues, irq);
    h.mem.write_slice(b"abc", GuestAddress(DATA)).unwrap();
    h.mem
        .write_slice(b"defgh", GuestAddress(DATA + 0x100))
        .unwrap();
    h.queues[CHANNEL_TX].add_chain(&h.mem, &[(DATA, 3, false)]);
    h.queues[CHANNEL_TX].add_chain(&h.mem, &[(DATA + 0x100, 5, false)]);
    let mut buf = [0u8; 6];
    assert_eq!(host.read(&mut buf, soon()).unwrap(), 6);
    assert_eq!(&buf, b"abcdef");
    assert_eq!(h.queues[CHANNEL_TX].take_used(&h.mem).len(), 1);
    assert_eq!(host.read(&mut buf, soon()).unwrap(), 2);
    assert_eq!(&buf[..2], b"gh");
    assert_eq!(h.queues[CHANNEL_TX].take_used(&h.mem).len(), 1);
    assert_eq!(host.violations(), 0);
}

#[test]
fn host_to_guest_write_all_waits_for_buffers_posted_later() {
    let (mut h, queues, irq) = Harness::new();
    let (mut dev, host) = ConsoleDevice::new(PORT_NAME);
    dev.activate(h.mem.clone(), queues, irq).unwrap();

    // Two chains now: 32 768 + 30 000 bytes.
    let a = h.queues[CHANNEL_RX].add_chain(
        &h.mem,
        &[(DATA, 16384, true), (DATA + 0x10_000, 16384, true)],
    );
    let b = h.queues[CHANNEL_RX].add_chain(&h.mem, &[(DATA + 0x20_000, 30_000, true)]);
    h.kick(CHANNEL_RX);

    // A third one later, from another thread, once the first two are full.
    let mem = h.mem.clone();
    let mut rxq = h.queues[CHANNEL_RX].clone();
    let notify = h.notifies[CHANNEL_RX].try_clone().unwrap();
    let poster = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(5);
        while rxq.used_idx(&mem) < 2 {
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(50));
        let c = rxq.add_chain(
            &mem,
            &[
                (DATA + 0x30_000, 20_000, true),
                (DATA + 0x40_000, 20_000, true),
                (DATA + 0x50_000, 10_000, true),
            ],
        );
        notify.write(1).unwrap();
        c
    });

    let data = pattern(100_000, 3);
    host.write_all(&data, soon()).unwrap();
    let c = poster.join().unwrap();

    let used = h.queues[CHANNEL_RX].take_used(&h.mem);
    assert_eq!(used, [(a, 32768), (b, 30_000), (c, 100_000 - 62_768)]);
    let mut got = vec![0u8; 100_000];
    let mut at = 0;
    for (addr, len) in [
        (DATA, 16384),
        (DATA + 0x10_000, 16384),
        (DATA + 0x20_000, 30_000),
        (DATA + 0x30_000, 20_000),
        (DATA + 0x40_000, 17_232),
    ] {
        h.mem
            .read_slice(&mut got[at..at + len], GuestAddress(addr))
            .unwrap();
        at += len;
    }
    assert_eq!(got, data);
    // The rest of the last chain was not touched.
    let mut rest = [0u8; 4];
    h.mem
        .read_slice(&mut rest, GuestAddress(DATA + 0x40_000 + 17_232))
        .unwrap();
    assert_eq!(rest, [0; 4]);
    assert_eq!(host.violations(), 0);
}

#[test]
fn worker_thread_runs_the_handshake() {
    let (mut h, queues, irq) = Harness::new();
    let (mut dev, host) = ConsoleDevice::new(PORT_NAME);
    dev.activate(h.mem.clone(), queues, irq).unwrap();
    h.post_control_buffers(8);
    h.kick(CONTROL_RX);
    h.send_control(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    h.send_control(1, VIRTIO_CONSOLE_PORT_READY, 1);
    h.send_control(1, VIRTIO_CONSOLE_PORT_OPEN, 1);
    h.kick(CONTROL_TX);
    host.wait_guest_connected(soon()).unwrap();
    let mut got = Vec::new();
    h.wait_for(|h| {
        got.extend(h.received_control());
        got.len() == 4
    });
    assert_eq!(got[2].1, PORT_NAME.as_bytes());

    // Console output is consumed and dropped.
    h.queues[CONSOLE_TX].add_chain(&h.mem, &[(DATA, 100, false)]);
    h.kick(CONSOLE_TX);
    h.wait_for(|h| h.queues[CONSOLE_TX].used_idx(&h.mem) == 1);
    // Console input buffers stay posted, unused.
    h.queues[CONSOLE_RX].add_chain(&h.mem, &[(DATA + 0x1000, 100, true)]);
    h.kick(CONSOLE_RX);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(h.queues[CONSOLE_RX].used_idx(&h.mem), 0);
}

#[test]
fn timeouts_and_close() {
    let (h, queues, irq) = Harness::new();
    let (_w, host) = h.worker(queues, irq);
    let mut buf = [0u8; 16];

    let start = Instant::now();
    let deadline = start + Duration::from_millis(50);
    assert!(matches!(
        host.read(&mut buf, deadline),
        Err(ChannelError::TimedOut)
    ));
    assert!(Instant::now() >= deadline);
    assert!(matches!(
        host.write_all(b"x", Instant::now() + Duration::from_millis(20)),
        Err(ChannelError::TimedOut)
    ));
    assert!(host.read(&mut [], Instant::now()).unwrap() == 0);

    let closer = host.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        closer.close();
    });
    let start = Instant::now();
    assert!(matches!(
        host.read(&mut buf, start + Duration::from_secs(10)),
        Err(ChannelError::Closed)
    ));
    assert!(start.elapsed() < Duration::from_secs(5));
    t.join().unwrap();
    assert!(matches!(
        host.write_all(b"x", soon()),
        Err(ChannelError::Closed)
    ));
    assert!(matches!(
        host.wait_guest_connected(soon()),
        Err(ChannelError::Closed)
    ));
}

/// What the guest wrote before the VM stopped is still read after close
/// (a power-off answer racing the guest's reset), then Closed.
#[test]
fn bytes_written_before_close_are_still_read() {
    let (mut h, queues, irq) = Harness::new();
    let (_w, host) = h.worker(queues, irq);
    h.mem.write_slice(b"bye", GuestAddress(DATA)).unwrap();
    h.queues[CHANNEL_TX].add_chain(&h.mem, &[(DATA, 3, false)]);
    host.close();
    let mut buf = [0u8; 16];
    assert_eq!(host.read(&mut buf, soon()).unwrap(), 3);
    assert_eq!(&buf[..3], b"bye");
    assert!(matches!(
        host.read(&mut buf, soon()),
        Err(ChannelError::Closed)
    ));
    assert!(matches!(
        host.write_all(b"x", soon()),
        Err(ChannelError::Closed)
    ));
}

#[test]
fn reset_wakes_waiters_and_drop_closes() {
    let (h, queues, irq) = Harness::new();
    let (mut dev, host) = ConsoleDevice::new(PORT_NAME);
    dev.activate(h.mem.clone(), queues, irq).unwrap();
    let reader = host.clone();
    let t = std::thread::spawn(move || {
        reader.read(&mut [0u8; 8], Instant::now() + Duration::from_secs(10))
    });
    std::thread::sleep(Duration::from_millis(50));
    dev.reset();
    assert!(matches!(t.join().unwrap(), Err(ChannelError::Closed)));
    // After a reset, calls wait for the next activation.
    assert!(matches!(
        host.read(&mut [0u8; 8], Instant::now() + Duration::from_millis(20)),
        Err(ChannelError::TimedOut)
    ));
    drop(dev);
    assert!(matches!(
        host.read(&mut [0u8; 8], soon()),
        Err(ChannelError::Closed)
    ));
}

#[test]
fn malformed_receive_chains_are_skipped() {
    let (mut h, queues, irq) = Harness::new();
    let (_w, host) = h.worker(queues, irq);
    let rx = CHANNEL_RX;
    // Device-readable, outside memory, oversized, all zero-length: skipped.
    let bad = [
        h.queues[rx].add_chain(&h.mem, &[(DATA, 64, false)]),
        h.queues[rx].add_chain(&h.mem, &[(0xffff_ffff_0000, 64, true)]),
        h.queues[rx].add_chain(&h.mem, &[(DATA, u32::MAX, true)]),
        h.queues[rx].add_chain(&h.mem, &[(DATA, 0, true), (DATA + 8, 0, true)]),
        h.queues[rx].add_chain(&h.mem, &[(DATA, 64, true), (DATA + 64, 64, false)]),
    ];
    // Zero-length descriptors inside a good chain are fine.
    let good = h.queues[rx].add_chain(
        &h.mem,
        &[
            (DATA + 0x1000, 0, true),
            (DATA + 0x1000, 3, true),
            (DATA + 0x2000, 8, true),
        ],
    );
    host.write_all(b"hello", soon()).unwrap();
    let used = h.queues[rx].take_used(&h.mem);
    let mut expect: Vec<_> = bad.iter().map(|&b| (b, 0)).collect();
    expect.push((good, 5));
    assert_eq!(used, expect);
    let mut got = [0u8; 5];
    h.mem
        .read_slice(&mut got[..3], GuestAddress(DATA + 0x1000))
        .unwrap();
    h.mem
        .read_slice(&mut got[3..], GuestAddress(DATA + 0x2000))
        .unwrap();
    assert_eq!(&got, b"hello");
    assert_eq!(host.violations(), 0, "guest nonsense is not a device fault");
}

#[test]
fn malformed_transmit_chains_are_skipped() {
    let (mut h, queues, irq) = Harness::new();
    let (_w, host) = h.worker(queues, irq);
    let tx = CHANNEL_TX;
    h.mem.write_slice(b"ping", GuestAddress(DATA)).unwrap();
    h.queues[tx].add_chain(&h.mem, &[(0xffff_ffff_0000, 64, false)]);
    h.queues[tx].add_chain(&h.mem, &[(DATA, 4, true)]);
    h.queues[tx].add_chain(&h.mem, &[(DATA, 0, false)]);
    h.queues[tx].add_chain(&h.mem, &[(DATA, 4, false), (MEM_SIZE - 2, 4, false)]);
    h.queues[tx].add_chain(&h.mem, &[(DATA, 0, false), (DATA, 4, false)]);
    let mut buf = [0u8; 64];
    assert_eq!(host.read(&mut buf, soon()).unwrap(), 4);
    assert_eq!(&buf[..4], b"ping");
    let used = h.queues[tx].take_used(&h.mem);
    assert_eq!(used.len(), 5);
    assert!(used.iter().all(|&(_, len)| len == 0));

    // A descriptor that chains to itself: bounded by the queue size.
    let head = 40;
    h.queues[tx].write_desc(&h.mem, head, (DATA, 4, VRING_DESC_F_NEXT, head));
    h.queues[tx].publish(&h.mem, head);
    let mut total = 0;
    while let Ok(n) = host.read(&mut buf, Instant::now() + Duration::from_millis(20)) {
        total += n;
        assert!(total <= 4 * usize::from(QUEUE_LEN));
    }
    assert_eq!(h.queues[tx].take_used(&h.mem), [(head, 0)]);

    // The next good chain still works.
    h.mem
        .write_slice(b"pong", GuestAddress(DATA + 0x100))
        .unwrap();
    h.queues[tx].add_chain(&h.mem, &[(DATA + 0x100, 4, false)]);
    assert_eq!(host.read(&mut buf, soon()).unwrap(), 4);
    assert_eq!(&buf[..4], b"pong");
    assert_eq!(host.violations(), 0, "guest nonsense is not a device fault");
}

#[test]
fn malformed_control_messages_are_ignored() {
    let (mut h, queues, irq) = Harness::new();
    let (mut w, host) = h.worker(queues, irq);
    // Control buffers: device-readable, too short for a header, outside
    // memory; then good ones.
    h.queues[CONTROL_RX].add_chain(&h.mem, &[(DATA, 64, false)]);
    h.queues[CONTROL_RX].add_chain(&h.mem, &[(DATA, 4, true)]);
    h.queues[CONTROL_RX].add_chain(&h.mem, &[(0xffff_ffff_0000, 64, true)]);

    h.send_control_bytes(&[0, 0, 0, 0]); // short
    h.send_control_bytes(&[]); // empty
    h.queues[CONTROL_TX].add_chain(&h.mem, &[(DATA, 8, true)]); // wrong direction
    h.queues[CONTROL_TX].add_chain(&h.mem, &[(0xffff_ffff_0000, 8, false)]);
    h.send_control(7, VIRTIO_CONSOLE_PORT_READY, 1); // no such port
    h.send_control(u32::MAX, VIRTIO_CONSOLE_PORT_OPEN, 1);
    h.send_control(1, 0xffff, 1); // unknown event
    h.send_control(1, 2, 1); // PORT_REMOVE: device-only event
    h.send_control(1, VIRTIO_CONSOLE_PORT_READY, 0); // driver failed
    w.process_control_tx();
    assert_eq!(w.control.pending(), 0);
    assert!(!host.guest_connected());
    assert_eq!(h.queues[CONTROL_TX].take_used(&h.mem).len(), 9);

    // The next good exchange works; the bad buffers went back empty.
    h.send_control(1, VIRTIO_CONSOLE_PORT_READY, 1);
    w.process_control_tx();
    assert_eq!(w.control.pending(), 2, "bad buffers do not carry messages");
    let used = h.queues[CONTROL_RX].take_used(&h.mem);
    assert_eq!(used.iter().map(|u| u.1).collect::<Vec<_>>(), [0, 0, 0]);
    h.post_control_buffers(2);
    w.flush_control();
    let got = h.received_control();
    assert_eq!(got[0].0, msg(1, VIRTIO_CONSOLE_PORT_NAME, 1));
    assert_eq!(got[1].0, msg(1, VIRTIO_CONSOLE_PORT_OPEN, 1));
    assert_eq!(w.violations() + host.violations(), 0);
}

#[test]
fn a_bad_avail_index_only_stalls_its_queue_until_fixed() {
    let (mut h, queues, irq) = Harness::new();
    let (mut w, host) = h.worker(queues, irq);
    let hostile = [CONSOLE_TX, CONTROL_RX, CONTROL_TX, CHANNEL_RX, CHANNEL_TX];
    for q in hostile {
        h.queues[q].set_avail_idx(&h.mem, 0x8000);
    }
    w.process_control_tx();
    w.drain_console_tx();
    let short = || Instant::now() + Duration::from_millis(20);
    assert!(matches!(
        host.write_all(b"x", short()),
        Err(ChannelError::TimedOut)
    ));
    assert!(matches!(
        host.read(&mut [0u8; 8], short()),
        Err(ChannelError::TimedOut)
    ));
    for q in hostile {
        assert_eq!(h.queues[q].used_idx(&h.mem), 0, "queue {q}");
        h.queues[q].set_avail_idx(&h.mem, 0);
    }
    // The driver puts its index back: the queues serve again.
    h.queues[CHANNEL_RX].add_chain(&h.mem, &[(DATA, 8, true)]);
    host.write_all(b"x", soon()).unwrap();
    assert_eq!(h.queues[CHANNEL_RX].take_used(&h.mem), [(0, 1)]);
    assert_eq!(w.violations() + host.violations(), 0);
}

#[test]
fn a_full_ring_is_served_in_bounded_passes() {
    let (mut h, queues, irq) = Harness::new();
    let (mut w, host) = h.worker(queues, irq);
    // A whole ring of control chains: one pass takes them all, then the
    // worker is told to come back rather than looping on.
    for _ in 0..QUEUE_LEN {
        h.send_control_bytes(&[0xff; 8]);
    }
    w.process_control_tx();
    assert_eq!(
        h.queues[CONTROL_TX].take_used(&h.mem).len(),
        usize::from(QUEUE_LEN)
    );
    assert_eq!(h.notifies[CONTROL_TX].read().unwrap(), 1, "no self-kick");
    // The same for the channel: a ring of empty receive chains is skipped
    // in passes, and the bytes land in the good chain posted after them.
    for _ in 0..QUEUE_LEN - 1 {
        h.queues[CHANNEL_RX].add_chain(&h.mem, &[(DATA, 0, true)]);
    }
    h.queues[CHANNEL_RX].add_chain(&h.mem, &[(DATA, 4, true)]);
    host.write_all(b"data", soon()).unwrap();
    let used = h.queues[CHANNEL_RX].take_used(&h.mem);
    assert_eq!(used.len(), usize::from(QUEUE_LEN));
    assert_eq!(used.last().map(|u| u.1), Some(4));
    assert_eq!(w.violations() + host.violations(), 0);
}
