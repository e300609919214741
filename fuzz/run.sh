#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer's coverage instrumentation on the stable toolchain and runs
# one of them. Usage (from anywhere):
#   fuzz/run.sh TARGET [libFuzzer options...]      e.g. fuzz/run.sh check -runs=10000000
#   fuzz/run.sh --build-only                       builds every target
# Targets: check plan_ron npy npz hdf5 mat norb, and (linking the runtime, hence burn: a long first
# build) safetensors checkpoint. libFuzzer grows fuzz/corpus/TARGET (not committed) from
# the committed seeds in fuzz/seeds/TARGET (for `check`, also every fixture, experiment and stdlib
# file); crashes are written to fuzz/artifacts/TARGET/. Set CARGO_TARGET_DIR to reuse a build directory.
#
# cargo-fuzz passes these same flags; only its AddressSanitizer mode needs a nightly compiler, and
# Rust code without `unsafe` gains little from it, so no sanitizer is used (panics, overflow checks
# and debug assertions are what the targets look for).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
host="$(rustc -vV | sed -n 's/^host: //p')"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
export RUSTFLAGS="-Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 -Cllvm-args=-sanitizer-coverage-stack-depth \
 -Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
 --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
target="${1:?usage: fuzz/run.sh TARGET [libFuzzer options] | fuzz/run.sh --build-only}"
shift
# Only the runtime's targets need the `runtime` feature (burn); the others build without it.
case "$target" in
  --build-only) build=(--bins --features runtime) ;;
  safetensors | checkpoint) build=(--bin "$target" --features runtime) ;;
  *) build=(--bin "$target") ;;
esac
# --target keeps the flags off build scripts and proc macros (pest_derive), as cargo-fuzz does.
(cd "$here" && cargo build --release --locked --target "$host" "${build[@]}")
[ "$target" = "--build-only" ] && exit 0
mkdir -p "$here/corpus/$target" "$here/artifacts/$target"
extra=()
seeds=("$here/seeds/$target")
case "$target" in
  check)
    extra=(-dict="$here/dis.dict" -max_len=4096)
    seeds+=("$here/../tests/fixtures/check" "$here/../experiments" "$here/../stdlib")
    ;;
  plan_ron) extra=(-max_len=16384) ;;
  # The seeds are the example VAE's checkpoint files (a few kB); burn's CPU backend would otherwise
  # start a thread per core.
  checkpoint)
    extra=(-max_len=65536)
    export RAYON_NUM_THREADS=1
    ;;
  *) extra=(-max_len=65536) ;;
esac
cd "$here"
exec "$CARGO_TARGET_DIR/$host/release/$target" -artifact_prefix="$here/artifacts/$target/" \
  "${extra[@]}" "$@" "$here/corpus/$target" "${seeds[@]}"
