#!/usr/bin/env bash
# validate-bundle.sh [--only NAME,...] BUNDLE_DIR [K8S_OVERLAY_DIR]: run every
# real validator (promtool, amtool, nginx -t, kubectl kustomize +
# kubernetes-validate + prometheus-operator CRD schemas, tsc against
# @grafana/schema, docker-compose config, yamllint) on one generated bundle.
# This is the one implementation of the validators: scripts/test.sh runs it on
# every shipped environment, and the Rust tests (tests/support/validate.rs) run
# single validators of it with --only, naming them from VALIDATORS below.
#
# An absent artifact is skipped with an "absent: ..." line; a present one must
# pass. Stops at the first failure, naming the file and the tool, exit 1.
# Tools come from .tools/bin (scripts/install-tools.sh). The checks run on a
# temporary copy of the bundle, so it is never modified; where a check needs
# the outside world (a secret file, a DNS name, an env_file) the copy gets a
# placeholder and a "note:" line says so.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname "$SCRIPTS")
# shellcheck source-path=SCRIPTDIR
source "$SCRIPTS/env.sh"
# Kubernetes version whose schemas kubernetes-validate checks core kinds against.
K8S_SCHEMA_VERSION=${K8S_SCHEMA_VERSION:-1.32.0}
REQUIRED_TOOLS=(promtool amtool promtool3 amtool3 nginx kubectl kubernetes-validate docker-compose yamllint tsc node)
# Both Prometheus generations check the Prometheus and Alertmanager files: 2.x (trixie) and 3.x
# (sid), named as install-tools.sh links them.
PROMTOOLS=(promtool promtool3)
AMTOOLS=(amtool amtool3)

# The validators, in the order they run; --only picks some of them.
VALIDATORS=(yaml prometheus alertmanager nginx grafana k8s compose)

ORIG=""   # the bundle as given
COPY=""   # the bundle copy the checks run on
WORK=""

say()  { printf '%s\n' "$*"; }
note() { say "note: $*"; }
absent() { say "absent: $*"; }
pass() { say "ok: $*"; }
# fail TOOL FILE [OUTPUT]: report and stop.
fail() {
  local tool=$1 file=$2 output=${3:-}
  [[ -n $output ]] && printf '%s\n' "$output" | sed 's/^/  | /' >&2
  say "validate-bundle: FAIL: $tool rejected $file" >&2
  exit 1
}
# run_check TOOL FILE CMD...: run CMD, pass or fail naming TOOL and FILE.
run_check() {
  local tool=$1 file=$2 output
  shift 2
  if output=$("$@" 2>&1); then pass "$tool: $file"; else fail "$tool" "$file" "$output"; fi
}
# run_checks TOOL DIR "CMD ARGS" FILE...: CMD on every FILE (relative to DIR) in one run, and
# only when that fails once per FILE, so that the failure names the file (one run per file is
# slow: promtool starts in about a second).
run_checks() {
  local tool=$1 dir=$2 f output
  local -a cmd
  read -ra cmd <<<"$3"
  shift 3
  if output=$(in_dir "$dir" "${cmd[@]}" "$@" 2>&1); then
    for f in "$@"; do pass "$tool: $(rel "$dir/$f")"; done
    return 0
  fi
  for f in "$@"; do run_check "$tool" "$(rel "$dir/$f")" in_dir "$dir" "${cmd[@]}" "$f"; done
  fail "$tool" "$(rel "$dir")" "$output"   # each file passes alone, not all together
}
rel() { say "${1#"$COPY"/}"; }   # path inside the bundle, for messages
in_dir() { (cd "$1" && "${@:2}"); }   # in_dir DIR CMD...: run CMD inside DIR
kustomize_to() { kubectl kustomize "$1" > "$2"; }   # kustomize_to DIR OUT

require_tools() {
  local t missing=()
  for t in "${REQUIRED_TOOLS[@]}"; do command -v "$t" >/dev/null || missing+=("$t"); done
  [[ ${#missing[@]} -eq 0 ]] || { say "validate-bundle: missing ${missing[*]}; run scripts/install-tools.sh" >&2; exit 2; }
}

# Point every `*_file:` key (password_file, credentials_file, ca_file, ...) of
# a YAML file whose target does not exist at an empty placeholder file, so the
# config check sees a readable file where the deployment will mount a secret.
stub_missing_file_refs() {
  local file=$1 dir placeholder="$WORK/placeholder-file" line prefix value path stubbed=()
  local key_re='^([[:space:]-]*[A-Za-z0-9_]+_file:[[:space:]]*)(["'"'"']?)([^"'"'"'#[:space:]]+)(["'"'"']?)[[:space:]]*(#.*)?$'
  dir=$(dirname "$file")
  : > "$placeholder"
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line =~ $key_re ]]; then
      prefix=${BASH_REMATCH[1]} value=${BASH_REMATCH[3]}
      path=$value
      [[ $path == /* ]] || path="$dir/$path"
      if [[ ! -e $path ]]; then
        stubbed+=("$value")
        line="$prefix$placeholder"
      fi
    fi
    printf '%s\n' "$line"
  done < "$file" > "$file.stubbed"
  mv "$file.stubbed" "$file"
  for value in "${stubbed[@]}"; do
    note "$(rel "$file"): $value does not exist here; checked with an empty placeholder"
  done
}

# check_prometheus_with PROMTOOL: every Prometheus check with one generation's promtool.
check_prometheus_with() {
  local promtool=$1
  local dir="$COPY/prometheus" f
  if [[ -f $dir/prometheus.yml ]]; then
    stub_missing_file_refs "$dir/prometheus.yml"
    run_check "$promtool check config" prometheus/prometheus.yml \
      in_dir "$dir" "$promtool" check config prometheus.yml
  else
    absent prometheus/prometheus.yml
  fi
  # The compose stack's own config, with the bundle's rules where compose mounts them.
  if [[ -f $COPY/compose/prometheus/prometheus.yml ]]; then
    stub_missing_file_refs "$COPY/compose/prometheus/prometheus.yml"
    [[ -d $dir/rules && ! -d $COPY/compose/prometheus/rules ]] && cp -r "$dir/rules" "$COPY/compose/prometheus/rules"
    run_check "$promtool check config" compose/prometheus/prometheus.yml \
      in_dir "$COPY/compose/prometheus" "$promtool" check config prometheus.yml
  fi
  local sub files
  for sub in rules tests; do
    files=()
    for f in "$dir/$sub"/*.yml "$dir/$sub"/*.yaml; do [[ -f $f ]] && files+=("$(basename "$f")"); done
    if [[ ${#files[@]} -eq 0 ]]; then absent "prometheus/$sub/*.yml"; continue; fi
    if [[ $sub == rules ]]; then
      run_checks "$promtool check rules" "$dir/rules" "$promtool check rules --lint-fatal" "${files[@]}"
    else
      run_checks "$promtool test rules" "$dir/tests" "$promtool test rules" "${files[@]}"
    fi
  done
}

check_prometheus() {
  local promtool
  for promtool in "${PROMTOOLS[@]}"; do check_prometheus_with "$promtool"; done
}

# The deployment's config and the compose stack's own (every receiver on the stack's sink).
check_alertmanager() {
  local rel f amtool
  for rel in alertmanager/alertmanager.yml compose/alertmanager/alertmanager.yml; do
    f="$COPY/$rel"
    [[ -f $f ]] || { absent "$rel"; continue; }
    stub_missing_file_refs "$f"
    for amtool in "${AMTOOLS[@]}"; do
      run_check "$amtool check-config" "$rel" \
        in_dir "$(dirname "$f")" "$amtool" check-config "$(basename "$f")"
    done
  done
}

# nginx -t on a minimal nginx.conf (pid, logs and temp paths inside a
# private prefix) that includes the generated server{} block inside http{}.
# (auth_basic_user_file is read per request, not by nginx -t, so no dummy
# htpasswd is needed.)
# An upstream host that does not resolve here (a compose service name) makes
# nginx -t fail; such hosts are rewritten to 127.0.0.1 in the copy, with a note.
# check_nginx [REL]: REL is the server{} block inside the bundle (the host's
# proxy by default; the pods' sidecar copy lives in k8s/workload/).
check_nginx() {
  local rel=${1:-nginx/sockudo-metrics.conf} output host _
  local conf="$COPY/$rel" prefix="$WORK/nginx-${rel//\//-}"
  [[ -f $conf ]] || { absent "$rel"; return 0; }
  mkdir -p "$prefix"
  cat > "$prefix/nginx.conf" <<EOF
pid $prefix/nginx.pid;
error_log $prefix/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $prefix/client_body;
    proxy_temp_path $prefix/proxy;
    fastcgi_temp_path $prefix/fastcgi;
    uwsgi_temp_path $prefix/uwsgi;
    scgi_temp_path $prefix/scgi;
    include $conf;
}
EOF
  for _ in 1 2 3 4 5 6 7 8; do
    if output=$(nginx -e "$prefix/error.log" -p "$prefix" -c "$prefix/nginx.conf" -t 2>&1); then
      pass "nginx -t: $rel"
      return 0
    fi
    [[ $output =~ host\ not\ found\ in\ upstream\ \"([^\":]+)(:[0-9]+)?\" ]] || break
    host=${BASH_REMATCH[1]}
    cp "$conf" "$conf.before"
    sed -i -E "s#(://|server[[:space:]]+)${host//./\\.}([:/;[:space:]])#\\1127.0.0.1\\2#g" "$conf"
    cmp -s "$conf" "$conf.before" && break
    note "$rel: upstream host '$host' does not resolve here; checked as 127.0.0.1"
  done
  fail "nginx -t" "$rel" "$output"
}

check_grafana() {
  local dir="$ORIG/grafana/dashboards"   # read-only check: tsc messages then name the real files
  if compgen -G "$dir/*.json" >/dev/null; then
    run_check "tsc (@grafana/schema Dashboard)" "grafana/dashboards/*.json" "$SCRIPTS/check-dashboards.sh" "$dir"
  else
    absent grafana/dashboards/*.json
  fi
  # grafana/provisioning/*.yml have no offline validator beyond yamllint (check_yaml).
}

# kustomize build, then: core kinds -> kubernetes-validate --strict (a kind
# without a schema fails); monitoring.coreos.com kinds -> CRD schemas and tsc
# (scripts/validate-crds.mjs); PrometheusRule specs -> promtool check rules.
check_k8s() {
  local overlay=${1:-} dir label out="$WORK/k8s" f
  if [[ -n $overlay ]]; then
    dir=$overlay label=$overlay
  else
    dir="$ORIG/k8s" label=k8s   # the original: kustomize refuses files outside its root
  fi
  [[ -f $dir/kustomization.yaml || -f $dir/kustomization.yml || -f $dir/Kustomization ]] \
    || { absent "$label/kustomization.yaml"; return 0; }
  mkdir -p "$out"
  run_check "kubectl kustomize" "$label" kustomize_to "$dir" "$out/all.yaml"
  run_check "validate-crds.mjs (@kubernetes-models/prometheus-operator)" "$label" \
    node "$SCRIPTS/validate-crds.mjs" "$out/all.yaml" --core-out "$out/core.yaml" --rules-dir "$out/rules" --ts-dir "$out/ts"
  if compgen -G "$out/ts/*.ts" >/dev/null; then
    run_check "tsc (prometheus-operator types, unknown fields)" "$label" "$SCRIPTS/typecheck.sh" "$out/ts"
  fi
  local promtool
  for f in "$out"/rules/*.yml; do
    [[ -f $f ]] || continue
    for promtool in "${PROMTOOLS[@]}"; do
      run_check "$promtool check rules" "$label: PrometheusRule $(basename "$f" .yml)" "$promtool" check rules --lint-fatal "$f"
    done
  done
  if [[ -s $out/core.yaml ]]; then
    local output
    output=$(kubernetes-validate --strict --quiet -k "$K8S_SCHEMA_VERSION" "$out/core.yaml" 2>&1) \
      || fail "kubernetes-validate --strict" "$label" "$output"
    grep -q "Couldn't find schema" <<<"$output" && fail "kubernetes-validate --strict (no schema for a core kind)" "$label" "$output"
    pass "kubernetes-validate --strict (k8s $K8S_SCHEMA_VERSION): $label"
  fi
}

# docker-compose config -q; a missing env_file is created empty in the copy.
check_compose() {
  local dir="$COPY/compose" output missing _
  [[ -f $dir/docker-compose.yml ]] || { absent compose/docker-compose.yml; return 0; }
  for _ in $(seq 1 20); do
    if output=$(cd "$dir" && docker-compose -f docker-compose.yml config -q 2>&1); then
      pass "docker-compose config -q: compose/docker-compose.yml"
      return 0
    fi
    [[ $output =~ env\ file\ ([^[:space:]]+)\ not\ found ]] || break
    missing=${BASH_REMATCH[1]}
    [[ $missing == "$COPY"/* && ! -e $missing ]] || break
    mkdir -p "$(dirname "$missing")"
    : > "$missing"
    note "compose/docker-compose.yml: env_file $(rel "$missing") does not exist here; checked as an empty file"
  done
  fail "docker-compose config -q" compose/docker-compose.yml "$output"
}

check_yaml() {
  local files=()
  mapfile -t files < <(cd "$ORIG" && find . -type f \( -name '*.yml' -o -name '*.yaml' \) | sed 's#^\./##' | sort)
  [[ ${#files[@]} -gt 0 ]] || { absent "*.yml / *.yaml"; return 0; }
  local f
  for f in "${files[@]}"; do
    run_check "yamllint --strict" "$f" yamllint --strict -c "$REPO_ROOT/.yamllint.yml" "$ORIG/$f"
  done
}

usage() { say "usage: $0 [--only NAME,...] BUNDLE_DIR [K8S_OVERLAY_DIR] (NAME: ${VALIDATORS[*]})" >&2; exit 2; }

main() {
  local only=all name picked
  if [[ ${1:-} == --only ]]; then
    [[ $# -ge 2 ]] || usage
    only=,$2, picked=$2
    shift 2
    for name in ${picked//,/ }; do
      [[ " ${VALIDATORS[*]} " == *" $name "* ]] || { say "validate-bundle: no validator '$name' (${VALIDATORS[*]})" >&2; exit 2; }
    done
  fi
  wanted() { [[ $only == all || $only == *",$1,"* ]]; }
  [[ $# -ge 1 && $# -le 2 && -d $1 ]] || usage
  [[ $# -lt 2 || -d $2 ]] || { say "validate-bundle: $2 is not a directory" >&2; exit 2; }
  require_tools
  ORIG=$(cd "$1" && pwd)
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  COPY="$WORK/bundle"
  cp -a "$ORIG" "$COPY"
  say "validating $ORIG"
  if wanted yaml; then check_yaml; fi
  if wanted prometheus; then check_prometheus; fi
  if wanted alertmanager; then check_alertmanager; fi
  if wanted nginx; then
    check_nginx
    check_nginx k8s/workload/sockudo-metrics.conf
    check_nginx compose/alert-sink/alert-sink.conf
  fi
  if wanted grafana; then check_grafana; fi
  if wanted k8s; then check_k8s "${2:+$(cd "$2" && pwd)}"; fi
  if wanted compose; then check_compose; fi
  say "validate-bundle: all present artifacts passed"
}

main "$@"
