//! Fuzzes the PromQL catalogue check: any expression or selector text gives problems or none,
//! never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sockudo_obs::bundle::check::{check_expr, check_selector, Scope};
use sockudo_obs::bundle::{Model, Overrides, SpecSource as Source};

/// The production bundle's scope (catalogue, recording rules, labels), built once.
fn scope() -> &'static Scope<'static> {
    static MODEL: OnceLock<Model> = OnceLock::new();
    static SCOPE: OnceLock<Scope<'static>> = OnceLock::new();
    SCOPE.get_or_init(|| {
        let model = MODEL
            .get_or_init(|| Model::load(&Source::Embedded, "production", &Overrides::default()).unwrap());
        Scope::new(model)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = check_expr(scope(), "fuzz", "expr", text);
    let _ = check_selector(scope(), "fuzz", "selector", text);
});
