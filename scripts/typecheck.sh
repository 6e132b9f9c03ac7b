#!/usr/bin/env bash
# typecheck.sh TS_DIR: run `tsc --noEmit --strict` (tools/tsconfig.validate.json)
# over the .ts wrappers in TS_DIR that other checks generate around bundle JSON
# (scripts/check-dashboards.sh, scripts/validate-crds.mjs). Each wrapper assigns
# a JSON object literal straight to a typed const, so unknown properties are
# excess-property errors. The wrappers import types from .tools/node and
# JsonOf from tools/json-of.ts.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${SOCKUDO_OBS_TOOLS:-$REPO_ROOT/.tools}

# Make TS_DIR a self-contained tsc project that resolves the pinned packages.
prepare_project() {
  local dir=$1
  ln -sfn "$TOOLS/node/node_modules" "$dir/node_modules"
  cp "$REPO_ROOT/tools/json-of.ts" "$dir/json-of.ts"
  printf '{ "extends": "%s", "include": ["*.ts"] }\n' "$REPO_ROOT/tools/tsconfig.validate.json" > "$dir/tsconfig.json"
}

main() {
  [[ $# -eq 1 && -d $1 ]] || { echo "usage: $0 TS_DIR" >&2; exit 2; }
  [[ -x $TOOLS/bin/tsc ]] || { echo "typecheck: $TOOLS/bin/tsc missing; run scripts/install-tools.sh" >&2; exit 2; }
  prepare_project "$1"
  "$TOOLS/bin/tsc" --noEmit --strict --pretty false -p "$1/tsconfig.json"
}

main "$@"
