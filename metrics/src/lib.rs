//! Disentanglement metrics on arrays of codes and factors.
