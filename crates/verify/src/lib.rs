//! The verify stage, the checks that keep names from drifting: every PromQL expression of the
//! bundle is parsed and checked against the catalogue (`promql`), rules and dashboards against the
//! conventions of the monitoring mixins and Grafana's dashboard-linter (`rules`, `dashboards`,
//! which also keeps each dashboard ConfigMap under `kubectl apply`'s limit), each gauge aggregated
//! alike by rules and panels (`gauges`), and the scrape topology against the job and port every
//! artifact selects (`topology`), scraped on every deployment path with the annotations the pods
//! carry (`paths`). A problem names the file, the item (rule or panel) and what is wrong.
//!
//! Every check reads the [`Model`] and its documents. This crate depends on the model crate
//! alone, never on `sockudo-obs-render`: a check cannot call a renderer, and the compiler holds
//! it. Its files may share one another's code (`promql` is every check's parser).

pub(crate) mod dashboards;
pub(crate) mod gauges;
pub(crate) mod paths;
pub(crate) mod promql;
pub(crate) mod rules;
pub(crate) mod slos;
pub(crate) mod topology;

use std::fmt;

/// The model every check reads.
pub use sockudo_obs_model::Model;

pub use paths::{alertmanagers_by_service_address, finished_pods_kept};
pub use promql::{check_expr, check_selector, Scope};
pub use rules::check_with_catalogue;
pub use topology::check as cross_artifact;

/// One thing wrong with the specs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// The spec file (`alerts/http.yaml`).
    pub file: String,
    /// The rule, panel or key inside it.
    pub item: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.item, self.message)
    }
}

/// Everything [`run`] found; empty means the bundle may be written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every problem, in the order the checks found them.
    pub problems: Vec<Problem>,
}

impl Report {
    /// True when the checks found nothing.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// An error listing every problem, one per line, or `Ok` when there are none.
    pub fn into_result(self) -> sockudo_obs_model::Result<()> {
        if self.is_clean() {
            return Ok(());
        }
        let lines: Vec<String> = self.problems.iter().map(|p| format!("  {p}")).collect();
        let message = format!(
            "the specs fail {} check(s):\n{}",
            self.problems.len(),
            lines.join("\n")
        );
        let error = sockudo_obs_model::Error::new(sockudo_obs_model::ErrorKind::Verify, message);
        // The file is named when every problem is in it.
        let file = &self.problems[0].file;
        if self.problems.iter().all(|p| &p.file == file) {
            return Err(error.with_path(file));
        }
        Err(error)
    }
}

/// Runs every check on `model`.
pub fn run(model: &Model) -> Report {
    let mut problems = rules::check(model);
    problems.extend(dashboards::check(model));
    problems.extend(gauges::check(model));
    problems.extend(slos::check(model));
    problems.extend(topology::check(model));
    problems.sort();
    Report { problems }
}
