//! Renders the rules artifact. (Stub.)

use anyhow::Result;

use crate::bundle::model::Model;
use crate::bundle::output::Output;

pub fn render(_model: &Model, _out: &mut Output) -> Result<()> {
    Ok(())
}
