//! Checks the alerting and recording rules: their expressions, names and mixin style. (Stub.)

use super::Problem;
use crate::bundle::model::Model;

pub fn check(_model: &Model) -> Vec<Problem> {
    Vec::new()
}
