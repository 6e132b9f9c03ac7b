//! Every syntax rule a name or value must follow, in one place: RFC 1123 labels, subdomains and
//! host names, Kubernetes label keys, label values and data keys, the metric name prefix and the
//! environment name. The server's config ([`crate::config`]) and the generator's profile
//! validation read the same functions, so they cannot disagree on what a host or a prefix is.
//!
//! Prometheus' own name rules live beside the catalogue they guard and are re-exported here.
//!
//! ```
//! use sockudo_obs::names::{self, KubeSyntax};
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

/// An IP address (v4 or v6, no brackets) or an RFC 1123 host name: what `metrics.host` may hold.
pub fn is_host(value: &str) -> bool {
    value.parse::<IpAddr>().is_ok() || is_host_name(value)
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
    LabelValue,
    /// A ConfigMap or Secret data key.
    DataKey,
}

impl KubeSyntax {
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
    fn nginx_characters() {
        assert!("[::1]:9601".chars().all(is_nginx_address_char));
        assert!(!"a;b".chars().all(is_nginx_address_char) && !"a b".chars().all(is_nginx_path_char));
        assert!("/etc/nginx/.htpasswd".chars().all(is_nginx_path_char));
    }
}
