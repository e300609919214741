"""Golden values of scikit-learn's PCA and FastICA on small fixed inputs, for disc's baselines.

Run once (it needs numpy and scikit-learn; disc's tests do not):

    python bench/baselines/sklearn_golden.py > bench/baselines/sklearn_golden.json

The inputs are stored in the file beside the results, so the Rust tests
(`runtime/src/baselines.rs`, `golden` tests) read both and never regenerate the data:

- `pca`: 40 rows of 6 correlated features; `PCA(n_components=3, svd_solver="full")`.
- `ica`: 3 independent non-Gaussian sources (uniform, Laplace, a square wave with noise) over
  300 rows, mixed into 5 features; `FastICA(n_components=3, random_state=0)` with scikit-learn's
  defaults (algorithm="parallel", fun="logcosh", fun_args alpha=1, whiten="unit-variance",
  whiten_solver="svd", tol=1e-4, max_iter=200), and again with tol=1e-9 (more iterations). disc draws the same initial unmixing matrix as
  `RandomState(0).normal(size=(3, 3))`.
"""

import json
import sys

import numpy as np
import sklearn
from sklearn.decomposition import PCA, FastICA


def pca_case():
    rs = np.random.RandomState(1)
    latent = rs.normal(size=(40, 3)) * np.array([3.0, 1.5, 0.5])
    loading = rs.normal(size=(3, 6))
    x = latent @ loading + 0.1 * rs.normal(size=(40, 6)) + np.arange(6)
    pca = PCA(n_components=3, svd_solver="full").fit(x)
    return {
        "x": x.tolist(),
        "components": 3,
        "sklearn_components": pca.components_.tolist(),
        "sklearn_mean": pca.mean_.tolist(),
        "sklearn_explained_variance": pca.explained_variance_.tolist(),
        "sklearn_explained_variance_ratio": pca.explained_variance_ratio_.tolist(),
        "sklearn_transform": pca.transform(x).tolist(),
    }


def ica_case():
    rs = np.random.RandomState(2)
    n = 300
    t = np.linspace(0, 8, n)
    sources = np.c_[
        rs.uniform(-1, 1, size=n),
        rs.laplace(size=n),
        np.sign(np.sin(3 * t)) + 0.1 * rs.normal(size=n),
    ]
    mixing = rs.normal(size=(5, 3))
    x = sources @ mixing.T
    ica = FastICA(n_components=3, random_state=0)
    s = ica.fit_transform(x)
    # A tight tolerance runs more fixed-point iterations, to compare the iteration itself.
    tight = FastICA(n_components=3, random_state=0, tol=1e-9).fit(x)
    return {
        "x": x.tolist(),
        "components": 3,
        "seed": 0,
        "tol": ica.tol,
        "max_iter": ica.max_iter,
        "alpha": 1.0,
        "sklearn_components": ica.components_.tolist(),
        "sklearn_mean": ica.mean_.tolist(),
        "sklearn_n_iter": int(ica.n_iter_),
        "sklearn_sources": s.tolist(),
        "tight_tol": tight.tol,
        "tight_components": tight.components_.tolist(),
        "tight_n_iter": int(tight.n_iter_),
        "w_init": np.random.RandomState(0).normal(size=(3, 3)).tolist(),
    }


def main():
    golden = {
        "generator": "bench/baselines/sklearn_golden.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "pca": pca_case(),
        "ica": ica_case(),
    }
    json.dump(golden, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
