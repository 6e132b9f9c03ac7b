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
    calls: HashMap<(String, String), Call>,
}

/// The calls from one function to another: how many, and their instructions with all below.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Call {
    pub count: u64,
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
                function = resolve(&mut names, spec);
            } else if let Some(spec) = line.strip_prefix("cfn=") {
                callee = Some(resolve(&mut names, spec));
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
    pub fn call(&self, caller: &str, callee: &str) -> Call {
        self.calls
            .get(&(caller.to_string(), callee.to_string()))
            .copied()
            .unwrap_or_default()
    }

    /// Every call edge, as (caller, callee).
    pub fn edges(&self) -> impl Iterator<Item = (&str, &str)> {
        self.calls.keys().map(|(from, to)| (from.as_str(), to.as_str()))
    }

    /// How often each function was called, from anywhere.
    pub fn times_called(&self) -> HashMap<&str, u64> {
        let mut times: HashMap<&str, u64> = HashMap::new();
        for ((_, to), call) in &self.calls {
            *times.entry(to.as_str()).or_default() += call.count;
        }
        times
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

/// Calls that every profile of one set makes more often than any profile of another.
#[derive(Debug, PartialEq)]
pub struct ExtraCalls {
    pub caller: String,
    pub callee: String,
    /// The fewest extra calls: the least in `more` minus the most in `fewer`.
    pub extra: u64,
    /// What they cost, at `fewer`'s instructions per call (at most what the calls' inclusive
    /// cost consistently grew by).
    pub instructions: u64,
}

/// The calls between functions that `fewer` runs too which every `more` profile makes more often
/// than every `fewer` profile, by more than either set's own spread (run-to-run noise), costliest
/// first; each extra call costs what a call of that function costs in `fewer` on average, at most
/// the least the calls' inclusive cost grew by. Calls whose inclusive cost does not grow as
/// consistently are left out: more polls of the same future do the same work. So is a call from a
/// function that is itself called more often: it is part of that function's extra cost.
pub fn extra_calls(more: &[&Profile], fewer: &[&Profile]) -> Vec<ExtraCalls> {
    let called = |set: &[&Profile]| -> Vec<HashMap<String, u64>> {
        set.iter()
            .map(|p| {
                p.times_called()
                    .into_iter()
                    .map(|(f, n)| (f.to_string(), n))
                    .collect()
            })
            .collect()
    };
    let (called_more, called_fewer) = (called(more), called(fewer));
    let times = |set: &[HashMap<String, u64>], f: &str| -> Vec<u64> {
        set.iter().map(|t| t.get(f).copied().unwrap_or(0)).collect()
    };
    let shared: HashSet<&str> = fewer.iter().flat_map(|p| p.functions()).collect();
    let edges: HashSet<(&str, &str)> = more
        .iter()
        .chain(fewer)
        .flat_map(|p| p.edges())
        .filter(|(from, to)| shared.contains(from) && shared.contains(to))
        .collect();
    let mut per_call: HashMap<&str, (u64, u64)> = HashMap::new();
    for profile in fewer {
        for ((_, to), call) in &profile.calls {
            let entry = per_call.entry(to.as_str()).or_default();
            entry.0 += call.count;
            entry.1 += call.inclusive;
        }
    }
    let mut found = Vec::new();
    for (caller, callee) in edges {
        let counts = |set: &[&Profile]| -> Vec<Call> { set.iter().map(|p| p.call(caller, callee)).collect() };
        let (on, off) = (counts(more), counts(fewer));
        let on_counts: Vec<u64> = on.iter().map(|c| c.count).collect();
        let off_counts: Vec<u64> = off.iter().map(|c| c.count).collect();
        let Some(extra) = consistently_more(&on_counts, &off_counts) else {
            continue;
        };
        let on_cost: Vec<u64> = on.iter().map(|c| c.inclusive).collect();
        let off_cost: Vec<u64> = off.iter().map(|c| c.inclusive).collect();
        let Some(grown) = consistently_more(&on_cost, &off_cost) else {
            continue;
        };
        if consistently_more(&times(&called_more, caller), &times(&called_fewer, caller)).is_some() {
            continue;
        }
        let (calls, inclusive) = per_call.get(callee).copied().unwrap_or_default();
        found.push(ExtraCalls {
            caller: caller.to_string(),
            callee: callee.to_string(),
            extra,
            instructions: (extra * inclusive / calls.max(1)).min(grown),
        });
    }
    found.sort_by(|a, b| b.instructions.cmp(&a.instructions).then(a.callee.cmp(&b.callee)));
    found
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
