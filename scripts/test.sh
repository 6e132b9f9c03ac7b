#!/usr/bin/env bash
# The one test command (README, and .ci/run): installs the real tools, builds the real Sockudo
# 5.2.0 server (with the drop-in driver, and with it plus the instrumentation patches), then runs
# the Rust tests (unit, golden, real-tool and end-to-end, on the demo, on the real server and on
# two-node clusters on Redis) and the loom model checks of the lock-free parts, checks generated/
# is fresh, and runs every real validator on every shipped environment's bundle. Any failure stops
# the run with its name.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "installing the real tools into .tools/ (cached after the first run)"
./scripts/install-tools.sh
# shellcheck source=scripts/env.sh
source ./scripts/env.sh

step "format and lints"
cargo fmt --all -- --check
rustfmt --check --edition 2021 integrations/sockudo-metrics/src/*.rs
cargo clippy --all-targets --quiet -- -D warnings
# What a server links, alone, with only its own features: the live library and the Sockudo
# integration (the drop-in's dependencies), and the facade without the generator.
cargo clippy -p sockudo-obs-live -p sockudo-obs-sockudo --lib --quiet -- -D warnings
cargo clippy -p sockudo-obs --lib --no-default-features --quiet -- -D warnings
# The API docs build without a broken or private intra-doc link.
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --lib --quiet

step "the real Sockudo 5.2.0 server: the drop-in build, then the instrumented one (cached in ~/.cache/sockudo-obs)"
./scripts/sockudo-server.sh --test
./scripts/sockudo-server.sh --instrumented-test

step "cargo test (unit, golden, real tools, end to end)"
cargo test --lib --bins --tests --no-fail-fast 2>&1 | tee target/test-output.txt
cargo test --doc --quiet
cargo build --examples --quiet

step "model-checking the lock-free table and the counter slabs with loom (CONTRIBUTING.md)"
# A debug build with loom optimized (Cargo.toml): it reuses the debug dependencies built above.
# Only the `loom_` tests: with the feature on, the other tests' atomics would be loom's too.
cargo test -p sockudo-obs-live --lib --features loom -- loom_

step "generated/ is fresh and every environment's bundle passes the real validators"
cargo build --quiet --bin sockudo-obs
for profile in environments/*.yaml; do
  env_name=$(basename "$profile" .yaml)
  ./target/debug/sockudo-obs generate --env "$env_name" --check
  ./scripts/validate-bundle.sh "generated/$env_name" "k8s/$env_name"
done

step "fuzzing the config parser and the PromQL check briefly (cargo fuzz on stable via RUSTC_BOOTSTRAP)"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
# The instrumented build is cached outside the clone, like the server's.
fuzz_target_dir="${SOCKUDO_OBS_CACHE:-$HOME/.cache/sockudo-obs}/fuzz-target"
for target in config promql output_folder; do
  (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run --target-dir "$fuzz_target_dir" "$target" -- -max_total_time=20)
done

if [ -f benches/goals/main.rs ]; then
  step "benchmarks, short mode (they must build and run; figures come from the full run)"
  GOALS_QUICK=1 cargo bench --bench goals
fi

step "all passed"
