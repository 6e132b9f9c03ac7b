//! `sockudo-obs catalogue`: print the catalogue as a table, JSON or markdown.

use std::process::ExitCode;

use crate::CatalogueFormat;

pub fn run(_format: CatalogueFormat, _prefix: Option<String>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet implemented")
}
