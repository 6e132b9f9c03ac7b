#!/usr/bin/env bash
# check-dashboards.sh DIR: type-check every Grafana dashboard JSON in DIR
# against the Dashboard type of the pinned @grafana/schema, with tsc --strict.
# Each dashboard becomes `const d: JsonOf<Dashboard> = <json>;` (see
# tools/json-of.ts), written on the wrapper's first line so tsc's line numbers
# are the JSON file's own. Unknown keys fail as excess properties.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Write DIR/NAME.json as a typed TypeScript module into the work dir.
wrap_dashboard() {
  local json=$1 work=$2
  {
    printf "import type { Dashboard } from '@grafana/schema'; import type { JsonOf } from './json-of'; const d: JsonOf<Dashboard> = "
    cat "$json"
    printf ';\nexport default d;\n'
  } > "$work/$(basename "$json").ts"
}

main() {
  [[ $# -eq 1 && -d $1 ]] || { echo "usage: $0 DASHBOARD_DIR" >&2; exit 2; }
  local dir=$1 json count=0
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  local work=$WORK
  for json in "$dir"/*.json; do
    [[ -e $json ]] || continue
    wrap_dashboard "$json" "$work"
    count=$((count + 1))
  done
  if [[ $count -eq 0 ]]; then echo "check-dashboards: no *.json in $dir" >&2; exit 1; fi
  if ! "$SCRIPTS/typecheck.sh" "$work" > "$work/tsc.out" 2>&1; then
    # Report against the dashboard files, not the temporary wrappers.
    sed -E "s#^.*/([^/]+\.json)\.ts\(#$dir/\1(#" "$work/tsc.out" >&2
    echo "check-dashboards: FAIL: tsc (@grafana/schema Dashboard) rejected dashboard(s) in $dir" >&2
    exit 1
  fi
  echo "check-dashboards: ok: $count dashboard(s) in $dir match @grafana/schema Dashboard"
}

main "$@"
