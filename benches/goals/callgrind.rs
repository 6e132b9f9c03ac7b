//! Reading callgrind profiles: each function's own instructions and each call's inclusive cost,
//! so a benchmark can count what a set of functions cost their callers exactly.
//!
//! Parses the `callgrind.out` format (version 1, one event, name compression) directly:
//! `fn=` opens a function, cost lines add to it, and the cost line after `calls=` is that call's
//! inclusive cost, charged to the edge from the open function to the last `cfn=`.

use std::collections::{HashMap, HashSet};

/// One dump: instructions per function and per call edge, by demangled function name.
#[derive(Debug, Default)]
pub struct Profile {
    /// The dump's `summary:` (all instructions in it).
    pub total: u64,
    own: HashMap<String, u64>,
    calls: HashMap<(String, String), u64>,
}

impl Profile {
    /// Parses one dump's text.
    pub fn parse(text: &str) -> Result<Profile, String> {
        let mut profile = Profile::default();
        let mut names: HashMap<String, String> = HashMap::new();
        let mut function = String::new();
        let mut callee: Option<String> = None;
        let mut in_call = false;
        for (n, line) in text.lines().enumerate() {
            let at = || format!("line {}: {line:?}", n + 1);
            if let Some(spec) = line.strip_prefix("fn=") {
                function = resolve(&mut names, spec);
            } else if let Some(spec) = line.strip_prefix("cfn=") {
                callee = Some(resolve(&mut names, spec));
            } else if line.starts_with("calls=") {
                in_call = true;
            } else if let Some(summary) = line.strip_prefix("summary:") {
                profile.total = summary.trim().parse().map_err(|_| at())?;
            } else if line.starts_with(|c: char| c.is_ascii_digit() || "+-*".contains(c)) {
                let cost: u64 = match line.split_whitespace().nth(1) {
                    Some(cost) => cost.parse().map_err(|_| at())?,
                    None => 0,
                };
                if in_call {
                    let callee = callee
                        .clone()
                        .ok_or_else(|| format!("calls= without cfn=, {}", at()))?;
                    *profile.calls.entry((function.clone(), callee)).or_default() += cost;
                    in_call = false;
                } else {
                    *profile.own.entry(function.clone()).or_default() += cost;
                }
            }
        }
        if profile.total == 0 {
            return Err("the dump has no summary line".to_string());
        }
        Ok(profile)
    }

    /// Every function that ran or was called.
    pub fn functions(&self) -> HashSet<&str> {
        let called = self
            .calls
            .keys()
            .flat_map(|(from, to)| [from.as_str(), to.as_str()]);
        self.own.keys().map(String::as_str).chain(called).collect()
    }

    /// The instructions spent in functions that are `inside`, with everything they call: the
    /// inclusive cost of each call into one of them from a function that is not, plus the own
    /// cost of any that no call reached (a thread's entry point).
    pub fn inside(&self, inside: impl Fn(&str) -> bool) -> u64 {
        self.entries(inside).values().sum()
    }

    /// The `n` costliest ways into the functions that are `inside` (as in [`Profile::inside`]),
    /// as (function, instructions per `per`), costliest first.
    pub fn largest_inside(&self, inside: impl Fn(&str) -> bool, n: usize, per: u64) -> Vec<(String, f64)> {
        let mut entries: Vec<(&str, u64)> = self.entries(inside).into_iter().collect();
        entries.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        entries
            .into_iter()
            .take(n)
            .map(|(f, cost)| (f.to_string(), cost as f64 / per as f64))
            .collect()
    }

    /// Each function that is `inside` and entered from outside (or not called at all), with the
    /// instructions spent in it and below on those entries.
    fn entries(&self, inside: impl Fn(&str) -> bool) -> HashMap<&str, u64> {
        let mut entries: HashMap<&str, u64> = HashMap::new();
        let mut called = HashSet::new();
        for ((from, to), inclusive) in &self.calls {
            if inside(to) {
                called.insert(to.as_str());
                if !inside(from) {
                    *entries.entry(to.as_str()).or_default() += inclusive;
                }
            }
        }
        for (name, own) in &self.own {
            if inside(name) && !called.contains(name.as_str()) {
                *entries.entry(name.as_str()).or_default() += own;
            }
        }
        entries
    }
}

/// `(id) name` defines a compressed name, `(id)` refers back to one, and a bare name is itself.
fn resolve(names: &mut HashMap<String, String>, spec: &str) -> String {
    let Some(rest) = spec.strip_prefix('(') else {
        return spec.to_string();
    };
    let Some((id, name)) = rest.split_once(')') else {
        return spec.to_string();
    };
    let name = name.trim();
    if name.is_empty() {
        names.get(id).cloned().unwrap_or_else(|| spec.to_string())
    } else {
        names.insert(id.to_string(), name.to_string());
        name.to_string()
    }
}
