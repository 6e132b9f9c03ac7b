//! Test support: the modules a source file imports, so each half can hold its files to its layer
//! table (`live::layering_tests`, `bundle::layering_tests`).

use std::path::Path;

/// The first path segment after each `prefix` (`super::`, `crate::live::`, ...) in `file`'s code,
/// leaving out comments and the file's own `#[cfg(test)] mod`.
pub fn imported_modules(file: &Path, prefix: &str) -> Vec<String> {
    let source = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let code = source.split("#[cfg(test)]\nmod ").next().unwrap_or_default();
    let mut modules = Vec::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (at, _) in line.match_indices(prefix) {
            let name: String = line[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            modules.push(name);
        }
    }
    modules
}
