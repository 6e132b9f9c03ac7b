//! The exposition: our families written straight from storage, merged by name with the host's.
//!
//! `Registry::gather` builds a protobuf-model struct per series (strings, label pairs, vectors)
//! and `TextEncoder` then formats it: about 80% of the `prometheus` crate's scrape time is the
//! gather. We skip it for our families: each writes pre-rendered bytes (see [`super::text`]) and
//! formats only the numbers. Metrics the host registered in the same registry still go through
//! `gather()` and `TextEncoder`, but only theirs ([`gather_others`]). Both lists are sorted by
//! name and merged, so the output is byte for byte what `TextEncoder::encode(&registry.gather())`
//! produces (a test holds us to that).

use std::sync::Arc;

use prometheus::{Encoder, Registry, TextEncoder};

use super::collector::{gather_others, Owner};
use super::family::AnyFamily;
use super::store::Totals;

/// Writes `ours` (sorted by name, their counters' values in `totals`) and every other family of
/// `registry`, merged by name. After each family `drain` may take what `out` holds so far (the
/// gzip path compresses it and clears `out`, so the whole text is never held at once).
pub(crate) fn encode(
    ours: &[Arc<dyn AnyFamily>],
    totals: &Totals,
    registry: &Registry,
    owner: Owner,
    out: &mut Vec<u8>,
    drain: &mut dyn FnMut(&mut Vec<u8>),
) -> prometheus::Result<()> {
    let others = gather_others(registry, owner);
    let mut others = others.iter().peekable();
    for family in ours {
        while let Some(other) = others.next_if(|o| o.name() < family.name()) {
            TextEncoder::new().encode(std::slice::from_ref(other), out)?;
            drain(out);
        }
        family.encode(totals, out);
        drain(out);
    }
    for other in others {
        TextEncoder::new().encode(std::slice::from_ref(other), out)?;
        drain(out);
    }
    Ok(())
}
