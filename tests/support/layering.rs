//! The modules a source file imports, for the layer tables the compiler cannot hold: the crates
//! are the layers between the halves, and inside a crate `tests/hardening/layers.rs` holds each
//! file to its crate's table with this reader.

use std::path::Path;

/// The modules `file`'s code names after `prefix` (`super::`, `crate::`): the first path segment
/// after each, and each first segment of a group (`use super::{store, family::Family}` names
/// `store` and `family`). Comments and the file's own `#[cfg(test)] mod` are left out.
pub fn imported_modules(file: &Path, prefix: &str) -> Vec<String> {
    let source = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    imported_in(&source, prefix)
}

/// [`imported_modules`] of source text.
pub fn imported_in(source: &str, prefix: &str) -> Vec<String> {
    let code = source.split("#[cfg(test)]\nmod ").next().unwrap_or_default();
    let code: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut modules = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        let rest = &code[at + prefix.len()..];
        match rest.strip_prefix('{') {
            Some(group) => modules.extend(group_heads(group)),
            None => modules.push(identifier(rest)),
        }
    }
    modules.retain(|name| !name.is_empty());
    modules
}

/// The first segment of each item of a `{...}` group, up to its closing brace; nested groups
/// belong to their item.
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if item_start && !c.is_whitespace() => {
                heads.push(identifier(&group[at..]));
                item_start = false;
            }
            _ => {}
        }
    }
    heads
}

fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
        .collect()
}
