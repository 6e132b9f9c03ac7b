#!/usr/bin/env bash
# install-tools.sh: install the real validators the bundle is checked with
# (promtool, amtool, nginx, kubectl, docker-compose, yamllint, tsc, ...) into
# .tools/ at the repo root, with every executable linked into .tools/bin.
#
# Idempotent: each tool is installed only when its pinned version is not
# already there, so a second run installs nothing. Works unattended (CI=true,
# no stdin) on a fresh Debian bookworm machine. Any tool that cannot be
# installed makes the script exit non-zero with the tool's name.
#
# Newer Go tools come from Debian trixie (and the Prometheus 3 generation from
# sid) WITHOUT adding either to apt: the
# mirror is read from this machine's own apt sources, the suite's InRelease is
# checked with gpgv against the Debian archive keyring, Packages.xz against
# InRelease, each .deb against Packages, and the .deb is unpacked with dpkg -x.
set -Eeuo pipefail

# ---------------------------------------------------------------- pins ----
# Debian trixie packages (exact versions; the run fails if trixie moved on,
# telling which pin to update). trixie's Go binaries need glibc >= 2.34,
# bookworm has 2.36.
TRIXIE_SUITE=trixie
declare -A TRIXIE_PINS=(
  [promtool]=2.53.3+ds1-2                # promtool 2.53 (bookworm's 2.42 lacks kubernetes_sd_configs)
  [prometheus]=2.53.3+ds1-2              # prometheus server
  [prometheus-alertmanager]=0.28.1+ds-1  # alertmanager + amtool
  [docker-compose]=2.26.1-4              # compose v2 (Go); `config -q` needs no engine
  [kubectl]=1.32.3+ds-2                  # kubectl with built-in `kubectl kustomize`
)
# Debian unstable ("sid") packages: the Prometheus 3 generation, beside the 2.x one above, so the
# bundle is proven on both (installed under .tools/debs/sid/, linked as promtool3, prometheus3,
# alertmanager3 and amtool3). Fetched and verified exactly like the trixie ones.
SID_SUITE=sid
declare -A SID_PINS=(
  [promtool]=3.5.3+ds1-6                 # promtool 3.5
  [prometheus]=3.5.3+ds1-6               # prometheus 3.5 server
  [prometheus-alertmanager]=0.33.1-5     # alertmanager + amtool 0.33
)
# Debian bookworm packages through apt (pinned to the suite, so bookworm
# security updates still apply; the exact versions land in versions.txt).
APT_SUITE=bookworm
# valgrind: callgrind, for `cargo bench --bench goals`; redis-server: the real-cluster test's Redis.
APT_PACKAGES=(nginx apache2-utils wrk victoria-metrics strace valgrind redis-server)
# Python and Node validators: exact versions live in these lock files.
PYTHON_REQUIREMENTS=tools/requirements.txt   # yamllint, kubernetes-validate, check-jsonschema
NODE_MANIFEST=tools/package.json             # typescript, @grafana/schema, @kubernetes-models/*, yaml
NODE_LOCK=tools/package-lock.json

# Executables exposed in .tools/bin: link name -> target (relative to .tools/
# unless absolute).
declare -A BIN_LINKS=(
  [promtool]=debs/promtool/usr/bin/promtool
  [prometheus]=debs/prometheus/usr/bin/prometheus
  [alertmanager]=debs/prometheus-alertmanager/usr/bin/prometheus-alertmanager
  [amtool]=debs/prometheus-alertmanager/usr/bin/amtool
  [docker-compose]=debs/docker-compose/usr/libexec/docker/cli-plugins/docker-compose
  [kubectl]=debs/kubectl/usr/bin/kubectl
  [promtool3]=debs/sid/promtool/usr/bin/promtool
  [prometheus3]=debs/sid/prometheus/usr/bin/prometheus
  [alertmanager3]=debs/sid/prometheus-alertmanager/usr/bin/prometheus-alertmanager
  [amtool3]=debs/sid/prometheus-alertmanager/usr/bin/amtool
  [nginx]=/usr/sbin/nginx
  [htpasswd]=/usr/bin/htpasswd
  [wrk]=/usr/bin/wrk
  [strace]=/usr/bin/strace
  # Debian's /usr/bin/valgrind is a wrapper that runs "$0.bin", so valgrind.bin sits beside it;
  # Debian's callgrind_control finds only the runs whose command line names valgrind.bin, and
  # looks for vgdb beside itself (check_callgrind_control proves they find each other).
  [valgrind]=/usr/bin/valgrind
  [valgrind.bin]=/usr/bin/valgrind.bin
  [vgdb]=/usr/bin/vgdb
  [callgrind_control]=/usr/bin/callgrind_control
  [callgrind_annotate]=/usr/bin/callgrind_annotate
  [victoria-metrics]=/usr/bin/victoria-metrics
  [redis-server]=/usr/bin/redis-server
  [redis-cli]=/usr/bin/redis-cli
  [yamllint]=venv/bin/yamllint
  [kubernetes-validate]=venv/bin/kubernetes-validate
  [check-jsonschema]=venv/bin/check-jsonschema
  [tsc]=node/node_modules/typescript/bin/tsc
)
# ------------------------------------------------------------------------

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="$REPO_ROOT/.tools"
CACHE="$TOOLS/cache"
CURRENT_TOOL="setup"

log() { printf 'install-tools: %s\n' "$*" >&2; }
die() { log "ERROR [$CURRENT_TOOL]: $*"; exit 1; }
trap 'log "ERROR [$CURRENT_TOOL]: command failed (line $LINENO): $BASH_COMMAND"; exit 1' ERR

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo -n "$@"
  else die "needs root (or passwordless sudo) to run: $*"; fi
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# ---- Debian mirror, derived from this machine's apt sources -------------

# Print the URI of the first apt source that serves the release suite
# (deb822 .sources stanzas first, then one-line sources.list entries).
debian_mirror() {
  local codename
  # shellcheck source=/dev/null # the machine's own file
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [[ -n $codename ]] || die "cannot read VERSION_CODENAME from /etc/os-release"
  local uri
  uri=$(awk -v suite="$codename" '
      function flush() { if (!found && types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ")) { split(uris, u, " "); print u[1]; found = 1 } types = suites = uris = "" }
      FNR == 1 { flush() }
      /^[[:space:]]*$/ { flush(); next }
      /^Types:/  { sub(/^Types:[[:space:]]*/, "");  types = $0 }
      /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
      /^URIs:/   { sub(/^URIs:[[:space:]]*/, "");   uris = $0 }
      END { flush() }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  if [[ -z $uri && -r /etc/apt/sources.list ]]; then
    uri=$(awk -v suite="$codename" '
        $1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                      if ($(i + 1) == suite) { print $i; exit } }' /etc/apt/sources.list)
  fi
  [[ $uri =~ ^https?:// ]] || die "no http(s) apt source for suite '$codename' in /etc/apt/sources.list{,.d/*.sources}"
  echo "${uri%/}"
}

# The keyring apt itself trusts for the Debian archive.
debian_keyring() {
  local k=/usr/share/keyrings/debian-archive-keyring.gpg
  [[ -r $k ]] || die "missing $k (package debian-archive-keyring)"
  echo "$k"
}

# ---- trixie and sid .debs ------------------------------------------------

declare -A SUITE_INDEX=()   # suite -> path of its verified, decompressed Packages file
DEBIAN_MIRROR=""

# Download and verify SUITE's InRelease and main/binary-ARCH/Packages.xz once per run.
fetch_suite_index() {
  local suite=$1
  [[ -n ${SUITE_INDEX[$suite]:-} ]] && return 0
  local dir arch
  [[ -n $DEBIAN_MIRROR ]] || DEBIAN_MIRROR=$(debian_mirror)
  arch=$(dpkg --print-architecture)
  dir="$CACHE/$suite"
  mkdir -p "$dir"
  log "fetching $suite index from $DEBIAN_MIRROR"
  curl -fsSL --retry 3 -o "$dir/InRelease" "$DEBIAN_MIRROR/dists/$suite/InRelease" \
    || die "download of $DEBIAN_MIRROR/dists/$suite/InRelease failed"
  gpgv --quiet --keyring "$(debian_keyring)" --output "$dir/Release" "$dir/InRelease" 2>/dev/null \
    || die "$suite InRelease signature does not verify against the Debian archive keyring"
  curl -fsSL --retry 3 -o "$dir/Packages.xz" "$DEBIAN_MIRROR/dists/$suite/main/binary-$arch/Packages.xz" \
    || die "download of $suite Packages.xz failed"
  local want
  want=$(awk -v f="main/binary-$arch/Packages.xz" '/^SHA256:/ { s = 1; next } /^[^ ]/ { s = 0 } s && $3 == f { print $1 }' "$dir/Release")
  [[ -n $want && $(sha256_of "$dir/Packages.xz") == "$want" ]] \
    || die "$suite Packages.xz does not match the sha256 in InRelease"
  xz -dc "$dir/Packages.xz" > "$dir/Packages"
  SUITE_INDEX[$suite]="$dir/Packages"
}

# Print "Version Filename SHA256" of PKG from SUITE's Packages index.
suite_package_fields() {
  awk -v pkg="$2" '
    $0 == "Package: " pkg { hit = 1 }
    /^$/ { if (hit) exit; hit = 0 }
    hit && /^Version:/  { v = $2 }
    hit && /^Filename:/ { f = $2 }
    hit && /^SHA256:/   { s = $2 }
    END { if (v != "") print v, f, s }' "${SUITE_INDEX[$1]}"
}

# fetch_suite_deb SUITE PKG PIN DEST PINS_NAME: fetch SUITE's PKG at version PIN, verify it and
# unpack it into DEST (PINS_NAME names the array to update when the suite moved on).
fetch_suite_deb() {
  local suite=$1 pkg=$2 pin=$3 dest=$4 pins_name=$5
  local stamp="$dest/.version"
  CURRENT_TOOL="$pkg ($suite $pin)"
  if [[ -f $stamp && $(<"$stamp") == "$pin" ]]; then return 0; fi
  fetch_suite_index "$suite"
  local version filename sha
  read -r version filename sha < <(suite_package_fields "$suite" "$pkg") || true
  [[ -n ${version:-} ]] || die "package '$pkg' not found in $suite"
  [[ $version == "$pin" ]] \
    || die "$suite now has $pkg $version, pinned $pin: update ${pins_name}[$pkg] in scripts/install-tools.sh"
  local deb="$CACHE/debs/$suite/${filename##*/}"
  mkdir -p "$CACHE/debs/$suite"
  if [[ ! -f $deb || $(sha256_of "$deb") != "$sha" ]]; then
    log "downloading $pkg $version ($suite)"
    curl -fsSL --retry 3 -o "$deb.part" "$DEBIAN_MIRROR/$filename" || die "download of $filename failed"
    mv "$deb.part" "$deb"
  fi
  [[ $(sha256_of "$deb") == "$sha" ]] || die "sha256 mismatch for $deb (want $sha)"
  rm -rf "$dest"
  mkdir -p "$dest"
  dpkg-deb -x "$deb" "$dest"
  echo "$pin" > "$stamp"
  log "installed $pkg $version ($suite)"
}

fetch_trixie_deb() {
  fetch_suite_deb "$TRIXIE_SUITE" "$1" "${TRIXIE_PINS[$1]}" "$TOOLS/debs/$1" TRIXIE_PINS
}

fetch_sid_deb() {
  fetch_suite_deb "$SID_SUITE" "$1" "${SID_PINS[$1]}" "$TOOLS/debs/sid/$1" SID_PINS
}

# ---- bookworm apt packages -----------------------------------------------

apt_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# apt-get install the named packages that are not installed yet.
install_apt_packages() {
  local missing=() pkg
  for pkg in "$@"; do apt_installed "$pkg" || missing+=("$pkg"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  CURRENT_TOOL="apt: ${missing[*]}"
  local codename
  # shellcheck source=/dev/null # the machine's own file
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [[ $codename == "$APT_SUITE" ]] || die "this machine is '$codename', apt pins expect '$APT_SUITE'"
  log "apt-get install ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    || die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed for: ${missing[*]}"
  for pkg in "${missing[@]}"; do apt_installed "$pkg" || die "apt did not install $pkg"; done
}

# Commands this script itself needs, with the bookworm package providing each.
ensure_prerequisites() {
  local -A provider=([curl]=curl [xz]=xz-utils [gpgv]=gpgv [dpkg-deb]=dpkg [sha256sum]=coreutils)
  local cmd missing=()
  for cmd in "${!provider[@]}"; do command -v "$cmd" >/dev/null || missing+=("${provider[$cmd]}"); done
  [[ -r /usr/share/keyrings/debian-archive-keyring.gpg ]] || missing+=(debian-archive-keyring)
  [[ ${#missing[@]} -eq 0 ]] || install_apt_packages ca-certificates "${missing[@]}"
}

# ---- Python venv ---------------------------------------------------------

install_python_tools() {
  CURRENT_TOOL="python venv (yamllint, kubernetes-validate, check-jsonschema)"
  local req="$REPO_ROOT/$PYTHON_REQUIREMENTS" venv="$TOOLS/venv"
  local want
  want=$(sha256_of "$req")
  if [[ -f $venv/.requirements.sha256 && $(<"$venv/.requirements.sha256") == "$want" ]]; then return 0; fi
  local py=${PYTHON:-python3}
  command -v "$py" >/dev/null || install_apt_packages python3
  "$py" -c 'import ensurepip, venv' 2>/dev/null || install_apt_packages python3-venv
  log "creating $venv"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet --no-input --disable-pip-version-check -r "$req" \
    || die "pip install -r $PYTHON_REQUIREMENTS failed"
  echo "$want" > "$venv/.requirements.sha256"
}

# ---- Node packages -------------------------------------------------------

install_node_tools() {
  CURRENT_TOOL="node packages (typescript, @grafana/schema, @kubernetes-models/prometheus-operator)"
  local dir="$TOOLS/node" want
  want=$(cat "$REPO_ROOT/$NODE_MANIFEST" "$REPO_ROOT/$NODE_LOCK" | sha256sum | cut -d' ' -f1)
  if [[ -f $dir/.lock.sha256 && $(<"$dir/.lock.sha256") == "$want" && -d $dir/node_modules ]]; then return 0; fi
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then install_apt_packages nodejs npm; fi
  log "npm ci in $dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$REPO_ROOT/$NODE_MANIFEST" "$REPO_ROOT/$NODE_LOCK" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed"
  echo "$want" > "$dir/.lock.sha256"
}

# ---- .tools/bin ----------------------------------------------------------

link_binaries() {
  mkdir -p "$TOOLS/bin"
  local name target
  for name in "${!BIN_LINKS[@]}"; do
    CURRENT_TOOL=$name
    target=${BIN_LINKS[$name]}
    [[ $target == /* ]] || target="../$target"   # relative: .tools/ may move with the repo
    [[ -x $TOOLS/bin/$target || -x $target ]] || die "expected executable $target is missing"
    ln -sfn "$target" "$TOOLS/bin/$name"
  done
}

# The real-server goal (crates/callgrind/src/run.rs) starts the server through
# .tools/bin/valgrind and asks .tools/bin/callgrind_control for dumps by PID: prove that
# callgrind_control sees a run started that way (tests/benchmarks proves a dump end to end).
check_callgrind_control() {
  CURRENT_TOOL=callgrind_control
  local pid out="" _
  "$TOOLS/bin/valgrind" --tool=callgrind --callgrind-out-file=/dev/null sleep 60 >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 50); do
    out=$("$TOOLS/bin/callgrind_control" "$pid" 2>&1) || true
    [[ $out == *"PID $pid:"* ]] && break
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [[ $out == *"PID $pid:"* ]] \
    || die "does not see a run started by .tools/bin/valgrind within 10 s (it finds only runs whose command line names valgrind.bin): ${out:-no output}"
}

# Print the first line of "NAME ARGS..." run from .tools/bin; fail if it does
# not run. With --any-status, only a missing or unloadable binary fails.
tool_version() {
  local any_status=false
  [[ $1 == --any-status ]] && { any_status=true; shift; }
  CURRENT_TOOL=$1
  local out rc=0
  out=$("$TOOLS/bin/$1" "${@:2}" 2>&1) || rc=$?
  if [[ $rc -ne 0 ]] && { ! $any_status || [[ $rc -ge 126 ]]; }; then
    die "'$*' does not run on this machine (exit $rc): $out"
  fi
  out=${out%%$'\n'*}
  echo "run $1: ${out:-(runs, prints no version)}"
}

# Run each tool once (proves it executes here) and record every version.
write_versions() {
  local out="$TOOLS/versions.txt.tmp" pkg
  {
    echo "# written by scripts/install-tools.sh"
    for pkg in $(printf '%s\n' "${!TRIXIE_PINS[@]}" | sort); do
      echo "deb $TRIXIE_SUITE $pkg ${TRIXIE_PINS[$pkg]}"
    done
    for pkg in $(printf '%s\n' "${!SID_PINS[@]}" | sort); do
      echo "deb $SID_SUITE $pkg ${SID_PINS[$pkg]}"
    done
    for pkg in "${APT_PACKAGES[@]}"; do
      echo "deb $APT_SUITE $pkg $(dpkg-query -W -f='${Version}' "$pkg")"
    done
    grep -Ei '^(yamllint|kubernetes-validate|check-jsonschema)==' "$REPO_ROOT/$PYTHON_REQUIREMENTS" | sed 's/^/pypi /'
    # shellcheck disable=SC2016 # JavaScript template literal, not shell
    (cd "$TOOLS/node" && node -e '
        const l = require("./package-lock.json").packages;
        for (const n of Object.keys(require("./package.json").dependencies))
          console.log(`npm ${n} ${l["node_modules/" + n].version}`);')
    echo "node $(node --version)"
    tool_version promtool --version
    tool_version prometheus --version
    tool_version alertmanager --version
    tool_version amtool --version
    tool_version promtool3 --version
    tool_version prometheus3 --version
    tool_version alertmanager3 --version
    tool_version amtool3 --version
    tool_version docker-compose version
    tool_version kubectl version --client
    tool_version nginx -v
    tool_version victoria-metrics -version
    tool_version --any-status wrk -v   # prints its version, exits 1
    tool_version yamllint --version
    tool_version kubernetes-validate --version
    tool_version check-jsonschema --version
    tool_version valgrind --version
    tool_version tsc --version
  } > "$out"
  mv "$out" "$TOOLS/versions.txt"
}

# Debian's alertmanager reads its built-in notification templates from this fixed path, and
# never becomes ready without them; the unpacked .deb has them, so put them where it looks.
install_alertmanager_templates() {
  CURRENT_TOOL="alertmanager templates"
  local src="$TOOLS/debs/prometheus-alertmanager/usr/share/prometheus/alertmanager"
  local dest=/usr/share/prometheus/alertmanager
  ls "$src"/*.tmpl >/dev/null 2>&1 || die "no templates in $src"
  if ! cmp -s "$src/default.tmpl" "$dest/default.tmpl" 2>/dev/null; then
    as_root install -D -m644 -t "$dest" "$src"/*.tmpl
  fi
}

main() {
  mkdir -p "$TOOLS" "$CACHE"
  ensure_prerequisites
  for pkg in $(printf '%s\n' "${!TRIXIE_PINS[@]}" | sort); do
    fetch_trixie_deb "$pkg"
  done
  for pkg in $(printf '%s\n' "${!SID_PINS[@]}" | sort); do
    fetch_sid_deb "$pkg"
  done
  install_apt_packages "${APT_PACKAGES[@]}"
  install_python_tools
  install_node_tools
  link_binaries
  check_callgrind_control
  install_alertmanager_templates
  write_versions
  CURRENT_TOOL="done"
  log "ok: tools in $TOOLS/bin (versions in $TOOLS/versions.txt)"
}

main "$@"
