//! `sockudo-obs generate` and `sockudo-obs check`: resolve the inputs, then build, write or
//! compare the bundle.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use sockudo_obs::bundle::{self, check, Model, Overrides, SpecSource};
use sockudo_obs::config::{MetricsConfig, PREFIX_VARIABLES};

use super::stdio::{errln, outln};

/// Inputs shared by `generate` and `check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Inputs {
    /// The environment profile (environments/<ENV>.yaml), e.g. production, staging, development,
    /// local. `check` without it checks every environment.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Take the prefix, port and host from a Sockudo config.json. The METRICS_* and
    /// PROMETHEUS_METRICS_PREFIX variables override it, as they do for the server.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read environments/, alerts/, dashboards/ and templates/ from this directory instead of the
    /// copies embedded in the binary.
    #[arg(long, value_name = "DIR")]
    pub specs: Option<PathBuf>,
}

impl Inputs {
    /// The overrides of the profile's `metrics` section: everything `--config` says, and each
    /// variable that is set. Unset variables leave the profile's values alone.
    fn overrides(&self) -> Result<Overrides> {
        let config = MetricsConfig::load(self.config.as_deref())?;
        if self.config.is_some() {
            return Ok(Overrides {
                host: Some(config.host),
                port: Some(config.port),
                prefix: Some(config.prefix),
            });
        }
        let set = |var: &str| std::env::var_os(var).is_some();
        Ok(Overrides {
            host: set("METRICS_HOST").then_some(config.host),
            port: set("METRICS_PORT").then_some(config.port),
            prefix: PREFIX_VARIABLES.iter().any(|v| set(v)).then_some(config.prefix),
        })
    }

    fn source(&self) -> Result<SpecSource> {
        Ok(SpecSource::new(self.specs.as_deref())?)
    }
}

pub(crate) fn generate(
    inputs: &Inputs,
    out: Option<PathBuf>,
    check_only: bool,
    force: bool,
) -> Result<ExitCode> {
    let Some(env) = inputs.env.as_deref() else {
        let known = inputs.source()?.environments()?.join(", ");
        return Err(
            sockudo_obs::Error::usage(format!("generate needs --env (one of: {known})"))
                .with_key("--env")
                .into(),
        );
    };
    let source = inputs.source()?;
    let output = bundle::build(&source, env, &inputs.overrides()?)?;
    // Example hosts and URLs render as well as real ones: say which keys still hold them.
    for (key, value) in bundle::reference::profile_examples(&source, env)? {
        errln!(
            "sockudo-obs: warning: {key} still holds the example value {value}; replace it (docs/profile.md)"
        )?;
    }
    let dir = out.unwrap_or_else(|| Path::new("generated").join(env));
    if let Some(specs) = &inputs.specs {
        refuse_out_holding_specs(&dir, specs)?;
    }
    if check_only {
        return report_drift(&dir, &output.diff(&dir)?);
    }
    for note in output.write_to(&dir, force)? {
        errln!("sockudo-obs: note: {note}")?;
    }
    outln!("wrote {} files to {}", output.paths().count(), dir.display())?;
    Ok(ExitCode::SUCCESS)
}

/// Writing the bundle into `--specs` or a folder holding it would replace the profile and specs
/// it was just rendered from (with `--force`, or when they were once a bundle): refused, naming
/// both, whatever links lead there.
fn refuse_out_holding_specs(out: &Path, specs: &Path) -> Result<()> {
    let (Some(out_real), Ok(specs_real)) = (resolved(out), specs.canonicalize()) else {
        return Ok(());
    };
    if specs_real.starts_with(&out_real) {
        return Err(sockudo_obs::Error::usage(format!(
            "--out {} holds --specs {}: writing the bundle there would replace the specs it is \
             rendered from; choose another --out",
            out.display(),
            specs.display()
        ))
        .with_key("--out")
        .with_path(out)
        .into());
    }
    Ok(())
}

/// `path` with every link resolved, also when its last components do not exist yet.
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(real) = path.canonicalize() {
        return Some(real);
    }
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    Some(resolved(parent)?.join(path.file_name()?))
}

fn report_drift(dir: &Path, changes: &[bundle::Change]) -> Result<ExitCode> {
    if changes.is_empty() {
        outln!("{} is up to date", dir.display())?;
        return Ok(ExitCode::SUCCESS);
    }
    errln!(
        "{} is stale: {} file(s) differ from a fresh render",
        dir.display(),
        changes.len()
    )?;
    for change in changes {
        errln!("  {change}")?;
    }
    errln!("run `sockudo-obs generate --env <env>` and commit the result")?;
    Ok(ExitCode::FAILURE)
}

pub(crate) fn check(inputs: &Inputs) -> Result<ExitCode> {
    let source = inputs.source()?;
    // Checking every environment: a profile file no environment reads is a failure, not a
    // silent skip, or `check` could pass having checked nothing.
    let (envs, skipped) = match &inputs.env {
        Some(env) => (vec![env.clone()], Vec::new()),
        None => (source.environments()?, source.skipped_profiles()?),
    };
    if envs.is_empty() && skipped.is_empty() {
        return Err(sockudo_obs::Error::usage(format!(
            "{}: no environment profile to check",
            inputs
                .specs
                .as_deref()
                .unwrap_or(Path::new("."))
                .join("environments")
                .display()
        ))
        .into());
    }
    let overrides = inputs.overrides()?;
    let mut failed = false;
    for env in &envs {
        let model = Model::load(&source, env, &overrides)?;
        let report = check::run(&model);
        if report.is_clean() {
            outln!("{env}: ok")?;
        } else {
            failed = true;
            errln!("{env}: {} problem(s)", report.problems.len())?;
            for problem in &report.problems {
                errln!("  {problem}")?;
            }
        }
    }
    for (path, reason) in &skipped {
        failed = true;
        errln!("{path}: not checked: {reason}; rename it, or move it out of environments/")?;
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
