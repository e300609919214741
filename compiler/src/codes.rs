//! The registry of every diagnostic code the compiler can emit, with its explanation.
//!
//! Codes are grouped by phase: E00xx syntax, E01xx names, E02xx types, values and shapes, E03xx the
//! latent graph, E04xx plan and capability checks, W0xxx warnings. A code is never reused for a
//! different mistake; `disc explain CODE` prints the explanation. This module holds data only.

/// One registered diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// The code, e.g. `"E0201"`.
    pub code: &'static str,
    /// A short lowercase title.
    pub title: &'static str,
    /// A paragraph explaining the mistake and how to fix it.
    pub explanation: &'static str,
}

/// Every code, sorted by code.
pub static CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "E0001",
        title: "syntax error",
        explanation: "The file does not follow the `.dis` grammar at the marked position. The message lists, in words, what the parser could accept there (for example `a name`, `an expression` or `}`). Parsing stops at the first syntax error, so fix it and check again to see further problems.",
    },
    CodeInfo {
        code: "E0002",
        title: "number too large",
        explanation: "An integer literal (after applying a `k` or `M` suffix) does not fit in a signed 64-bit integer. Use a smaller value; no parameter in disc needs numbers this large.",
    },
    CodeInfo {
        code: "E0003",
        title: "nested too deeply",
        explanation: "Brackets are nested, or operators or member accesses chained (`a + b + c ...`), more deeply than the parser accepts. Such input is refused so that no file can exhaust the compiler's stack; split the expression into definitions. (Definitions that call each other too deeply are E0116.)",
    },
    CodeInfo {
        code: "E0004",
        title: "cannot read file",
        explanation: "A file named on the command line could not be read: it does not exist, is a directory, is not valid UTF-8, or may not be read. The file is reported like any other error, in every output format, and `disc check` exits with 1.",
    },
    CodeInfo {
        code: "E0005",
        title: "internal error",
        explanation: "The compiler could not build a job and did not report why. This is a bug in disc, not in your file: the plan is refused rather than produced with a job missing (job numbers must match the sweep's order). Please report it with the file.",
    },
    CodeInfo {
        code: "E0101",
        title: "unknown name",
        explanation: "The name is not a definition of this file, an imported name, an experiment field or a built-in. Check the spelling (a suggestion is shown when a close name exists) or import it, e.g. `use std.arch.conv_encoder`.",
    },
    CodeInfo {
        code: "E0102",
        title: "duplicate definition",
        explanation: "The same name is defined twice in one scope: two `def`s or imports with one name in a file, two experiments with one name, two fields with one name in an experiment, two parameters with one name, or two entries with one key in a record. Rename or remove one of them.",
    },
    CodeInfo {
        code: "E0103",
        title: "unknown module",
        explanation: "A `use std.<module>` names a standard-library module that does not exist. The modules are `std.data`, `std.arch`, `std.models` and `std.metrics`.",
    },
    CodeInfo {
        code: "E0104",
        title: "unknown import",
        explanation: "The imported name is not defined in the module or file it is imported from. Check the spelling; the help line suggests a close name when there is one.",
    },
    CodeInfo {
        code: "E0105",
        title: "cannot load file",
        explanation: "A `use \"path.dis\"` names a file that could not be read, or that itself has a syntax error. A relative path is resolved against the directory of the file that contains the `use`, so an imported file's own imports are found next to it.",
    },
    CodeInfo {
        code: "E0106",
        title: "unknown argument",
        explanation: "A named argument does not match any parameter of the definition or built-in being called. The help line suggests the closest parameter name.",
    },
    CodeInfo {
        code: "E0107",
        title: "missing argument",
        explanation: "A parameter without a default value was not given. Pass it by name, e.g. `smallnorb(path: \"data/small_norb\")`.",
    },
    CodeInfo {
        code: "E0108",
        title: "argument given twice",
        explanation: "The same parameter is given twice in one call, either by name twice or positionally and by name. Remove one of them.",
    },
    CodeInfo {
        code: "E0109",
        title: "unknown type",
        explanation: "A parameter or result type names a type that does not exist. Types are `int`, `float`, `bool`, `string`, `layer`, `architecture`, `dataset`, `source`, `model`, `reconstruction`, `prior`, `loss`, `cpd`, `graph`, `optimizer`, `schedule`, `training`, `metric`, `evaluation`, `representation`, `visuals`, `record` and lists `[T]`.",
    },
    CodeInfo {
        code: "E0110",
        title: "unknown field",
        explanation: "A member access `value.name` asks for a field the value does not have. A dataset has `channels`, `height`, `width`, `factors` and `name`; a model has `latents`; a record has its own keys.",
    },
    CodeInfo {
        code: "E0111",
        title: "missing experiment field",
        explanation: "Every experiment needs `data` and `model`, and a `loss` unless the model is PCA or ICA. Add the missing field.",
    },
    CodeInfo {
        code: "E0112",
        title: "too many arguments",
        explanation: "A call passes more positional arguments than the definition has parameters. Remove the extra arguments or name them.",
    },
    CodeInfo {
        code: "E0113",
        title: "recursive definition",
        explanation: "A definition or experiment field refers to itself, directly or through others, so its value can never be computed. Break the cycle.",
    },
    CodeInfo {
        code: "E0114",
        title: "not callable",
        explanation: "Only definitions and built-ins can be called with `(...)`. The expression before the parentheses is a value of another kind.",
    },
    CodeInfo {
        code: "E0115",
        title: "misspelt standard field",
        explanation: "An experiment field is named like a standard field (`data`, `model`, `loss`, `train`, `evaluate`, `seed`) that the experiment does not set, and no other field reads it, e.g. `trian = training(steps: 1000)`. As written, the standard field would silently keep its default (300k training steps, no metrics), so this is an error. Rename the field.",
    },
    CodeInfo {
        code: "E0116",
        title: "definitions nested too deeply",
        explanation: "Definitions call each other, or experiment fields refer to each other, more than 128 levels deep. Such a chain is refused so that no file can exhaust the compiler's stack; flatten the chain of definitions. (Brackets or operators nested too deeply inside one expression are E0003.)",
    },
    CodeInfo {
        code: "E0130",
        title: "override without `=`",
        explanation: "A command-line override `--set PATH=VALUE` must hold a parameter path, `=`, and a value written as in a `.dis` file, e.g. `--set train.steps=2000` or `--set loss.beta=8`. This argument has no `=`.",
    },
    CodeInfo {
        code: "E0131",
        title: "override path is not a parameter path",
        explanation: "The part of `--set PATH=VALUE` before `=` names the parameter to set: an experiment field, then parameter names joined by `.`, exactly as a sweep axis does (`train.steps`, `loss.beta`, `seed`). Each part must be a name (letters, digits and `_`, not starting with a digit).",
    },
    CodeInfo {
        code: "E0132",
        title: "parameter set twice on the command line",
        explanation: "Two `--set` arguments name the same parameter path, so one of them would be silently ignored. Keep one.",
    },
    CodeInfo {
        code: "E0201",
        title: "type mismatch",
        explanation: "A value has a different type from the one expected there, e.g. a string where a number is needed or an architecture where a loss is needed. Integers are accepted where floats are expected, a single value where a list is expected, and a definition whose parameters all have defaults may be written without parentheses.",
    },
    CodeInfo {
        code: "E0202",
        title: "value out of range",
        explanation: "A value has the right type but is not allowed: β < 0, a learning rate ≤ 0, a batch size or step count of 0, fewer than 2 histogram bins, Adam β outside [0, 1), an unknown dataset kind, and so on. The message gives the allowed range.",
    },
    CodeInfo {
        code: "E0203",
        title: "architecture shape error",
        explanation: "Shape inference failed inside an architecture: a layer does not accept the shape the previous layer produces (for example a dense layer applied to an image without `flatten`, or a reshape whose target has a different number of elements). The message names the layer by its position (from 0) and the shapes.",
    },
    CodeInfo {
        code: "E0204",
        title: "decoder output does not match the data",
        explanation: "A decoder (or InfoGAN generator) must produce exactly the observation shape `[height, width, channels]` of the dataset. Usually the number of output channels is wrong; stdlib decoders take `channels: data.channels`.",
    },
    CodeInfo {
        code: "E0205",
        title: "encoder head does not match the latent size",
        explanation: "A VAE encoder must end in `gaussian_head(n)` with `n` equal to the model's `latents`, so that it outputs a mean and a log-variance per latent. Pass the same latent size to the encoder and to the model.",
    },
    CodeInfo {
        code: "E0206",
        title: "invalid operation",
        explanation: "The operator cannot combine these values. Numbers combine with `+ - * /`; loss terms add up (`recon + kl`) and are scaled by numbers (`beta * kl`); other values cannot be combined.",
    },
    CodeInfo {
        code: "E0207",
        title: "discriminator term without a discriminator",
        explanation: "FactorVAE's total-correlation term `discriminator_tc` estimates the total correlation with a discriminator network trained alongside the VAE, so it needs one: `discriminator_tc(discriminator: fc_discriminator())`. The `factor_vae` preset passes the reference discriminator.",
    },
    CodeInfo {
        code: "E0208",
        title: "term does not apply to this model",
        explanation: "A loss term needs something the model does not have: `recon`, `kl`, `capacity`, `tc`, `discriminator_tc` and the DIP terms need a VAE; `gan` and `info` need an InfoGAN; PCA and ICA take no loss at all.",
    },
    CodeInfo {
        code: "E0209",
        title: "network output has the wrong shape",
        explanation: "A network feeding a fixed-size head has the wrong output: the FactorVAE discriminator must output 2 logits, and the InfoGAN discriminator must output a feature vector (flatten it before the heads).",
    },
    CodeInfo {
        code: "E0230",
        title: "categorical code in a structural graph",
        explanation: "The structural term models each node of the latent graph with a Gaussian conditional distribution (`linear_gaussian` or `nonlinear_gaussian`), which needs a continuous code. A categorical code may be declared and left out of the graph (the information term still ties it to the image), but it cannot be a parent or a child of an edge. Remove its edges, or give it a `uniform` or `normal` prior.",
    },
    CodeInfo {
        code: "E0301",
        title: "graph cycle",
        explanation: "The latent graph must be a directed acyclic graph. The message shows one cycle; remove one of its edges.",
    },
    CodeInfo {
        code: "E0302",
        title: "undeclared graph node",
        explanation: "Every node of the `graph` block must be a latent of the model (`z0`..`z9` for a VAE with 10 latents and prefix `z`) or an InfoGAN code.",
    },
    CodeInfo {
        code: "E0303",
        title: "structural term without a graph",
        explanation: "`structure(...)` scores the latents under a structural model of the latent graph, so the experiment needs a `graph { a -> b }` block.",
    },
    CodeInfo {
        code: "E0401",
        title: "metric needs a complete factor grid",
        explanation: "The BetaVAE and FactorVAE scores intervene on factors (fix one factor, resample the others), which needs every factor combination to be observable. The dataset does not declare a complete factor grid. Use other metrics or another dataset.",
    },
    CodeInfo {
        code: "E0402",
        title: "metric needs ground-truth factors",
        explanation: "Disentanglement metrics compare codes with ground-truth factors of variation; the dataset declares none.",
    },
    CodeInfo {
        code: "E0403",
        title: "sweep over an unknown parameter",
        explanation: "A sweep axis names a path that is not an experiment field, or a named parameter of the call that field holds (e.g. `loss.beta` for `loss = beta_vae()`). Sweepable paths start at an experiment field (or `seed`, or `train`, which have defaults) and follow call parameters. Every axis is checked, including one whose first name matches no field at all (`seeds`, `los.beta`): such a sweep would otherwise make identical jobs.",
    },
    CodeInfo {
        code: "E0404",
        title: "empty sweep axis",
        explanation: "A sweep axis has no values (an empty list or a range like `5..5`), which would make the whole product empty. Give it at least one value.",
    },
    CodeInfo {
        code: "E0405",
        title: "zip of axes with different lengths",
        explanation: "`zip(a in A, b in B)` pairs the i-th values of each axis, so all axes must have the same number of values.",
    },
    CodeInfo {
        code: "E0406",
        title: "dataset cannot be generated procedurally",
        explanation: "SmallNORB, Cars3D and MPI3D exist only as released files. The stdlib's `smallnorb(path)`, `cars3d(path)` and `mpi3d_*(path)` take the path of the released data; with `prim.dataset(...)` pass `source: file(\"...\")` (the file is read when the job runs).",
    },
    CodeInfo {
        code: "E0407",
        title: "sweep values must be literals",
        explanation: "A sweep axis takes a list literal `[a, b, c]` or an integer range `a..b`, so that each job's swept values can be shown as written.",
    },
    CodeInfo {
        code: "E0408",
        title: "parameter swept twice in one job",
        explanation: "Two axes combined with `*` or `zip` set the same parameter, so every job would get two values for it and the second would silently win. Put all the values in one axis, or join alternatives with `+` (e.g. `(loss in [a] * loss.beta in [1, 2]) + (loss in [b] * loss.beta in [3])`).",
    },
    CodeInfo {
        code: "E0409",
        title: "sweep that changes nothing",
        explanation: "A sweep axis varies a variable (a field that is not a standard field) that no standard field reads, directly or through other fields, so every job of the sweep would be the same, e.g. `beta = 4; loss = beta_vae(); sweep { beta in [1, 2] }`. Sweep the parameter through the field that holds it (`loss.beta in [1, 2]`), or pass the variable to it (`loss = beta_vae(beta: beta)`).",
    },
    CodeInfo {
        code: "E0410",
        title: "too many jobs",
        explanation: "A plan holds at most 1,000,000 jobs (all experiments of the file together). The sweep is counted before it is listed, so a sweep that would exceed this is refused at once, with its size, instead of exhausting memory. Split the study into several files or sweep fewer values.",
    },
    CodeInfo {
        code: "E0411",
        title: "repeated job",
        explanation: "A sweep would make the same job twice: an axis lists a value twice (`seed in [0, 1, 1]`; numbers compare by value, so `1` and `1.0` are the same), or two points assign the same values (`seed in [0, 1] + seed in [1]`), or two points assign different values that resolve to the same job once defaults are applied (`seed in [0] + train.batch in [64]`: seed 0 and batch 64 are both defaults). The repeat would train an identical model twice. Remove the repeated value or point.",
    },
    CodeInfo {
        code: "E0412",
        title: "plan too large for this machine",
        explanation: "`disc run` and `disc slurm` hold the whole plan in memory, and this one needs more than the machine has available (80% of the memory the system reports free, or `DISC_MEMORY_LIMIT` bytes when that is set); the message gives both sizes. The file itself is correct and `disc check` accepts it, and `disc plan` streams any plan within the job limit (E0410) without holding it. Run part of the study (split the sweep over several files), or use a machine with more memory.",
    },
    CodeInfo {
        code: "W0001",
        title: "unused definition",
        explanation: "A `def` in this file is never used by an experiment or another definition. Remove it or use it.",
    },
    CodeInfo {
        code: "W0002",
        title: "unused import",
        explanation: "An imported name is never used in this file. Remove it from the `use`.",
    },
    CodeInfo {
        code: "W0003",
        title: "unused experiment field",
        explanation: "An experiment field that is not one of `data`, `model`, `loss`, `train`, `evaluate` or `seed` is a variable for other fields; this one is read by no field, so it has no effect. A field named like a standard field that is not set is an error instead (E0115), and so is sweeping a variable that no field reads (E0409).",
    },
    CodeInfo {
        code: "W0004",
        title: "graph without a structural term",
        explanation: "The experiment declares a `graph`, but no loss term uses it, so it has no effect on training. Add a `structure(graph)` term or remove the graph.",
    },
    CodeInfo {
        code: "W0005",
        title: "schedule overrides the learning rate",
        explanation: "A `piecewise(boundaries: [...], values: [...])` schedule gives the learning rate itself for each interval: its values are rates, not multipliers of the optimizer's `lr`. When the training also writes an optimizer whose `lr` differs from the schedule's first value, that `lr` is never used. Write the same rate in both places, or leave `lr` out.",
    },
    CodeInfo {
        code: "W0040",
        title: "override of a swept parameter",
        explanation: "A `--set PATH=VALUE` override replaces what the file writes, and the sweep's values are applied after it: when the sweep sets the same path (or a field containing it, e.g. the sweep sets `loss` and the override `loss.beta`), every job takes the sweep's value and the override has no effect. Change the sweep's values in the file instead, or drop the override.",
    },
];

/// Looks a code up in [`CODES`].
pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|info| info.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_unique_and_well_formed() {
        for pair in CODES.windows(2) {
            if let [a, b] = pair {
                assert!(a.code < b.code, "{} before {}", a.code, b.code);
            }
        }
        for info in CODES {
            assert_eq!(info.code.len(), 5, "{}", info.code);
            assert!(
                info.code.starts_with('E') || info.code.starts_with('W'),
                "{}",
                info.code
            );
            assert!(!info.title.ends_with('.'), "{}", info.code);
            assert!(
                info.explanation.len() > 40,
                "{} needs a real explanation",
                info.code
            );
            assert_eq!(lookup(info.code), Some(info));
        }
        assert_eq!(lookup("E9999"), None);
    }
}
