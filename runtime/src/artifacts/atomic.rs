//! Crash-safe file writing: whole-file atomic replacement and a whole-line JSON-lines loss log.
//!
//! The guarantee: a process killed at any instant (`kill -9`) never leaves a half-written file
//! under a final name. `write_atomic` writes a hidden temporary file in the destination's
//! directory, fsyncs it, renames it over the destination (atomic on POSIX within one file system)
//! and fsyncs the directory so that the rename itself survives a power cut. A kill between creating
//! and renaming the temporary leaves only a hidden `.<name>.<random>.tmp` file, which
//! [`remove_stale_temporaries`] deletes when the run directory is opened again.
//!
//! This module must not know what it writes (no burn, no plan types): bytes and loss records only.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::ArtifactsError;

/// Suffix of the temporary files `write_atomic` creates; files that end in it and start with a
/// dot are ours and safe to delete when no run is writing the directory.
pub const TEMPORARY_SUFFIX: &str = ".tmp";

/// Writes `bytes` to `path` atomically: readers see either the old file or the complete new one.
///
/// The parent directory must exist. On error, the temporary file is removed and `path` is left
/// as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ArtifactsError> {
    let file_name = path
        .file_name()
        .ok_or_else(|| ArtifactsError::NotAFilePath {
            path: path.to_path_buf(),
        })?;
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        // A bare file name lives in the current directory.
        _ => PathBuf::from("."),
    };
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(file_name);
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMPORARY_SUFFIX);
    // Temporary files are created owner-only (0600); results are meant to be read by others too, so
    // ask for the mode an ordinary file gets (0644, narrowed by the umask at creation).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut temporary = builder
        .tempfile_in(&directory)
        .map_err(|source| ArtifactsError::io("create a temporary file in", &directory, source))?;
    temporary
        .write_all(bytes)
        .map_err(|source| ArtifactsError::io("write", temporary.path().to_path_buf(), source))?;
    // The data must be on disk before the rename makes it visible, or a power cut could expose an
    // empty file under the final name.
    temporary
        .as_file()
        .sync_all()
        .map_err(|source| ArtifactsError::io("flush", temporary.path().to_path_buf(), source))?;
    temporary
        .persist(path)
        .map_err(|error| ArtifactsError::io("rename a temporary file onto", path, error.error))?;
    sync_directory(&directory)
}

/// Makes a directory's entries (a rename, a new file) durable.
fn sync_directory(directory: &Path) -> Result<(), ArtifactsError> {
    // Opening a directory read-only and fsyncing it is the POSIX way to persist its entries.
    // Other platforms cannot open directories as files; their renames are durable enough for us.
    if cfg!(unix) {
        File::open(directory)
            .and_then(|handle| handle.sync_all())
            .map_err(|source| ArtifactsError::io("flush the directory", directory, source))?;
    }
    Ok(())
}

/// Deletes the temporaries a killed `write_atomic` left in `directory` (not recursively).
///
/// Call it only when no other process writes into the directory. Returns how many were removed.
pub fn remove_stale_temporaries(directory: &Path) -> Result<usize, ArtifactsError> {
    let entries =
        fs::read_dir(directory).map_err(|source| ArtifactsError::io("list", directory, source))?;
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(|source| ArtifactsError::io("list", directory, source))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_file = entry
            .file_type()
            .map(|kind| kind.is_file())
            .unwrap_or(false);
        if is_file && name.starts_with('.') && name.ends_with(TEMPORARY_SUFFIX) {
            let path = entry.path();
            fs::remove_file(&path).map_err(|source| ArtifactsError::io("remove", &path, source))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// One line of `losses.jsonl`.
///
/// `step` counts the optimizer steps completed when the record was taken (the first record after
/// one update has `step` 1), so a checkpoint taken after step `k` covers every record with
/// `step <= k`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossRecord {
    /// Optimizer steps completed.
    pub step: u64,
    /// The minimised objective: Σ coefficient · term.
    pub loss: f64,
    /// Each term's value before its coefficient, by a stable name (e.g. `reconstruction`, `kl`),
    /// plus any diagnostics the model reports (e.g. `elbo`).
    pub terms: BTreeMap<String, f64>,
    /// The learning rate used for this step.
    pub learning_rate: f64,
    /// Training throughput over the last logging interval.
    pub images_per_second: f64,
    /// Wall time since this process started training, in seconds.
    pub elapsed_seconds: f64,
}

impl LossRecord {
    /// Returns an error naming the first value that is NaN or infinite, if any.
    ///
    /// JSON has no NaN: serde_json would write `null` and the log could no longer be read back.
    pub fn check_finite(&self) -> Result<(), ArtifactsError> {
        let named = [
            ("loss", self.loss),
            ("learning_rate", self.learning_rate),
            ("images_per_second", self.images_per_second),
            ("elapsed_seconds", self.elapsed_seconds),
        ];
        check_all_finite(self.step, named, &self.terms)
    }
}

/// Returns an error naming the first NaN or infinite value among `named` and then `terms`, in that
/// order. The one check behind every record a run writes as JSON (which has no NaN).
pub(crate) fn check_all_finite<const N: usize>(
    step: u64,
    named: [(&str, f64); N],
    terms: &BTreeMap<String, f64>,
) -> Result<(), ArtifactsError> {
    let terms = terms.iter().map(|(name, value)| (name.as_str(), *value));
    for (term, value) in named.into_iter().chain(terms) {
        if !value.is_finite() {
            return Err(ArtifactsError::NonFiniteLoss {
                step,
                term: term.to_string(),
                value,
            });
        }
    }
    Ok(())
}

/// An append-only JSON-lines log of [`LossRecord`]s that only ever appends whole lines.
///
/// Each record is serialised first and written with one `write` call on a file opened in append
/// mode, so a kill can at worst leave a final line without its newline. After a crash the log may
/// also hold records newer than the last checkpoint; [`LossLog::resume`] drops both (the partial
/// line and every record with `step` greater than the checkpoint's), so the resumed run's records
/// follow on with no duplicate steps.
#[derive(Debug)]
pub struct LossLog {
    path: PathBuf,
    file: File,
}

impl LossLog {
    /// Starts a new, empty log at `path`, replacing any old one (a run from step 0).
    pub fn create(path: &Path) -> Result<Self, ArtifactsError> {
        write_atomic(path, b"")?;
        Self::open_append(path)
    }

    /// Reopens the log of a run resumed from the checkpoint taken after `checkpoint_step` steps.
    ///
    /// Keeps the complete records with `step <= checkpoint_step`, in order, and rewrites the file
    /// atomically before appending. A missing file is treated as empty. A complete line that is not
    /// a record is an error (the file was edited or is not ours), not something to drop silently.
    pub fn resume(path: &Path, checkpoint_step: u64) -> Result<Self, ArtifactsError> {
        let kept = match read_loss_log(path) {
            Ok(records) => records,
            Err(ArtifactsError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Vec::new()
            }
            Err(other) => return Err(other),
        };
        let mut text = Vec::new();
        for record in kept.iter().filter(|record| record.step <= checkpoint_step) {
            text.extend_from_slice(&record_line(path, record)?);
        }
        write_atomic(path, &text)?;
        Self::open_append(path)
    }

    fn open_append(path: &Path) -> Result<Self, ArtifactsError> {
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|source| ArtifactsError::io("open for appending", path, source))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record as one line. Refuses records with NaN or infinite values.
    pub fn append(&mut self, record: &LossRecord) -> Result<(), ArtifactsError> {
        record.check_finite()?;
        let line = record_line(&self.path, record)?;
        // One write of the whole line: with O_APPEND the kernel places it at the end in one piece.
        self.file
            .write_all(&line)
            .map_err(|source| ArtifactsError::io("append to", &self.path, source))
    }

    /// Forces appended lines to disk. Call it before writing a checkpoint, so that after a power
    /// cut the log still reaches at least the checkpoint's step.
    pub fn sync(&mut self) -> Result<(), ArtifactsError> {
        self.file
            .sync_data()
            .map_err(|source| ArtifactsError::io("flush", &self.path, source))
    }
}

/// Serialises a record as one JSON line ending in `\n`.
fn record_line(path: &Path, record: &LossRecord) -> Result<Vec<u8>, ArtifactsError> {
    let mut line = serde_json::to_vec(record).map_err(|source| ArtifactsError::Json {
        operation: "serialise",
        path: path.to_path_buf(),
        source,
    })?;
    line.push(b'\n');
    Ok(line)
}

/// Reads every complete record of a loss log, in file order. A final line without its newline
/// (left by a kill in mid-write) is ignored; any other line that does not parse is an error.
pub fn read_loss_log(path: &Path) -> Result<Vec<LossRecord>, ArtifactsError> {
    let mut text = String::new();
    File::open(path)
        .and_then(|mut file| file.read_to_string(&mut text))
        .map_err(|source| ArtifactsError::io("read", path, source))?;
    // Everything after the last newline is an unfinished line.
    let complete = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    let mut records = Vec::new();
    for (line_index, line) in complete.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record = serde_json::from_str(line).map_err(|source| ArtifactsError::LossLogLine {
            path: path.to_path_buf(),
            line: line_index + 1,
            source,
        })?;
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(step: u64) -> LossRecord {
        LossRecord {
            step,
            loss: 100.0 - step as f64,
            terms: BTreeMap::from([
                ("kl".to_string(), 1.5),
                ("reconstruction".to_string(), 98.5),
            ]),
            learning_rate: 1e-4,
            images_per_second: 512.0,
            elapsed_seconds: step as f64,
        }
    }

    fn names_in(directory: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(directory)
            .expect("test directory is readable")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    #[cfg(unix)]
    #[test]
    fn written_files_get_the_mode_of_an_ordinary_file() {
        use std::os::unix::fs::PermissionsExt;
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("metrics.json");
        write_atomic(&path, b"{}").expect("write");
        // A file created the ordinary way gets 0666 narrowed by the umask; ours asks for 0644 narrowed
        // by the same umask, so the two agree on every bit but the write bits for group and others.
        let plain = directory.path().join("plain.json");
        fs::write(&plain, b"{}").expect("plain write");
        let mode_of = |p: &Path| fs::metadata(p).expect("metadata").permissions().mode() & 0o755;
        assert_eq!(mode_of(&path), mode_of(&plain) & 0o644);
    }

    #[test]
    fn write_atomic_replaces_the_file_and_leaves_no_temporary() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("results.json");
        write_atomic(&path, b"first version, longer than the second").expect("first write");
        write_atomic(&path, b"second").expect("second write");
        assert_eq!(fs::read(&path).expect("read back"), b"second");
        assert_eq!(names_in(directory.path()), vec!["results.json".to_string()]);
    }

    #[test]
    fn write_atomic_into_a_missing_directory_fails_and_names_it() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("missing").join("a.json");
        let error = write_atomic(&path, b"x").expect_err("parent does not exist");
        assert!(
            matches!(&error, ArtifactsError::Io { path: at, .. } if at.ends_with("missing")),
            "{error:?}"
        );
        assert!(
            write_atomic(Path::new("/"), b"x").is_err(),
            "`/` names no file"
        );
    }

    #[test]
    fn stale_temporaries_are_removed_and_nothing_else() {
        let directory = tempfile::tempdir().expect("temp dir");
        // What a kill between create and rename leaves behind, next to real files.
        fs::write(
            directory.path().join(".model.safetensors.a1B2c3.tmp"),
            b"half",
        )
        .expect("w");
        fs::write(directory.path().join("model.safetensors"), b"whole").expect("w");
        fs::write(directory.path().join("notes.tmp"), b"user file, not hidden").expect("w");
        assert_eq!(
            remove_stale_temporaries(directory.path()).expect("clean"),
            1
        );
        assert_eq!(
            names_in(directory.path()),
            vec!["model.safetensors", "notes.tmp"]
        );
    }

    #[test]
    fn loss_log_round_trips_whole_lines() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("losses.jsonl");
        let mut log = LossLog::create(&path).expect("create");
        for step in [10, 20, 30] {
            log.append(&record(step)).expect("append");
        }
        log.sync().expect("sync");
        let text = fs::read_to_string(&path).expect("read");
        assert_eq!(text.lines().count(), 3);
        assert!(text.ends_with('\n'));
        assert_eq!(
            read_loss_log(&path).expect("parse"),
            vec![record(10), record(20), record(30)]
        );
    }

    #[test]
    fn resume_drops_records_after_the_checkpoint_and_a_partial_line() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("losses.jsonl");
        let mut log = LossLog::create(&path).expect("create");
        for step in [10, 20, 30, 40] {
            log.append(&record(step)).expect("append");
        }
        drop(log);
        // A kill in mid-write of step 50's line.
        let mut file = OpenOptions::new().append(true).open(&path).expect("open");
        file.write_all(b"{\"step\":50,\"loss\":4")
            .expect("partial line");
        drop(file);

        let mut resumed = LossLog::resume(&path, 20).expect("resume from step 20");
        resumed.append(&record(30)).expect("append after resume");
        let steps: Vec<u64> = read_loss_log(&path)
            .expect("parse")
            .iter()
            .map(|record| record.step)
            .collect();
        assert_eq!(
            steps,
            vec![10, 20, 30],
            "no duplicate steps, no partial line"
        );
        assert_eq!(names_in(directory.path()), vec!["losses.jsonl"]);
    }

    #[test]
    fn resume_without_a_log_starts_an_empty_one() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("losses.jsonl");
        let mut log = LossLog::resume(&path, 100).expect("resume");
        log.append(&record(101)).expect("append");
        assert_eq!(read_loss_log(&path).expect("parse").len(), 1);
    }

    #[test]
    fn a_corrupt_complete_line_is_an_error_with_its_line_number() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("losses.jsonl");
        let good = String::from_utf8(record_line(&path, &record(1)).expect("line")).expect("utf8");
        fs::write(&path, format!("{good}not json\n{good}")).expect("write");
        let error = read_loss_log(&path).expect_err("line 2 is corrupt");
        assert!(
            matches!(error, ArtifactsError::LossLogLine { line: 2, .. }),
            "{error:?}"
        );
        assert!(
            LossLog::resume(&path, 10).is_err(),
            "resume must not silently drop data"
        );
    }

    #[test]
    fn non_finite_losses_are_refused_with_the_term_and_step() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("losses.jsonl");
        let mut log = LossLog::create(&path).expect("create");
        let mut bad = record(7);
        bad.terms.insert("kl".to_string(), f64::NAN);
        let error = log.append(&bad).expect_err("NaN is refused");
        assert!(
            matches!(&error, ArtifactsError::NonFiniteLoss { step: 7, term, .. } if term == "kl"),
            "{error:?}"
        );
        assert_eq!(fs::read(&path).expect("read"), b"", "nothing was written");
    }
}
