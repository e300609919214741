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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceRequest {
    /// The CPU (burn `flex`).
    Cpu,
    /// NVIDIA GPUs through burn-cuda, by ordinal (never empty); needs the `cuda` feature and the
    /// driver. Study workers take them in turn: worker i trains on `ordinals[i % len]`.
    Cuda(Vec<usize>),
    /// CUDA device 0 when compiled in and a driver is present, else the CPU.
    Auto,
}

impl DeviceRequest {
    /// Parses `cpu`, `auto`, `cuda` (device 0), `cuda:N` or `cuda:N,M,…` (case-insensitive).
    pub fn parse(text: &str) -> Result<Self, RuntimeError> {
        let lower = text.to_ascii_lowercase();
        let refuse = |reason: String| RuntimeError::Device {
            requested: text.to_string(),
            reason,
        };
        match lower.as_str() {
            "cpu" => return Ok(Self::Cpu),
            "cuda" | "gpu" => return Ok(Self::Cuda(vec![0])),
            "auto" => return Ok(Self::Auto),
            _ => {}
        }
        let Some(list) = lower
            .strip_prefix("cuda:")
            .or_else(|| lower.strip_prefix("gpu:"))
        else {
            return Err(refuse(
                "expected `cpu`, `cuda`, `cuda:N` (GPU N), `cuda:0,1,…` (study workers take the GPUs in turn) or `auto`".to_string(),
            ));
        };
        let mut ordinals = Vec::new();
        for part in list.split(',') {
            let ordinal: usize = part.trim().parse().map_err(|_| {
                refuse(format!(
                    "`{part}` is not a GPU number; write e.g. `cuda:1` or `cuda:0,1`"
                ))
            })?;
            if ordinals.contains(&ordinal) {
                return Err(refuse(format!("GPU {ordinal} is listed twice")));
            }
            ordinals.push(ordinal);
        }
        Ok(Self::Cuda(ordinals))
    }
}

/// The device chosen after probing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceChoice {
    /// Train on the CPU.
    Cpu,
    /// Train on these CUDA devices (never empty), one per study worker in turn.
    Cuda(Vec<usize>),
}

impl DeviceChoice {
    /// The CUDA device study worker `worker` trains on, or `None` on the CPU.
    pub fn ordinal_for(&self, worker: usize) -> Option<usize> {
        match self {
            Self::Cpu => None,
            Self::Cuda(ordinals) => ordinals.get(worker % ordinals.len().max(1)).copied(),
        }
    }

    /// The name recorded in a run's summary for study worker `worker`: `cpu` or `cuda:N`.
    pub fn name_for(&self, worker: usize) -> String {
        match self.ordinal_for(worker) {
            None => "cpu".to_string(),
            Some(ordinal) => format!("cuda:{ordinal}"),
        }
    }

    /// The whole choice as the user would write it: `cpu`, `cuda:0` or `cuda:0,1`.
    pub fn describe(&self) -> String {
        match self {
            Self::Cpu => "cpu".to_string(),
            Self::Cuda(ordinals) => format!(
                "cuda:{}",
                ordinals
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
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
        DeviceRequest::Auto if CUDA_COMPILED && cuda_driver_present() => {
            Ok(DeviceChoice::Cuda(vec![0]))
        }
        DeviceRequest::Auto => Ok(DeviceChoice::Cpu),
        DeviceRequest::Cuda(_) if !CUDA_COMPILED => Err(RuntimeError::Device {
            requested: "cuda".to_string(),
            reason: "this `disc` was built without CUDA support; rebuild with `cargo build --release --features cuda`".to_string(),
        }),
        DeviceRequest::Cuda(_) if !cuda_driver_present() => Err(RuntimeError::Device {
            requested: "cuda".to_string(),
            reason: "no NVIDIA driver library (libcuda.so.1) was found; install the driver or use `--device cpu`".to_string(),
        }),
        DeviceRequest::Cuda(ordinals) => Ok(DeviceChoice::Cuda(ordinals)),
    }
}

/// Trains `job` on the chosen device, as study worker `worker` (which picks its GPU). CUDA runs
/// inside `catch_unwind`, so a driver or runtime failure inside burn-cuda (a GPU number the
/// machine lacks included) becomes a [`RuntimeError::Device`]; the caller silences the panic
/// hook for CUDA runs ([`quiet_panics`]).
pub fn run_job_on(
    choice: &DeviceChoice,
    worker: usize,
    job: &Job,
    options: &RunOptions,
) -> Result<JobOutcome, RuntimeError> {
    match choice.ordinal_for(worker) {
        None => disc_runtime::train::run_job::<disc_runtime::device::CpuBackend>(
            job,
            &Default::default(),
            options,
        ),
        #[cfg(feature = "cuda")]
        Some(ordinal) => {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let device = disc_runtime::device::cuda_device(ordinal);
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
                    requested: format!("cuda:{ordinal}"),
                    reason,
                })
            })
        }
        #[cfg(not(feature = "cuda"))]
        Some(ordinal) => Err(RuntimeError::Device {
            requested: format!("cuda:{ordinal}"),
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
pub fn quiet_panics(choice: &DeviceChoice) -> QuietPanics {
    if *choice == DeviceChoice::Cpu {
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
        assert_eq!(
            DeviceRequest::parse("cuda").unwrap(),
            DeviceRequest::Cuda(vec![0])
        );
        assert_eq!(
            DeviceRequest::parse("CUDA:1").unwrap(),
            DeviceRequest::Cuda(vec![1])
        );
        assert_eq!(
            DeviceRequest::parse("cuda:2, 0").unwrap(),
            DeviceRequest::Cuda(vec![2, 0])
        );
        for bad in ["cuda:", "cuda:x", "cuda:-1", "cuda:0,0"] {
            assert!(DeviceRequest::parse(bad).is_err(), "{bad}");
        }
        let error = DeviceRequest::parse("cuda:0,0").unwrap_err().to_string();
        assert!(error.contains("listed twice"), "{error}");
    }

    #[test]
    fn study_workers_take_the_gpus_in_turn() {
        let gpus = DeviceChoice::Cuda(vec![2, 0]);
        let names: Vec<String> = (0..5).map(|worker| gpus.name_for(worker)).collect();
        assert_eq!(names, ["cuda:2", "cuda:0", "cuda:2", "cuda:0", "cuda:2"]);
        assert_eq!(gpus.describe(), "cuda:2,0");
        assert_eq!(DeviceChoice::Cpu.name_for(3), "cpu");
        assert_eq!(DeviceChoice::Cpu.ordinal_for(0), None);
    }

    #[test]
    fn cpu_is_always_available_and_auto_never_fails() {
        assert_eq!(choose(DeviceRequest::Cpu).unwrap(), DeviceChoice::Cpu);
        assert!(choose(DeviceRequest::Auto).is_ok());
        if !CUDA_COMPILED {
            let error = choose(DeviceRequest::Cuda(vec![0]))
                .unwrap_err()
                .to_string();
            assert!(error.contains("without CUDA"), "{error}");
        }
    }
}
