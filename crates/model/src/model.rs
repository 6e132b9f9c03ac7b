//! The model every renderer and check reads: the environment's profile (with any config overrides
//! applied), its rules and dashboards resolved for the active prefix, the derived topology and
//! the documents built from them. [`Model::load`] runs the first three stages of the pipeline:
//! load, validate, build documents.

use std::collections::BTreeSet;

use crate::Result;

use super::coverage::Unfed;
use super::dashboards::Dashboards;
use super::documents::scrape_config::Deployment;
use super::documents::Documents;
use super::profile::Profile;
use super::rules::RuleSet;
use super::slos::Slos;
use super::source::{Folder, SourceFile, SpecSource};
use super::topology::Topology;
use super::validate;

/// Values that take precedence over the profile's `metrics` section: from `--config` and the
/// `METRICS_*` / `PROMETHEUS_METRICS_PREFIX` environment variables, exactly as the server reads
/// them, so the bundle matches the server it monitors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Replaces `metrics.host` (`METRICS_HOST`).
    pub host: Option<String>,
    /// Replaces `metrics.port` (`METRICS_PORT`).
    pub port: Option<u16>,
    /// Replaces `metrics.prefix` (`PROMETHEUS_METRICS_PREFIX`).
    pub prefix: Option<String>,
}

/// One environment, ready to render.
#[derive(Debug, Clone)]
pub struct Model {
    /// The environment's name (`production`), as given to `--env`.
    pub env: String,
    /// Its profile, validated, with the [`Overrides`] applied.
    pub profile: Profile,
    /// The alert and recording rules the bundle renders (`alerts/`, and the SLOs'), the
    /// left-out alerts removed.
    pub rules: RuleSet,
    /// Every rule of the specs (the profile's overrides applied), left-out alerts too: what the
    /// checks read, so `check` finds a broken spec whatever build a profile targets.
    pub spec_rules: RuleSet,
    /// The dashboard specs (`dashboards/`), with the SLO rows and the unfed panels' notes.
    pub dashboards: Dashboards,
    /// The SLOs (`slos/`), whose rules are in `rules` and panels in `dashboards`.
    pub slos: Slos,
    /// The alerts and panels that read a family the profile's server does not feed.
    pub unfed: Unfed,
    /// The alerts of the specs the bundle leaves out: turned off by the profile, or reading a
    /// family its server does not feed.
    pub left_out: BTreeSet<String>,
    /// Every scrape path and port, derived once from the profile for the renderers and the
    /// cross-artifact check.
    pub topology: Topology,
    /// The text templates (`templates/`), for the renderers of text artifacts.
    pub templates: Vec<SourceFile>,
    /// The structured documents (Prometheus configs, rule groups, dashboards), built once.
    pub documents: Documents,
}

impl Overrides {
    fn apply(&self, profile: &mut Profile) {
        if let Some(host) = &self.host {
            profile.metrics.host = host.clone();
        }
        if let Some(port) = self.port {
            profile.metrics.port = port;
        }
        if let Some(prefix) = &self.prefix {
            profile.metrics.prefix = prefix.clone();
        }
    }
}

impl Model {
    /// Loads environment `env` from `source`: reads and validates its profile, applies
    /// `overrides`, then loads the specs and builds the documents, once. It does not verify them
    /// (`sockudo-obs-verify` does, before anything renders it).
    pub fn load(source: &SpecSource, env: &str, overrides: &Overrides) -> Result<Model> {
        // Load and validate the profile first: the specs read its thresholds.
        let mut profile = Profile::parse(&source.environment(env)?)?;
        validate::profile(&profile)?;
        overrides.apply(&mut profile);
        profile.leave_out_unconfigured_self_monitoring()?;
        // Load the specs, then validate what the artifacts will copy from the profile.
        let slos = Slos::load(source, &profile)?;
        let mut rules = RuleSet::load(source, &profile, slos.rule_files(&profile))?;
        let mut dashboards = Dashboards::load(source, &profile)?;
        slos.fill_dashboard_rows(&mut dashboards, &profile);
        // An alert the profile turns off, or one over a family the server does not feed (it could
        // never fire), is not rendered; the panels over such families say so in place.
        let unfed = Unfed::of(profile.server, &profile.metrics.prefix, &rules, &dashboards);
        let mut left_out = RuleSet::disabled_by(&profile);
        left_out.extend(unfed.alerts.keys().cloned());
        let spec_rules = rules.clone();
        rules.leave_out(&left_out, &dashboards.metric_names());
        dashboards.append_notes(|dashboard, panel| unfed.panel_note(dashboard, panel));
        let templates = source.files(Folder::Templates, &[""])?;
        let topology = Topology::derive(&profile);
        validate::artifacts(&profile, &topology)?;
        // Build the documents, once.
        let deployment = Deployment {
            env,
            profile: &profile,
            topology: &topology,
        };
        let documents = Documents::build(deployment, &rules, &dashboards)?;
        Ok(Model {
            topology,
            env: env.to_string(),
            profile,
            rules,
            spec_rules,
            dashboards,
            slos,
            unfed,
            left_out,
            templates,
            documents,
        })
    }

    /// The active metric name prefix.
    pub fn prefix(&self) -> &str {
        &self.profile.metrics.prefix
    }
}
