"""Reference values of disentanglement_lib's metric unit tests (§3.10), for metrics/tests/reference_cases.rs.

Run with the benchmark's virtual environment (see run.sh): numpy 2.4.6, scipy 1.17.1, scikit-learn 1.9.1,
gin-config 0.4.0, disentanglement-lib 1.5. Each case is the reference test's own setup (dataset, seed 0,
representation, arguments); the printed numbers are pasted into the Rust tests.
"""
import sys

import numpy as np
import gin

sys.modules["gin.tf"] = gin

from disentanglement_lib.data.ground_truth import dummy_data  # noqa: E402
from disentanglement_lib.evaluation.metrics import (  # noqa: E402
    beta_vae, dci, factor_vae, irs, mig, modularity_explicitness, sap_score)


def identity(x):
    return np.array(x, dtype=np.float64)


def zeros(x):
    return np.zeros_like(x, dtype=np.float64)


def duplicated(x):
    return np.hstack([np.array(x, dtype=np.float64), np.array(x, dtype=np.float64)])


def make_shuffled():
    rs = np.random.RandomState(0)

    def shuffled(x):
        code = np.array(x, dtype=np.float64)
        for i in range(code.shape[0]):
            code[i, :] = rs.permutation(code[i, :])
        return code
    return shuffled


def identity_discretizer(target, num_bins):
    del num_bins
    return target


def bind(identity_bins):
    gin.clear_config()
    if identity_bins:
        gin.bind_parameter("discretizer.discretizer_fn", identity_discretizer)
        gin.bind_parameter("discretizer.num_bins", 10)
    else:
        gin.parse_config(["discretizer.discretizer_fn = @histogram_discretizer", "discretizer.num_bins = 20"])


def case(name, fn):
    print(name, {k: float(v) for k, v in fn(np.random.RandomState(0)).items()})


data = dummy_data.IdentityObservationsData()
case("beta_vae identity", lambda rs: beta_vae.compute_beta_vae_sklearn(data, identity, rs, None, 5, 2000, 2000))
gin.clear_config()
gin.bind_parameter("prune_dims.threshold", 0.0)
case("factor_vae identity", lambda rs: factor_vae.compute_factor_vae(data, identity, rs, None, 5, 3000, 2000, 2500))
case("factor_vae zeros", lambda rs: factor_vae.compute_factor_vae(data, zeros, rs, None, 5, 3000, 2000, 2500))
bind(True)
case("mig identity", lambda rs: mig.compute_mig(data, identity, rs, None, 3000))
case("mig zeros", lambda rs: mig.compute_mig(data, zeros, rs, None, 3000))
case("mig duplicated", lambda rs: mig.compute_mig(data, duplicated, rs, None, 3000))
case("sap identity", lambda rs: sap_score.compute_sap(data, identity, rs, None, 3000, 3000, continuous_factors=True))
case("sap zeros", lambda rs: sap_score.compute_sap(data, zeros, rs, None, 3000, 3000, continuous_factors=True))
case("sap duplicated",
     lambda rs: sap_score.compute_sap(data, duplicated, rs, None, 3000, 3000, continuous_factors=True))
case("irs identity", lambda rs: irs.compute_irs(data, identity, rs, None, 0.99, 3000, 3000))
case("irs zeros", lambda rs: irs.compute_irs(data, zeros, rs, None, 0.99, 3000, 3000))
case("dci identity", lambda rs: dci.compute_dci(data, identity, rs, None, 1000, 1000))
case("dci shuffled", lambda rs: dci.compute_dci(data, make_shuffled(), rs, None, 1000, 1000))
case("dci duplicated", lambda rs: dci.compute_dci(data, duplicated, rs, None, 1000, 1000))
case("modexp identity",
     lambda rs: modularity_explicitness.compute_modularity_explicitness(data, identity, rs, None, 3000, 3000))
case("modexp shuffled", lambda rs: modularity_explicitness.compute_modularity_explicitness(
    data, make_shuffled(), rs, None, 20000, 20000))
case("modexp duplicated",
     lambda rs: modularity_explicitness.compute_modularity_explicitness(data, duplicated, rs, None, 3000, 3000))
