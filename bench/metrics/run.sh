#!/usr/bin/env bash
# Benchmark of the metric suite: disentanglement_lib's own metric functions against `disc eval` (release),
# on the same arrays, metric by metric: times, speed-up and value differences.
#
#   bench/metrics/run.sh [--scale study|reduced] [--metric NAME]...
#
# Creates a virtual environment (VENV, default /tmp/disc-metrics-bench-venv) with the reference's metric
# dependencies pinned as in reference §9.2 (scikit-learn 1.9.1, gin-config 0.4.0 with `gin.tf` aliased to
# `gin`, no TensorFlow: disentanglement-lib is installed without its dependencies), builds `disc` in
# release mode, and runs bench/metrics/compare.py. Not a test: it takes minutes (the reference's DCI
# alone takes about 5 minutes at the study sizes).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${VENV:-/tmp/disc-metrics-bench-venv}"
work="${WORK:-/tmp/disc-metrics-bench}"

if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import disentanglement_lib, sklearn, gin" 2>/dev/null; then
  "$venv/bin/pip" install --quiet "scikit-learn==1.9.1" scipy numpy "gin-config==0.4.0" absl-py six
  "$venv/bin/pip" install --quiet --no-deps "disentanglement-lib==1.5"
fi

(cd "$root" && cargo build --release --quiet -p disc)
target="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$work"
exec "$venv/bin/python" "$here/compare.py" --disc "$target/release/disc" --work "$work" "$@"
