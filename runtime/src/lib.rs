//! The runtime: carries out a Plan's jobs on burn, generic over the backend.
