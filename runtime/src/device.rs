//! The training backends this runtime is built with. Which one a run uses is the binary's choice
//! (src/cli/device.rs): this module only names them, so that the rest of the runtime stays generic
//! over `B: AutodiffBackend`.

/// The CPU training backend: burn `flex` with autodiff.
pub type CpuBackend = burn::backend::Autodiff<burn::backend::Flex>;

/// The CUDA training backend (only with the `cuda` feature).
#[cfg(feature = "cuda")]
pub type CudaBackend = burn::backend::Autodiff<burn::backend::Cuda>;

/// Whether this build has burn-cuda compiled in.
pub const CUDA_COMPILED: bool = cfg!(feature = "cuda");

/// CUDA device `index` (only with the `cuda` feature). Creating it does not touch the driver;
/// burn-cuda initialises it, and may panic, on first use.
#[cfg(feature = "cuda")]
pub fn cuda_device(index: usize) -> burn::backend::cuda::CudaDevice {
    burn::backend::cuda::CudaDevice::new(index)
}
