//! The bundle validators fire: a rule file or a server block broken on purpose fails
//! `scripts/validate-bundle.sh` (the one implementation the test command and the tests run),
//! naming the tool and the file.

use std::fs;

use crate::support::validate;

/// A rule that only the linter objects to (the same rule twice in one group) fails the bundle's
/// check: `promtool check rules --lint-fatal`, with both generations, here as in the test command.
#[test]
fn a_duplicate_rule_fails_the_promtool_validator() {
    let bundle = validate::build("local");
    let rules = bundle.path().join("prometheus/rules");
    let file = fs::read_dir(&rules)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .min()
        .expect("a rule file");
    let mut doc: serde_norway::Value = serde_norway::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    let group = doc["groups"][0]["rules"]
        .as_sequence_mut()
        .expect("a group with rules");
    let first = group[0].clone();
    group.push(first);
    fs::write(&file, serde_norway::to_string(&doc).unwrap()).unwrap();
    let name = format!("prometheus/rules/{}", file.file_name().unwrap().to_string_lossy());
    let output = validate::assert_rejects(&["prometheus"], bundle.path(), "promtool check rules", &name);
    assert!(output.to_lowercase().contains("duplicate"), "{output}");
}

/// A server block nginx cannot load fails the bundle's `nginx -t`.
#[test]
fn a_broken_server_block_fails_the_nginx_validator() {
    let bundle = validate::build("local");
    let conf = bundle.path().join("nginx/sockudo-metrics.conf");
    let text = fs::read_to_string(&conf).expect("local has the proxy");
    fs::write(
        &conf,
        text.replacen("server {", "server {\n    no_such_directive on;", 1),
    )
    .unwrap();
    validate::assert_rejects(
        &["nginx"],
        bundle.path(),
        "nginx -t",
        "nginx/sockudo-metrics.conf",
    );
}
