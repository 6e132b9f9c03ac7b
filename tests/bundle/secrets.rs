//! The generated bundle holds no secret: every environment's files are scanned for anything that
//! looks like a credential, and the places that do need one are shown to reference it instead
//! (`password_file` for Prometheus, a Secret reference for the Operator's monitors, an htpasswd
//! path for nginx). The scanner is proven on planted credentials so a silent pass means something.

use crate::support::specs;

use sockudo_obs::bundle::{self, Overrides, SpecSource};

/// One credential shape and why it would be a leak.
struct Pattern {
    what: &'static str,
    matches: fn(&str) -> bool,
}

const PATTERNS: &[Pattern] = &[
    Pattern {
        what: "an inline password value",
        matches: inline_secret_key,
    },
    Pattern {
        what: "an htpasswd hash (apr1, bcrypt, sha-crypt)",
        matches: password_hash,
    },
    Pattern {
        what: "a PEM private key",
        matches: |line| line.contains("PRIVATE KEY-----"),
    },
    Pattern {
        what: "an HTTP Authorization header value",
        matches: authorization_value,
    },
    Pattern {
        what: "credentials in a URL",
        matches: url_userinfo,
    },
    Pattern {
        what: "an AWS access key id",
        matches: aws_key,
    },
];

/// `password: x`, `bearer_token: x`, `secret: x`, `token: x` as YAML or JSON keys with a literal
/// value. `password_file`, `passwordFile`, Secret references (`password:` followed by a nested
/// mapping) and empty values are fine.
fn inline_secret_key(line: &str) -> bool {
    let trimmed = line.trim_start().trim_start_matches("- ");
    [
        "password",
        "bearer_token",
        "token",
        "secret",
        "api_key",
        "apikey",
        "credentials",
    ]
    .iter()
    .any(|key| {
        [format!("{key}:"), format!("\"{key}\":")].iter().any(|prefix| {
            trimmed
                .to_ascii_lowercase()
                .strip_prefix(prefix.as_str())
                .is_some_and(|value| {
                    let value = value.trim().trim_matches(|c| c == '"' || c == '\'' || c == ',');
                    !value.is_empty() && value != "null" && value != "{"
                })
        })
    })
}

/// A crypt-style hash: a known scheme prefix followed by at least 20 characters of salt and
/// digest (so prose naming the `$2y$` scheme is not a hash).
fn password_hash(line: &str) -> bool {
    ["$apr1$", "$2y$", "$2a$", "$2b$", "$5$", "$6$", "{SHA}"]
        .iter()
        .any(|scheme| {
            line.match_indices(scheme).any(|(at, _)| {
                let body = &line[at + scheme.len()..];
                let hash_chars = body
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || "./$+=".contains(*c));
                hash_chars.count() >= 20
            })
        })
}

fn authorization_value(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    [
        "authorization: basic ",
        "authorization: bearer ",
        "authorization \"basic ",
        "authorization \"bearer ",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

/// `scheme://user:password@host`.
fn url_userinfo(line: &str) -> bool {
    line.split("://").skip(1).any(|rest| {
        let authority = rest.split(['/', ' ', '"', '\'']).next().unwrap_or("");
        authority
            .split_once('@')
            .is_some_and(|(userinfo, _)| userinfo.contains(':'))
    })
}

fn aws_key(line: &str) -> bool {
    line.match_indices("AKIA").any(|(at, _)| {
        let id = &line[at..];
        id.len() >= 20
            && id[..20]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    })
}

/// Every line of `text` that matches a pattern, with what it looks like.
fn leaks(text: &str) -> Vec<(usize, &'static str)> {
    text.lines()
        .enumerate()
        .flat_map(|(n, line)| {
            PATTERNS
                .iter()
                .filter(|p| (p.matches)(line))
                .map(move |p| (n + 1, p.what))
        })
        .collect()
}

#[test]
fn the_scanner_catches_each_planted_credential() {
    let planted = [
        "  password: hunter2",
        "\"password\": \"hunter2\",",
        "  bearer_token: abc.def",
        "prometheus:$apr1$x1y2z3$abcdefghijklmnopqrstuv",
        "admin:$2y$05$abcdefghijklmnopqrstuv",
        "-----BEGIN RSA PRIVATE KEY-----",
        "proxy_set_header Authorization \"Basic cHJvbTpodW50ZXIy\";",
        "url: http://prometheus:hunter2@thanos:19291/api/v1/receive",
        "key: AKIAABCDEFGHIJKLMNOP",
    ];
    for line in planted {
        assert!(!leaks(line).is_empty(), "the scanner misses {line:?}");
    }
    let harmless = [
        "  password_file: /etc/prometheus/secrets/password",
        "      password:",
        "        key: password",
        "proxy_set_header Authorization \"\";",
        "url: http://thanos-receive.monitoring.svc:19291/api/v1/receive",
        "auth_basic_user_file /etc/nginx/sockudo-metrics.htpasswd;",
        "bcrypt (`-B`, `$2y$` hashes) was verified",
    ];
    for line in harmless {
        assert_eq!(leaks(line), vec![], "false alarm on {line:?}");
    }
}

#[test]
fn no_generated_file_of_any_environment_holds_a_credential() {
    for env in specs::environments() {
        let output = bundle::build(&SpecSource::Embedded, &env, &Overrides::default()).unwrap();
        let mut found = Vec::new();
        for (path, bytes) in output.iter() {
            let text = String::from_utf8_lossy(bytes);
            found.extend(
                leaks(&text)
                    .into_iter()
                    .map(|(line, what)| format!("{path}:{line}: {what}")),
            );
        }
        assert!(
            found.is_empty(),
            "{env}: the bundle holds credentials:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn credentials_are_referenced_never_inlined() {
    let output = bundle::build(&SpecSource::Embedded, "production", &Overrides::default()).unwrap();
    let yaml = |path: &str| -> serde_norway::Value {
        serde_norway::from_slice(output.get(path).unwrap_or_else(|| panic!("{path} rendered"))).unwrap()
    };
    let prometheus = yaml("prometheus/prometheus.yml");
    // Every job scraping Sockudo (through the proxy); the self-monitoring jobs need no password.
    let sockudo_jobs = prometheus["scrape_configs"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|job| !bundle::SELF_MONITORING_JOBS.contains(&job["job_name"].as_str().unwrap_or_default()));
    for job in sockudo_jobs {
        let auth = &job["basic_auth"];
        assert!(
            auth["password_file"].as_str().is_some_and(|f| f.starts_with('/')),
            "{auth:?}"
        );
        assert!(auth.get("password").is_none(), "{auth:?}");
    }
    let monitor = yaml("k8s/operator/servicemonitor.yaml");
    for endpoint in monitor["spec"]["endpoints"].as_sequence().unwrap() {
        let password = &endpoint["basicAuth"]["password"];
        assert!(
            password["name"].as_str().is_some() && password["key"].as_str().is_some(),
            "{password:?}"
        );
    }
    let nginx = String::from_utf8(output.get("nginx/sockudo-metrics.conf").unwrap().to_vec()).unwrap();
    assert!(nginx.contains("auth_basic_user_file /etc/nginx/sockudo-metrics.htpasswd;"));
}
