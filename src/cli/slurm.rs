//! `disc slurm FILE [--submit] [--array-limit K] [--jobs-per-task M] [--sbatch ARG]... [--out DIR]
//! [--set PATH=VALUE]...`: a Slurm job array that trains a plan.
//!
//! Writes, beside the runs, `<out>/slurm/<name>.plan.ron` (the exact plan the array runs) and
//! `<out>/slurm/<name>.sbatch`, whose array task `i` runs jobs `i·M .. i·M+M−1` one after the other
//! through `disc run PLAN --job J`; with `--submit` it hands the script to `sbatch`. Every path in
//! the script is absolute, so it can be submitted from anywhere on a shared file system.
//!
//! Requeue safety comes from `disc run` itself: a finished job (its `results.json`) is skipped, an
//! interrupted one resumes from its last checkpoint, and a job claimed by a live process elsewhere
//! is left to it. The script asks Slurm to requeue preempted tasks (`--requeue`) and appends to its
//! log. A task exits non-zero when any of its jobs failed, after trying all of them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use disc_compiler::plan::Plan;

use super::check::ColorChoice;

/// Arguments of `disc slurm`.
#[derive(Debug, clap::Args)]
pub struct SlurmArgs {
    /// A `.dis` file to compile, or a plan (`.ron`) written by `disc plan -o`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Submit the script with `sbatch` after writing it.
    #[arg(long)]
    pub submit: bool,
    /// At most this many array tasks run at once (`--array=0-N%K`).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    pub array_limit: Option<u64>,
    /// Jobs of the plan per array task, run one after the other.
    #[arg(long, value_name = "M", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs_per_task: u64,
    /// An extra `#SBATCH` option, e.g. `--sbatch=--partition=gpu --sbatch=--time=02:00:00` (repeatable).
    #[arg(long = "sbatch", value_name = "ARG", allow_hyphen_values = true)]
    pub sbatch: Vec<String>,
    /// The results root; each job writes `<out>/<index:05>-<hash>/`.
    #[arg(long, value_name = "DIR", default_value = "runs")]
    pub out: PathBuf,
    /// `cpu`, `cuda` or `auto`, passed to `disc run` in each task.
    #[arg(long, value_name = "DEVICE", default_value = "auto")]
    pub device: String,
    /// Override a parameter of every experiment, as `disc run --set` does (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// When to use colours in diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Quotes `text` for a POSIX shell.
fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:%,+@".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// What the script needs to know.
pub struct Script<'a> {
    pub name: &'a str,
    pub disc: &'a Path,
    pub plan: &'a Path,
    pub out: &'a Path,
    pub log_dir: &'a Path,
    pub device: &'a str,
    pub jobs: u64,
    pub jobs_per_task: u64,
    pub array_limit: Option<u64>,
    pub sbatch: &'a [String],
}

impl Script<'_> {
    /// Array tasks needed: ⌈jobs / jobs_per_task⌉.
    pub fn tasks(&self) -> u64 {
        self.jobs.div_ceil(self.jobs_per_task.max(1))
    }

    /// The sbatch script.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let last_task = self.tasks().saturating_sub(1);
        let limit = self
            .array_limit
            .map_or_else(String::new, |k| format!("%{k}"));
        let log = self.log_dir.join(format!("{}_%A_%a.out", self.name));
        let _ = writeln!(s, "#!/bin/bash");
        let _ = writeln!(
            s,
            "# Written by `disc slurm`: trains {} jobs of {} in {} array tasks of up to {} jobs.",
            self.jobs,
            self.plan.display(),
            self.tasks(),
            self.jobs_per_task
        );
        let _ = writeln!(
            s,
            "# Safe to requeue or resubmit: finished jobs are skipped, interrupted ones resume from their checkpoints."
        );
        let _ = writeln!(
            s,
            "#SBATCH --job-name={}",
            shell_quote(&format!("disc-{}", self.name))
        );
        let _ = writeln!(s, "#SBATCH --array=0-{last_task}{limit}");
        let _ = writeln!(s, "#SBATCH --output={}", log.display());
        let _ = writeln!(s, "#SBATCH --open-mode=append");
        let _ = writeln!(s, "#SBATCH --requeue");
        for arg in self.sbatch {
            let _ = writeln!(s, "#SBATCH {arg}");
        }
        let _ = writeln!(s, "set -u");
        let _ = writeln!(s, "DISC={}", shell_quote(&self.disc.display().to_string()));
        let _ = writeln!(s, "PLAN={}", shell_quote(&self.plan.display().to_string()));
        let _ = writeln!(s, "OUT={}", shell_quote(&self.out.display().to_string()));
        let _ = writeln!(s, "JOBS={}", self.jobs);
        let _ = writeln!(s, "PER_TASK={}", self.jobs_per_task);
        let _ = writeln!(
            s,
            "TASK=${{SLURM_ARRAY_TASK_ID:?this script runs as a Slurm array task}}"
        );
        let _ = writeln!(s, "FIRST=$(( TASK * PER_TASK ))");
        let _ = writeln!(s, "LAST=$(( FIRST + PER_TASK - 1 ))");
        let _ = writeln!(s, "if (( LAST >= JOBS )); then LAST=$(( JOBS - 1 )); fi");
        let _ = writeln!(
            s,
            "echo \"task $TASK on $(hostname): jobs $FIRST to $LAST (restart ${{SLURM_RESTART_COUNT:-0}})\""
        );
        let _ = writeln!(s, "status=0");
        let _ = writeln!(s, "for (( job = FIRST; job <= LAST; job++ )); do");
        let _ = writeln!(
            s,
            "  \"$DISC\" run \"$PLAN\" --job \"$job\" --out \"$OUT\" --device {} --color never || status=1",
            shell_quote(self.device)
        );
        let _ = writeln!(s, "done");
        let _ = writeln!(s, "exit $status");
        s
    }
}

/// A name for the study's files: the source file's stem.
fn study_name(file: &Path) -> String {
    let stem = file
        .file_stem()
        .map_or_else(|| "study".to_string(), |s| s.to_string_lossy().into_owned());
    stem.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs `disc slurm`.
pub fn run(args: SlurmArgs) -> ExitCode {
    let plan: Plan = match super::run::load_plan(&args.file, args.color, &args.set) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    if plan.jobs.is_empty() {
        eprintln!("error: the plan has no jobs");
        return ExitCode::from(1);
    }
    if let Some((position, job)) = plan
        .jobs
        .iter()
        .enumerate()
        .find(|(position, job)| u64::try_from(*position).ok() != Some(job.index))
    {
        eprintln!(
            "error: job {} is at position {position} of the plan; `disc slurm` needs a whole plan with indices 0, 1, 2, ...",
            job.index
        );
        return ExitCode::from(2);
    }
    let name = study_name(&args.file);
    let log_dir = args.out.join("slurm");
    if let Err(e) = std::fs::create_dir_all(&log_dir) {
        eprintln!("error: cannot create `{}`: {e}", log_dir.display());
        return ExitCode::from(2);
    }
    let absolute = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let out = absolute(&args.out);
    let log_dir = absolute(&log_dir);
    let plan_path = log_dir.join(format!("{name}.plan.ron"));
    let script_path = log_dir.join(format!("{name}.sbatch"));
    let disc = match std::env::current_exe() {
        Ok(path) => absolute(&path),
        Err(e) => {
            eprintln!("error: cannot find this `disc` executable's path: {e}");
            return ExitCode::from(2);
        }
    };
    let written = super::plan::write_plan_file(&plan_path, &plan, &plan.jobs);
    if let Err(message) = written.and_then(|()| super::run::record_plan(&args.out, &plan)) {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    let script = Script {
        name: &name,
        disc: &disc,
        plan: &plan_path,
        out: &out,
        log_dir: &log_dir,
        device: &args.device,
        jobs: u64::try_from(plan.jobs.len()).unwrap_or(u64::MAX),
        jobs_per_task: args.jobs_per_task,
        array_limit: args.array_limit,
        sbatch: &args.sbatch,
    };
    if let Err(e) = super::plan::write_atomically(&script_path, &script.render()) {
        eprintln!("error: cannot write `{}`: {e}", script_path.display());
        return ExitCode::from(2);
    }
    eprintln!(
        "wrote {} ({} jobs in {} array tasks) and {}",
        script_path.display(),
        script.jobs,
        script.tasks(),
        plan_path.display()
    );
    if !args.submit {
        eprintln!("submit it with `sbatch {}`", script_path.display());
        return ExitCode::SUCCESS;
    }
    match Command::new("sbatch").arg(&script_path).output() {
        Ok(output) if output.status.success() => {
            print!("{}", String::from_utf8_lossy(&output.stdout));
            ExitCode::SUCCESS
        }
        Ok(output) => {
            eprintln!(
                "error: sbatch failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: cannot start `sbatch`: {e} (is Slurm installed on this machine?)");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_plain_words_and_escapes_the_rest() {
        assert_eq!(shell_quote("/a/b-c_d.ron"), "/a/b-c_d.ron");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn tasks_cover_every_job_once() {
        let script = |jobs, per| Script {
            name: "s",
            disc: Path::new("/bin/disc"),
            plan: Path::new("/r/slurm/s.plan.ron"),
            out: Path::new("/r"),
            log_dir: Path::new("/r/slurm"),
            device: "cpu",
            jobs,
            jobs_per_task: per,
            array_limit: Some(4),
            sbatch: &[],
        };
        assert_eq!(script(10, 3).tasks(), 4);
        assert_eq!(script(9, 3).tasks(), 3);
        assert_eq!(script(1, 5).tasks(), 1);
        let text = script(10, 3).render();
        assert!(text.contains("#SBATCH --array=0-3%4"), "{text}");
        assert!(
            text.contains("PER_TASK=3") && text.contains("JOBS=10"),
            "{text}"
        );
        assert!(text.starts_with("#!/bin/bash\n"), "{text}");
    }
}
