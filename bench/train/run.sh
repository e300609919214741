#!/usr/bin/env bash
# Training benchmark: disc's CPU runtime (burn 0.21, flex backend) against its PyTorch twin.
# The Rust side (runtime/examples/bench_train.rs) compiles experiments/quickstart.dis and times the
# runtime's own training step (train::Trainer::step, the one run_job uses) and Vae::encode; the
# PyTorch side (torch_twin.py) is the same β-VAE (β 4, Adam 5e-4). Both report the median of
# BENCH_WINDOWS timed windows, warm-up excluded.
#
# One command, from anywhere:  bench/train/run.sh
# Builds the Rust benchmark in release mode, makes a virtual environment with PyTorch from PyPI
# (plain `pip install torch`, the first time only; on Linux x86-64 that wheel pulls CUDA libraries,
# several GB, though only the CPU is used), runs both one after the other with the same number of
# threads, and prints both results and the ratios burn / PyTorch.
#
# Then a parity check: disc trains BENCH_PARITY_STEPS steps and writes its initial weights, batches,
# noise and losses; the twin retraces them from the same state and fails if a loss differs by more
# than a relative 1e-4 (so a faster kernel cannot quietly compute something else).
#
# Environment: BENCH_THREADS (default 2), BENCH_SECONDS (time budget per measurement, default 20),
# BENCH_WINDOWS (default 5), BENCH_PARITY_STEPS (default 20), BENCH_VENV (default bench/.venv),
# CARGO_TARGET_DIR (as usual).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
threads=${BENCH_THREADS:-2}
budget=${BENCH_SECONDS:-20}
windows=${BENCH_WINDOWS:-5}
parity_steps=${BENCH_PARITY_STEPS:-20}
venv=${BENCH_VENV:-$root/bench/.venv}
target=${CARGO_TARGET_DIR:-$root/target}

if ! "$venv/bin/python" -c "import torch" >/dev/null 2>&1; then
    echo "== creating $venv with PyTorch (first run only)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch numpy
fi

echo "== building the Rust benchmark (release)"
(cd "$root" && cargo build --release --quiet -p disc-runtime --example bench_train)

outputs=$(mktemp -d)
trap 'rm -rf "$outputs"' EXIT

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $threads threads each"
echo "== burn"
RAYON_NUM_THREADS=$threads "$target/release/examples/bench_train" --seconds "$budget" \
    --windows "$windows" | tee "$outputs/burn.txt"
echo "== pytorch"
OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads \
    "$venv/bin/python" "$here/torch_twin.py" --threads "$threads" --seconds "$budget" \
    --windows "$windows" | tee "$outputs/torch.txt"

echo "== uptime after the runs: $(uptime)"
"$venv/bin/python" - "$outputs/burn.txt" "$outputs/torch.txt" <<'PY'
import json, sys
burn, torch = (json.loads(open(path).read().strip().splitlines()[-1]) for path in sys.argv[1:3])
print("== summary (images/s, batch 64, 64x64x1, median window)")
print(f"{'':<24}{'disc/burn':>12}{'pytorch':>12}{'burn/pytorch':>14}")
for key, label in (("train_images_per_second", "training"), ("inference_images_per_second", "encoder inference")):
    print(f"{label:<24}{burn[key]:>12.1f}{torch[key]:>12.1f}{burn[key] / torch[key]:>13.2f}x")
PY

echo "== parity: $parity_steps steps from the same weights, batches and noise"
RAYON_NUM_THREADS=$threads "$target/release/examples/bench_train" --parity "$outputs/parity" \
    --parity-steps "$parity_steps"
OMP_NUM_THREADS=$threads "$venv/bin/python" "$here/torch_twin.py" --threads "$threads" \
    --parity "$outputs/parity"
