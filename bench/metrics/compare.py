"""disentanglement_lib's metric functions versus `disc eval`, on the same arrays (run through run.sh).

The problem is dSprites-sized: factor sizes 3,6,40,32,32 and a 10-dimensional noisy linear code that is a
fixed function of the factor cell (as a mean representation is). Two array files are written:
- grid.npz: the code of every cell, rows in row-major order (the interventional metrics sample from it);
- sample.npz: num_train + num_test cells drawn at random (the observational metrics read the first
  num_train rows as train and the next num_test rows as test, which is what `disc eval` does).
The reference functions are called with a ground-truth-data object that serves exactly those rows (for
the observational metrics) or samples the grid with the same RandomState seed (for the interventional
ones), so both sides see the same data. Times are wall clock; disc's include its process start and file
loading. Encoder cost is excluded on both sides (codes are looked up). CPU seconds (user + system, of
the Python process and of the disc child) are printed too: on a shared, loaded machine wall time mostly
measures the other processes.
"""

import argparse
import json
import logging
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
import gin

sys.modules["gin.tf"] = gin  # reference §9.2: the metric modules import gin.tf only for gin.configurable

from disentanglement_lib.evaluation.metrics import beta_vae  # noqa: E402
from disentanglement_lib.evaluation.metrics import dci  # noqa: E402
from disentanglement_lib.evaluation.metrics import downstream_task  # noqa: E402
from disentanglement_lib.evaluation.metrics import factor_vae  # noqa: E402
from disentanglement_lib.evaluation.metrics import irs  # noqa: E402
from disentanglement_lib.evaluation.metrics import mig  # noqa: E402
from disentanglement_lib.evaluation.metrics import modularity_explicitness  # noqa: E402
from disentanglement_lib.evaluation.metrics import sap_score  # noqa: E402
from disentanglement_lib.evaluation.metrics import unsupervised_metrics  # noqa: E402
from disentanglement_lib.evaluation.metrics import utils  # noqa: E402

# The reference's sklearn fits warn about lbfgs hitting max_iter (part of its defaults): not news here.
warnings.filterwarnings("ignore")
logging.getLogger().setLevel(logging.ERROR)

SIZES = [3, 6, 40, 32, 32]
# Keys whose value disc changes on purpose (documented in the metric's module): left out of the diff.
DELIBERATE = {
    ("irs", "num_active_dims"): "reference reports the sum of the active code values, disc the count",
    ("factor_vae_metric", "num_active_dims"): "reference reports the mask length, disc the active count",
}
ALL = [
    "beta_vae_sklearn",
    "factor_vae_metric",
    "mig",
    "sap_score",
    "modularity_explicitness",
    "dci",
    "irs",
    "unsupervised",
    "downstream_task_logistic_regression",
    "downstream_task_boosted_trees",
]


def make_arrays(num_sample, seed=0):
    """Grid codes (all cells, row-major) and a random sample of num_sample cells."""
    rs = np.random.RandomState(seed)
    grid = np.indices(SIZES).reshape(len(SIZES), -1).T  # (737280, 5), last factor fastest
    scaled = grid / (np.array(SIZES) - 1.0)  # each factor in [0, 1]
    mixing = np.zeros((10, 5))
    mixing[:5, :5] = np.eye(5)
    mixing[5:, :] = rs.normal(scale=0.5, size=(5, 5))
    mixing[:5, :] += rs.normal(scale=0.1, size=(5, 5))
    codes = scaled @ mixing.T + rs.normal(scale=0.05, size=(grid.shape[0], 10))
    rows = rs.randint(grid.shape[0], size=num_sample)
    return grid.astype(np.int64), codes, grid[rows].astype(np.int64), codes[rows]


class GridData:
    """Samples factors like SplitDiscreteStateSpace; an observation is the cell's flat index."""

    def __init__(self):
        self.factor_sizes = SIZES

    @property
    def num_factors(self):
        return len(SIZES)

    @property
    def factors_num_values(self):
        return SIZES

    @property
    def observation_shape(self):
        return [1]

    def sample_factors(self, num, random_state):
        factors = np.zeros((num, len(SIZES)), dtype=np.int64)
        for i, size in enumerate(SIZES):
            factors[:, i] = random_state.randint(size, size=num)
        return factors

    def sample_observations_from_factors(self, factors, random_state):
        return np.ravel_multi_index(factors.T, SIZES)

    def sample(self, num, random_state):
        factors = self.sample_factors(num, random_state)
        return factors, self.sample_observations_from_factors(factors, random_state)

    def sample_observations(self, num, random_state):
        return self.sample(num, random_state)[1]


class RowData(GridData):
    """Serves fixed rows of the sample, range after range, in order (an observation is a row index)."""

    def __init__(self, factors, ranges):
        super().__init__()
        self.factors = factors
        self.ranges = list(ranges)
        self.cursor = None

    def sample(self, num, random_state):
        if self.cursor is None or self.cursor >= self.ranges[0][1]:
            if self.cursor is not None:
                self.ranges.pop(0)
            self.cursor = self.ranges[0][0]
        rows = np.arange(self.cursor, self.cursor + num)
        assert rows[-1] < self.ranges[0][1], "asked for more rows than the range holds"
        self.cursor += num
        return self.factors[rows], rows


def run_reference(name, grid_codes, sample_codes, sample_factors, sizes):
    num_train, num_test, downstream_sizes = sizes
    gin.clear_config()
    gin.parse_config([
        "discretizer.discretizer_fn = @histogram_discretizer",
        "discretizer.num_bins = 20",
        "prune_dims.threshold = 0.05",
    ])
    rs = np.random.RandomState(0)
    grid_rep = lambda x: grid_codes[x]  # noqa: E731
    rep = lambda x: sample_codes[x]  # noqa: E731
    train_test = RowData(sample_factors, [(0, num_train), (num_train, num_train + num_test)])
    if name == "beta_vae_sklearn":
        return beta_vae.compute_beta_vae_sklearn(
            GridData(), grid_rep, rs, batch_size=64, num_train=num_train, num_eval=num_test)
    if name == "factor_vae_metric":
        return factor_vae.compute_factor_vae(
            GridData(), grid_rep, rs, batch_size=64, num_train=num_train, num_eval=num_test,
            num_variance_estimate=10000)  # disc eval keeps the study's variance-estimate size
    if name == "mig":
        return mig.compute_mig(train_test, rep, rs, num_train=num_train, batch_size=16)
    if name == "sap_score":
        return sap_score.compute_sap(
            train_test, rep, rs, num_train=num_train, num_test=num_test, batch_size=16,
            continuous_factors=False)
    if name == "modularity_explicitness":
        return modularity_explicitness.compute_modularity_explicitness(
            train_test, rep, rs, num_train=num_train, num_test=num_test, batch_size=16)
    if name == "dci":
        return dci.compute_dci(train_test, rep, rs, num_train=num_train, num_test=num_test, batch_size=16)
    if name == "irs":
        return irs.compute_irs(train_test, rep, rs, diff_quantile=0.99, num_train=num_train, batch_size=16)
    if name == "unsupervised":
        return unsupervised_metrics.unsupervised_metrics(train_test, rep, rs, num_train=num_train, batch_size=16)
    if name.startswith("downstream_task"):
        predictor = ("@logistic_regression_cv" if name.endswith("logistic_regression")
                     else "@gradient_boosting_classifier")
        gin.parse_config(["predictor.predictor_fn = " + predictor])
        ranges = []
        for size in downstream_sizes:
            ranges += [(0, size), (num_train, num_train + num_test)]
        data = RowData(sample_factors, ranges)
        return downstream_task.compute_downstream_task(
            data, rep, rs, num_train=downstream_sizes, num_test=num_test, batch_size=16)
    raise ValueError(name)


def run_disc(disc, name, work, num_train, num_test):
    source = work + ("/grid.npz" if name in ("beta_vae_sklearn", "factor_vae_metric") else "/sample.npz")
    command = [disc, "eval", "--codes", source, "--metric", name, "--num-train", str(num_train),
               "--num-test", str(num_test), "--seed", "0"]
    if source.endswith("grid.npz"):
        command += ["--factor-sizes", ",".join(map(str, SIZES))]
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed = time.perf_counter() - start
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads(output.stdout)[name], elapsed, cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--disc", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--scale", choices=["study", "reduced"], default="reduced")
    parser.add_argument("--metric", action="append")
    args = parser.parse_args()
    if args.scale == "study":
        num_train, num_test = 10000, 5000
    else:
        num_train, num_test = 2000, 1000
    downstream_sizes = [s for s in [10, 100, 1000, 10000] if s < num_train] + [num_train]

    grid_factors, grid_codes, sample_factors, sample_codes = make_arrays(num_train + num_test)
    np.savez(args.work + "/grid.npz", codes=grid_codes, factors=grid_factors)
    np.savez(args.work + "/sample.npz", codes=sample_codes, factors=sample_factors)

    print(f"scale {args.scale}: num_train {num_train}, num_test {num_test}, "
          f"downstream sizes {downstream_sizes}; factor sizes {SIZES}, 10-d codes")
    print(f"{'metric':38} {'ref wall s':>10} {'disc wall s':>11} {'speed-up':>8} {'ref cpu s':>9} "
          f"{'disc cpu s':>10} {'speed-up':>8}  max |diff|  (key)")
    total_reference = total_disc = total_reference_cpu = total_disc_cpu = 0.0
    for name in args.metric or ALL:
        start = time.perf_counter()
        start_cpu = time.process_time()
        reference = run_reference(name, grid_codes, sample_codes, sample_factors,
                                  (num_train, num_test, downstream_sizes))
        reference_time = time.perf_counter() - start
        reference_cpu = time.process_time() - start_cpu
        ours, disc_time, disc_cpu = run_disc(args.disc, name, args.work, num_train, num_test)
        total_reference += reference_time
        total_disc += disc_time
        total_reference_cpu += reference_cpu
        total_disc_cpu += disc_cpu
        worst_key, worst = None, 0.0
        for key, value in reference.items():
            if (name, key) in DELIBERATE:
                continue
            other = ours.get(key)
            if other is None or isinstance(other, str):
                worst_key, worst = key + " (missing or non-finite)", float("inf")
                break
            diff = abs(float(value) - float(other))
            if diff >= worst:
                worst_key, worst = key, diff
        print(f"{name:38} {reference_time:10.2f} {disc_time:11.2f} {reference_time / disc_time:8.1f} "
              f"{reference_cpu:9.2f} {disc_cpu:10.2f} {reference_cpu / max(disc_cpu, 1e-9):8.1f}  "
              f"{worst:10.4f}  ({worst_key})")
        for key in sorted(reference):
            note = DELIBERATE.get((name, key), "")
            print(f"    {key:40} reference {float(reference[key]):12.6f}   disc {ours.get(key)}  {note}")
        sys.stdout.flush()
    print(f"{'suite':38} {total_reference:10.2f} {total_disc:11.2f} {total_reference / total_disc:8.1f} "
          f"{total_reference_cpu:9.2f} {total_disc_cpu:10.2f} "
          f"{total_reference_cpu / max(total_disc_cpu, 1e-9):8.1f}")


if __name__ == "__main__":
    main()
