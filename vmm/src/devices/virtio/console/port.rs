//! The channel port (port 1) seen from the host: [`ChannelHost`] copies
//! bytes between the caller's buffers and the guest's rings in the caller's
//! thread, under one lock that also guards the two queues. The worker thread
//! only wakes waiters when the guest posts buffers.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use vm_memory::GuestMemoryMmap;

use super::chain::{self, Direction};
use crate::devices::virtio::guard::{Chain, GuardedQueue, Owner, Pass};
use crate::devices::virtio::slices;
use crate::devices::virtio::Interrupt;

/// Why a read, write or wait on the API channel ([`ChannelHost`]) failed.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The deadline passed before the guest sent data, took the bytes or
    /// opened the port. The channel itself is still usable.
    #[error("timed out waiting for the guest")]
    TimedOut,
    /// The channel was closed for good ([`ChannelHost::close`], the VM
    /// stopped or was killed), or the guest reset the device while the call
    /// was under way. No more data will come on this connection.
    #[error("the channel is closed (VM stopped or device reset)")]
    Closed,
    /// The guest's rings themselves are unusable (e.g. the used ring lies
    /// outside guest memory): the bytes written may never reach the guest.
    #[error("virtqueue error: {0}")]
    Queue(virtio_queue::Error),
}

/// The host end of port 1. Clones share the same port.
#[derive(Clone)]
pub struct ChannelHost {
    shared: Arc<Shared>,
}

impl ChannelHost {
    pub(crate) fn new(shared: Arc<Shared>) -> ChannelHost {
        ChannelHost { shared }
    }

    /// Copies bytes the guest wrote on port 1 into `buf` (at most
    /// `buf.len()`), straight from the guest's transmit buffers into `buf`
    /// (no intermediate copy); waits until data, `deadline`, or close.
    /// Returns as soon as some bytes were copied and no more are ready.
    /// A guest buffer larger than `buf` is continued by the next call.
    ///
    /// After [`ChannelHost::close`] the bytes the guest had already written
    /// are still returned, then [`ChannelError::Closed`]: a guest that
    /// answers a power-off and resets at once must not lose the answer to
    /// the race between the reset and this thread's wake-up. (The rings
    /// stay mapped while the port is attached; a device reset detaches it.)
    pub fn read(&self, buf: &mut [u8], deadline: Instant) -> Result<usize, ChannelError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut state = self.shared.lock();
        let epoch = state.epoch;
        let mut looked_again = false;
        loop {
            if state.epoch != epoch {
                return Err(ChannelError::Closed);
            }
            let closed = state.closed;
            if let Some(port) = state.port.as_mut() {
                let (n, more) = port.read(buf);
                if n > 0 {
                    return Ok(n);
                }
                if closed {
                    return Err(ChannelError::Closed);
                }
                if more {
                    state = self.shared.relock(state, deadline)?;
                    continue;
                }
                // Armed before every wait. "More" after arming is a chain
                // published while kicks were off: look again, but once, as
                // a ring whose avail index is bad reads as "more" forever.
                if port.tx.arm_kicks(&port.mem) && !looked_again {
                    looked_again = true;
                    continue;
                }
            }
            if closed {
                return Err(ChannelError::Closed);
            }
            looked_again = false;
            state = self.shared.wait_until(state, deadline)?;
        }
    }

    /// Copies `data` straight into receive buffers the guest posted on port
    /// 1, as many as needed, waiting for the guest to post more; returns
    /// when all bytes are in guest buffers. On an error some leading part of
    /// `data` may already have been given to the guest.
    ///
    /// Linux drops data that arrives while the port is not open in the
    /// guest: wait for [`ChannelHost::guest_connected`] first.
    pub fn write_all(&self, data: &[u8], deadline: Instant) -> Result<(), ChannelError> {
        let mut done = 0;
        let mut state = self.shared.lock();
        let epoch = state.epoch;
        let mut looked_again = false;
        loop {
            if state.closed || state.epoch != epoch {
                return Err(ChannelError::Closed);
            }
            if done == data.len() {
                return Ok(());
            }
            if let Some(port) = state.port.as_mut() {
                let (n, more) = port.write(&data[done..]).map_err(ChannelError::Queue)?;
                done += n;
                if done == data.len() {
                    return Ok(());
                }
                if more {
                    state = self.shared.relock(state, deadline)?;
                    continue;
                }
                // Armed before every wait. "More" after arming is a chain
                // published while kicks were off: look again, but once, as
                // a ring whose avail index is bad reads as "more" forever.
                if port.rx.arm_kicks(&port.mem) && !looked_again {
                    looked_again = true;
                    continue;
                }
            }
            looked_again = false;
            state = self.shared.wait_until(state, deadline)?;
        }
    }

    /// Whether the guest has the port open.
    pub fn guest_connected(&self) -> bool {
        self.shared.lock().guest_open
    }

    /// Waits until the guest has the port open.
    pub fn wait_guest_connected(&self, deadline: Instant) -> Result<(), ChannelError> {
        let mut state = self.shared.lock();
        loop {
            if state.closed {
                return Err(ChannelError::Closed);
            }
            if state.guest_open {
                return Ok(());
            }
            state = self.shared.wait_until(state, deadline)?;
        }
    }

    /// Write-guard violations on port 1's queues (tests).
    #[cfg(test)]
    pub(crate) fn violations(&self) -> u64 {
        self.shared.violations()
    }

    /// Makes every waiting and later read/write return
    /// [`ChannelError::Closed`] (device reset, VM stopped).
    pub fn close(&self) {
        self.shared.close();
    }
}

/// State shared by the device, its worker and every [`ChannelHost`].
pub(crate) struct Shared {
    state: Mutex<State>,
    cond: Condvar,
}

struct State {
    /// Set by close(): for good.
    closed: bool,
    /// Bumped by each reset of an active device: calls that were under way
    /// fail with Closed, later calls wait for the next activation.
    epoch: u64,
    guest_open: bool,
    port: Option<PortQueues>,
}

impl Shared {
    pub(crate) fn new() -> Arc<Shared> {
        Arc::new(Shared {
            state: Mutex::new(State {
                closed: false,
                epoch: 0,
                guest_open: false,
                port: None,
            }),
            cond: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic under the lock leaves consistent-enough state: the queue
        // indexes only move after a chain is handled.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait_until<'a>(
        &self,
        guard: MutexGuard<'a, State>,
        deadline: Instant,
    ) -> Result<MutexGuard<'a, State>, ChannelError> {
        let now = Instant::now();
        if now >= deadline {
            return Err(ChannelError::TimedOut);
        }
        let (guard, _) = self
            .cond
            .wait_timeout(guard, deadline - now)
            .unwrap_or_else(PoisonError::into_inner);
        Ok(guard)
    }

    /// Lets go of the lock for a moment: a pass ran out of budget with
    /// chains left (a guest flooding the ring), and others may want the port.
    fn relock<'a>(
        &'a self,
        guard: MutexGuard<'a, State>,
        deadline: Instant,
    ) -> Result<MutexGuard<'a, State>, ChannelError> {
        drop(guard);
        if Instant::now() >= deadline {
            return Err(ChannelError::TimedOut);
        }
        std::thread::yield_now();
        Ok(self.lock())
    }

    /// Activation: port 1's queues are served from now on.
    pub(crate) fn attach(
        &self,
        mem: GuestMemoryMmap,
        mut rx: GuardedQueue,
        mut tx: GuardedQueue,
        interrupt: Arc<Interrupt>,
    ) {
        // Driven by the callers' threads, always under the state lock.
        rx.set_owner(Owner::Locked);
        tx.set_owner(Owner::Locked);
        let mut state = self.lock();
        state.port = Some(PortQueues {
            mem,
            rx,
            tx,
            interrupt,
            partial: None,
        });
        state.guest_open = false;
        drop(state);
        self.cond.notify_all();
    }

    /// Reset: the queues are gone and calls under way fail.
    pub(crate) fn detach(&self) {
        let mut state = self.lock();
        if state.port.take().is_some() {
            state.epoch = state.epoch.wrapping_add(1);
        }
        state.guest_open = false;
        drop(state);
        self.cond.notify_all();
    }

    pub(crate) fn set_guest_open(&self, open: bool) {
        self.lock().guest_open = open;
        self.cond.notify_all();
    }

    /// The guest posted buffers on port 1. Taking the lock orders this
    /// after any waiter's look at the rings, so no wake-up is lost.
    pub(crate) fn wake(&self) {
        drop(self.lock());
        self.cond.notify_all();
    }

    pub fn close(&self) {
        self.lock().closed = true;
        self.cond.notify_all();
    }

    /// Write-guard violations on port 1's queues.
    #[cfg(test)]
    pub(crate) fn violations(&self) -> u64 {
        self.lock()
            .port
            .as_ref()
            .map_or(0, |p| p.rx.violations() + p.tx.violations())
    }
}

/// A transmit chain read only in part.
struct PartialTx {
    chain: Chain,
    total: usize,
    offset: usize,
}

/// Port 1's queues while the device is active.
struct PortQueues {
    mem: GuestMemoryMmap,
    /// Device to driver (queue 4).
    rx: GuardedQueue,
    /// Driver to device (queue 5).
    tx: GuardedQueue,
    interrupt: Arc<Interrupt>,
    partial: Option<PartialTx>,
}

impl PortQueues {
    /// Copies whatever the guest has ready, up to `buf.len()` bytes. A
    /// transmit chain goes back to the guest once fully read. Also returns
    /// whether the pass ran out of budget (more chains may be waiting).
    ///
    /// Exits, both ways: the guest is asked not to kick while the host
    /// reads (kicks are armed again before the host waits), and chains go
    /// back without an interrupt unless the guest may be waiting for one.
    /// Linux's virtio_console writes a port without spinning and reclaims
    /// used transmit buffers at its next write; it sleeps for the
    /// interrupt only when it found no free descriptor (`outvq_full`, see
    /// `will_write_block`), that is when every descriptor of the ring was
    /// in flight. So the interrupt goes out when this pass saw the whole
    /// table in flight, or stopped with chains left (it cannot tell).
    fn read(&mut self, buf: &mut [u8]) -> (usize, bool) {
        let carried = self
            .partial
            .as_ref()
            .map_or(0, |p| p.chain.descriptors().len());
        let table = usize::from(self.tx.size());
        self.tx.suppress_kicks(&self.mem);
        let mut done = 0;
        let mut pass = self.tx.pass(&self.mem, &self.interrupt);
        while done < buf.len() {
            let partial = match self.partial.take() {
                Some(p) => p,
                None => match pop_tx(&mut pass) {
                    Some(p) => p,
                    None => break,
                },
            };
            let n = match partial.chain.readable(&self.mem) {
                Ok(list) => match slices::split_at(&list, partial.offset) {
                    Some((_, rest)) => slices::read_into(&rest, &mut buf[done..]),
                    None => 0,
                },
                Err(_) => 0,
            };
            done += n;
            let offset = partial.offset + n;
            if offset < partial.total && n > 0 {
                self.partial = Some(PartialTx { offset, ..partial });
            } else {
                // Fully read, or unreadable (n == 0 with bytes left): either
                // way the chain goes back so the guest is not stuck.
                add_used(&mut pass, partial.chain, 0);
            }
        }
        if pass.ran_dry() && carried + pass.descriptors() < table {
            pass.without_interrupt();
        }
        (done, pass.exhausted())
    }

    /// Fills posted receive chains with the start of `data`, one chain at a
    /// time, as much as each holds. Returns the bytes given to the guest
    /// and whether the pass ran out of budget.
    ///
    /// The guest is asked not to kick for the buffers it posts: they are
    /// looked at here when bytes are ready, and kicks are armed again only
    /// before waiting for more ([`ChannelHost::write_all`]).
    fn write(&mut self, data: &[u8]) -> Result<(usize, bool), virtio_queue::Error> {
        self.rx.suppress_kicks(&self.mem);
        let mut done = 0;
        let mut pass = self.rx.pass(&self.mem, &self.interrupt);
        while done < data.len() {
            let Some(chain) = pass.pop() else {
                break;
            };
            let n = match chain::check(&chain, Direction::ToGuest)
                .and_then(|_| Ok(chain.writable(&self.mem)?))
            {
                Ok(list) => list.write(&data[done..]),
                Err(e) => {
                    tracing::debug!("virtio-console receive chain: {e}");
                    0
                }
            };
            // A chain holds less than 4 GiB (the chain iterator stops there).
            let len = u32::try_from(n).unwrap_or(u32::MAX);
            pass.add_used(chain, len)?;
            done += n;
        }
        Ok((done, pass.exhausted()))
    }
}

/// The next transmit chain with bytes in it; empty and refused chains go
/// straight back with length 0.
fn pop_tx(pass: &mut Pass<'_>) -> Option<PartialTx> {
    loop {
        let chain = pass.pop()?;
        match chain::check(&chain, Direction::FromGuest) {
            Ok(total) if total > 0 => {
                return Some(PartialTx {
                    chain,
                    total,
                    offset: 0,
                })
            }
            Ok(_) => {}
            Err(e) => tracing::debug!("virtio-console transmit chain: {e}"),
        }
        add_used(pass, chain, 0);
    }
}

fn add_used(pass: &mut Pass<'_>, chain: Chain, len: u32) {
    if let Err(e) = pass.add_used(chain, len) {
        tracing::warn!("virtio-console: add_used: {e}");
    }
}
