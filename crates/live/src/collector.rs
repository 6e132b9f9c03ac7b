//! Each family's `prometheus::Collector`, and the thread-local that mutes one `Metrics`'s.
//!
//! Every family is registered in the `prometheus::Registry` as a [`FamilyCollector`], so
//! `registry.gather()` returns our series for hosts that encode the registry themselves. Our own
//! exposition writes the families directly and gathers only the host's metrics: while it does, a
//! thread-local names the `Metrics` ([`Owner`]) whose collectors must stay silent
//! ([`gather_others`]).

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use prometheus::core::{Collector, Desc};
use prometheus::{proto, Registry};

use super::family::AnyFamily;
use super::store::CounterStore;

/// The identity of one `Metrics`, so its collectors know when to stay silent.
pub(crate) type Owner = usize;

static NEXT_OWNER: AtomicUsize = AtomicUsize::new(1);

/// A fresh owner identity (never 0, which means "nobody is muted").
pub(crate) fn new_owner() -> Owner {
    NEXT_OWNER.fetch_add(1, Ordering::Relaxed)
}

thread_local! {
    /// The owner whose collectors are muted on this thread, during [`gather_others`].
    static MUTED: Cell<Owner> = const { Cell::new(0) };
}

fn is_muted(owner: Owner) -> bool {
    MUTED.with(Cell::get) == owner
}

/// `registry.gather()` without `owner`'s families. `gather` collects on the calling thread, so
/// a thread-local flag reaches exactly the collectors it calls.
pub(crate) fn gather_others(registry: &Registry, owner: Owner) -> Vec<proto::MetricFamily> {
    /// Restores the flag even if a host collector panics.
    struct Unmute(Owner);
    impl Drop for Unmute {
        fn drop(&mut self) {
            MUTED.with(|m| m.set(self.0));
        }
    }
    let _unmute = Unmute(MUTED.with(|m| m.replace(owner)));
    registry.gather()
}

/// Registers a family in a `prometheus::Registry`: `gather()` collects it like any other metric,
/// except while its owner's fast encoder gathers the *other* collectors (see
/// [`gather_others`]), when it stays silent because the encoder writes it directly.
pub(crate) struct FamilyCollector {
    pub(crate) family: Arc<dyn AnyFamily>,
    /// The [`Owner`] of the `Metrics` the family belongs to.
    pub(crate) owner: Owner,
    /// Where its counters (if it has any) read their values.
    pub(crate) counters: Arc<CounterStore>,
}

impl Collector for FamilyCollector {
    fn desc(&self) -> Vec<&Desc> {
        vec![self.family.desc()]
    }

    fn collect(&self) -> Vec<proto::MetricFamily> {
        if is_muted(self.owner) {
            return Vec::new();
        }
        self.family.collect(&self.counters.live()).into_iter().collect()
    }
}
