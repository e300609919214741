//! Datasets: `prim.dataset` (the built-in kinds, reached through `std.data`), `arrays` (the
//! user's own files, judged from the facts the `Loader` reads) and the data sources.
//! Must not read files: what the checker needs from them it asks through the `Loader`.

use super::{Args, DefaultValue, Prim, optional, render, required};
use crate::eval::{Eval, Poisoned};
use crate::plan::{DataSource, DatasetKind, DatasetSpec, FactorSpec};
use crate::value::{Loc, RecordEntry, Type, Value};

/// The data primitives.
pub(super) const PRIMS: &[Prim] = &[
    Prim {
        name: "procedural",
        bare: true,
        doc: "Observations rendered by disc itself.",
        params: &[],
        build: |_| Ok(Value::DataSource(DataSource::Procedural)),
    },
    Prim {
        name: "file",
        bare: true,
        doc: "Observations read from the released dataset file at `path`.",
        params: &[required("path", Type::Str)],
        build: |a| {
            let path = a.string("path");
            if path.is_empty() {
                return Err(a
                    .ctx
                    .out_of_range(a.loc("path"), "path", "\"\"", "a non-empty path"));
            }
            Ok(Value::DataSource(DataSource::File { path }))
        },
    },
    Prim {
        name: "dataset",
        bare: false,
        doc: "A built-in ground-truth dataset of the given kind, factors and observation shape.",
        params: &[
            required("name", Type::Str),
            required("kind", Type::Str),
            required("factors", Type::Record),
            required("shape", Type::Tuple),
            required("complete_grid", Type::Bool),
            optional(
                "source",
                Type::DataSource,
                DefaultValue::Written("procedural", || Value::DataSource(DataSource::Procedural)),
            ),
            optional(
                "mode",
                Type::Str,
                DefaultValue::Absent("none; only kind \"mpi3d\" needs one"),
            ),
            optional(
                "image",
                Type::Str,
                DefaultValue::Absent("a procedural texture (kind \"scream_dsprites\")"),
            ),
        ],
        build: dataset,
    },
    Prim {
        name: "arrays",
        bare: true,
        doc: "Your own data: images and integer factor labels from `.npz`, `.npy` or HDF5 files.",
        params: &[
            required("images", Type::Str),
            required("factors", Type::Record),
            optional(
                "labels",
                Type::Str,
                DefaultValue::Absent("the labels are an array in the images' file"),
            ),
            optional("images_key", Type::Str, DefaultValue::Str("images")),
            optional("labels_key", Type::Str, DefaultValue::Str("factors")),
            optional(
                "name",
                Type::Str,
                DefaultValue::Absent("the images' file name without its extension"),
            ),
        ],
        build: arrays,
    },
];

fn dataset(a: &Args<'_>) -> Eval<Value> {
    let ctx = a.ctx;
    let loc = a.call;
    let mut e = false;
    let name = a.string("name");
    let kind_name = a.string("kind");
    let kind = match kind_name.as_str() {
        "dsprites" => DatasetKind::Dsprites,
        "color_dsprites" => DatasetKind::ColorDsprites,
        "noisy_dsprites" => DatasetKind::NoisyDsprites,
        "scream_dsprites" => {
            let image = a.string("image");
            DatasetKind::ScreamDsprites {
                image: (!image.is_empty()).then_some(image),
            }
        }
        "shapes3d" => DatasetKind::Shapes3d,
        "smallnorb" => DatasetKind::SmallNorb,
        "cars3d" => DatasetKind::Cars3d,
        "mpi3d" => {
            let mode = a.string("mode");
            if !["toy", "realistic", "real"].contains(&mode.as_str()) {
                return Err(ctx.out_of_range(
                    a.loc("mode"),
                    "mode",
                    format!("\"{mode}\""),
                    "\"toy\", \"realistic\" or \"real\"",
                ));
            }
            DatasetKind::Mpi3d { mode }
        }
        "dummy" => DatasetKind::Dummy,
        other => {
            let rule = "one of \"dsprites\", \"color_dsprites\", \"noisy_dsprites\", \"scream_dsprites\", \"shapes3d\", \"smallnorb\", \"cars3d\", \"mpi3d\", \"dummy\"";
            return Err(ctx.error(
                "E0202",
                a.loc("kind"),
                format!("`kind` must be {rule}, found \"{other}\""),
                "not a built-in dataset kind",
                Some(
                    "for your own data use `arrays(images: \"file.npz\", factors: {...})` (see docs/LANGUAGE.md, \"Your own data\")"
                        .to_string(),
                ),
            ));
        }
    };
    let (factors, _) = factor_specs(a, &mut e);
    let shape = match a.value("shape") {
        Some(Value::Tuple(items)) => match items.as_slice() {
            [Value::Int(h), Value::Int(w), Value::Int(c)] if *h >= 1 && *w >= 1 && *c >= 1 => {
                [*h, *w, *c].map(|v| u32::try_from(v).unwrap_or(u32::MAX))
            }
            _ => {
                return Err(ctx.out_of_range(
                    a.loc("shape"),
                    "shape",
                    "this tuple",
                    "`(height, width, channels)` with positive sizes",
                ));
            }
        },
        _ => return Err(Poisoned),
    };
    // No factors at all is allowed (training without labels; metrics are then E0402).
    if !e
        && !factors.is_empty()
        && let Some((sizes, builtin_shape)) = builtin_layout(&kind)
    {
        let declared: Vec<u32> = factors.iter().map(|f| f.size).collect();
        let hint = Some(
            "`prim.dataset` names a built-in dataset and cannot relabel it; for your own data use `arrays(images: \"file.npz\", factors: {...})`"
                .to_string(),
        );
        if declared != sizes {
            ctx.error(
                "E0507",
                a.loc("factors"),
                format!(
                    "dataset kind \"{kind_name}\" has factor sizes {sizes:?}, but `{name}` declares {declared:?}"
                ),
                "not the built-in dataset's factors",
                hint.clone(),
            );
            e = true;
        }
        if shape != builtin_shape {
            let [h, w, c] = builtin_shape;
            ctx.error(
                "E0507",
                a.loc("shape"),
                format!(
                    "dataset kind \"{kind_name}\" has observations of shape ({h}, {w}, {c}), but `{name}` declares ({}, {}, {})",
                    shape[0], shape[1], shape[2]
                ),
                "not the built-in dataset's shape",
                hint,
            );
            e = true;
        }
    }
    let Some(Value::DataSource(source)) = a.value("source") else {
        return Err(Poisoned);
    };
    let file_only = matches!(
        kind,
        DatasetKind::SmallNorb | DatasetKind::Cars3d | DatasetKind::Mpi3d { .. }
    );
    if file_only && source == DataSource::Procedural {
        return Err(ctx.error(
            "E0406",
            if a.given("source").is_some() {
                a.loc("source")
            } else {
                loc
            },
            format!("dataset `{name}` cannot be generated procedurally"),
            "needs the released files",
            Some(
                "read it from the released files: `source: file(\"...\")` (the stdlib's `smallnorb(path)`, `cars3d(path)` and `mpi3d_*(path)` do this)"
                    .to_string(),
            ),
        ));
    }
    if e {
        return Err(Poisoned);
    }
    Ok(Value::Dataset(Box::new(DatasetSpec {
        name,
        kind,
        source,
        factors,
        observation_shape: shape,
        complete_grid: a.boolean("complete_grid"),
    })))
}

/// The `factors` record as factor specs, each with where its entry was written; a size that is
/// not a positive integer is E0202 at its entry.
fn factor_specs(a: &Args<'_>, e: &mut bool) -> (Vec<FactorSpec>, Vec<Loc>) {
    let mut factors = Vec::new();
    let mut locs = Vec::new();
    if let Some(Value::Record(entries)) = a.value("factors") {
        for RecordEntry { key, value, loc } in entries {
            match value {
                Value::Int(s) if s >= 1 && s <= i64::from(u32::MAX) => {
                    factors.push(FactorSpec {
                        name: key,
                        size: u32::try_from(s).unwrap_or(1),
                    });
                    locs.push(loc);
                }
                other => {
                    a.ctx.out_of_range(
                        loc,
                        &format!("factors.{key}"),
                        format!("`{}`", render(&other)),
                        "a positive integer",
                    );
                    *e = true;
                }
            }
        }
    }
    (factors, locs)
}

/// The factor sizes and observation shape of a built-in dataset kind (what its files or renderer
/// produce); `prim.dataset` may not declare others.
fn builtin_layout(kind: &DatasetKind) -> Option<(Vec<u32>, [u32; 3])> {
    let dsprites = vec![3, 6, 40, 32, 32];
    Some(match kind {
        DatasetKind::Dsprites => (dsprites, [64, 64, 1]),
        DatasetKind::ColorDsprites
        | DatasetKind::NoisyDsprites
        | DatasetKind::ScreamDsprites { .. } => (dsprites, [64, 64, 3]),
        DatasetKind::Shapes3d => (vec![10, 10, 10, 8, 4, 15], [64, 64, 3]),
        DatasetKind::SmallNorb => (vec![5, 9, 18, 6], [64, 64, 1]),
        DatasetKind::Cars3d => (vec![4, 24, 183], [64, 64, 3]),
        DatasetKind::Mpi3d { mode } if mode == "real" => (vec![6, 6, 2, 3, 3, 40, 40], [64, 64, 3]),
        DatasetKind::Mpi3d { .. } => (vec![4, 4, 2, 3, 3, 40, 40], [64, 64, 3]),
        DatasetKind::Dummy => (vec![5; 10], [64, 64, 1]),
        DatasetKind::Arrays { .. } => return None,
    })
}

/// `arrays(images, factors, labels, images_key, labels_key, name)`: the user's own arrays. The
/// loader reads the files' headers and labels; every mismatch with the declaration is reported
/// at the argument it concerns.
fn arrays(a: &Args<'_>) -> Eval<Value> {
    let ctx = a.ctx;
    let mut factor_error = false;
    let (factors, factor_locs) = factor_specs(a, &mut factor_error);
    let mut e = factor_error;
    let images = a.string("images");
    let labels_written = a.string("labels");
    let labels = if labels_written.is_empty() {
        images.clone()
    } else {
        labels_written.clone()
    };
    // Named after the images' file unless `name:` says otherwise (`scenes.npz` → `scenes`).
    let stem = std::path::Path::new(&images)
        .file_stem()
        .map_or("arrays".to_string(), |s| s.to_string_lossy().into_owned());
    let name = match a.given("name") {
        Some((Value::Str(written), _)) => written.clone(),
        _ => stem,
    };
    let request = crate::ArrayRequest {
        images: images.clone(),
        images_key: a.string("images_key"),
        labels: labels.clone(),
        labels_key: a.string("labels_key"),
    };
    let labels_loc = if labels_written.is_empty() {
        a.loc("images")
    } else {
        a.loc("labels")
    };
    let labels_what = if labels_written.is_empty() {
        format!("array `{}` of `{labels}`", request.labels_key)
    } else {
        format!("`{labels}`")
    };
    if images.is_empty() {
        return Err(ctx.out_of_range(a.loc("images"), "images", "\"\"", "a non-empty path"));
    }
    let facts = match ctx.array_facts(&request) {
        Ok(facts) => facts,
        Err(err) => {
            let (loc, file) = match err.file {
                crate::ArrayFile::Images => (a.loc("images"), &images),
                crate::ArrayFile::Labels => (labels_loc, &labels),
            };
            return Err(ctx.error(
                "E0501",
                loc,
                format!("cannot read the arrays in `{file}`: {}", err.reason),
                "cannot read this data file",
                Some(
                    "give an `.npz` with arrays `images` and `factors`, a `.npy` file (and `labels:` another), or an HDF5 file with `images_key:` and `labels_key:`; paths are relative to the current directory"
                        .to_string(),
                ),
            ));
        }
    };
    // Images: (rows, height, width) or (rows, height, width, channels), uint8 or float.
    let image_dtype_ok = matches!(facts.images.dtype.as_str(), "uint8" | "float32" | "float64");
    let shape = match facts.images.shape.as_slice() {
        [rows, h, w] => Some((*rows, [*h, *w, 1])),
        [rows, h, w, c] => Some((*rows, [*h, *w, *c])),
        _ => None,
    };
    // At least one image: training and the metrics draw rows.
    let shape = shape
        .filter(|(rows, _)| *rows >= 1)
        .and_then(|(rows, dims)| {
            let dims = dims.map(|d| u32::try_from(d).ok().filter(|d| *d >= 1));
            match dims {
                [Some(h), Some(w), Some(c)] => Some((rows, [h, w, c])),
                _ => None,
            }
        });
    if !image_dtype_ok || shape.is_none() {
        ctx.error(
            "E0502",
            a.loc("images"),
            format!(
                "the images in `{images}` are {} of shape {:?}, but images must be uint8, float32 or float64 of shape (rows, height, width) or (rows, height, width, channels)",
                facts.images.dtype, facts.images.shape
            ),
            "not an array of images",
            Some("convert with numpy, e.g. `images.astype(np.uint8)` for 0..255 values, or `np.float32` for values in [0, 1]".to_string()),
        );
        e = true;
    }
    let columns = match facts.labels.shape.as_slice() {
        [_] => Some(1),
        [_, k] => usize::try_from(*k).ok(),
        _ => None,
    };
    let Some(ranges) = facts.label_ranges.as_ref().filter(|_| columns.is_some()) else {
        ctx.error(
            "E0502",
            labels_loc,
            format!(
                "the factor labels ({labels_what}) are {} of shape {:?}, but they must be integers of shape (rows, factors)",
                facts.labels.dtype, facts.labels.shape
            ),
            "not integer factor labels",
            Some("store class indices 0..size-1 per factor, e.g. `labels.astype(np.int64)`".to_string()),
        );
        return Err(Poisoned);
    };
    let rows = facts.labels.shape.first().copied().unwrap_or(0);
    if let Some((image_rows, _)) = shape
        && image_rows != rows
    {
        ctx.error(
            "E0505",
            labels_loc,
            format!(
                "the factor labels ({labels_what}) have {rows} rows, but `{images}` has {image_rows} images"
            ),
            "one label row per image",
            None,
        );
        e = true;
    }
    if ranges.len() != factors.len() && !factor_error {
        let names: Vec<&str> = factors.iter().map(|f| f.name.as_str()).collect();
        // The first factor without a column, or, when factors are missing, the last one declared
        // (the record itself when it is empty).
        let loc = factor_locs
            .get(ranges.len())
            .or(factor_locs.last())
            .copied()
            .unwrap_or_else(|| a.loc("factors"));
        let label = if factors.len() > ranges.len() {
            "no label column for this factor"
        } else {
            "one factor per label column"
        };
        ctx.error(
            "E0503",
            loc,
            format!(
                "the factor labels ({labels_what}) have {} columns, but {} factors are declared ({})",
                ranges.len(),
                factors.len(),
                names.join(", ")
            ),
            label,
            Some("declare one factor per label column, in column order".to_string()),
        );
        return Err(Poisoned);
    }
    for ((factor, &loc), &(min, max)) in factors.iter().zip(&factor_locs).zip(ranges) {
        if min < 0 || max >= i64::from(factor.size) {
            let fix = if min < 0 {
                "labels are class indices from 0: shift them so the smallest is 0".to_string()
            } else {
                format!(
                    "declare `{}: {}`, or fix the labels",
                    factor.name,
                    max.saturating_add(1)
                )
            };
            ctx.error(
                "E0504",
                loc,
                format!(
                    "factor `{}` is declared with {} values (0 to {}), but its labels in {labels_what} range from {min} to {max}",
                    factor.name,
                    factor.size,
                    factor.size - 1
                ),
                "labels outside the declared sizes",
                Some(fix),
            );
            e = true;
        }
    }
    let (Some((_, observation_shape)), false) = (shape, e) else {
        return Err(Poisoned);
    };
    let cells = factors
        .iter()
        .try_fold(1u64, |acc, f| acc.checked_mul(u64::from(f.size)));
    Ok(Value::Dataset(Box::new(DatasetSpec {
        name,
        kind: DatasetKind::Arrays {
            images_key: request.images_key,
            labels: request.labels,
            labels_key: request.labels_key,
            rows,
            combinations: facts.distinct_rows,
        },
        source: DataSource::File { path: images },
        factors,
        observation_shape,
        complete_grid: cells == Some(facts.distinct_rows),
    })))
}
