//! Fuzz target: arbitrary text as a RON plan, read as `disc run plan.ron` reads it, then what the
//! runtime does with a plan before training: the version check, each job's hash, and shape inference
//! of every network the jobs name. No input may panic; a plan that parses must write back and read
//! again to the same value.
#![no_main]

use disc_compiler::hash::job_hash;
use disc_compiler::plan::{ModelSpec, Network, PLAN_VERSION, Plan};
use disc_compiler::shape::infer_network;
use libfuzzer_sys::fuzz_target;

fn infer(network: &Network) {
    let layers: Vec<_> = network
        .layers
        .iter()
        .map(|spec| spec.layer.clone())
        .collect();
    let _ = infer_network(&network.input, &layers);
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(plan) = ron::from_str::<Plan>(text) else {
        return;
    };
    let _ = plan.version == PLAN_VERSION;
    for job in &plan.jobs {
        let _ = job_hash(job);
        if let ModelSpec::Vae(spec) = &job.model {
            infer(&spec.encoder);
            infer(&spec.decoder);
        }
    }
    if let Ok(written) = ron::to_string(&plan) {
        let again: Plan = ron::from_str(&written).expect("a written plan reads back");
        assert_eq!(again, plan, "a plan survives writing and reading");
    }
});
