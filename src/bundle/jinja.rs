//! The one way the generator evaluates minijinja (the text templates and the alert fixtures'
//! values, both of which a `--specs` folder may supply): strict about undefined values, never
//! auto-escaping, and bounded. Each render gets [`FUEL`] instructions and may write at most
//! [`MAX_OUTPUT_BYTES`], so a template with nested loops fails in well under a second, naming
//! itself, instead of running for minutes and filling memory.

use std::io;

use minijinja::{AutoEscape, Environment, ErrorKind, Template, UndefinedBehavior};
use serde::Serialize;

/// Instructions one render may execute: a hundred times what the shipped templates need (each
/// renders within 20,000), and about a second of a debug build.
pub const FUEL: u64 = 2_000_000;

/// The most one render may write. The largest shipped output is about 20 KiB.
pub const MAX_OUTPUT_BYTES: usize = 4 << 20;

/// An environment with the generator's settings and the fuel limit.
pub fn environment<'source>() -> Environment<'source> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_fuel(Some(FUEL));
    env
}

/// Renders `template` with `context` into a string of at most [`MAX_OUTPUT_BYTES`]. The error
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
}
