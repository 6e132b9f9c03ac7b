#!/usr/bin/env bash
# sockudo-server.sh: build the real Sockudo 5.2.0 server from crates.io with sockudo-obs's drop-in
# `sockudo-metrics` (integrations/sockudo-metrics), into .tools/bin/sockudo.
#
#   ./scripts/sockudo-server.sh               # the server with the drop-in -> .tools/bin/sockudo
#   ./scripts/sockudo-server.sh --stock       # the unmodified server -> .tools/bin/sockudo-stock
#   ./scripts/sockudo-server.sh --test        # the drop-in build, then the drop-in's own unit tests
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
BIN_DIR="$REPO_ROOT/.tools/bin"

say() { printf 'sockudo-server: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

mode=dropin
case "${1:-}" in
  "") ;;
  --stock) mode=stock ;;
  --test) mode=test ;;
  --update-lock) mode=update-lock ;;
  -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown option '$1' (expected --stock, --test, --update-lock or nothing; see --help)" ;;
esac

# ---------------------------------------------------------------- system packages ----
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
moved = sorted(p for p in ours - upstream if p[0] in pinned_names and p[0] != "sockudo-metrics")
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
    exit 0
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
      CARGO_TARGET_DIR="$CACHE/target" cargo test --release --locked --manifest-path "$src/Cargo.toml" \
        --config "$patch_arg" -p sockudo-metrics || die "the drop-in's unit tests failed (see above)"
    fi
    ;;
esac

mkdir -p "$BIN_DIR"
cp "$CACHE/target/release/sockudo" "$out.tmp"
mv "$out.tmp" "$out"
say "ok: $out"
