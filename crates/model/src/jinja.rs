//! The one way the generator evaluates minijinja (the text templates, and the `${ ... }`
//! placeholders of the specs, both of which a `--specs` folder may supply): strict about
//! undefined values, never auto-escaping, and bounded. Each render gets `FUEL` instructions and
//! may write at most `MAX_OUTPUT_BYTES`, so a template with nested loops fails in well under a
//! second, naming itself, instead of running for minutes and filling memory.
//!
//! # Placeholders
//!
//! A spec (`alerts/*.yaml`, `dashboards/*.yaml`, ...) has one placeholder syntax, `${ ... }`
//! (`Vars::fill`). The inside is a minijinja expression over the variables the spec's field
//! offers: a plain variable (`${threshold}`, `${job}`) or a computation
//! (`${ (threshold * 1000) | int + 50 }`). A list variable (`${routing}`) renders as its items
//! joined by `, `; an empty one takes an adjacent `, ` with it. `{{ ... }}` is never ours: it is
//! left as it is for Prometheus's and Alertmanager's templates (`{{ $labels.instance }}`) and
//! Grafana's legends (`{{instance}}`). An unknown variable, an expression that does not parse or
//! fails to evaluate, or an unclosed `${` is an error naming the placeholder.

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use minijinja::value::ValueKind;
use minijinja::{AutoEscape, Environment, ErrorKind, Template, UndefinedBehavior, Value};
use serde::Serialize;

/// Instructions one render may execute: a hundred times what the shipped templates need (each
/// renders within 20,000), and about a second of a debug build.
pub(crate) const FUEL: u64 = 2_000_000;

/// The most one render may write. The largest shipped output is about 20 KiB.
pub(crate) const MAX_OUTPUT_BYTES: usize = 4 << 20;

/// An environment with the generator's settings and the fuel limit.
pub fn environment<'source>() -> Environment<'source> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_fuel(Some(FUEL));
    env
}

/// Renders `template` with `context` into a string of at most `MAX_OUTPUT_BYTES`. The error
/// says which limit was hit; the caller names the template.
pub fn render(template: &Template<'_, '_>, context: impl Serialize) -> Result<String, String> {
    let mut out = CappedWriter::default();
    match template.render_captured_to(context, &mut out) {
        Ok(_) => String::from_utf8(out.text).map_err(|_| "renders text that is not UTF-8".into()),
        Err(err) if err.kind() == ErrorKind::OutOfFuel => Err(format!(
            "takes more than {FUEL} steps to evaluate (loops inside loops?), stopped"
        )),
        Err(_) if out.overflowed => Err(format!("renders more than {MAX_OUTPUT_BYTES} bytes, stopped")),
        Err(err) => Err(format!("{err:#}")),
    }
}

/// A buffer that refuses to grow past [`MAX_OUTPUT_BYTES`].
#[derive(Default)]
struct CappedWriter {
    text: Vec<u8>,
    overflowed: bool,
}

impl io::Write for CappedWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.text.len() + bytes.len() > MAX_OUTPUT_BYTES {
            self.overflowed = true;
            return Err(io::Error::other("output limit reached"));
        }
        self.text.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The variables a spec field's `${ ... }` placeholders may read, by name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vars {
    values: BTreeMap<String, Value>,
}

impl Vars {
    pub(crate) fn new() -> Vars {
        Vars::default()
    }

    /// `name` standing for `value`, as it is.
    pub(crate) fn text(mut self, name: &str, value: &str) -> Vars {
        self.values.insert(name.to_string(), Value::from(value));
        self
    }

    /// `name` standing for a number: an integral one is an integer, so `${ threshold * 2 }`
    /// renders `2000`, not `2000.0` (up to 2^53, where every integer is still exact in a float).
    pub(crate) fn number(mut self, name: &str, value: f64) -> Vars {
        const EXACT: f64 = 9_007_199_254_740_992.0;
        let value = if value.fract() == 0.0 && value.abs() <= EXACT {
            Value::from(value as i64)
        } else {
            Value::from(value)
        };
        self.values.insert(name.to_string(), value);
        self
    }

    /// `name` standing for a number when there is one; otherwise `name` stays unknown here.
    pub(crate) fn maybe_number(self, name: &str, value: Option<f64>) -> Vars {
        match value {
            Some(value) => self.number(name, value),
            None => self,
        }
    }

    /// `name` standing for a list, written as a list element: `by (${routing}, job)`.
    pub(crate) fn list(mut self, name: &str, items: &[String]) -> Vars {
        self.values.insert(name.to_string(), Value::from(items.to_vec()));
        self
    }

    /// Fills every `${ ... }` of `text` ([the module docs](self)); the error names the
    /// placeholder and what is wrong with it.
    pub(crate) fn fill(&self, text: &str) -> Result<String, String> {
        let env = environment();
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(found) = next_placeholder(rest)? {
            out.push_str(&rest[..found.start]);
            let after = &rest[found.end..];
            let value = self.evaluate(&env, found.inner, found.source)?;
            rest = after;
            if value.kind() == ValueKind::Seq {
                let items: Vec<String> = value
                    .try_iter()
                    .map_err(|err| format!("{}: {}", shown(found.source), one_line(&err)))?
                    .map(|item| item.to_string())
                    .collect();
                if items.is_empty() {
                    // An empty list element goes with its comma: `by (${routing}, job)`.
                    if let Some(stripped) = rest.strip_prefix(", ") {
                        rest = stripped;
                    } else if out.ends_with(", ") {
                        out.truncate(out.len() - 2);
                    }
                } else {
                    out.push_str(&items.join(", "));
                }
            } else {
                out.push_str(&value.to_string());
            }
            if out.len() > MAX_OUTPUT_BYTES {
                return Err(format!(
                    "{}: renders more than {MAX_OUTPUT_BYTES} bytes, stopped",
                    shown(found.source)
                ));
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The names this field offers, for error messages.
    fn known(&self) -> String {
        if self.values.is_empty() {
            return "none".into();
        }
        let names: Vec<String> = self.values.keys().map(|name| format!("${{{name}}}")).collect();
        names.join(", ")
    }

    fn evaluate(&self, env: &Environment<'_>, inner: &str, source: &str) -> Result<Value, String> {
        let expr = env
            .compile_expression(inner)
            .map_err(|err| format!("{}: not an expression: {}", shown(source), one_line(&err)))?;
        let globals: BTreeSet<&str> = env.globals().map(|(name, _)| name).collect();
        let mut unknown: Vec<String> = expr
            .undeclared_variables(false)
            .into_iter()
            .filter(|name| !self.values.contains_key(name) && !globals.contains(name.as_str()))
            .collect();
        unknown.sort();
        if !unknown.is_empty() {
            return Err(format!(
                "{}: unknown variable {} (known here: {})",
                shown(source),
                unknown.join(", "),
                self.known()
            ));
        }
        let value = match expr.eval(&self.values) {
            Ok(value) => value,
            Err(err) if err.kind() == ErrorKind::OutOfFuel => {
                return Err(format!(
                    "{}: takes more than {FUEL} steps to evaluate, stopped",
                    shown(source)
                ))
            }
            Err(err) => return Err(format!("{}: {}", shown(source), one_line(&err))),
        };
        if value.is_undefined() {
            return Err(format!("{}: evaluates to an undefined value", shown(source)));
        }
        Ok(value)
    }
}

/// The variables the `${ ... }` placeholders of `text` read (an expression that does not parse
/// reads none here: [`Vars::fill`] reports it).
pub(crate) fn variables_read(text: &str) -> Result<BTreeSet<String>, String> {
    let env = environment();
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(found) = next_placeholder(rest)? {
        if let Ok(expr) = env.compile_expression(found.inner) {
            names.extend(expr.undeclared_variables(false));
        }
        rest = &rest[found.end..];
    }
    Ok(names)
}

/// One `${ ... }` of a text: where it starts and ends, its whole text and its inside, trimmed.
struct Placeholder<'a> {
    start: usize,
    end: usize,
    source: &'a str,
    inner: &'a str,
}

/// The first `${ ... }` of `text`: the `}` closing it is the first one outside the expression's
/// own braces and quoted strings.
fn next_placeholder(text: &str) -> Result<Option<Placeholder<'_>>, String> {
    let Some(start) = text.find("${") else {
        return Ok(None);
    };
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (offset, c) in text[start + 2..].char_indices() {
        match (quote, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '{') => depth += 1,
            (None, '}') if depth > 0 => depth -= 1,
            (None, '}') => {
                let end = start + 2 + offset + 1;
                let inner = text[start + 2..end - 1].trim();
                let source = &text[start..end];
                if inner.is_empty() {
                    return Err(format!("{}: an empty placeholder", shown(source)));
                }
                return Ok(Some(Placeholder {
                    start,
                    end,
                    source,
                    inner,
                }));
            }
            _ => {}
        }
    }
    Err(format!(
        "{}: `${{` without its closing `}}`",
        shown(&text[start..])
    ))
}

/// A placeholder as an error shows it: quoted, and cut when long.
fn shown(source: &str) -> String {
    sockudo_obs_catalogue::echoed(source)
}

/// A minijinja error on one line: its kind and detail, without the source excerpt.
fn one_line(err: &minijinja::Error) -> String {
    match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_str(source: &str) -> Result<String, String> {
        let env = environment();
        let template = env.template_from_str(source).map_err(|e| e.to_string())?;
        render(&template, ())
    }

    #[test]
    fn nested_loops_run_out_of_fuel_and_big_output_is_cut() {
        let loops = "{% for a in range(100000) %}{% for b in range(100000) %}{{ b }}{% endfor %}{% endfor %}";
        assert!(render_str(loops).unwrap_err().contains("steps"));
        let big = "{% for a in range(100) %}{{ 'x' * 1000000 }}{% endfor %}";
        assert!(render_str(big).unwrap_err().contains("bytes"));
        assert_eq!(render_str("{{ 6 * 7 }}").unwrap(), "42");
    }

    fn vars() -> Vars {
        Vars::new()
            .text("job", "sockudo")
            .number("threshold", 0.8)
            .number("big", 5000.0)
            .list("routing", &["cluster".into(), "namespace".into()])
            .list("pod", &[])
    }

    #[test]
    fn placeholders_are_variables_or_expressions() {
        let vars = vars();
        assert_eq!(
            vars.fill("up{job=\"${job}\"} > ${threshold}").unwrap(),
            "up{job=\"sockudo\"} > 0.8"
        );
        assert_eq!(
            vars.fill("${ big * 2 }x40 ${ (threshold * 1000) | int + 50 }")
                .unwrap(),
            "10000x40 850"
        );
        assert_eq!(vars.fill("${ big // 3 } ${ threshold / 2 }").unwrap(), "1666 0.4");
        // Braces and quotes inside the expression do not close it.
        assert_eq!(vars.fill("${ {'a': '}'}['a'] ~ job }").unwrap(), "}sockudo");
        // `{{ ... }}` is Prometheus's, never ours: left as it is.
        let template = "{{ $labels.instance }} is {{ $value }} ({{ threshold }})";
        assert_eq!(vars.fill(template).unwrap(), template);
        assert_eq!(vars.fill("no placeholder").unwrap(), "no placeholder");
    }

    #[test]
    fn list_variables_are_list_elements_and_an_empty_one_takes_its_comma() {
        let vars = vars();
        assert_eq!(
            vars.fill("by (${routing}, job, instance, ${pod})").unwrap(),
            "by (cluster, namespace, job, instance)"
        );
        assert_eq!(vars.fill("by (${pod}, job)").unwrap(), "by (job)");
        assert_eq!(vars.fill("by (${pod})").unwrap(), "by ()");
    }

    #[test]
    fn a_bad_placeholder_is_an_error_naming_it() {
        let vars = vars();
        let unknown = vars.fill("x > ${nope}").unwrap_err();
        assert!(
            unknown.contains("\"${nope}\"") && unknown.contains("unknown variable nope"),
            "{unknown}"
        );
        assert!(
            unknown.contains("${threshold}"),
            "lists the known ones: {unknown}"
        );
        let typo = vars.fill("${ treshold * 2 }").unwrap_err();
        assert!(typo.contains("unknown variable treshold"), "{typo}");
        let syntax = vars.fill("${ threshold * }").unwrap_err();
        assert!(
            syntax.contains("\"${ threshold * }\": not an expression: syntax error"),
            "{syntax}"
        );
        let eval = vars.fill("${ job / 2 }").unwrap_err();
        assert!(eval.contains("\"${ job / 2 }\": invalid operation"), "{eval}");
        assert!(vars
            .fill("${threshold")
            .unwrap_err()
            .contains("without its closing"));
        assert!(vars.fill("${ }").unwrap_err().contains("empty placeholder"));
        let huge = vars.fill("${ 'x' * 50000000 }").unwrap_err();
        assert!(huge.contains("bytes"), "{huge}");
        for message in [unknown, typo, syntax, eval, huge] {
            assert!(!message.contains('\n'), "one line: {message}");
        }
    }

    #[test]
    fn the_variables_a_text_reads() {
        let read = variables_read("a ${threshold} b ${ (min_traffic * 2) | int } {{ $value }}").unwrap();
        assert_eq!(
            read,
            BTreeSet::from(["min_traffic".to_string(), "threshold".to_string()])
        );
    }
}
