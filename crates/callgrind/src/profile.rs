//! Reading callgrind profiles: each function's own instructions and each call's inclusive cost,
//! so a benchmark can count what a set of functions cost their callers exactly, and which
//! functions' own work grew from one set of runs to another.
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
    calls: HashMap<(String, String), Call>,
}

/// The calls from one function to another: how many, and their instructions with all below.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Call {
    /// How many calls.
    pub count: u64,
    /// Their instructions, with everything they called.
    pub inclusive: u64,
}

impl Profile {
    /// Parses one dump's text.
    pub fn parse(text: &str) -> Result<Profile, String> {
        let mut profile = Profile::default();
        let mut names: HashMap<String, String> = HashMap::new();
        let mut function = String::new();
        let mut callee: Option<String> = None;
        let mut in_call: Option<u64> = None;
        for (n, line) in text.lines().enumerate() {
            let at = || format!("line {}: {line:?}", n + 1);
            if let Some(spec) = line.strip_prefix("fn=") {
                function = same_function(resolve(&mut names, spec));
            } else if let Some(spec) = line.strip_prefix("cfn=") {
                callee = Some(same_function(resolve(&mut names, spec)));
            } else if let Some(calls) = line.strip_prefix("calls=") {
                let count = calls.split_whitespace().next().and_then(|c| c.parse().ok());
                in_call = Some(count.ok_or_else(at)?);
            } else if let Some(summary) = line.strip_prefix("summary:") {
                profile.total = summary.trim().parse().map_err(|_| at())?;
            } else if line.starts_with(|c: char| c.is_ascii_digit() || "+-*".contains(c)) {
                let cost: u64 = match line.split_whitespace().nth(1) {
                    Some(cost) => cost.parse().map_err(|_| at())?,
                    None => 0,
                };
                if let Some(count) = in_call.take() {
                    let callee = callee
                        .clone()
                        .ok_or_else(|| format!("calls= without cfn=, {}", at()))?;
                    // A recursive call's cost is part of the outer activation's.
                    if callee == function {
                        continue;
                    }
                    let call = profile.calls.entry((function.clone(), callee)).or_default();
                    call.count += count;
                    call.inclusive += cost;
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

    /// The calls from `caller` to `callee` (zero when there were none).
    #[allow(dead_code)] // what the reader's tests (tests/benchmarks) look at
    pub fn call(&self, caller: &str, callee: &str) -> Call {
        self.calls
            .get(&(caller.to_string(), callee.to_string()))
            .copied()
            .unwrap_or_default()
    }

    /// Every call edge, as (caller, callee).
    #[allow(dead_code)] // what the reader's tests (tests/benchmarks) look at
    pub fn edges(&self) -> impl Iterator<Item = (&str, &str)> {
        self.calls.keys().map(|(from, to)| (from.as_str(), to.as_str()))
    }

    /// How often each function was called, from anywhere.
    #[allow(dead_code)] // what the reader's tests (tests/benchmarks) look at
    pub fn times_called(&self) -> HashMap<&str, u64> {
        let mut times: HashMap<&str, u64> = HashMap::new();
        for ((_, to), call) in &self.calls {
            *times.entry(to.as_str()).or_default() += call.count;
        }
        times
    }

    /// Every function that ran or was called.
    #[allow(dead_code)] // what the reader's tests (tests/benchmarks) look at
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

    /// The instructions `function` spent itself, without the calls it made.
    pub fn own(&self, function: &str) -> u64 {
        self.own.get(function).copied().unwrap_or(0)
    }

    /// Each function that is `inside` and entered from outside (or not called at all), with the
    /// instructions spent in it and below on those entries.
    fn entries(&self, inside: impl Fn(&str) -> bool) -> HashMap<&str, u64> {
        let mut entries: HashMap<&str, u64> = HashMap::new();
        let mut called = HashSet::new();
        for ((from, to), call) in &self.calls {
            if inside(to) {
                called.insert(to.as_str());
                if !inside(from) {
                    *entries.entry(to.as_str()).or_default() += call.inclusive;
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

/// A function whose own instructions grew: every `more` profile spends more of them in it than
/// every `fewer` profile, by more than either set's spread.
#[derive(Debug, PartialEq)]
pub struct Grown {
    /// The function's demangled name.
    pub function: String,
    /// Its own instructions in `fewer` (the median profile's): what a `more` run's are
    /// measured against.
    pub baseline: u64,
}

impl Grown {
    /// How much the function grew in `profile`: its own instructions there over the baseline.
    pub fn growth_in(&self, profile: &Profile) -> u64 {
        profile.own(&self.function).saturating_sub(self.baseline)
    }
}

/// The functions whose own instructions (not their callees') every `more` profile spends more
/// of than every `fewer` profile, by more than either set's own spread (run-to-run noise):
/// code that runs only in `more` (its baseline 0), and code both run that does more work in
/// `more` (call-site work the compiler inlined into a caller; the clones, copies and
/// allocations of an extra middleware layer; a clock read). Counting own instructions, a
/// wrapper's growth is its own work only: the request it wraps runs with or without it and is
/// counted where it runs. Functions that shrink are not subtracted (call it with the sets swapped
/// to see them), and growth within the spread of a function much other code calls (one more
/// `clock_gettime` a request) is missed: the sum is an estimate, not a bound.
pub fn grown(more: &[&Profile], fewer: &[&Profile]) -> Vec<Grown> {
    let functions: HashSet<&str> = more
        .iter()
        .flat_map(|p| p.own.keys().map(String::as_str))
        .collect();
    let mut found: Vec<Grown> = functions
        .into_iter()
        .filter_map(|function| {
            let own = |set: &[&Profile]| -> Vec<u64> { set.iter().map(|p| p.own(function)).collect() };
            let (in_more, mut in_fewer) = (own(more), own(fewer));
            consistently_more(&in_more, &in_fewer)?;
            in_fewer.sort_unstable();
            Some(Grown {
                function: function.to_string(),
                baseline: in_fewer.get(in_fewer.len() / 2).copied().unwrap_or(0),
            })
        })
        .collect();
    found.sort_by(|a, b| a.function.cmp(&b.function));
    found
}

/// Callgrind names a function's recursive activations below the first `f'2`, `f'3`, ... (its
/// `--separate-recs`). They are the same function: a wrapper nesting another instance of its
/// own type (one `from_fn` middleware inside another) must not look like new code.
fn same_function(name: String) -> String {
    match name.rsplit_once('\'') {
        Some((base, level)) if !level.is_empty() && level.bytes().all(|b| b.is_ascii_digit()) => {
            base.to_string()
        }
        _ => name,
    }
}

/// `min(more) - max(fewer)` when it is positive and larger than either side's spread.
fn consistently_more(more: &[u64], fewer: &[u64]) -> Option<u64> {
    let range = |v: &[u64]| {
        (
            v.iter().copied().min().unwrap_or(0),
            v.iter().copied().max().unwrap_or(0),
        )
    };
    let ((low, high), (fewer_low, fewer_high)) = (range(more), range(fewer));
    let gap = low.checked_sub(fewer_high).filter(|gap| *gap > 0)?;
    (gap > (high - low).max(fewer_high - fewer_low)).then_some(gap)
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
