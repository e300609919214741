//! End-to-end tests of the training loop on the CPU: reproducibility, resume, NaN stop, the model
//! family's terms, the reference architecture's shapes, and the outputs after training.
//!
//! Jobs are built by hand here (the runtime's input is the plan, not source text), with small
//! dense networks on procedural dSprites so that each test trains in seconds.

use std::collections::BTreeMap;
use std::path::Path;

use burn::backend::Flex;
use disc_compiler::plan::*;
use disc_data::RandomState;
use disc_runtime::RuntimeError;
use disc_runtime::artifacts::{RunDir, read_loss_log};
use disc_runtime::device::CpuBackend;
use disc_runtime::model::{Vae, images_to_tensor};
use disc_runtime::train::{RunOptions, Silent, run_job};

fn shape_after(layer: &Layer, input: &[u32]) -> Vec<u32> {
    let same = |size: u32, stride: u32| size.div_ceil(stride);
    match (layer, input) {
        (
            Layer::Conv2d {
                filters, stride, ..
            },
            [h, w, _],
        ) => vec![same(*h, *stride), same(*w, *stride), *filters],
        (
            Layer::ConvTranspose2d {
                filters, stride, ..
            },
            [h, w, _],
        ) => vec![h * stride, w * stride, *filters],
        (Layer::Dense { units }, _) | (Layer::GaussianHead { units }, _) => vec![*units],
        (Layer::Flatten, dims) => vec![dims.iter().product()],
        (Layer::Reshape { shape }, _) => shape.clone(),
        (Layer::Activation(_), dims) => dims.to_vec(),
        (layer, dims) => panic!("test network: {layer:?} on {dims:?}"),
    }
}

fn network(input: Vec<u32>, layers: Vec<Layer>) -> Network {
    let mut shape = input.clone();
    let mut specs = Vec::new();
    for layer in layers {
        let output = shape_after(&layer, &shape);
        specs.push(LayerSpec {
            layer,
            input: shape.clone(),
            output: output.clone(),
        });
        shape = output;
    }
    Network {
        input,
        layers: specs,
        output: shape,
        parameters: 0,
    }
}

fn relu() -> Layer {
    Layer::Activation(Activation::Relu)
}

fn small_vae(latents: u32) -> VaeSpec {
    VaeSpec {
        latent_prefix: "z".to_string(),
        latents,
        encoder: network(
            vec![64, 64, 1],
            vec![
                Layer::Conv2d {
                    filters: 4,
                    kernel: 4,
                    stride: 4,
                    padding: Padding::Same,
                },
                relu(),
                Layer::Flatten,
                Layer::Dense { units: 32 },
                relu(),
                Layer::GaussianHead { units: latents },
            ],
        ),
        decoder: network(
            vec![latents],
            vec![
                Layer::Dense { units: 32 },
                relu(),
                Layer::Dense { units: 16 * 16 * 4 },
                Layer::Reshape {
                    shape: vec![16, 16, 4],
                },
                Layer::ConvTranspose2d {
                    filters: 1,
                    kernel: 4,
                    stride: 4,
                    padding: Padding::Same,
                },
            ],
        ),
        reconstruction: Reconstruction::Bernoulli {
            activation: OutputActivation::Logits,
        },
    }
}

fn adam(lr: f64) -> Optimizer {
    Optimizer::Adam {
        lr,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
    }
}

fn job(objective: Vec<LossTerm>, steps: u64, lr: f64) -> Job {
    let mut job = Job {
        index: 3,
        hash: "0123456789abcdef".into(),
        experiment: "test".into(),
        swept: BTreeMap::new(),
        dataset: DatasetSpec {
            name: "dsprites_full".into(),
            kind: DatasetKind::Dsprites,
            source: DataSource::Procedural,
            factors: [
                ("shape", 3),
                ("scale", 6),
                ("orientation", 40),
                ("posX", 32),
                ("posY", 32),
            ]
            .iter()
            .map(|(name, size)| FactorSpec {
                name: name.to_string(),
                size: *size,
            })
            .collect(),
            observation_shape: [64, 64, 1],
            complete_grid: true,
        },
        model: ModelSpec::Vae(small_vae(3)),
        objective,
        train: TrainSpec {
            steps,
            batch_size: 8,
            optimizer: adam(lr),
            schedule: LrSchedule::Constant,
            seed: 0,
            checkpoint_every: 2,
            log_every: 1,
        },
        players: vec![],
        evaluate: EvalSpec {
            representations: vec![Representation::Mean],
            metrics: vec![],
            seed: 0,
            repeat_seeds: Vec::new(),
            visuals: Visuals {
                reconstructions: 0,
                samples: 0,
                traversal_steps: 0,
                traversal_limit: 2.0,
            },
        },
    };
    // The compiler's players for this model and objective (the runtime applies no defaults).
    job.players = disc_compiler::players::players(&job.model, &job.objective, &job.train);
    job
}

fn term(coefficient: f64, term: Term) -> LossTerm {
    LossTerm { coefficient, term }
}

fn beta_vae(beta: f64) -> Vec<LossTerm> {
    vec![term(1.0, Term::Reconstruction), term(beta, Term::Kl)]
}

fn options(out: &Path) -> RunOptions {
    RunOptions {
        out: out.to_path_buf(),
        device_name: "cpu".into(),
        observer: std::sync::Arc::new(Silent),
        stop_after: None,
        evaluate: false,
    }
}

fn losses(out: &Path, job: &Job) -> Vec<(u64, f64)> {
    let run = RunDir::for_job(out, job);
    read_loss_log(&run.losses_path())
        .unwrap()
        .iter()
        .map(|r| (r.step, r.loss))
        .collect()
}

/// The exported final weights (checkpoint records also hold burn's random parameter ids, so the
/// weights are compared, not the record bytes).
fn final_model(out: &Path, job: &Job) -> Vec<disc_runtime::artifacts::NamedTensor> {
    let run = RunDir::for_job(out, job);
    disc_runtime::artifacts::decode_safetensors(&std::fs::read(run.model_path()).unwrap())
        .unwrap()
        .0
}

#[test]
fn same_seed_gives_the_same_losses_and_loss_decreases() {
    let job = job(beta_vae(1.0), 6, 1e-3);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let outcome = run_job::<CpuBackend>(&job, &Default::default(), &options(a.path())).unwrap();
    assert!(outcome.finished && outcome.steps == 6 && outcome.resumed_from.is_none());
    run_job::<CpuBackend>(&job, &Default::default(), &options(b.path())).unwrap();
    let (la, lb) = (losses(a.path(), &job), losses(b.path(), &job));
    assert_eq!(la.len(), 6);
    assert_eq!(la, lb, "same seed, same losses");
    assert!(
        la[5].1 < la[0].1,
        "the objective falls over 6 Adam steps: {la:?}"
    );
    assert!(
        final_model(a.path(), &job) == final_model(b.path(), &job),
        "same seed, same weights"
    );
    // A different seed draws other images and weights.
    let mut other = job.clone();
    other.train.seed = 1;
    let c = tempfile::tempdir().unwrap();
    run_job::<CpuBackend>(&other, &Default::default(), &options(c.path())).unwrap();
    assert_ne!(losses(c.path(), &other), la);
    // The final weights are exported, and the checkpoints are pruned to the newest two.
    let run = RunDir::for_job(a.path(), &job);
    assert!(run.model_path().exists() && run.results_path().exists() && run.job_path().exists());
    let steps: Vec<u64> = run.checkpoints().unwrap().iter().map(|c| c.step).collect();
    assert_eq!(steps, vec![4, 6]);
}

#[test]
fn resumed_run_ends_with_the_same_weights() {
    let job = job(beta_vae(4.0), 6, 1e-3);
    let (whole, parts) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run_job::<CpuBackend>(&job, &Default::default(), &options(whole.path())).unwrap();
    // Stop after 3 steps (a checkpoint is written where it stops), then run again: it resumes.
    let mut first = options(parts.path());
    first.stop_after = Some(3);
    let stopped = run_job::<CpuBackend>(&job, &Default::default(), &first).unwrap();
    assert!(!stopped.finished && stopped.steps == 3);
    assert!(!RunDir::for_job(parts.path(), &job).model_path().exists());
    let resumed = run_job::<CpuBackend>(&job, &Default::default(), &options(parts.path())).unwrap();
    assert_eq!(resumed.resumed_from, Some(3));
    assert!(resumed.finished);
    assert_eq!(
        final_model(whole.path(), &job),
        final_model(parts.path(), &job)
    );
    assert_eq!(
        losses(whole.path(), &job),
        losses(parts.path(), &job),
        "no step logged twice or lost"
    );
    // Running a finished job again trains nothing and rewrites the outputs.
    let again = run_job::<CpuBackend>(&job, &Default::default(), &options(parts.path())).unwrap();
    assert_eq!(again.resumed_from, Some(6));
}

#[test]
fn non_finite_loss_stops_with_step_and_term_keeping_the_checkpoint() {
    let job = job(beta_vae(1.0), 40, 1e30);
    let out = tempfile::tempdir().unwrap();
    let error = run_job::<CpuBackend>(&job, &Default::default(), &options(out.path())).unwrap_err();
    let RuntimeError::NonFinite { step, term, value } = &error else {
        panic!("expected a non-finite loss error, got {error}");
    };
    assert!(!value.is_finite());
    assert!(*step >= 1 && *step < 40, "step {step}");
    assert!(!term.is_empty());
    let message = error.to_string();
    assert!(
        message.contains(&format!("step {step}")) && message.contains(term.as_str()),
        "{message}"
    );
    // Every checkpoint written before the failure is intact and older than the failing step.
    for checkpoint in RunDir::for_job(out.path(), &job).checkpoints().unwrap() {
        assert!(checkpoint.step <= *step);
        assert!(checkpoint.directory.join("model.bin").exists());
    }
}

#[test]
fn every_vae_family_objective_trains() {
    let discriminator = network(
        vec![3],
        vec![
            Layer::Dense { units: 16 },
            Layer::Activation(Activation::LeakyRelu { slope: 0.2 }),
            Layer::Dense { units: 2 },
        ],
    );
    let objectives = vec![
        (
            "annealed",
            vec![
                term(1.0, Term::Reconstruction),
                term(
                    10.0,
                    Term::Capacity {
                        c_max: 5.0,
                        iteration_threshold: 10,
                    },
                ),
            ],
        ),
        (
            "tcvae",
            vec![
                term(1.0, Term::Reconstruction),
                term(1.0, Term::Kl),
                term(5.0, Term::TotalCorrelation),
            ],
        ),
        (
            "dip1",
            vec![
                term(1.0, Term::Reconstruction),
                term(1.0, Term::Kl),
                term(
                    1.0,
                    Term::DipCovariance {
                        kind: DipKind::I,
                        lambda_od: 10.0,
                        lambda_d: 100.0,
                    },
                ),
            ],
        ),
        (
            "dip2",
            vec![
                term(1.0, Term::Reconstruction),
                term(1.0, Term::Kl),
                term(
                    1.0,
                    Term::DipCovariance {
                        kind: DipKind::II,
                        lambda_od: 10.0,
                        lambda_d: 10.0,
                    },
                ),
            ],
        ),
        (
            "factor",
            vec![
                term(1.0, Term::Reconstruction),
                term(1.0, Term::Kl),
                term(
                    10.0,
                    Term::DiscriminatorTc {
                        discriminator,
                        optimizer: Optimizer::Adam {
                            lr: 1e-4,
                            beta1: 0.5,
                            beta2: 0.9,
                            epsilon: 1e-8,
                        },
                    },
                ),
            ],
        ),
    ];
    for (name, objective) in objectives {
        let job = job(objective, 3, 1e-3);
        let out = tempfile::tempdir().unwrap();
        let outcome = run_job::<CpuBackend>(&job, &Default::default(), &options(out.path()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(outcome.finished, "{name}");
        let record = read_loss_log(&RunDir::for_job(out.path(), &job).losses_path()).unwrap();
        assert_eq!(record.len(), 3, "{name}");
        let terms = &record[2].terms;
        assert!(
            terms.contains_key("reconstruction") && terms.contains_key("kl"),
            "{name}: {terms:?}"
        );
        if name == "factor" {
            assert!(
                terms.contains_key("discriminator_tc") && terms.contains_key("discriminator"),
                "{terms:?}"
            );
            // Resume restores the discriminator and its optimizer too.
            let mut longer = job.clone();
            longer.train.steps = 4;
            let again =
                run_job::<CpuBackend>(&longer, &Default::default(), &options(out.path())).unwrap();
            assert_eq!(again.resumed_from, Some(3));
        }
    }
}

#[test]
fn unsupported_jobs_are_refused_by_name() {
    let out = tempfile::tempdir().unwrap();
    // A PCA job whose sample is smaller than its components (a plan the checker would refuse)
    // stops with the fact, naming the fit.
    let mut pca = job(beta_vae(1.0), 2, 1e-3);
    pca.model = ModelSpec::Pca {
        components: 3,
        samples: 2,
    };
    let error = run_job::<CpuBackend>(&pca, &Default::default(), &options(out.path())).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the PCA fit: 3 components need at least as many samples, but the fit has 2"
    );
    // A plan whose players do not fit the family is refused, naming the missing player.
    let mut playerless = job(beta_vae(1.0), 2, 1e-3);
    playerless.players.clear();
    let error =
        run_job::<CpuBackend>(&playerless, &Default::default(), &options(out.path())).unwrap_err();
    assert!(error.to_string().contains("`model` player"), "{error}");
}

/// Reference §2.1/2.2: conv_encoder and deconv_decoder, parameter counts 309 204 and 381 313 (C = 1,
/// D = 10), and the shapes they map between.
#[test]
fn reference_architecture_builds_with_the_reference_parameter_counts() {
    let conv = |filters, kernel| Layer::Conv2d {
        filters,
        kernel,
        stride: 2,
        padding: Padding::Same,
    };
    let deconv = |filters| Layer::ConvTranspose2d {
        filters,
        kernel: 4,
        stride: 2,
        padding: Padding::Same,
    };
    let encoder = network(
        vec![64, 64, 1],
        vec![
            conv(32, 4),
            relu(),
            conv(32, 4),
            relu(),
            conv(64, 2),
            relu(),
            conv(64, 2),
            relu(),
            Layer::Flatten,
            Layer::Dense { units: 256 },
            relu(),
            Layer::GaussianHead { units: 10 },
        ],
    );
    let decoder = network(
        vec![10],
        vec![
            Layer::Dense { units: 256 },
            relu(),
            Layer::Dense { units: 1024 },
            relu(),
            Layer::Reshape {
                shape: vec![4, 4, 64],
            },
            deconv(64),
            relu(),
            deconv(32),
            relu(),
            deconv(32),
            relu(),
            deconv(1),
        ],
    );
    let spec = VaeSpec {
        latent_prefix: "z".to_string(),
        latents: 10,
        encoder,
        decoder,
        reconstruction: Reconstruction::Bernoulli {
            activation: OutputActivation::Logits,
        },
    };
    let device = Default::default();
    let vae = Vae::<Flex>::build(&spec, &mut RandomState::new(0), &device).unwrap();
    use burn::module::Module;
    assert_eq!(vae.encoder.num_params(), 309_204);
    assert_eq!(vae.decoder.num_params(), 381_313);
    let x = images_to_tensor::<Flex>(vec![0.5; 2 * 64 * 64], [2, 64, 64, 1], &device);
    let (mean, log_var) = vae.encode(x).unwrap();
    assert_eq!(mean.dims(), [2, 10]);
    assert_eq!(log_var.dims(), [2, 10]);
    assert_eq!(vae.decode(mean).unwrap().dims(), [2, 1, 64, 64]);
    // Glorot-uniform kernels: every value within √(6/(fan_in+fan_out)); biases zero.
    for (name, _, values) in vae.encoder.named_weights() {
        if name.ends_with("bias") {
            assert!(values.iter().all(|v| *v == 0.0), "{name}");
        } else {
            assert!(values.iter().any(|v| *v != 0.0), "{name}");
        }
    }
}

#[test]
fn flatten_and_reshape_follow_hwc_order() {
    // A 1×2×2 (H, W, C) image whose values are their HWC index: flatten must give 0, 1, 2, 3.
    let spec = network(vec![1, 2, 2], vec![Layer::Flatten]);
    let net = disc_runtime::model::Net::<Flex>::build(
        "t",
        &spec,
        &mut RandomState::new(0),
        &Default::default(),
    )
    .unwrap();
    let x = images_to_tensor::<Flex>(vec![0.0, 1.0, 2.0, 3.0], [1, 1, 2, 2], &Default::default());
    let disc_runtime::model::Value::Vector(flat) =
        net.forward(disc_runtime::model::Value::Image(x)).unwrap()
    else {
        panic!("flatten gives a vector");
    };
    assert_eq!(
        flat.into_data().to_vec::<f32>().unwrap(),
        vec![0.0, 1.0, 2.0, 3.0]
    );
    // Reshape then flatten is the identity.
    let spec = network(
        vec![4],
        vec![
            Layer::Reshape {
                shape: vec![1, 2, 2],
            },
            Layer::Flatten,
        ],
    );
    let net = disc_runtime::model::Net::<Flex>::build(
        "t",
        &spec,
        &mut RandomState::new(0),
        &Default::default(),
    )
    .unwrap();
    let v = burn::tensor::Tensor::<Flex, 2>::from_data(
        burn::tensor::TensorData::new(vec![5.0f32, 6.0, 7.0, 8.0], [1, 4]),
        &Default::default(),
    );
    let disc_runtime::model::Value::Vector(back) =
        net.forward(disc_runtime::model::Value::Vector(v)).unwrap()
    else {
        panic!("a vector");
    };
    assert_eq!(
        back.into_data().to_vec::<f32>().unwrap(),
        vec![5.0, 6.0, 7.0, 8.0]
    );
}

#[test]
fn a_plan_layer_that_disagrees_with_its_shapes_is_an_error() {
    let mut spec = network(vec![8], vec![Layer::Dense { units: 4 }]);
    spec.layers[0].output = vec![5];
    let error = disc_runtime::model::Net::<Flex>::build(
        "encoder",
        &spec,
        &mut RandomState::new(0),
        &Default::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("encoder, layer 0"), "{error}");
}

#[test]
fn evaluation_writes_images_metrics_and_weights() {
    let mut job = job(beta_vae(1.0), 2, 1e-3);
    job.evaluate.metrics = vec![MetricSpec::Mig {
        num_train: 64,
        batch_size: 16,
        num_bins: 10,
    }];
    job.evaluate.representations = vec![Representation::Mean, Representation::Sampled];
    job.evaluate.visuals = Visuals {
        reconstructions: 4,
        samples: 4,
        traversal_steps: 3,
        traversal_limit: 2.0,
    };
    let out = tempfile::tempdir().unwrap();
    let mut opts = options(out.path());
    opts.evaluate = true;
    run_job::<CpuBackend>(&job, &Default::default(), &opts).unwrap();
    let run = RunDir::for_job(out.path(), &job);
    for path in [
        run.reconstructions_path(),
        run.samples_path(),
        run.traversals_path(),
        run.traversal_gif_path("z2"),
        run.metrics_path(),
        run.model_path(),
    ] {
        assert!(path.exists(), "{}", path.display());
    }
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.metrics_path()).unwrap()).unwrap();
    let mig = &metrics["mean"]["mig"]["discrete_mig"];
    assert!(
        mig.as_f64().is_some_and(|v| (0.0..=1.0).contains(&v)),
        "{metrics}"
    );
    assert!(metrics["sampled"]["mig"]["discrete_mig"].is_number());
    let weights =
        disc_runtime::artifacts::decode_safetensors(&std::fs::read(run.model_path()).unwrap())
            .unwrap();
    let kernel = weights
        .0
        .iter()
        .find(|t| t.name == "encoder/conv0/kernel")
        .expect("conv kernel");
    assert_eq!(
        kernel.shape,
        vec![4, 4, 1, 4],
        "TF layout [kh, kw, in, out]"
    );
}
