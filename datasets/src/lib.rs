//! Ground-truth datasets: factor spaces, procedural renderers, loaders, and the numpy-compatible RNG.
