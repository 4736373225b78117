//! The guest-write guard: the one way our virtio devices take chains from a
//! queue, write into guest memory and give chains back.
//!
//! A [`GuardedQueue`] hands out [`Chain`]s inside a bounded [`Pass`]; a
//! device writes only through a [`WriteList`] made from a chain's
//! device-writable descriptors, and gives the chain back with
//! [`Pass::add_used`], which consumes it. In debug builds (unit tests, and
//! the fuzz targets, which cargo fuzz builds with debug assertions) it also
//! checks at run time, on the host addresses actually written, that:
//!
//! - every write falls inside a descriptor of that chain the guest offered
//!   as device-writable, and within its length;
//! - the used length never exceeds the chain's writable bytes;
//! - no buffer of a chain is written after the chain went back to the guest;
//! - a queue is only ever driven by one thread (the port queues of
//!   virtio-console by any thread under the port lock, never two at once),
//!   and no two queues drive the same used ring at once.
//!
//! A violation never panics: it is logged at error level with the queue,
//! the chain and the lengths, counted ([`violations`]), the write is not
//! done, and the queue serves nothing more until the device is reset.
//! In release builds only the checks that cost nothing remain: the pass
//! budget and the structure (no chain outlives its add_used), unless
//! `LIBGUEST_VMM_GUARD=1` ([`GUARD_ENV`]) turns the run-time checks on.

mod chain;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::ThreadId;

use virtio_queue::{Queue, QueueT};
use vm_memory::{GuestAddress, GuestMemoryBackend, GuestMemoryMmap};

use super::Interrupt;
pub(crate) use chain::{Chain, WriteList};

/// The environment variable that turns the run-time checks on in a
/// release build (`1`), for soaks and benches that hunt a guest-memory
/// corruption at full speed; debug builds always check.
pub(crate) const GUARD_ENV: &str = "LIBGUEST_VMM_GUARD";

/// Whether the run-time checks are on (read once per process).
pub(crate) fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        cfg!(debug_assertions) || std::env::var_os(GUARD_ENV).is_some_and(|v| v == "1")
    })
}

static VIOLATIONS: AtomicU64 = AtomicU64::new(0);

/// Guard violations seen in this process, by every device (0 when the
/// guard is off). Tests, fuzz targets and benchmarks read it.
pub fn violations() -> u64 {
    VIOLATIONS.load(Ordering::SeqCst)
}

/// What the guard caught.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Violation {
    /// A write outside the chain's device-writable descriptors.
    OutsideWritable,
    /// A used length larger than the chain's writable bytes.
    UsedLenTooLong,
    /// A chain's buffer touched after the chain went back to the guest, or
    /// a chain given back to a queue it did not come from.
    AfterUsed,
    /// A queue driven by a second thread.
    CrossThread,
}

/// Which threads may drive a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// The first thread that drives it, only (a device worker).
    Thread,
    /// Any thread holding the lock around the queue, one at a time.
    Locked,
}

/// The guard's state for one queue of one activation; chains and write
/// lists keep a reference, so a late use is still seen.
pub(crate) struct Core {
    device: &'static str,
    index: u16,
    owner: Mutex<(Owner, Option<ThreadId>)>,
    broken: AtomicBool,
    violations: AtomicU64,
    next_ticket: AtomicU64,
    /// Chains popped and not yet given back, by ticket: (head, host ranges
    /// of their device-writable descriptors).
    in_flight: Mutex<HashMap<u64, (u16, chain::HostRanges)>>,
}

impl Core {
    fn report(&self, kind: Violation, head: u16, detail: &str) {
        self.violations.fetch_add(1, Ordering::SeqCst);
        VIOLATIONS.fetch_add(1, Ordering::SeqCst);
        self.broken.store(true, Ordering::SeqCst);
        tracing::error!(
            device = self.device,
            queue = self.index,
            head,
            "virtio write guard: {kind:?}: {detail}; this queue is no longer served until the device is reset"
        );
    }

    fn in_flight(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (u16, chain::HostRanges)>> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A queue as a device drives it.
pub(crate) struct GuardedQueue {
    queue: Queue,
    core: Arc<Core>,
}

impl GuardedQueue {
    /// Queue `index` of `device`, driven by one thread.
    pub(crate) fn new(queue: Queue, device: &'static str, index: u16) -> GuardedQueue {
        GuardedQueue {
            queue,
            core: Arc::new(Core {
                device,
                index,
                owner: Mutex::new((Owner::Thread, None)),
                broken: AtomicBool::new(false),
                violations: AtomicU64::new(0),
                next_ticket: AtomicU64::new(0),
                in_flight: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Lets any thread drive the queue, one at a time, under a lock the
    /// caller holds around every pass.
    pub(crate) fn set_owner(&mut self, owner: Owner) {
        let mut o = self
            .core
            .owner
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *o = (owner, None);
    }

    /// Starts a pass over the available chains. At most one queue size of
    /// chains is handed out per pass, so a guest that keeps the ring full
    /// cannot hold the caller forever; see [`Pass::exhausted`].
    pub(crate) fn pass<'q>(
        &'q mut self,
        mem: &'q GuestMemoryMmap,
        interrupt: &'q Interrupt,
    ) -> Pass<'q> {
        let budget = self.queue.size().max(1);
        let mut pass = Pass {
            queue: &mut self.queue,
            core: &self.core,
            mem,
            interrupt,
            budget,
            used: false,
            quiet: false,
            ran_dry: false,
            descriptors: 0,
            ring: None,
        };
        if enabled() {
            pass.enter();
        }
        pass
    }

    /// The queue size the driver chose: its descriptor table's length.
    pub(crate) fn size(&self) -> u16 {
        self.queue.size()
    }

    /// Asks the driver not to notify this queue (VRING_USED_F_NO_NOTIFY):
    /// the device looks at the ring whenever it wants chains, and arms
    /// notifications ([`Self::arm_kicks`]) only before it waits for some.
    pub(crate) fn suppress_kicks(&mut self, mem: &GuestMemoryMmap) {
        if let Err(e) = self.queue.disable_notification(mem) {
            tracing::debug!(
                "{} queue {}: used flags: {e}",
                self.core.device,
                self.core.index
            );
        }
    }

    /// Asks the driver to notify again; true when chains were published
    /// meanwhile, so the caller must look again instead of waiting.
    pub(crate) fn arm_kicks(&mut self, mem: &GuestMemoryMmap) -> bool {
        self.queue.enable_notification(mem).unwrap_or(true)
    }

    /// Whether the guard stopped this queue.
    #[cfg(test)]
    pub(crate) fn is_broken(&self) -> bool {
        self.core.broken.load(Ordering::SeqCst)
    }

    /// Violations on this queue.
    #[cfg(test)]
    pub(crate) fn violations(&self) -> u64 {
        self.core.violations.load(Ordering::SeqCst)
    }
}

/// Used rings being driven right now, by host address: (thread, depth).
fn drivers() -> &'static Mutex<HashMap<usize, (ThreadId, u32)>> {
    static DRIVERS: OnceLock<Mutex<HashMap<usize, (ThreadId, u32)>>> = OnceLock::new();
    DRIVERS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// One bounded walk over a queue's available chains. Dropping it tells the
/// driver about the chains given back, if any.
pub(crate) struct Pass<'q> {
    queue: &'q mut Queue,
    core: &'q Arc<Core>,
    mem: &'q GuestMemoryMmap,
    interrupt: &'q Interrupt,
    budget: u16,
    used: bool,
    /// Give chains back without an interrupt ([`Pass::without_interrupt`]).
    quiet: bool,
    /// The avail ring had no more chains (not the budget running out).
    ran_dry: bool,
    /// Descriptors in the chains popped so far.
    descriptors: usize,
    /// The used ring's host address while this pass is registered on it.
    ring: Option<usize>,
}

impl Pass<'_> {
    /// The thread checks: the queue's owner, and no other thread on the
    /// same used ring at once.
    fn enter(&mut self) {
        let me = std::thread::current().id();
        {
            let mut owner = self
                .core
                .owner
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if owner.0 == Owner::Thread {
                match owner.1 {
                    None => owner.1 = Some(me),
                    Some(t) if t == me => {}
                    Some(t) => {
                        drop(owner);
                        self.core.report(
                            Violation::CrossThread,
                            0,
                            &format!("driven by thread {me:?}, owned by {t:?}"),
                        );
                        return;
                    }
                }
            }
        }
        let Ok(host) = self
            .mem
            .get_host_address(GuestAddress(self.queue.used_ring()))
        else {
            return;
        };
        let key = host as usize;
        let mut map = drivers().lock().unwrap_or_else(PoisonError::into_inner);
        match map.get_mut(&key) {
            None => {
                map.insert(key, (me, 1));
                self.ring = Some(key);
            }
            Some((t, depth)) if *t == me => {
                *depth += 1;
                self.ring = Some(key);
            }
            Some((t, _)) => {
                let t = *t;
                drop(map);
                self.core.report(
                    Violation::CrossThread,
                    0,
                    &format!(
                        "used ring {:#x} driven by thread {me:?} while thread {t:?} drives it",
                        self.queue.used_ring()
                    ),
                );
            }
        }
    }

    /// The next available chain; None when there is none, the pass budget
    /// is spent, the ring is unusable (e.g. a bad avail index) or the guard
    /// stopped the queue.
    pub(crate) fn pop(&mut self) -> Option<Chain> {
        if self.budget == 0 || self.core.broken.load(Ordering::SeqCst) {
            return None;
        }
        let Some(chain) = self.queue.pop_descriptor_chain(self.mem) else {
            self.ran_dry = true;
            return None;
        };
        self.budget -= 1;
        let chain = Chain::new(chain, self.mem, self.core);
        self.descriptors += chain.descriptors().len();
        Some(chain)
    }

    /// Whether a [`Pass::pop`] found the avail ring empty.
    pub(crate) fn ran_dry(&self) -> bool {
        self.ran_dry
    }

    /// Descriptors in the chains this pass popped.
    pub(crate) fn descriptors(&self) -> usize {
        self.descriptors
    }

    /// Gives this pass's chains back without interrupting the driver, for a
    /// caller that knows the driver waits for none (see the console port).
    pub(crate) fn without_interrupt(&mut self) {
        self.quiet = true;
    }

    /// Whether the budget ran out: more chains may be waiting, and the
    /// caller should come back (after letting go of what it holds).
    pub(crate) fn exhausted(&self) -> bool {
        self.budget == 0 && !self.core.broken.load(Ordering::SeqCst)
    }

    /// Gives `chain` back to the guest with `len` bytes written.
    pub(crate) fn add_used(&mut self, chain: Chain, len: u32) -> Result<(), virtio_queue::Error> {
        let mut len = len;
        if enabled() {
            let head = chain.head();
            if !Arc::ptr_eq(chain.core(), self.core) {
                self.core.report(
                    Violation::AfterUsed,
                    head,
                    "chain given back to another queue",
                );
                return Ok(());
            }
            if self.core.in_flight().remove(&chain.ticket()).is_none() {
                self.core
                    .report(Violation::AfterUsed, head, "chain given back twice");
                return Ok(());
            }
            if u64::from(len) > chain.writable_bytes() {
                self.core.report(
                    Violation::UsedLenTooLong,
                    head,
                    &format!(
                        "used length {len} but the chain has {} writable bytes",
                        chain.writable_bytes()
                    ),
                );
                len = u32::try_from(chain.writable_bytes()).unwrap_or(u32::MAX);
            }
        }
        self.used = true;
        self.queue.add_used(self.mem, chain.head(), len)
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.ring {
            let mut map = drivers().lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, depth)) = map.get_mut(&key) {
                *depth -= 1;
                if *depth == 0 {
                    map.remove(&key);
                }
            }
        }
        if self.used && !self.quiet && self.queue.needs_notification(self.mem).unwrap_or(true) {
            self.interrupt.signal_used();
        }
    }
}
