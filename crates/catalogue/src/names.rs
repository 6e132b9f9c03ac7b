//! Every syntax rule a name or value must follow, in one place: RFC 1123 labels, subdomains and
//! host names, Kubernetes label keys, label values and data keys, the metric name prefix and the
//! environment name. The server's config ([`crate::config`]) and the generator's profile
//! validation read the same functions, so they cannot disagree on what a host or a prefix is.
//!
//! Prometheus' own name rules live beside the catalogue they guard and are re-exported here.
//!
//! ```
//! use sockudo_obs_catalogue::names::{self, KubeSyntax};
//!
//! assert!(names::is_host("metrics-1.internal") && names::is_host("::1"));
//! assert!(names::is_metric_prefix("acme_") && !names::is_metric_prefix("a:b_"));
//! assert!(KubeSyntax::DnsLabel.accepts("sockudo-prod") && !KubeSyntax::DnsLabel.accepts("Prod"));
//! ```

use std::net::IpAddr;

pub use crate::catalogue::{is_valid_label_name as is_label_name, is_valid_metric_name as is_metric_name};

/// One RFC 1123 label: 1-63 letters, digits and inner hyphens; `lower_only` refuses upper case
/// (Kubernetes names), host names take either.
fn is_rfc1123_label(label: &str, lower_only: bool) -> bool {
    let char_ok =
        |b: u8| b.is_ascii_digit() || b.is_ascii_lowercase() || (!lower_only && b.is_ascii_uppercase());
    (1..=63).contains(&label.len())
        && label.bytes().all(|b| char_ok(b) || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// RFC 1123 label as Kubernetes takes it (namespaces): lower-case letters, digits and inner `-`,
/// at most 63.
pub fn is_dns_label(value: &str) -> bool {
    is_rfc1123_label(value, true)
}

/// RFC 1123 subdomain as Kubernetes takes it (object names): dot-separated DNS labels, at most 253.
pub fn is_dns_subdomain(value: &str) -> bool {
    value.len() <= 253 && value.split('.').all(is_dns_label)
}

/// RFC 1123 host name: dot-separated labels of 1-63 letters, digits and inner hyphens, 253
/// characters at most. An all-numeric last label is refused so `256.1.1.1` is not taken for a name.
pub fn is_host_name(value: &str) -> bool {
    let numeric_tld = value
        .rsplit('.')
        .next()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()));
    value.len() <= 253 && value.split('.').all(|l| is_rfc1123_label(l, false)) && !numeric_tld
}

/// An IP address (v4 or v6, no brackets) or an RFC 1123 host name.
pub fn is_host(value: &str) -> bool {
    value.parse::<IpAddr>().is_ok() || is_host_name(value)
}

/// [`is_host`], less the addresses no socket can listen on: a multicast group (`224.0.0.1`,
/// `ff02::1`, or one mapped into IPv6) and the IPv4 broadcast address `255.255.255.255`. What
/// `metrics.host` may hold, for the server and the generator alike.
pub fn is_listen_host(value: &str) -> bool {
    let listenable = match value.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => !v4.is_multicast() && !v4.is_broadcast(),
        Ok(IpAddr::V6(v6)) => {
            let mapped = v6.to_ipv4_mapped();
            !v6.is_multicast() && !mapped.is_some_and(|v4| v4.is_multicast() || v4.is_broadcast())
        }
        Err(_) => true,
    };
    listenable && is_host(value)
}

/// A metric name prefix: empty, or `[a-zA-Z_][a-zA-Z0-9_]*`, so that prefix + any catalogue
/// name is a valid Prometheus metric name. Prometheus would take `:` in a metric name, but it
/// reserves colons for recording rules (`level:metric:operations`), so the server (and with it
/// the bundle) refuses them in the prefix.
pub fn is_metric_prefix(value: &str) -> bool {
    let mut chars = value.chars();
    match chars.next() {
        None => true,
        Some(first) => {
            (first.is_ascii_alphabetic() || first == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
    }
}

/// What [`is_environment_name`] accepts, for the errors of every command that takes one.
pub const ENVIRONMENT_NAME_RULE: &str = "lowercase letters, digits and \"-\"";

/// An environment name: lowercase ASCII letters, digits and `-`, as file and folder names,
/// Kubernetes labels and URLs all take it. `init`, `generate` and `check` read this one rule.
pub fn is_environment_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The name part of a Kubernetes label key, and the syntax of a non-empty label value.
fn is_kube_label_name(value: &str) -> bool {
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    value.len() <= 63
        && edge_ok(value.chars().next())
        && edge_ok(value.chars().last())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The Kubernetes name syntaxes profile values must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeSyntax {
    /// RFC 1123 label: namespaces.
    DnsLabel,
    /// RFC 1123 subdomain: object names.
    DnsSubdomain,
    /// A label key: an optional DNS-subdomain prefix and `/`, then a name.
    LabelKey,
    /// A label value: empty, or up to 63 letters, digits, `-`, `_` and `.`, alphanumeric at both
    /// ends.
    LabelValue,
    /// A ConfigMap or Secret data key.
    DataKey,
}

impl KubeSyntax {
    /// The rule in words, for the error that refuses a value.
    pub fn describe(self) -> &'static str {
        match self {
            KubeSyntax::DnsLabel => "RFC 1123 label (lower-case letters, digits and '-', at most 63)",
            KubeSyntax::DnsSubdomain => {
                "RFC 1123 subdomain (lower-case letters, digits, '-' and '.', at most 253)"
            }
            KubeSyntax::LabelKey => {
                "label key ([prefix/]name, name of letters, digits, '-', '_', '.', at most 63)"
            }
            KubeSyntax::LabelValue => {
                "label value (letters, digits, '-', '_', '.', at most 63, alphanumeric at both ends)"
            }
            KubeSyntax::DataKey => "data key (letters, digits, '-', '_', '.')",
        }
    }

    /// True when `value` follows the syntax.
    pub fn accepts(self, value: &str) -> bool {
        match self {
            KubeSyntax::DnsLabel => is_dns_label(value),
            KubeSyntax::DnsSubdomain => is_dns_subdomain(value),
            KubeSyntax::LabelKey => match value.split_once('/') {
                Some((prefix, name)) => is_dns_subdomain(prefix) && is_kube_label_name(name),
                None => is_kube_label_name(value),
            },
            KubeSyntax::LabelValue => value.is_empty() || is_kube_label_name(value),
            KubeSyntax::DataKey => {
                !value.is_empty()
                    && value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            }
        }
    }
}

/// A character nginx reads as part of an address (host names, IPv4, bracketed IPv6, `:port`),
/// never as syntax.
pub fn is_nginx_address_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']')
}

/// A character nginx reads as part of a file path, never as syntax.
pub fn is_nginx_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/')
}

/// What [`is_job_name`] accepts.
pub const JOB_NAME_RULE: &str = "letters, digits, '_', '-', '.', ':' and '/', at most 128";

/// A Prometheus job name as this tool takes it: the bundle puts it inside PromQL matchers
/// (`job="..."`), relabel replacements and dashboard queries, so it holds no quote, backslash,
/// `$`, brace, whitespace or control character, though Prometheus itself would take them.
pub fn is_job_name(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'/'))
}

/// A user name for basic auth as it lands in `htpasswd` and `kubectl` command lines of the
/// generated README: letters, digits, `.`, `_`, `@` and `-`, not starting with `-`, at most 64.
pub fn is_user_name(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && !value.starts_with('-')
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'-'))
}

/// One line of text: no control character (a newline in a description would end the README's
/// line and could open a code block of its own).
pub fn is_one_line(value: &str) -> bool {
    !value.chars().any(char::is_control)
}

/// A container image reference as Docker and Kubernetes parse it:
/// `[registry[:port]/]path[:tag][@algorithm:hex]`, path components of lower-case letters and
/// digits joined by `.`, `_`, `__` or dashes, a tag of up to 128 word characters, `.` and `-`
/// (not starting with `.` or `-`), at most 255 characters before the digest.
pub fn is_image_reference(value: &str) -> bool {
    let (name_tag, digest) = match value.split_once('@') {
        Some((name_tag, digest)) => (name_tag, Some(digest)),
        None => (value, None),
    };
    let digest_ok = digest.map_or(true, |d| {
        d.split_once(':').is_some_and(|(algorithm, hex)| {
            !algorithm.is_empty()
                && algorithm.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'+' | b'.' | b'_' | b'-')
                })
                && hex.len() >= 32
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
        })
    });
    // The tag follows the last ':' after the last '/' (a ':' before it is the registry's port).
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => (&name_tag[..last_slash + i], Some(&name_tag[last_slash + i + 1..])),
        None => (name_tag, None),
    };
    let tag_ok = tag.map_or(true, |t| {
        (1..=128).contains(&t.len())
            && !t.starts_with(['.', '-'])
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    });
    let mut components: Vec<&str> = name.split('/').collect();
    // A first component with a '.' or ':', or `localhost`, is a registry host.
    if components.len() > 1 && (components[0].contains(['.', ':']) || components[0] == "localhost") {
        let registry = components.remove(0);
        let (host, port) = registry
            .split_once(':')
            .map_or((registry, None), |(h, p)| (h, Some(p)));
        if !is_host_name(host) || port.is_some_and(|p| p.parse::<u16>().is_err()) {
            return false;
        }
    }
    let component_ok = |c: &str| {
        let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        let bytes = c.as_bytes();
        !bytes.is_empty()
            && alnum(bytes[0])
            && alnum(bytes[bytes.len() - 1])
            && bytes.iter().all(|&b| alnum(b) || matches!(b, b'.' | b'_' | b'-'))
            && !c.contains("..")
            && !c.contains("___")
            && !c.contains("._")
            && !c.contains("_.")
    };
    name_tag.len() <= 255 && digest_ok && tag_ok && components.iter().all(|c| component_ok(c))
}

/// Query parameter names that carry a credential in a URL (`?token=`, `?api_key=`, a signed
/// URL's `X-Amz-Signature`), compared lower-case with `-` read as `_`.
#[cfg(feature = "generator")]
const CREDENTIAL_PARAMETERS: [&str; 10] = [
    "token",
    "secret",
    "password",
    "passwd",
    "api_key",
    "apikey",
    "credential",
    "signature",
    "auth",
    "session",
];

/// Why `value` is neither a relative reference (`RUNBOOK.md`, `/docs/RUNBOOK.md`: no scheme) nor
/// an absolute URL that [`http_url_problem`] takes: a runbook link may be either, but never
/// `javascript:` or `data:`.
#[cfg(feature = "generator")]
pub fn http_or_relative_url_problem(value: &str) -> Option<String> {
    match url::Url::parse(value) {
        Err(url::ParseError::RelativeUrlWithoutBase) if !value.is_empty() => {
            let base = url::Url::parse("http://relative.invalid/").ok()?;
            match base.join(value) {
                Ok(_) => http_url_problem(&format!("http://relative.invalid/{value}")),
                Err(e) => Some(format!("{value:?} is not a URL ({e})")),
            }
        }
        _ => http_url_problem(value),
    }
}

/// Why `value` is not an absolute `http`/`https` URL with a host that may be copied into the
/// bundle: another scheme (`javascript:`, `file:`), characters no URL holds unescaped (spaces,
/// quotes, `<>`, backticks, braces, `|`, `\`, `^`, control characters), or a credential: a user
/// name or password, or a token-like query parameter. The reason never repeats a credential.
#[cfg(feature = "generator")]
pub fn http_url_problem(value: &str) -> Option<String> {
    let unsafe_char = |c: char| {
        c.is_control()
            || c.is_whitespace()
            || matches!(c, '"' | '<' | '>' | '`' | '{' | '}' | '|' | '\\' | '^')
    };
    if let Some(bad) = value.chars().find(|&c| unsafe_char(c)) {
        return Some(format!(
            "not a URL: it holds {bad:?}, which a URL holds only percent-encoded"
        ));
    }
    let url = match url::Url::parse(value) {
        Ok(url) => url,
        Err(e) => return Some(format!("{value:?} is not a URL ({e})")),
    };
    if !matches!(url.scheme(), "http" | "https") || !url.host_str().is_some_and(|h| !h.is_empty()) {
        return Some(format!("{value:?} is not an http:// or https:// URL with a host"));
    }
    let moved = "which would be copied into the bundle; put it in a *_file setting or a Kubernetes \
                 Secret instead";
    if !url.username().is_empty() || url.password().is_some() {
        return Some(format!("the URL holds credentials, {moved}"));
    }
    let credential = url.query_pairs().find(|(name, _)| {
        let name = name.to_ascii_lowercase().replace('-', "_");
        CREDENTIAL_PARAMETERS.iter().any(|c| name.contains(c)) || name == "key" || name == "sig"
    });
    credential.map(|(name, _)| {
        format!("the URL's query parameter {name:?} looks like a credential (a token or key), {moved}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full list of hosts is `config`'s `hosts` test, through the server's parser.
    #[test]
    fn host_names_take_either_case_but_no_numeric_top_label() {
        assert!(is_host("Metrics-1.Internal") && is_host("fe80::1") && is_host("1abc"));
        assert!(!is_host("256.1.1.1") && !is_host("a.b.9") && !is_host("[::1]"));
        assert!(!is_host_name(&format!("{}.x", "a".repeat(64))));
    }

    #[test]
    fn kubernetes_names_are_lower_case_host_names() {
        assert!(is_dns_label("sockudo-prod") && is_host_name("Sockudo-Prod"));
        for bad in ["Sockudo", "a\"b", "a:b", "a#b", "a;b", "a{b", "-a", "a-", ""] {
            assert!(!is_dns_label(bad), "{bad}");
        }
        assert!(is_dns_subdomain("basic-auth.sockudo") && !is_dns_subdomain(&"a.".repeat(127)));
        assert!(KubeSyntax::LabelKey.accepts("kubernetes.io/metadata.name"));
        assert!(!KubeSyntax::LabelKey.accepts("a:b") && !KubeSyntax::LabelKey.accepts("Bad_Prefix/x"));
        assert!(
            KubeSyntax::LabelValue.accepts("kube-prometheus-stack") && KubeSyntax::LabelValue.accepts("")
        );
        assert!(!KubeSyntax::LabelValue.accepts("a b") && !KubeSyntax::LabelValue.accepts("-a"));
        assert!(KubeSyntax::DataKey.accepts("user.name_1") && !KubeSyntax::DataKey.accepts("a/b"));
        assert!(!KubeSyntax::DataKey.accepts(""));
    }

    #[test]
    fn metric_prefixes_make_metric_names_without_colons() {
        for good in ["", "sockudo_", "_x", "A9_"] {
            assert!(is_metric_prefix(good), "{good}");
            assert!(is_metric_name(&format!("{good}x")), "{good}");
        }
        for bad in ["my-company", "9abc", "a:", ":", "a:b_", " ", "\u{e9}_"] {
            assert!(!is_metric_prefix(bad), "{bad}");
        }
    }

    #[test]
    fn environment_names() {
        assert!(is_environment_name("production") && is_environment_name("eu-1"));
        for bad in ["", "Prod", "a_b", "../x", "a b"] {
            assert!(!is_environment_name(bad), "{bad}");
        }
    }

    #[test]
    fn job_and_user_names_and_one_line_text() {
        assert!(is_job_name("sockudo") && is_job_name("monitoring/sockudo-pods:9601"));
        for bad in ["", "a\"b", "a\\b", "a b", "$1", "a{b}", "a\nb", &"a".repeat(129)] {
            assert!(!is_job_name(bad), "{bad}");
        }
        assert!(is_user_name("prometheus") && is_user_name("ops@example.com"));
        for bad in ["", "-rf", "a b", "a;b", "$(id)", "a:b"] {
            assert!(!is_user_name(bad), "{bad}");
        }
        assert!(is_one_line("Production cluster") && !is_one_line("a\n```sh"));
    }

    #[test]
    fn image_references() {
        for good in [
            "nginx:1.27.3-alpine",
            "prom/prometheus:v2.53.3",
            "sockudo-obs/sockudo:5.2.0",
            "registry.example.com:5000/team/app:1.0",
            "localhost/app:1",
            "ghcr.io/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "nginx",
        ] {
            assert!(is_image_reference(good), "{good}");
        }
        for bad in [
            "",
            "Nginx:1",
            "nginx:1; curl x | sh",
            "nginx:$(id)",
            "nginx:-1",
            "a//b:1",
            "nginx:1 -f - .",
            "nginx@sha256:xyz",
            "registry:99999/a:1",
            "-nginx:1",
        ] {
            assert!(!is_image_reference(bad), "{bad}");
        }
    }

    #[cfg(feature = "generator")]
    #[test]
    fn http_urls_without_other_schemes_odd_characters_or_credentials() {
        assert_eq!(http_url_problem("https://runbooks.example.com/x#a"), None);
        assert_eq!(http_url_problem("http://h:8080/p?team=a&page=2"), None);
        for (bad, needle) in [
            ("javascript:alert(1)", "http://"),
            ("file:///etc/passwd", "http://"),
            ("http://h/a b", "' '"),
            ("http://h/`id`", "'`'"),
            ("http://u:p@h/", "credentials"),
            ("http://h/?token=abc", "\"token\""),
            ("http://h/?X-Amz-Signature=abc", "credential"),
            ("http://h/?api-key=abc", "credential"),
        ] {
            let problem = http_url_problem(bad).unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(problem.contains(needle), "{bad}: {problem}");
            assert!(!problem.contains("abc"), "{bad}: echoes the secret: {problem}");
        }
    }

    #[cfg(feature = "generator")]
    #[test]
    fn runbook_links_may_be_relative_but_never_another_scheme() {
        assert_eq!(http_or_relative_url_problem("RUNBOOK.md"), None);
        assert_eq!(http_or_relative_url_problem("https://x.example/RUNBOOK.md"), None);
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "RUNBOOK.md; curl x | sh",
            "",
        ] {
            assert!(http_or_relative_url_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn nginx_characters() {
        assert!("[::1]:9601".chars().all(is_nginx_address_char));
        assert!(!"a;b".chars().all(is_nginx_address_char) && !"a b".chars().all(is_nginx_path_char));
        assert!("/etc/nginx/.htpasswd".chars().all(is_nginx_path_char));
    }
}
