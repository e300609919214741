//! Which device trains: parsing `--device`, probing for a usable CUDA driver, and running a job
//! on the chosen backend. This is the binary's business (ARCHITECTURE.md): the runtime is generic
//! over the backend and never installs a panic hook.
//!
//! burn-cuda 0.21 panics (in a worker thread, then on a closed channel in the main thread) when the
//! driver library is missing. `disc run` therefore asks [`cuda_driver_present`] before it touches
//! burn-cuda, and turns every failure into an error message instead of a panic trace.

use std::path::{Path, PathBuf};

use disc_compiler::plan::Job;
use disc_runtime::device::CUDA_COMPILED;
use disc_runtime::error::RuntimeError;
use disc_runtime::train::{JobOutcome, RunOptions};

/// The device the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceRequest {
    /// The CPU (burn `flex`).
    Cpu,
    /// An NVIDIA GPU through burn-cuda; needs the `cuda` feature and the driver.
    Cuda,
    /// CUDA when compiled in and a driver is present, else the CPU.
    Auto,
}

impl DeviceRequest {
    /// Parses `cpu`, `cuda` or `auto` (case-insensitive).
    pub fn parse(text: &str) -> Result<Self, RuntimeError> {
        match text.to_ascii_lowercase().as_str() {
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda),
            "auto" => Ok(Self::Auto),
            other => Err(RuntimeError::Device {
                requested: other.to_string(),
                reason: "expected `cpu`, `cuda` or `auto`".to_string(),
            }),
        }
    }
}

/// The device chosen after probing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    /// Train on the CPU.
    Cpu,
    /// Train on CUDA device 0.
    Cuda,
}

/// Directories where the dynamic loader usually finds `libcuda.so.1`, plus `LD_LIBRARY_PATH`.
fn library_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("LD_LIBRARY_PATH")
        .map(|value| std::env::split_paths(&value).collect())
        .unwrap_or_default();
    for fixed in [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
        "/lib/x86_64-linux-gnu",
        "/lib64",
        "/usr/local/cuda/lib64",
        "/usr/local/cuda/compat",
        "/usr/lib/wsl/lib",
        "/usr/local/nvidia/lib64",
        "/usr/local/nvidia/lib",
    ] {
        dirs.push(PathBuf::from(fixed));
    }
    dirs
}

/// Whether the CUDA driver library can be found. A file probe, not a load: loading would need
/// `unsafe` (the workspace denies it); the binary still guards the backend's initialisation.
pub fn cuda_driver_present() -> bool {
    let names = ["libcuda.so.1", "libcuda.so", "nvcuda.dll"];
    library_dirs()
        .iter()
        .any(|dir| names.iter().any(|name| Path::new(dir).join(name).exists()))
}

/// Resolves a request against what is compiled in and present.
pub fn choose(request: DeviceRequest) -> Result<DeviceChoice, RuntimeError> {
    match request {
        DeviceRequest::Cpu => Ok(DeviceChoice::Cpu),
        DeviceRequest::Auto if CUDA_COMPILED && cuda_driver_present() => Ok(DeviceChoice::Cuda),
        DeviceRequest::Auto => Ok(DeviceChoice::Cpu),
        DeviceRequest::Cuda if !CUDA_COMPILED => Err(RuntimeError::Device {
            requested: "cuda".to_string(),
            reason: "this `disc` was built without CUDA support; rebuild with `cargo build --release --features cuda`".to_string(),
        }),
        DeviceRequest::Cuda if !cuda_driver_present() => Err(RuntimeError::Device {
            requested: "cuda".to_string(),
            reason: "no NVIDIA driver library (libcuda.so.1) was found; install the driver or use `--device cpu`".to_string(),
        }),
        DeviceRequest::Cuda => Ok(DeviceChoice::Cuda),
    }
}

/// Trains `job` on the chosen device. CUDA runs inside `catch_unwind`, so a driver or runtime
/// failure inside burn-cuda becomes a [`RuntimeError::Device`]; the caller silences the panic
/// hook for CUDA runs ([`quiet_panics`]).
pub fn run_job_on(
    choice: DeviceChoice,
    job: &Job,
    options: &RunOptions,
) -> Result<JobOutcome, RuntimeError> {
    match choice {
        DeviceChoice::Cpu => disc_runtime::train::run_job::<disc_runtime::device::CpuBackend>(
            job,
            &Default::default(),
            options,
        ),
        #[cfg(feature = "cuda")]
        DeviceChoice::Cuda => {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let device = disc_runtime::device::cuda_device(0);
                disc_runtime::train::run_job::<disc_runtime::device::CudaBackend>(
                    job, &device, options,
                )
            }));
            outcome.unwrap_or_else(|payload| {
                let reason = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "burn-cuda failed without a message".to_string());
                Err(RuntimeError::Device {
                    requested: "cuda".to_string(),
                    reason,
                })
            })
        }
        #[cfg(not(feature = "cuda"))]
        DeviceChoice::Cuda => Err(RuntimeError::Device {
            requested: "cuda".to_string(),
            reason: "this `disc` was built without CUDA support".to_string(),
        }),
    }
}

/// For a CUDA run, replaces the process's panic hook with a silent one for as long as the guard
/// lives: burn-cuda's panics are caught and reported per job ([`run_job_on`]), and their default
/// trace would only bury that message. Installed once, before the workers start, because the
/// hook is process-wide.
pub struct QuietPanics(Option<PanicHook>);

type PanicHook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

/// The guard of [`QuietPanics`]; on the CPU it changes nothing.
pub fn quiet_panics(choice: DeviceChoice) -> QuietPanics {
    if choice != DeviceChoice::Cuda {
        return QuietPanics(None);
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    QuietPanics(Some(previous))
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        if let Some(previous) = self.0.take() {
            std::panic::set_hook(previous);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_requests_and_rejects_others() {
        assert_eq!(DeviceRequest::parse("CPU").unwrap(), DeviceRequest::Cpu);
        assert_eq!(DeviceRequest::parse("auto").unwrap(), DeviceRequest::Auto);
        let error = DeviceRequest::parse("tpu").unwrap_err().to_string();
        assert!(error.contains("tpu") && error.contains("cpu"), "{error}");
    }

    #[test]
    fn cpu_is_always_available_and_auto_never_fails() {
        assert_eq!(choose(DeviceRequest::Cpu).unwrap(), DeviceChoice::Cpu);
        assert!(choose(DeviceRequest::Auto).is_ok());
        if !CUDA_COMPILED {
            let error = choose(DeviceRequest::Cuda).unwrap_err().to_string();
            assert!(error.contains("without CUDA"), "{error}");
        }
    }
}
