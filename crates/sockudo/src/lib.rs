//! sockudo-obs's Sockudo 5.2 integration: what is true of that one server and not of the
//! catalogue, which describes what any server may expose.
//!
//! | module | what it holds | read by |
//! |---|---|---|
//! | [`spellings`] | Sockudo 5.2's label values mapped onto the catalogue's closed domains | the drop-in driver (`integrations/sockudo-metrics`) |
//! | [`coverage`] | which families each build of the server feeds, and from which of its calls | the generator's docs and alert pruning, the end-to-end tests |

pub mod coverage;
pub mod spellings;
