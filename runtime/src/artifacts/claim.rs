//! Claiming a run directory: an OS file lock on `<run>/lock`, so two workers (threads, processes
//! or Slurm tasks on one shared file system) never train the same job at once.
//!
//! The lock is an advisory `flock`-style lock on an open file (std's `File::try_lock`): the kernel
//! releases it when the holder's file is closed, including when its process is killed, so a crashed
//! worker never leaves a job claimed. The `lock` file itself stays behind and holds nothing; its
//! presence means nothing, only a *held* lock does. This module must not train or evaluate.

use std::fs::{self, File, OpenOptions, TryLockError};

use super::error::ArtifactsError;
use super::layout::RunDir;

/// `failed.json`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Failure {
    reason: String,
}

/// A held claim on a run directory; dropping it releases the lock.
#[derive(Debug)]
pub struct RunClaim {
    // INVARIANT: the lock lives as long as this open file.
    _file: File,
}

impl RunDir {
    /// `lock`: the file whose lock claims this directory.
    pub fn lock_path(&self) -> std::path::PathBuf {
        self.root().join("lock")
    }

    /// Whether the job finished: `results.json`, the last file a finished run writes, exists.
    pub fn is_finished(&self) -> bool {
        self.results_path().is_file()
    }

    /// Claims this directory (creating it if needed): `Some` when this caller now holds the lock,
    /// `None` when another worker holds it.
    pub fn try_claim(&self) -> Result<Option<RunClaim>, ArtifactsError> {
        fs::create_dir_all(self.root())
            .map_err(|source| ArtifactsError::io("create the directory", self.root(), source))?;
        let path = self.lock_path();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| ArtifactsError::io("open", &path, source))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(RunClaim { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(source)) => Err(ArtifactsError::io("lock", &path, source)),
        }
    }

    /// `failed.json`: `{"reason": ...}` of the last failed attempt; removed when a worker claims the
    /// job again.
    pub fn failure_path(&self) -> std::path::PathBuf {
        self.root().join("failed.json")
    }

    /// Records why the last attempt failed (for `disc results`).
    pub fn write_failure(&self, reason: &str) -> Result<(), ArtifactsError> {
        let failure = Failure {
            reason: reason.to_string(),
        };
        self.write_json(&self.failure_path(), &failure)
    }

    /// Forgets the last failure (a new attempt starts).
    pub fn clear_failure(&self) -> Result<(), ArtifactsError> {
        let path = self.failure_path();
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(ArtifactsError::io("remove", &path, source)),
        }
    }

    /// The reason of the last failed attempt, if one is recorded and readable.
    pub fn read_failure(&self) -> Option<String> {
        let text = fs::read_to_string(self.failure_path()).ok()?;
        serde_json::from_str::<Failure>(&text)
            .ok()
            .map(|f| f.reason)
    }

    /// Whether another worker holds this directory's claim right now (for status reports). Probes
    /// with a shared lock, released at once; a directory without a `lock` file is not claimed.
    pub fn is_claimed(&self) -> bool {
        let Ok(file) = File::open(self.lock_path()) else {
            return false;
        };
        matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_excludes_others_until_dropped() {
        let out = tempfile::tempdir().expect("temp dir");
        let run = RunDir::new(out.path(), 1, "cafe");
        assert!(!run.is_claimed());
        let first = run.try_claim().expect("claim").expect("free");
        // A second open file description (as another process would have) cannot claim it.
        assert!(run.try_claim().expect("claim").is_none());
        assert!(run.is_claimed());
        drop(first);
        assert!(!run.is_claimed());
        assert!(run.try_claim().expect("claim").is_some());
        assert!(!run.is_finished());
        assert_eq!(run.read_failure(), None);
        run.write_failure("step 3: loss term `kl` is NaN")
            .expect("write");
        assert_eq!(
            run.read_failure().as_deref(),
            Some("step 3: loss term `kl` is NaN")
        );
        run.clear_failure().expect("clear");
        run.clear_failure().expect("clearing twice is fine");
        assert_eq!(run.read_failure(), None);
    }
}
