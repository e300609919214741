"""The PyTorch twin against itself in float64: how far two exact-in-principle InfoGAN trainings drift
apart from rounding alone, step by step. This is the floor under any parity check between disc and the
twin (`run.sh` with BENCH_PARITY_STEPS): a difference below it says nothing; one above it at the
first steps is a real disagreement.

Same model, terms, players and TF1 Adam as `torch_twin.py`, the same weights (Glorot-uniform kernels,
zero biases), real batches and generator inputs; one copy in float32, one in float64. Prints, per step,
the largest relative difference of the logged terms (relative to max(|value|, 1), as the parity check
measures) and the generator loss of both. Needs only PyTorch: `python bench/infogan/noise_floor.py`.
"""

import argparse
import copy
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import torch_twin as twin  # noqa: E402
from tf1_adam import Tf1Adam  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    draws = torch.Generator().manual_seed(args.seed + 1)
    single = twin.InfoGan(1, adam=Tf1Adam)
    twin.glorot_zero_(single.generator)
    twin.glorot_zero_(single.critic)
    double = copy.deepcopy(single)
    double.generator.double()
    double.critic.double()
    double.d_optimizer = Tf1Adam(double.critic.parameters(), **twin.DISCRIMINATOR_ADAM)
    double.g_optimizer = Tf1Adam(double.generator.parameters(), **twin.GENERATOR_ADAM)
    pool = twin.sprite_batches(3, args.batch, 1, draws)
    inputs = [(twin.draw_inputs(args.batch, draws), twin.draw_inputs(args.batch, draws))
              for _ in range(args.steps)]
    # The twin's least squares returns float32 weights; the float64 copy keeps them in float64.
    least_squares = twin.least_squares

    def least_squares_double(x, target):
        weights, intercept = least_squares(x, target)
        return weights.double(), intercept

    for step in range(args.steps):
        real, d_inputs, g_inputs = pool[step % len(pool)], *inputs[step]
        values = single.step(real, d_inputs, g_inputs)
        twin.least_squares = least_squares_double
        torch.set_default_dtype(torch.float64)
        exact = double.step(real.double(), d_inputs.double(), g_inputs.double())
        torch.set_default_dtype(torch.float32)
        twin.least_squares = least_squares
        differences = {name: abs(values[name] - exact[name]) / max(abs(exact[name]), 1.0)
                       for name in values}
        worst = max(differences, key=differences.get)
        print(f"step {step}: largest relative difference float32 vs float64 {differences[worst]:.2e} "
              f"({worst}); generator loss {values['generator/loss']:.4f} vs {exact['generator/loss']:.4f}")


if __name__ == "__main__":
    main()
