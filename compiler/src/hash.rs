//! Stable job hash (placeholder written by FE-CORE so the crate compiles; FE-INFRA owns this file).

use crate::plan::Job;

/// 16 hex digits of FNV-1a over the job's RON, ignoring `index` and `hash`.
pub fn job_hash(job: &Job) -> String {
    let mut j = job.clone();
    j.index = 0;
    j.hash = String::new();
    let text = ron::to_string(&j).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}
