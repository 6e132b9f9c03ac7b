//! Registration: one typed [`Family`] per catalogue metric, registered and bound to a field.
//!
//! The fields of [`Families`] are derived from the catalogue's declarations
//! (`catalogue::for_each_metric!`): one per [`MetricId`], named as the metric, whose type follows
//! the declared kind, so a handle cannot take a gauge for a counter and a new declaration gets its
//! family without a line here. Each family is named under the configured prefix and registered in
//! the `prometheus::Registry`.

use std::sync::Arc;

use prometheus::Registry;

use super::collector::{FamilyCollector, Owner};
use super::counter::CounterCell;
use super::family::{AnyFamily, Family, SeriesValue};
use super::gauge::Gauge;
use super::histogram::Histogram;
use super::store::CounterStore;
use crate::catalogue::{for_each_metric, MetricId};
use sockudo_obs_catalogue::{Error, ErrorKind};

pub(crate) type CounterFamily = Arc<Family<CounterCell>>;
pub(crate) type GaugeFamily = Arc<Family<Gauge>>;
pub(crate) type HistogramFamily = Arc<Family<Histogram>>;

/// The family type of a declared kind.
macro_rules! family_of {
    (Counter) => {
        CounterFamily
    };
    (Gauge) => {
        GaugeFamily
    };
    (Histogram) => {
        HistogramFamily
    };
}

/// `family` if the declared kind is a counter; otherwise `None`.
macro_rules! if_counter {
    (Counter, $family:expr) => {
        Some($family)
    };
    ($other:ident, $family:expr) => {
        None
    };
}

/// The `for_each_metric!` callback of this module: [`Families`], one typed field per metric.
macro_rules! define_families {
    ($($(#[$meta:meta])* $id:ident $name:ident: $kind:ident { $($declaration:tt)* })+) => {
        /// Every catalogue family, typed: a field per [`MetricId`], named as the metric.
        pub(crate) struct Families {
            $(pub $name: family_of!($kind),)+
            /// Every family, sorted by exposed name (the exposition's order).
            pub all: Vec<Arc<dyn AnyFamily>>,
            /// Every counter block, for the scrape to sum.
            pub counters: Arc<CounterStore>,
        }

        impl Families {
            /// Creates every catalogue family, named `prefix + name`, and registers it in
            /// `registry` as a collector belonging to `owner`.
            pub(crate) fn register(
                registry: &Registry,
                prefix: &str,
                owner: Owner,
                shards: usize,
            ) -> crate::Result<Families> {
                let counters = Arc::new(CounterStore::new(shards));
                let mut r = Registrar {
                    registry,
                    prefix,
                    owner,
                    counters: &counters,
                    all: Vec::with_capacity(MetricId::ALL.len()),
                };
                $(let $name = r.register(MetricId::$id)?;)+
                let mut all = r.all;
                all.sort_by(|a, b| a.name().cmp(b.name()));
                Ok(Families {
                    $($name,)+
                    all,
                    counters,
                })
            }

            /// The family of `id` if the catalogue declares it a counter.
            pub(crate) const fn counter(&self, id: MetricId) -> Option<&CounterFamily> {
                match id {
                    $(MetricId::$id => if_counter!($kind, &self.$name),)+
                }
            }
        }
    };
}

for_each_metric!(define_families);

impl Families {
    /// Series across every family.
    pub(crate) fn series_count(&self) -> usize {
        self.all.iter().map(|f| f.series_count()).sum()
    }
}

/// Creates and registers families, keeping each in `all`.
struct Registrar<'r> {
    registry: &'r Registry,
    prefix: &'r str,
    owner: Owner,
    counters: &'r Arc<CounterStore>,
    all: Vec<Arc<dyn AnyFamily>>,
}

impl Registrar<'_> {
    fn register<S: SeriesValue>(&mut self, id: MetricId) -> crate::Result<Arc<Family<S>>> {
        let def = id.def();
        let family = Family::<S>::new(def, self.prefix)
            .map(Arc::new)
            .and_then(|family| {
                let collector = FamilyCollector {
                    family: family.clone(),
                    owner: self.owner,
                    counters: self.counters.clone(),
                };
                self.registry.register(Box::new(collector)).map(|()| family)
            })
            .map_err(|err| {
                let name = def.full_name(self.prefix);
                Error::new(ErrorKind::Registration, format!("cannot register metric {name}"))
                    .with_key(name)
                    .with_source(err)
            })?;
        self.all.push(family.clone());
        Ok(family)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register(registry: &Registry, prefix: &str) -> crate::Result<Families> {
        Families::register(registry, prefix, super::super::collector::new_owner(), 2)
    }

    #[test]
    fn every_catalogue_metric_is_registered() {
        let registry = Registry::new();
        let families = register(&registry, "t_").expect("the catalogue registers");
        assert_eq!(families.all.len(), crate::catalogue::CATALOGUE.len());
        assert!(families.all.windows(2).all(|w| w[0].name() < w[1].name()));
        // Families without series are not gathered: none exist before a handle is resolved.
        assert!(registry.gather().is_empty());
    }

    #[test]
    fn a_prefix_that_is_not_a_metric_name_is_an_error() {
        let err = register(&Registry::new(), "my-company_").err().unwrap();
        assert!(
            format!("{err:#}").contains("my-company_active_connections"),
            "{err:#}"
        );
    }

    #[test]
    fn registering_twice_in_one_registry_names_the_clash() {
        let registry = Registry::new();
        register(&registry, "t_").unwrap();
        let err = register(&registry, "t_").err().unwrap();
        assert!(format!("{err:#}").contains("t_active_connections"), "{err:#}");
    }
}
