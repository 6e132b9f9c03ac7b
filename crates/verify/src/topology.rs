//! The cross-artifact check: what one artifact produces is what the others select. For every
//! scrape path of the [`Topology`] (static targets, pod discovery, ServiceMonitor, PodMonitor,
//! federation) it takes the `job` the path yields and the port it reaches, and reports, naming
//! both places, a rule or dashboard whose `job` matcher misses that job, a static target or
//! monitor on another port than the one the pods expose, a proxy forwarding to another port than
//! the exporter's, and a NetworkPolicy that does not admit the scrape port or opens it to all.

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::Expr;
use promql_parser::util::{walk_expr, ExprVisitor};

use super::Problem;
use sockudo_obs_model::expr::parse_promql;
use sockudo_obs_model::model::Model;
use sockudo_obs_model::topology::{PathKind, ScrapePath, Topology};

/// Where the profile's own keys are reported.
const PROFILE_ITEMS: [&str; 3] = ["proxy", "kubernetes.network_policy", "prometheus.static_targets"];

/// Every disagreement between the model's artifacts (see the module docs), each naming both
/// places.
pub fn check(model: &Model) -> Vec<Problem> {
    let topology = &model.topology;
    let mut problems = Vec::new();
    for file in &model.spec_rules.files {
        let exprs = file
            .recording
            .iter()
            .map(|r| (&r.record, &r.expr))
            .chain(file.alerts.iter().map(|a| (&a.name, &a.expr)));
        for (item, expr) in exprs {
            for message in job_disagreements(topology, expr) {
                problems.push(problem(&file.path, item, message));
            }
        }
    }
    for dashboard in &model.dashboards.items {
        let variable = &dashboard.spec.variable_metric;
        for message in job_disagreements(topology, variable) {
            problems.push(problem(
                &dashboard.file,
                "variable_metric (the job variable)",
                message,
            ));
        }
        for panel in dashboard.spec.panels() {
            for query in &panel.queries {
                let expr = query.expr.replace("$__rate_interval", "5m");
                for message in job_disagreements(topology, &expr) {
                    problems.push(problem(
                        &dashboard.file,
                        &format!("panel {:?}", panel.title),
                        message,
                    ));
                }
            }
        }
    }
    problems.extend(
        port_disagreements(topology)
            .into_iter()
            .map(|(item, message)| problem(&model.profile.path, item, message)),
    );
    problems.extend(super::paths::check(model));
    problems
}

fn problem(file: &str, item: &str, message: String) -> Problem {
    Problem {
        file: file.to_string(),
        item: item.to_string(),
        message,
    }
}

/// One message per scrape path whose job a `job` matcher of `expr` does not select.
fn job_disagreements(topology: &Topology, expr: &str) -> Vec<String> {
    let Ok(ast) = parse_promql(expr) else {
        // The catalogue check reports expressions that do not parse.
        return Vec::new();
    };
    let mut matchers = JobMatchers(Vec::new());
    let _ = walk_expr(&mut matchers, &ast);
    let mut messages = Vec::new();
    for matcher in matchers.0 {
        for path in &topology.paths {
            let Some(job) = path.job() else { continue };
            if !matcher.is_match(job) {
                messages.push(format!(
                    "selects {}, but {} produces job={job:?}{}",
                    describe(&matcher),
                    where_defined(path),
                    relabel_note(path)
                ));
            }
        }
    }
    messages
}

fn describe(matcher: &Matcher) -> String {
    let op = match matcher.op {
        MatchOp::Equal => "=",
        MatchOp::NotEqual => "!=",
        MatchOp::Re(_) => "=~",
        MatchOp::NotRe(_) => "!~",
    };
    format!("job{op}{:?}", matcher.value)
}

fn where_defined(path: &ScrapePath) -> String {
    format!("the {:?} scrape path ({})", path.kind, path.defined_in)
}

fn relabel_note(path: &ScrapePath) -> &'static str {
    match (path.kind, path.job_relabel.is_some()) {
        (PathKind::ServiceMonitor, false) => {
            " (the Operator's default, the Service name: add a job relabeling)"
        }
        (PathKind::PodMonitor, false) => " (the Operator's default, namespace/name: add a job relabeling)",
        _ => "",
    }
}

/// Collects the `job` matchers of every selector, skipping Grafana variables (`$job`).
struct JobMatchers(Vec<Matcher>);

impl ExprVisitor for JobMatchers {
    type Error = ();

    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, ()> {
        let selector = match expr {
            Expr::VectorSelector(vs) => vs,
            Expr::MatrixSelector(ms) => &ms.vs,
            _ => return Ok(true),
        };
        let matchers = &selector.matchers;
        self.0.extend(
            matchers
                .matchers
                .iter()
                .chain(matchers.or_matchers.iter().flatten())
                .filter(|m| m.name == "job" && !m.value.contains('$'))
                .cloned(),
        );
        Ok(true)
    }
}

/// Port and host disagreements between the scrape paths, the proxy, the exporter and the
/// NetworkPolicy, each with the profile key to fix.
fn port_disagreements(topology: &Topology) -> Vec<(&'static str, String)> {
    let [proxy_item, policy_item, static_item] = PROFILE_ITEMS;
    let (port_name, pod_port) = topology.pod_port;
    let exporter = &topology.exporter;
    let mut problems = Vec::new();
    for path in &topology.paths {
        if path.kind == PathKind::Federation {
            continue;
        }
        match path.port {
            Some(port) if port == pod_port => {}
            Some(port) => problems.push((
                static_item,
                format!(
                    "{} scrapes port {port}, but the Sockudo instances expose {port_name} port \
                     {pod_port} (proxy.listen_port with the proxy, else metrics.port)",
                    where_defined(path)
                ),
            )),
            None => problems.push((
                static_item,
                format!("{} has a target without a numeric port", where_defined(path)),
            )),
        }
    }
    if let Some(route) = &topology.proxy {
        if route.upstream.port != exporter.port {
            problems.push((
                proxy_item,
                format!(
                    "nginx/sockudo-metrics.conf forwards to {} ({}), but the exporter listens on \
                     {exporter} (metrics.host/metrics.port, after --config and METRICS_*)",
                    route.upstream, route.upstream_key
                ),
            ));
        }
        if exporter.is_loopback() && !route.upstream.is_loopback() {
            problems.push((
                proxy_item,
                format!(
                    "nginx/sockudo-metrics.conf forwards to {} ({}), but the exporter binds only \
                     loopback ({exporter})",
                    route.upstream, route.upstream_key
                ),
            ));
        }
    }
    if let Some(policy) = &topology.policy {
        for path in topology.paths.iter().filter(|p| p.in_cluster()) {
            if let Some(port) = path.port.filter(|p| !policy.guarded.contains(p)) {
                problems.push((
                    policy_item,
                    format!(
                        "{} scrapes port {port}, but k8s/networkpolicy.yaml admits the monitoring \
                         peers only to {:?}",
                        where_defined(path),
                        policy.guarded
                    ),
                ));
            }
        }
        for port in policy.open.iter().filter(|p| policy.guarded.contains(p)) {
            problems.push((
                policy_item,
                format!(
                    "k8s/networkpolicy.yaml opens port {port} to everyone \
                     (kubernetes.network_policy.app_ports), but it is a metrics or proxy port \
                     (metrics.port, proxy.listen_port) meant for the peers only"
                ),
            ));
        }
        if policy.open.is_empty() {
            problems.push((
                policy_item,
                "k8s/networkpolicy.yaml opens no app port (kubernetes.network_policy.app_ports is \
                 empty): the policy would drop every WebSocket connection"
                    .to_string(),
            ));
        }
    }
    problems
}
