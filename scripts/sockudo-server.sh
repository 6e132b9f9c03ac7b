#!/usr/bin/env bash
# sockudo-server.sh: build the real Sockudo 5.2.0 server from crates.io with sockudo-obs's drop-in
# `sockudo-metrics` (integrations/sockudo-metrics), into .tools/bin/sockudo.
#
#   ./scripts/sockudo-server.sh               # the server with the drop-in -> .tools/bin/sockudo
#   ./scripts/sockudo-server.sh --stock       # the unmodified server -> .tools/bin/sockudo-stock
#   ./scripts/sockudo-server.sh --test        # the drop-in build, then the drop-in's own unit tests
#   ./scripts/sockudo-server.sh --instrumented   # the drop-in plus our patch series
#                                                # -> .tools/bin/sockudo-instrumented
#   ./scripts/sockudo-server.sh --instrumented-test  # that build, then the drop-in's unit tests
#                                                # with its `instrumented` feature
#   ./scripts/sockudo-server.sh --check-patches  # only check that every patch still applies
#   ./scripts/sockudo-server.sh --update-lock # after changing the drop-in's or sockudo-obs's deps
#
# How: the pristine sockudo 5.2.0 source comes from crates.io through `cargo vendor` (checksums
# verified by cargo), and is built with `--locked` against a lock file we ship
# (integrations/sockudo-metrics/sockudo-5.2.0.Cargo.lock): Sockudo's own Cargo.lock with the
# drop-in's additional packages, every one of Sockudo's pins unchanged (checked here). The drop-in
# replaces the registry crate through `--config patch.crates-io.sockudo-metrics.path=...`, so
# nothing of Sockudo is forked. (`cargo install sockudo --locked` with that patch cannot work:
# the patch changes the lock file, which --locked forbids.)
#
# The instrumented build applies the patch series integrations/sockudo-$VERSION-patches/*.patch
# (mail-style, one concern each, written to go upstream as they are; `patch -p1` from a folder
# holding the crates' folders) to copies of the pristine sockudo, sockudo-core, sockudo-adapter,
# sockudo-webhook, sockudo-cache and sockudo-queue crates, and builds them in place of the
# registry ones (`--config patch.crates-io.<crate>.path=...`) with the drop-in's `instrumented`
# feature, against a lock file of its own (sockudo-$VERSION-instrumented.Cargo.lock, written
# by --update-lock, with the same check that no pinned version moves). A patch that no longer
# applies stops the build naming the patch file and each hunk that failed. Both builds share the
# cargo target dir, so the second recompiles only Sockudo's own crates.
# SOCKUDO_OBS_PATCH_DIR replaces the patch folder (the patch test uses it), SOCKUDO_OBS_BIN_DIR
# the folder the binaries are written to (.tools/bin).
#
# The cargo target dir and sources live outside the clone, in $SOCKUDO_OBS_CACHE
# (default ~/.cache/sockudo-obs), so a second run rebuilds only what changed. A cold build takes
# about 20 minutes on 2 cores. Needs Debian's protobuf-compiler, libssl-dev and pkg-config:
# installed with apt-get when missing and running as root, otherwise named and the run fails.
set -Eeuo pipefail

VERSION=5.2.0
FEATURES=local,redis,opentelemetry
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${SOCKUDO_OBS_CACHE:-$HOME/.cache/sockudo-obs}
DROPIN="$REPO_ROOT/integrations/sockudo-metrics"
SHIPPED_LOCK="$DROPIN/sockudo-$VERSION.Cargo.lock"
INSTRUMENTED_LOCK="$DROPIN/sockudo-$VERSION-instrumented.Cargo.lock"
PATCH_DIR=${SOCKUDO_OBS_PATCH_DIR:-$REPO_ROOT/integrations/sockudo-$VERSION-patches}
# The crates the patch series may touch, besides `sockudo` itself (the manifest built).
PATCHED_CRATES=(sockudo-core sockudo-adapter sockudo-webhook sockudo-cache sockudo-queue)
BIN_DIR=${SOCKUDO_OBS_BIN_DIR:-$REPO_ROOT/.tools/bin}

say() { printf 'sockudo-server: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

mode=dropin
case "${1:-}" in
  "") ;;
  --stock) mode=stock ;;
  --test) mode=test ;;
  --update-lock) mode=update-lock ;;
  --instrumented) mode=instrumented ;;
  --instrumented-test) mode=instrumented-test ;;
  --check-patches) mode=check-patches ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  *) die "unknown option '$1' (expected --stock, --test, --instrumented, --instrumented-test, --check-patches, --update-lock or nothing; see --help)" ;;
esac

# ---------------------------------------------------------------- the patch series ----
# apply_patches ROOT: applies every patch of $PATCH_DIR, in name order, to the crate folders in
# ROOT. Each is first tried with `patch --dry-run`; one that does not apply cleanly stops the run
# naming the patch file and every hunk that failed, and nothing of it is applied.
apply_patches() {
  local root=$1 patch_file name output failed
  local patches=("$PATCH_DIR"/*.patch)
  [ -f "${patches[0]}" ] || die "no patches in $PATCH_DIR"
  for patch_file in "${patches[@]}"; do
    name=$(basename "$patch_file")
    if ! output=$(patch -p1 --dry-run --batch --forward -d "$root" -i "$patch_file" 2>&1); then
      # GNU patch names the file it is checking, then each hunk of it that failed ("Hunk #2
      # FAILED at 120."); the hunk's own header comes from the patch file.
      failed=$(printf '%s\n' "$output" | awk -v patch_file="$patch_file" '
        function header(file, n,    line, current, count) {
          current = ""; count = 0
          while ((getline line < patch_file) > 0) {
            if (line ~ /^\+\+\+ /) { current = substr(line, 5); sub(/^b\//, "", current); count = 0 }
            else if (line ~ /^@@ / && current == file && ++count == n) { close(patch_file); return line }
          }
          close(patch_file)
          return ""
        }
        /^(checking|patching) file / { file = substr($0, index($0, " file ") + 6) }
        /^Hunk #[0-9]+ FAILED/ {
          n = $2; sub(/^#/, "", n)
          print "  " file ": hunk #" n " (" header(file, n) ") FAILED" substr($0, index($0, "FAILED") + 6)
        }
        /^\|\+\+\+ / { missing = substr($0, 6); sub(/^b\//, "", missing) }
        /No file to patch/ { print "  " missing ": no such file to patch" }
        /^[0-9]+ out of [0-9]+ hunks? ignored/ { print "  " missing ": " $0 }
        /Reversed \(or previously applied\) patch detected/ { print "  " file ": already applied" }
        /malformed patch|Only garbage/ { print "  " $0 }')
      [ -n "$failed" ] || failed=$(printf '%s\n' "$output" | sed 's/^/  /')
      say "error: patch $name no longer applies to Sockudo $VERSION ($patch_file):"
      printf '%s\n' "$failed" | sed 's/^/sockudo-server: /' >&2
      exit 1
    fi
    patch -p1 --batch --forward --silent -d "$root" -i "$patch_file" >/dev/null \
      || die "patch $name passed its dry run but did not apply"
  done
  say "applied ${#patches[@]} patches from $PATCH_DIR"
}

# ---------------------------------------------------------------- system packages ----
if [ "$mode" != check-patches ]; then
need_packages=()
command -v protoc >/dev/null 2>&1 || need_packages+=(protobuf-compiler)
command -v pkg-config >/dev/null 2>&1 || need_packages+=(pkg-config)
if ! pkg-config --exists openssl 2>/dev/null; then need_packages+=(libssl-dev); fi
if [ ${#need_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${need_packages[*]} (apt-get)"
    apt-get update -qq >/dev/null || die "apt-get update failed; install ${need_packages[*]} by hand"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null \
      || die "could not install ${need_packages[*]} with apt-get"
  else
    die "the Sockudo build needs these Debian packages: ${need_packages[*]} (apt-get install ${need_packages[*]})"
  fi
fi
rust_ok=$(rustc --version | awk '{split($2, v, "."); print (v[1] > 1 || v[2] >= 95) ? "yes" : "no"}')
[ "$rust_ok" = yes ] || die "Sockudo $VERSION needs Rust 1.95 or newer; this is $(rustc --version)"
fi

# ---------------------------------------------------------------- pristine source ----
fetch="$CACHE/fetch"
vendored="$fetch/vendor/sockudo-$VERSION"
if [ ! -f "$vendored/Cargo.lock" ]; then
  say "fetching sockudo $VERSION from crates.io (cargo vendor)"
  mkdir -p "$fetch/src"
  cat > "$fetch/Cargo.toml" <<EOF
# Written by sockudo-obs's scripts/sockudo-server.sh: fetches the sockudo $VERSION crate.
[package]
name = "sockudo-obs-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
sockudo = { version = "=$VERSION", default-features = false }

[workspace]
EOF
  : > "$fetch/src/lib.rs"
  rm -rf "$fetch/vendor"
  (cd "$fetch" && cargo vendor --quiet --versioned-dirs vendor >/dev/null) \
    || die "cargo vendor could not fetch sockudo $VERSION from crates.io"
fi
[ -f "$vendored/Cargo.toml" ] || die "no sockudo $VERSION source in $vendored"

# The patched crates, in $CACHE/instrumented/<crate>-$VERSION: rebuilt from the pristine ones
# in a staging folder on every run (so a patch that no longer applies always fails), then synced
# file by file, touching only files whose content changed: cargo decides what to rebuild by
# modification times, so an unchanged crate is not rebuilt.
instrumented="$CACHE/instrumented"
sync_tree() {
  local from=$1 to=$2 rel
  mkdir -p "$to"
  (cd "$from" && find . -type d) | while IFS= read -r rel; do mkdir -p "$to/$rel"; done
  (cd "$from" && find . -type f) | while IFS= read -r rel; do
    cmp -s "$from/$rel" "$to/$rel" || cp "$from/$rel" "$to/$rel"
  done
  (cd "$to" && find . -type f) | while IFS= read -r rel; do
    [ -e "$from/$rel" ] || rm -f "$to/$rel"
  done
}
prepare_instrumented() {
  local stage="$CACHE/instrumented.stage" crate
  rm -rf "$stage"
  mkdir -p "$stage"
  for crate in sockudo "${PATCHED_CRATES[@]}"; do
    [ -d "$fetch/vendor/$crate-$VERSION" ] || die "no $crate $VERSION source in $fetch/vendor"
    cp -a "$fetch/vendor/$crate-$VERSION" "$stage/"
    rm -f "$stage/$crate-$VERSION/.cargo-checksum.json"
  done
  apply_patches "$stage"
  # Sockudo's manifest folder keeps the lock file it is built with.
  rm -f "$stage/sockudo-$VERSION/Cargo.lock"
  [ ! -f "$instrumented/sockudo-$VERSION/Cargo.lock" ] \
    || cp -p "$instrumented/sockudo-$VERSION/Cargo.lock" "$stage/sockudo-$VERSION/Cargo.lock"
  sync_tree "$stage" "$instrumented"
  rm -rf "$stage"
}
instrumented_patch_args=()
for crate in "${PATCHED_CRATES[@]}"; do
  instrumented_patch_args+=(--config "patch.crates-io.$crate.path=\"$instrumented/$crate-$VERSION\"")
done
if [ "$mode" = check-patches ]; then
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  for crate in sockudo "${PATCHED_CRATES[@]}"; do
    cp -a "$fetch/vendor/$crate-$VERSION" "$stage/"
  done
  apply_patches "$stage"
  say "ok: every patch of $PATCH_DIR applies to Sockudo $VERSION"
  exit 0
fi

src="$CACHE/src/sockudo-$VERSION"
if [ ! -f "$src/Cargo.toml" ] || ! cmp -s "$vendored/Cargo.toml" "$src/Cargo.toml"; then
  rm -rf "$src"
  mkdir -p "$(dirname "$src")"
  cp -a "$vendored" "$src"
  rm -f "$src/.cargo-checksum.json"
fi

patch_arg="patch.crates-io.sockudo-metrics.path=\"$DROPIN\""
cargo_build() {
  # The server's own profile (release, its lints) with our target dir; the binary is `sockudo`.
  CARGO_TARGET_DIR="$CACHE/target" cargo build --release --locked \
    --manifest-path "$src/Cargo.toml" --no-default-features --features "$FEATURES" --bin sockudo "$@"
}
# The drop-in's unit tests inside the server tree whose manifest is $1, with its dependencies as
# the server built them (release, same target dir); the rest are `--config` arguments.
dropin_tests() {
  CARGO_TARGET_DIR="$CACHE/target" cargo test --release --locked --manifest-path "$1" "${@:2}" \
    -p sockudo-metrics
}
instrumented_build() {
  CARGO_TARGET_DIR="$CACHE/target" cargo build --release --locked \
    --manifest-path "$instrumented/sockudo-$VERSION/Cargo.toml" --no-default-features \
    --features "$FEATURES,sockudo-metrics/instrumented" --bin sockudo \
    --config "$patch_arg" "${instrumented_patch_args[@]}" "$@"
}

# No package Sockudo pins changes version in ours: ours may only add packages (the drop-in's) and
# drop those only the stock driver used.
check_lock_keeps_pins() {
  python3 - "$vendored/Cargo.lock" "$1" <<'PY' || die "$1 moves a package Sockudo $VERSION pins (see above); rerun with --update-lock"
import sys, tomllib
def packages(path):
    with open(path, "rb") as f:
        return {(p["name"], p["version"], p.get("source", "")) for p in tomllib.load(f)["package"]}
upstream, ours = packages(sys.argv[1]), packages(sys.argv[2])
pinned_names = {p[0] for p in upstream}
pinned_versions = {(p[0], p[1]) for p in upstream}
# A Sockudo crate patched in from a folder (no source) at the version Sockudo pins has not moved.
moved = sorted(p for p in ours - upstream if p[0] in pinned_names and p[0] != "sockudo-metrics"
               and not (p[2] == "" and (p[0], p[1]) in pinned_versions))
for name, version, _ in moved:
    print(f"sockudo-server: {name} {version} is not a version Sockudo pins", file=sys.stderr)
sys.exit(1 if moved else 0)
PY
}

case "$mode" in
  update-lock)
    cp "$vendored/Cargo.lock" "$src/Cargo.lock"
    say "resolving the drop-in's additions on top of Sockudo's lock"
    (cd "$src" && cargo metadata --format-version 1 --config "$patch_arg" \
      --no-default-features --features "$FEATURES" >/dev/null)
    check_lock_keeps_pins "$src/Cargo.lock"
    cp "$src/Cargo.lock" "$SHIPPED_LOCK"
    say "wrote $SHIPPED_LOCK"
    prepare_instrumented
    cp "$vendored/Cargo.lock" "$instrumented/sockudo-$VERSION/Cargo.lock"
    say "resolving the drop-in's additions and the patched crates on top of Sockudo's lock"
    (cd "$instrumented/sockudo-$VERSION" && cargo metadata --format-version 1 --config "$patch_arg" \
      "${instrumented_patch_args[@]}" --no-default-features \
      --features "$FEATURES,sockudo-metrics/instrumented" >/dev/null)
    check_lock_keeps_pins "$instrumented/sockudo-$VERSION/Cargo.lock"
    cp "$instrumented/sockudo-$VERSION/Cargo.lock" "$INSTRUMENTED_LOCK"
    say "wrote $INSTRUMENTED_LOCK"
    exit 0
    ;;
  instrumented|instrumented-test)
    [ -f "$INSTRUMENTED_LOCK" ] || die "no $INSTRUMENTED_LOCK; run $0 --update-lock"
    check_lock_keeps_pins "$INSTRUMENTED_LOCK"
    prepare_instrumented
    cmp -s "$INSTRUMENTED_LOCK" "$instrumented/sockudo-$VERSION/Cargo.lock" \
      || cp "$INSTRUMENTED_LOCK" "$instrumented/sockudo-$VERSION/Cargo.lock"
    say "building the instrumented sockudo $VERSION: the drop-in and $(ls "$PATCH_DIR"/*.patch | wc -l) patches (features: $FEATURES)"
    instrumented_build \
      || die "the instrumented Sockudo build failed (see above); if it says the lock file needs updating, run $0 --update-lock"
    out="$BIN_DIR/sockudo-instrumented"
    if [ "$mode" = instrumented-test ]; then
      # The feature's code implements calls only the patched sockudo-core declares, so its tests
      # build in this tree. Cargo takes no `--features` for a package outside the workspace (the
      # drop-in is a patched dependency here): they run on a copy whose default is `instrumented`.
      copy=$(mktemp -d)
      trap 'rm -rf "$copy"' EXIT
      cp -a "$DROPIN/." "$copy/"
      sed -i -e 's/^default = \[\]$/default = ["instrumented"]/' \
        -e "s#path = \"\.\./\.\./#path = \"$REPO_ROOT/#" "$copy/Cargo.toml"
      grep -q '^default = \["instrumented"\]$' "$copy/Cargo.toml" \
        || die "$DROPIN/Cargo.toml: no \`default = []\` line to turn the instrumented feature on in"
      say "the drop-in's unit tests with its instrumented feature (release, reusing the server's dependencies)"
      dropin_tests "$instrumented/sockudo-$VERSION/Cargo.toml" \
        --config "patch.crates-io.sockudo-metrics.path=\"$copy\"" "${instrumented_patch_args[@]}" \
        || die "the drop-in's unit tests with its instrumented feature failed (see above)"
    fi
    ;;
  stock)
    cp "$vendored/Cargo.lock" "$src/Cargo.lock"
    say "building the stock sockudo $VERSION (features: $FEATURES)"
    cargo_build || die "the stock Sockudo build failed (see above)"
    out="$BIN_DIR/sockudo-stock"
    ;;
  dropin|test)
    [ -f "$SHIPPED_LOCK" ] || die "no $SHIPPED_LOCK; run $0 --update-lock"
    check_lock_keeps_pins "$SHIPPED_LOCK"
    cp "$SHIPPED_LOCK" "$src/Cargo.lock"
    say "building sockudo $VERSION with the sockudo-obs drop-in (features: $FEATURES)"
    cargo_build --config "$patch_arg" \
      || die "the Sockudo build with the drop-in failed (see above); if it says the lock file needs updating, run $0 --update-lock"
    out="$BIN_DIR/sockudo"
    if [ "$mode" = test ]; then
      say "the drop-in's unit tests (release, reusing the server's dependencies)"
      dropin_tests "$src/Cargo.toml" --config "$patch_arg" || die "the drop-in's unit tests failed (see above)"
    fi
    ;;
esac

mkdir -p "$BIN_DIR"
cp "$CACHE/target/release/sockudo" "$out.tmp"
mv "$out.tmp" "$out"
say "ok: $out"
