//! Players and structural nodes: the parts of a job that say who minimises what.
//!
//! [`players`] turns a checked model and objective into the plan's [`Player`] list (modules, terms,
//! optimizer, schedule, update order); [`structural_nodes`] turns a latent graph into the local
//! conditional distributions a structural term sums over. Both are pure functions of plan values,
//! so the runtime reads every choice from the plan and applies no defaults. This module must not
//! report diagnostics itself: it returns facts, and `lower` turns them into located errors.

use crate::plan::{
    CodePrior, ConditionalFamily, Cpd, GraphSpec, LossTerm, LrSchedule, ModelSpec, NodeInput,
    Optimizer, Player, StructuralNode, Term, TrainSpec,
};

/// The name a term is logged under, and the name players list it by.
pub fn term_name(term: &Term) -> &'static str {
    match term {
        Term::Reconstruction => "reconstruction",
        Term::Kl => "kl",
        Term::Capacity { .. } => "capacity",
        Term::TotalCorrelation => "total_correlation",
        Term::DiscriminatorTc { .. } => "discriminator_tc",
        Term::DipCovariance { .. } => "dip_penalty",
        Term::Adversarial { .. } => "adversarial",
        Term::MutualInformation { .. } => "mutual_information",
        Term::Structural { .. } => "structural",
    }
}

/// Why a graph cannot become structural nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeError {
    /// A categorical code is an endpoint of an edge; no CPD family models it yet.
    CategoricalCode { code: String },
}

/// The local conditional distributions of a structural term over `graph` (see
/// [`StructuralNode`]): for an InfoGAN one node per continuous code of the graph, whose inputs are
/// the sampled code itself and its parents' sampled codes; for a VAE one node per latent with at
/// least one parent, whose inputs are its parents' latents. A categorical code without edges is
/// left out (its information term already ties ĉ to c); one with edges is refused.
pub fn structural_nodes(
    model: &ModelSpec,
    graph: &GraphSpec,
    family: ConditionalFamily,
) -> Result<Vec<StructuralNode>, NodeError> {
    let index_of = |name: &str, names: &[String]| -> u32 {
        names
            .iter()
            .position(|n| n == name)
            .and_then(|i| u32::try_from(i).ok())
            .unwrap_or(u32::MAX)
    };
    let cpd = |inputs: usize| {
        let inputs = u32::try_from(inputs).unwrap_or(u32::MAX);
        match family {
            ConditionalFamily::LinearGaussian => Cpd::LinearGaussian { inputs },
            ConditionalFamily::NonlinearGaussian { hidden } => {
                Cpd::NonlinearGaussian { inputs, hidden }
            }
        }
    };
    let parent_names = |node: usize| -> Vec<&String> {
        graph
            .parents
            .get(node)
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| graph.nodes.get(*p as usize))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut nodes = Vec::new();
    match model {
        ModelSpec::Vae(vae) => {
            let latent_index = |name: &str| vae.latent_index(name).unwrap_or(u32::MAX);
            for (position, name) in graph.nodes.iter().enumerate() {
                let parents = parent_names(position);
                if parents.is_empty() {
                    continue;
                }
                nodes.push(StructuralNode {
                    name: name.clone(),
                    target: latent_index(name),
                    inputs: parents
                        .iter()
                        .map(|p| NodeInput::Latent(latent_index(p)))
                        .collect(),
                    cpd: cpd(parents.len()),
                });
            }
        }
        ModelSpec::InfoGan(gan) => {
            let names: Vec<String> = gan.codes.iter().map(|c| c.name.clone()).collect();
            let categorical = |name: &str| {
                gan.codes
                    .iter()
                    .any(|c| c.name == name && matches!(c.prior, CodePrior::Categorical { .. }))
            };
            for (position, name) in graph.nodes.iter().enumerate() {
                let parents = parent_names(position);
                let has_children = graph
                    .parents
                    .iter()
                    .any(|ps| ps.iter().any(|p| *p as usize == position));
                if categorical(name) {
                    if !parents.is_empty() || has_children {
                        return Err(NodeError::CategoricalCode { code: name.clone() });
                    }
                    continue;
                }
                if let Some(parent) = parents.iter().find(|p| categorical(p)) {
                    return Err(NodeError::CategoricalCode {
                        code: (*parent).clone(),
                    });
                }
                let mut inputs = vec![NodeInput::SampledCode(index_of(name, &names))];
                inputs.extend(
                    parents
                        .iter()
                        .map(|p| NodeInput::SampledCode(index_of(p, &names))),
                );
                nodes.push(StructuralNode {
                    name: name.clone(),
                    target: index_of(name, &names),
                    cpd: cpd(inputs.len()),
                    inputs,
                });
            }
        }
        ModelSpec::Pca { .. } | ModelSpec::Ica { .. } => {}
    }
    Ok(nodes)
}

/// The schedule of a secondary player (a discriminator or CPD network): the main schedule when it
/// scales the player's own rate, constant when it replaces the rate with fixed values.
fn secondary_schedule(schedule: &LrSchedule) -> LrSchedule {
    match schedule {
        LrSchedule::Constant | LrSchedule::ExponentialDecay { .. } => schedule.clone(),
        LrSchedule::PiecewiseConstant { .. } => LrSchedule::Constant,
    }
}

/// The players of a job, in update order.
///
/// - VAE: `model` (encoder, decoder) minimises every term; a FactorVAE objective adds
///   `tc_discriminator` (constant rate, its own optimizer) after it.
/// - InfoGAN: `discriminator` (trunk, adversarial and recognition heads, the model's discriminator
///   optimizer) then `generator` (the training optimizer); both minimise the information and
///   structural terms, and each its own side of the adversarial term.
/// - A `nonlinear_gaussian` structural term adds `cpd`, the nodes' networks, last, with the
///   training optimizer.
/// - PCA and ICA are fitted, not trained: no players.
pub fn players(model: &ModelSpec, objective: &[LossTerm], train: &TrainSpec) -> Vec<Player> {
    let names: Vec<String> = objective
        .iter()
        .map(|t| term_name(&t.term).to_string())
        .collect();
    let player =
        |name: &str, modules: Vec<String>, terms: Vec<String>, optimizer: &Optimizer| Player {
            name: name.to_string(),
            modules,
            terms,
            optimizer: optimizer.clone(),
            schedule: train.schedule.clone(),
            updates_per_step: 1,
        };
    let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut players = Vec::new();
    match model {
        ModelSpec::Vae(vae) => {
            let mut modules = strings(&["encoder", "decoder"]);
            if matches!(
                vae.reconstruction,
                crate::plan::Reconstruction::Gaussian {
                    variance: crate::plan::Variance::Learned,
                    ..
                }
            ) {
                modules.push("log_variance".to_string());
            }
            players.push(player("model", modules, names.clone(), &train.optimizer));
            for term in objective {
                if let Term::DiscriminatorTc { optimizer, .. } = &term.term {
                    let mut tc = player(
                        "tc_discriminator",
                        strings(&["tc_discriminator"]),
                        strings(&["discriminator_tc"]),
                        optimizer,
                    );
                    // The reference trains the density-ratio discriminator at a constant rate.
                    tc.schedule = LrSchedule::Constant;
                    players.push(tc);
                }
            }
        }
        ModelSpec::InfoGan(gan) => {
            let mut discriminator = player(
                "discriminator",
                strings(&["discriminator", "adversarial_head", "recognition_head"]),
                names.clone(),
                &gan.discriminator_optimizer,
            );
            discriminator.schedule = secondary_schedule(&train.schedule);
            discriminator.updates_per_step = gan.discriminator_updates;
            players.push(discriminator);
            players.push(player(
                "generator",
                strings(&["generator"]),
                names.clone(),
                &train.optimizer,
            ));
        }
        ModelSpec::Pca { .. } | ModelSpec::Ica { .. } => return players,
    }
    for term in objective {
        if let Term::Structural { nodes, .. } = &term.term {
            let modules: Vec<String> = nodes
                .iter()
                .filter(|n| matches!(n.cpd, Cpd::NonlinearGaussian { .. }))
                .map(|n| format!("cpd/{}", n.name))
                .collect();
            if !modules.is_empty() {
                let mut cpd = player("cpd", modules, strings(&["structural"]), &train.optimizer);
                cpd.schedule = secondary_schedule(&train.schedule);
                players.push(cpd);
            }
        }
    }
    players
}
