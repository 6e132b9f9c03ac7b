# shellcheck shell=bash
# env.sh: `source scripts/env.sh` puts the pinned tools from .tools/bin (see
# scripts/install-tools.sh) first on PATH. Works from bash, from any
# directory; the repo root is found from this file's own location.
_sockudo_obs_env_self=${BASH_SOURCE[0]}
SOCKUDO_OBS_TOOLS="$(cd "$(dirname "$_sockudo_obs_env_self")/.." && pwd)/.tools"
export SOCKUDO_OBS_TOOLS
case ":$PATH:" in
  *":$SOCKUDO_OBS_TOOLS/bin:"*) ;;
  *) export PATH="$SOCKUDO_OBS_TOOLS/bin:$PATH" ;;
esac
[ -d "$SOCKUDO_OBS_TOOLS/bin" ] || echo "env.sh: $SOCKUDO_OBS_TOOLS/bin missing; run scripts/install-tools.sh" >&2
unset _sockudo_obs_env_self
