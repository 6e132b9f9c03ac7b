//! The profile as a new operator meets it: `init` takes only names `generate` takes, heads the
//! profile with the real keys that still hold example values, writes the `k8s/<env>` overlay that
//! builds on the bundle `generate` then writes; `generate` warns, naming each key, while example
//! values remain; and `docs/profile.md`, the reference of every key, is fresh and complete.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_norway::Value;
use sockudo_obs::bundle::reference::{self, KeyDoc, PROFILE_KEYS};
use sockudo_obs::bundle::{parsed_profile, SourceFile, SpecSource};

use crate::support::kube;
use crate::support::process::run_to_exit;
use crate::support::serve::{assert_one_line_usage_error, sockudo_obs};
use crate::support::specs;

const EXIT_LIMIT: Duration = Duration::from_secs(20);

fn run_in(dir: &Path, args: &[&str]) -> Output {
    run_to_exit(sockudo_obs().args(args).current_dir(dir), EXIT_LIMIT)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every key of every shipped profile that `table` does not document.
fn undocumented(table: &[KeyDoc]) -> Vec<String> {
    let mut missing = Vec::new();
    for env in specs::environments() {
        let file = SpecSource::Embedded.environment(&env).unwrap();
        let profile: Value = serde_norway::from_str(&file.text).unwrap();
        for (key, _) in reference::leaves(&profile) {
            if reference::entry_in(table, &key).is_none() {
                missing.push(format!("{env}: {key}"));
            }
        }
    }
    missing
}

/// Sets `value` at a reference key (`[]` is the list's first item, `<alert>`/`<slo>` a real name),
/// creating the mappings and lists on the way.
fn set_at(profile: &mut Value, key: &str, value: Value) {
    let key = key
        .replace("<alert>", "SockudoHighErrorRate")
        .replace("<slo>", "api-availability")
        .replace("<severity>", "critical")
        .replace("<window>", "maintenance");
    let mut node = profile;
    for part in key.split('.') {
        let (name, item) = match part.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (part, false),
        };
        if !node.is_mapping() {
            *node = Value::Mapping(Default::default());
        }
        let map = node.as_mapping_mut().unwrap();
        node = map.entry(Value::from(name)).or_insert(Value::Null);
        if item {
            if !node.is_sequence() || node.as_sequence().unwrap().is_empty() {
                *node = Value::Sequence(vec![Value::Mapping(Default::default())]);
            }
            node = &mut node.as_sequence_mut().unwrap()[0];
        }
    }
    *node = value;
}

/// A profile holding every key of `table` at its example (keys holding one of `skip` left out),
/// parsed and validated as `generate` does.
fn every_example(table: &[KeyDoc], skip: &[&str]) -> sockudo_obs::Result<()> {
    let mut profile = Value::Mapping(Default::default());
    for doc in table.iter().filter(|k| !skip.iter().any(|s| k.key.contains(s))) {
        let example: Value = serde_norway::from_str(doc.example)
            .unwrap_or_else(|e| panic!("{}: example {:?} is not YAML: {e}", doc.key, doc.example));
        set_at(&mut profile, doc.key, example);
    }
    parsed_profile(&SourceFile {
        path: "environments/every-key.yaml".into(),
        text: serde_norway::to_string(&profile).unwrap(),
    })
    .map(|_| ())
}

/// `docs/profile.md` is what `init --reference` prints today.
#[test]
fn the_profile_reference_is_fresh() {
    let printed = run_in(Path::new("."), &["init", "--reference"]);
    assert!(printed.status.success(), "{}", stderr(&printed));
    let shipped =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/profile.md")).unwrap();
    assert!(
        String::from_utf8_lossy(&printed.stdout) == shipped,
        "docs/profile.md is stale: run `sockudo-obs init --reference > docs/profile.md`"
    );
    assert_eq!(reference::markdown().trim_end(), shipped.trim_end());
}

/// Every key of every shipped profile is documented; a key left out of the table is found.
#[test]
fn every_key_of_the_shipped_profiles_is_documented() {
    assert_eq!(undocumented(PROFILE_KEYS), Vec::<String>::new());
    let without: Vec<KeyDoc> = PROFILE_KEYS
        .iter()
        .filter(|k| k.key != "prometheus.scrape_timeout")
        .copied()
        .collect();
    let missing = undocumented(&without);
    assert!(
        missing.contains(&"production: prometheus.scrape_timeout".to_string()),
        "{missing:?}"
    );
}

/// Every documented key is one the profile takes and every example is a value it accepts: a
/// profile of all the examples parses and validates (twice: `basic_auth` and `authorization` of
/// a remote_write exclude each other, as do PagerDuty's two keys). A misspelt key in the table is
/// refused.
#[test]
fn every_documented_key_is_real_and_its_example_valid() {
    const ONE_OF_EACH_PAIR: [[&str; 2]; 2] = [
        ["remote_write[].basic_auth", "pagerduty.service_key_file"],
        ["remote_write[].authorization", "pagerduty.routing_key_file"],
    ];
    for skip in ONE_OF_EACH_PAIR {
        every_example(PROFILE_KEYS, &skip).unwrap_or_else(|e| panic!("without {skip:?}: {e:#}"));
    }
    let mut misspelt: Vec<KeyDoc> = PROFILE_KEYS.to_vec();
    let description = misspelt.iter_mut().find(|k| k.key == "description").unwrap();
    description.key = "descripton";
    let error = every_example(&misspelt, &ONE_OF_EACH_PAIR[0]).unwrap_err();
    assert!(format!("{error:#}").contains("descripton"), "{error:#}");
}

/// `init` takes only the names `generate` takes: `Prod_1` is refused by both, naming the rule, and
/// init writes nothing.
#[test]
fn init_and_generate_share_one_name_rule() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["init", "--env", "Prod_1"][..],
        &["generate", "--env", "Prod_1"][..],
    ] {
        let output = run_in(dir.path(), args);
        assert_one_line_usage_error(
            &output,
            &["--env", "\"Prod_1\"", "lowercase letters, digits and \"-\""],
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

/// The profile `init` writes lists, atop, every key still holding an example value with that
/// value, each a documented key; the overlay it writes builds on the bundle `generate` writes
/// (kubectl kustomize), its pods pass Pod Security "restricted" with every reference in their
/// namespace; `generate` warns naming each example key, and stops naming a key once it is edited.
#[test]
fn init_writes_a_profile_and_overlay_that_generate_and_kubectl_take() {
    let dir = tempfile::tempdir().unwrap();
    let init = run_in(dir.path(), &["init", "--env", "eu-1", "--dir", "specs"]);
    assert!(init.status.success(), "{}", stderr(&init));
    let profile_path = dir.path().join("specs/environments/eu-1.yaml");
    let text = std::fs::read_to_string(&profile_path).unwrap();
    // A versioned spec, like every profile: `generate` refuses one without `version`.
    assert!(
        text.lines().any(|line| line == "version: 1"),
        "init wrote no `version: 1`:\n{text}"
    );
    let listed: Vec<(String, String)> = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("#   - "))
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    let header: String = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!header.contains("webhook_url"), "{header}");
    let profile: Value = serde_norway::from_str(&text).unwrap();
    let leaves = reference::leaves(&profile);
    for (key, value) in &listed {
        assert!(
            reference::entry(key).is_some(),
            "the header names {key}, which is no profile key"
        );
        assert!(
            leaves.contains(&(key.clone(), value.clone())),
            "{key}: {value} is not the profile's"
        );
    }
    for needed in [
        "prometheus.external_labels.cluster",
        "alertmanager.receivers.critical",
        "prometheus.remote_write[0].url",
        "kubernetes.namespace",
        "docs.runbook_url",
    ] {
        assert!(
            listed.iter().any(|(k, _)| k == needed),
            "{needed} missing from {listed:?}"
        );
    }

    let generate = run_in(dir.path(), &["generate", "--env", "eu-1", "--specs", "specs"]);
    assert!(generate.status.success(), "{}", stderr(&generate));
    let warned = |output: &Output| -> Vec<String> {
        stderr(output)
            .lines()
            .filter_map(|l| l.strip_prefix("sockudo-obs: warning: "))
            .map(|l| l.split(' ').next().unwrap().to_string())
            .collect()
    };
    let keys: Vec<String> = listed.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(warned(&generate), keys, "generate names each example key");

    let overlay = dir.path().join("specs/k8s/eu-1");
    let docs = specs::kustomize(&overlay);
    let pods = kube::pod_specs(&docs);
    assert!(!pods.is_empty());
    for (workload, spec) in pods {
        let mut problems = kube::restricted_violations(spec);
        problems.extend(kube::frozen_mounts(spec));
        assert!(problems.is_empty(), "{}: {problems:?}", kube::describe(workload));
    }
    assert_eq!(kube::missing_namespaces(&docs), Vec::<String>::new());
    let operator_secrets = [("Secret", "sockudo", "sockudo-metrics-htpasswd")];
    assert_eq!(
        kube::unresolved_references(&docs, &operator_secrets),
        Vec::<String>::new()
    );

    // Edited, a key is no longer named; the others still are.
    let edited = text.replacen("    cluster: production", "    cluster: eu-1", 1);
    assert_ne!(edited, text);
    std::fs::write(&profile_path, edited).unwrap();
    let again = run_in(
        dir.path(),
        &["generate", "--env", "eu-1", "--specs", "specs", "--force"],
    );
    assert!(again.status.success(), "{}", stderr(&again));
    let expected: Vec<String> = keys
        .into_iter()
        .filter(|k| k != "prometheus.external_labels.cluster")
        .collect();
    assert_eq!(warned(&again), expected);
}
