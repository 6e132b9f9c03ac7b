//! The closed label domains as Rust enums, so a caller cannot record an unlisted value.
//!
//! Each enum is declared once, with its values, in the catalogue (`closed_labels!` in
//! `catalogue.rs`), which also derives the catalogue's `Domain::Enum` list from it; this module
//! re-exports them for the recording calls (`ChannelType::of_channel` comes with them).

pub use crate::catalogue::{
    AdapterOperation, CacheOperation, CappedLabel, ChannelType, ErrorType, HttpMethod, LabelValue,
    LimiterType, UnknownLabelValue,
};
