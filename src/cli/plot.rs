//! `disc plot RUNS_DIR -o DIR`: the study's figures, each as PNG and SVG.
//!
//! - `scores_<metric>.{png,svg}`, one per metric score: the distribution of the score per model ×
//!   hyper-parameter setting (every swept parameter but the seed), as a violin (Gaussian kernel
//!   density, Silverman's bandwidth, cut one bandwidth past the data) with every run drawn as a dot
//!   and the median as a bar: the ICML 2019 study's violin plots.
//! - `spearman.{png,svg}`: the Spearman rank correlation between every pair of metric scores over
//!   the finished runs (the study's Figure 2), in percent.
//! - `loss_curves.{png,svg}`: the objective of every run against the step, coloured by setting.
//! - `contact_sheet.png`: the reconstructions, samples and traversals of chosen runs (`--jobs`;
//!   by default the first finished run of every setting), one captioned band per run
//!   ([`super::sheet`]).
//!
//! Rows come from [`super::results::collect`], the same reader as `disc results`. Text is drawn
//! with the DejaVu Sans font embedded in the binary. Every file is written atomically. This module
//! draws; it computes no metric.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Once;

use disc_compiler::plan::SweptValue;
use disc_runtime::artifacts::{RgbImage, RunDir, encode_png, read_loss_log, write_atomic};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::results::{Row, Status, collect_reporting};

/// Arguments of `disc plot`.
#[derive(Debug, clap::Args)]
pub struct PlotArgs {
    /// The results root that `disc run --out` wrote.
    #[arg(value_name = "RUNS_DIR")]
    pub runs: PathBuf,
    /// Where to write the figures (created if needed).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "DIR",
        default_value = "figures"
    )]
    pub output: PathBuf,
    /// The jobs whose pictures the contact sheet shows, e.g. `--jobs 0,4,9` (default: the first
    /// finished job of every setting).
    #[arg(long, value_name = "JOBS", value_delimiter = ',')]
    pub jobs: Vec<u64>,
}

/// The font every figure's text is drawn with.
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The embedded file is a valid TrueType font; if it were not, text would be missing and
        // drawing would report an error, not panic.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// A figure, drawn the same way on every backend.
enum Figure {
    /// One score's distribution per setting.
    Violins {
        title: String,
        y_label: String,
        /// (setting label, values).
        groups: Vec<(String, Vec<f64>)>,
    },
    /// A symmetric correlation matrix with its labels; NaN cells are undefined.
    Correlations {
        title: String,
        labels: Vec<String>,
        values: Vec<Vec<f64>>,
    },
    /// Lines of (step, value), one colour per setting.
    Curves {
        title: String,
        y_label: String,
        /// (setting label, one curve per run of that setting).
        groups: Vec<(String, Vec<Points>)>,
    },
}

type DrawResult = Result<(), String>;

/// The (x, y) points of one line: a loss curve, or a violin's density outline.
type Points = Vec<(f64, f64)>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Colour `i` of a palette that reads well on white.
fn colour(i: usize) -> RGBColor {
    const PALETTE: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = PALETTE.get(i % PALETTE.len()).copied().unwrap_or((0, 0, 0));
    RGBColor(r, g, b)
}

impl Figure {
    fn size(&self) -> (u32, u32) {
        match self {
            Figure::Violins { groups, .. } => {
                let width = 160 * u32::try_from(groups.len()).unwrap_or(1) + 160;
                (width.clamp(640, 2400), 520)
            }
            Figure::Correlations { labels, .. } => {
                let n = u32::try_from(labels.len()).unwrap_or(1);
                let side = (70 * n + 120).clamp(420, 1600);
                (side + 340, side)
            }
            Figure::Curves { .. } => (960, 560),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(err)?;
        match self {
            Figure::Violins {
                title,
                y_label,
                groups,
            } => draw_violins(root, title, y_label, groups),
            Figure::Correlations {
                title,
                labels,
                values,
            } => draw_correlations(root, title, labels, values),
            Figure::Curves {
                title,
                y_label,
                groups,
            } => draw_curves(root, title, y_label, groups),
        }?;
        root.present().map_err(err)
    }
}

/// The (lo, hi) of finite `values`, widened when empty or flat.
fn value_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo {
        (hi - lo) * 0.08
    } else {
        lo.abs().max(1.0) * 0.1
    };
    (lo - pad, hi + pad)
}

/// Gaussian kernel density of `values` at `at`, with Silverman's rule-of-thumb bandwidth; `None`
/// when the values do not spread (fewer than two distinct values).
fn density(values: &[f64]) -> Option<(f64, Points)> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let nf = n as f64;
    let mean = values.iter().sum::<f64>() / nf;
    let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (nf - 1.0)).sqrt();
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        let position = q * (nf - 1.0);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let (lo, hi) = (position.floor() as usize, position.ceil() as usize);
        let (a, b) = (
            sorted.get(lo).copied().unwrap_or(mean),
            sorted.get(hi).copied().unwrap_or(mean),
        );
        a + (b - a) * (position - position.floor())
    };
    let iqr = quantile(0.75) - quantile(0.25);
    let spread = if iqr > 0.0 { std.min(iqr / 1.34) } else { std };
    let bandwidth = 0.9 * spread * nf.powf(-0.2);
    if bandwidth <= 0.0 || !bandwidth.is_finite() {
        return None;
    }
    let (lo, hi) = (
        sorted.first().copied().unwrap_or(mean) - bandwidth,
        sorted.last().copied().unwrap_or(mean) + bandwidth,
    );
    let points = 80;
    let curve = (0..=points)
        .map(|i| {
            let y = lo + (hi - lo) * f64::from(i) / f64::from(points);
            let d: f64 = values
                .iter()
                .map(|v| (-0.5 * ((y - v) / bandwidth).powi(2)).exp())
                .sum::<f64>()
                / (nf * bandwidth * (2.0 * std::f64::consts::PI).sqrt());
            (y, d)
        })
        .collect();
    Some((bandwidth, curve))
}

/// A deterministic jitter in [−1, 1] for dot `i` (so the figures are reproducible).
fn jitter(i: usize) -> f64 {
    // The golden-ratio sequence spreads points evenly.
    #[allow(clippy::cast_precision_loss)]
    let x = (i as f64 * 0.618_033_988_75).fract();
    2.0 * x - 1.0
}

fn draw_violins<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    groups: &[(String, Vec<f64>)],
) -> DrawResult {
    // The range holds every violin whole (each is cut one bandwidth past its data), not only the dots.
    let curves: Vec<Option<(f64, Points)>> =
        groups.iter().map(|(_, values)| density(values)).collect();
    let (lo, hi) = value_range(
        groups.iter().flat_map(|(_, v)| v.iter().copied()).chain(
            curves
                .iter()
                .flatten()
                .flat_map(|(_, c)| c.iter().map(|(y, _)| *y)),
        ),
    );
    #[allow(clippy::cast_precision_loss)]
    let n = groups.len() as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(72)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..(n - 0.5), lo..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(y_label)
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    for (i, (label, values)) in groups.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let x = i as f64;
        let fill = colour(i);
        if let Some(Some((_, curve))) = curves.get(i) {
            let peak = curve.iter().map(|(_, d)| *d).fold(0.0, f64::max);
            let half_width = |d: f64| if peak > 0.0 { 0.4 * d / peak } else { 0.0 };
            let mut outline: Vec<(f64, f64)> = curve
                .iter()
                .map(|(y, d)| (x - half_width(*d), *y))
                .collect();
            outline.extend(curve.iter().rev().map(|(y, d)| (x + half_width(*d), *y)));
            chart
                .draw_series(std::iter::once(Polygon::new(
                    outline.clone(),
                    fill.mix(0.35).filled(),
                )))
                .map_err(err)?;
            outline.push(outline.first().copied().unwrap_or((x, lo)));
            chart
                .draw_series(std::iter::once(PathElement::new(
                    outline,
                    fill.stroke_width(1),
                )))
                .map_err(err)?;
        }
        if let Some(stats) = super::results::stats(values) {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x - 0.2, stats.median), (x + 0.2, stats.median)],
                    BLACK.stroke_width(2),
                )))
                .map_err(err)?;
        }
        chart
            .draw_series(
                values
                    .iter()
                    .enumerate()
                    .map(|(j, v)| Circle::new((x + 0.08 * jitter(j), *v), 3, fill.filled())),
            )
            .map_err(err)?;
        // The setting's name under its violin, centred.
        let (px, py) = chart.backend_coord(&(x, lo));
        let style = TextStyle::from(("sans-serif", 13).into_font()).pos(
            plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Top,
            ),
        );
        // One assignment a line, so the names of neighbouring settings do not overlap.
        let shown = format!("{label} (n={})", values.len());
        for (line, part) in (0_i32..).zip(shown.split(' ')) {
            root.draw(&Text::new(
                part.to_string(),
                (px, py + 8 + 15 * line),
                style.clone(),
            ))
            .map_err(err)?;
        }
    }
    Ok(())
}

/// Red for +1, white for 0, blue for −1.
fn diverging(value: f64) -> RGBColor {
    let v = value.clamp(-1.0, 1.0);
    let (r, g, b) = if v >= 0.0 {
        (1.0, 1.0 - 0.75 * v, 1.0 - 0.75 * v)
    } else {
        (1.0 + 0.75 * v, 1.0 + 0.75 * v, 1.0)
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let byte = |c: f64| (c * 255.0).round().clamp(0.0, 255.0) as u8;
    RGBColor(byte(r), byte(g), byte(b))
}

fn draw_correlations<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    labels: &[String],
    values: &[Vec<f64>],
) -> DrawResult {
    let (w, _) = root.dim_in_pixel();
    let (matrix, legend) = root.split_horizontally(w.saturating_sub(340));
    #[allow(clippy::cast_precision_loss)]
    let n = labels.len() as f64;
    let mut chart = ChartBuilder::on(&matrix)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(0.0..n, n..0.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(0)
        .draw()
        .map_err(err)?;
    let centre = plotters::style::text_anchor::Pos::new(
        plotters::style::text_anchor::HPos::Center,
        plotters::style::text_anchor::VPos::Center,
    );
    for (i, row) in values.iter().enumerate() {
        for (j, value) in row.iter().enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let (x, y) = (j as f64, i as f64);
            let fill = if value.is_finite() {
                diverging(*value)
            } else {
                RGBColor(220, 220, 220)
            };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x, y), (x + 1.0, y + 1.0)],
                    fill.filled(),
                )))
                .map_err(err)?;
            let text = if value.is_finite() {
                format!("{:.0}", value * 100.0)
            } else {
                "–".to_string()
            };
            let (px, py) = chart.backend_coord(&(x + 0.5, y + 0.5));
            let style = TextStyle::from(("sans-serif", 14).into_font()).pos(centre);
            matrix
                .draw(&Text::new(text, (px, py), style))
                .map_err(err)?;
        }
        // Row and column numbers; the legend names them.
        #[allow(clippy::cast_precision_loss)]
        let k = i as f64;
        let style = TextStyle::from(("sans-serif", 14).into_font()).pos(centre);
        let (px, py) = chart.backend_coord(&(0.0, k + 0.5));
        matrix
            .draw(&Text::new(
                format!("{}", i + 1),
                (px - 16, py),
                style.clone(),
            ))
            .map_err(err)?;
        let (px, py) = chart.backend_coord(&(k + 0.5, n));
        matrix
            .draw(&Text::new(format!("{}", i + 1), (px, py + 14), style))
            .map_err(err)?;
    }
    let style = TextStyle::from(("sans-serif", 14).into_font());
    for (i, label) in labels.iter().enumerate() {
        let y = 60 + 22 * i32::try_from(i).unwrap_or(0);
        legend
            .draw(&Text::new(
                format!("{}  {label}", i + 1),
                (10, y),
                style.clone(),
            ))
            .map_err(err)?;
    }
    let y = 60 + 22 * i32::try_from(labels.len()).unwrap_or(0) + 10;
    legend
        .draw(&Text::new(
            "Spearman ρ × 100 over finished runs",
            (10, y),
            style.clone(),
        ))
        .map_err(err)?;
    Ok(())
}

fn draw_curves<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    groups: &[(String, Vec<Points>)],
) -> DrawResult {
    let all = || groups.iter().flat_map(|(_, runs)| runs.iter().flatten());
    let (x_lo, x_hi) = value_range(all().map(|(x, _)| *x));
    let (y_lo, y_hi) = value_range(all().map(|(_, y)| *y));
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x_lo.max(0.0)..x_hi, y_lo..y_hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc(y_label)
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    for (i, (label, runs)) in groups.iter().enumerate() {
        let line = colour(i);
        for (j, run) in runs.iter().enumerate() {
            let series = chart
                .draw_series(LineSeries::new(run.iter().copied(), line.stroke_width(2)))
                .map_err(err)?;
            if j == 0 {
                series
                    .label(format!("{label} ({} runs)", runs.len()))
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], line.stroke_width(3))
                    });
            }
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(err)?;
    Ok(())
}

/// Draws `figure` as `<dir>/<stem>.svg` and `<dir>/<stem>.png`; returns the paths written.
fn save(figure: &Figure, dir: &Path, stem: &str) -> Result<Vec<PathBuf>, String> {
    let (width, height) = figure.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        figure.draw(&root)?;
    }
    let svg_path = dir.join(format!("{stem}.svg"));
    write_atomic(&svg_path, svg.as_bytes()).map_err(err)?;
    let mut pixels = vec![255u8; (width as usize) * (height as usize) * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        figure.draw(&root)?;
    }
    let png = encode_png(&RgbImage {
        width,
        height,
        pixels,
    })
    .map_err(err)?;
    let png_path = dir.join(format!("{stem}.png"));
    write_atomic(&png_path, &png).map_err(err)?;
    Ok(vec![png_path, svg_path])
}

/// The setting of a run: its swept values except the seed, e.g. `loss=beta_vae() loss.beta=4`;
/// prefixed by the experiment when the study has several.
fn setting(row: &Row, several_experiments: bool) -> String {
    let parts: Vec<String> = row
        .swept
        .iter()
        .filter(|(k, _)| !is_seed(k))
        .map(|(k, v)| match v {
            SweptValue::Expr(text) => format!("{k}={}", text),
            other => format!("{k}={other}"),
        })
        .collect();
    match (parts.is_empty(), several_experiments) {
        (true, _) => row.experiment.clone(),
        (false, true) => format!("{}: {}", row.experiment, parts.join(" ")),
        (false, false) => parts.join(" "),
    }
}

/// Whether a swept path is a random seed (`seed`, `train.seed`, `...seed`).
pub(super) fn is_seed(path: &str) -> bool {
    path == "seed" || path.ends_with(".seed")
}

/// Average ranks (1-based; ties share their mean rank).
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|a, b| {
        values
            .get(*a)
            .unwrap_or(&0.0)
            .total_cmp(values.get(*b).unwrap_or(&0.0))
    });
    let mut out = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len()
            && values.get(order.get(end + 1).copied().unwrap_or(0))
                == values.get(order.get(start).copied().unwrap_or(0))
        {
            end += 1;
        }
        // Mean of the ranks start+1 ..= end+1.
        #[allow(clippy::cast_precision_loss)]
        let rank = (start + end) as f64 / 2.0 + 1.0;
        for position in start..=end {
            if let Some(slot) = order.get(position).and_then(|i| out.get_mut(*i)) {
                *slot = rank;
            }
        }
        start = end + 1;
    }
    out
}

/// Spearman's ρ of paired samples: Pearson's correlation of their average ranks; NaN with fewer
/// than three pairs or a constant sample.
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() || a.len() < 3 {
        return f64::NAN;
    }
    let (ra, rb) = (ranks(a), ranks(b));
    #[allow(clippy::cast_precision_loss)]
    let n = a.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        cov += (x - ma) * (y - mb);
        va += (x - ma).powi(2);
        vb += (y - mb).powi(2);
    }
    if va <= 0.0 || vb <= 0.0 {
        return f64::NAN;
    }
    cov / (va * vb).sqrt()
}

/// A file-name-safe stem from a column name.
fn stem_of(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Every figure of the study in `rows`, with its file stem.
fn figures(rows: &[Row], runs: &Path) -> Vec<(String, Figure)> {
    let mut experiments: Vec<&str> = rows.iter().map(|r| r.experiment.as_str()).collect();
    experiments.sort_unstable();
    experiments.dedup();
    let several = experiments.len() > 1;
    let done: Vec<&Row> = rows.iter().filter(|r| r.status == Status::Done).collect();
    let mut metric_names: Vec<&String> = done.iter().flat_map(|r| r.metrics.keys()).collect();
    metric_names.sort_unstable();
    metric_names.dedup();
    // Settings in the order of their first job.
    let mut settings: Vec<String> = Vec::new();
    for row in rows {
        let s = setting(row, several);
        if !settings.contains(&s) {
            settings.push(s);
        }
    }
    let mut out = Vec::new();
    for metric in &metric_names {
        let groups: Vec<(String, Vec<f64>)> = settings
            .iter()
            .map(|s| {
                let values = done
                    .iter()
                    .filter(|r| setting(r, several) == *s)
                    .filter_map(|r| r.metrics.get(*metric).copied())
                    .collect();
                (s.clone(), values)
            })
            .filter(|(_, values): &(String, Vec<f64>)| !values.is_empty())
            .collect();
        out.push((
            format!("scores_{}", stem_of(metric)),
            Figure::Violins {
                title: format!("{metric} per setting"),
                y_label: (*metric).clone(),
                groups,
            },
        ));
    }
    if metric_names.len() >= 2 {
        let values = metric_names
            .iter()
            .map(|a| {
                metric_names
                    .iter()
                    .map(|b| {
                        let pairs: Vec<(f64, f64)> = done
                            .iter()
                            .filter_map(|r| Some((*r.metrics.get(*a)?, *r.metrics.get(*b)?)))
                            .collect();
                        let (xs, ys): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
                        spearman(&xs, &ys)
                    })
                    .collect()
            })
            .collect();
        out.push((
            "spearman".to_string(),
            Figure::Correlations {
                title: format!("Rank correlation of the metrics ({} runs)", done.len()),
                labels: metric_names.iter().map(|m| (*m).clone()).collect(),
                values,
            },
        ));
    }
    let mut curves: BTreeMap<usize, Vec<Points>> = BTreeMap::new();
    for row in rows {
        let run = RunDir::new(runs, row.index, &row.hash);
        let Ok(records) = read_loss_log(&run.losses_path()) else {
            continue;
        };
        #[allow(clippy::cast_precision_loss)]
        let points: Vec<(f64, f64)> = records
            .iter()
            .filter(|r| r.loss.is_finite())
            .map(|r| (r.step as f64, r.loss))
            .collect();
        if points.is_empty() {
            continue;
        }
        let s = setting(row, several);
        let position = settings.iter().position(|x| *x == s).unwrap_or(0);
        curves.entry(position).or_default().push(points);
    }
    if !curves.is_empty() {
        out.push((
            "loss_curves".to_string(),
            Figure::Curves {
                title: "Training objective".to_string(),
                y_label: "loss".to_string(),
                groups: curves
                    .into_iter()
                    .map(|(position, runs)| {
                        (settings.get(position).cloned().unwrap_or_default(), runs)
                    })
                    .collect(),
            },
        ));
    }
    out
}

/// Runs `disc plot`.
pub fn run(args: PlotArgs) -> ExitCode {
    let rows = match collect_reporting(&args.runs) {
        Ok(rows) => rows,
        Err(code) => return code,
    };
    let done = rows.iter().filter(|r| r.status == Status::Done).count();
    if done == 0 {
        eprintln!(
            "error: `{}` holds no finished run to plot (see `disc results {}`)",
            args.runs.display(),
            args.runs.display()
        );
        return ExitCode::from(2);
    }
    if let Err(e) = std::fs::create_dir_all(&args.output) {
        eprintln!("error: cannot create `{}`: {e}", args.output.display());
        return ExitCode::from(2);
    }
    register_font();
    let mut failed = false;
    for (stem, figure) in figures(&rows, &args.runs) {
        match save(&figure, &args.output, &stem) {
            Ok(paths) => {
                let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                eprintln!("wrote {}", shown.join(", "));
            }
            Err(message) => {
                eprintln!("error: figure `{stem}`: {message}");
                failed = true;
            }
        }
    }
    let several = {
        let mut experiments: Vec<&str> = rows.iter().map(|r| r.experiment.as_str()).collect();
        experiments.sort_unstable();
        experiments.dedup();
        experiments.len() > 1
    };
    let (shown, missing) = super::sheet::choose(&rows, &args.jobs, |row| setting(row, several));
    for index in &missing {
        eprintln!("warning: job {index} is not a finished run; the contact sheet leaves it out");
    }
    match super::sheet::draw(&args.runs, &shown) {
        Ok(Some(sheet)) => {
            let path = args.output.join("contact_sheet.png");
            match encode_png(&sheet)
                .map_err(err)
                .and_then(|png| write_atomic(&path, &png).map_err(err))
            {
                Ok(()) => eprintln!("wrote {} ({} runs)", path.display(), shown.len()),
                Err(message) => {
                    eprintln!("error: figure `contact_sheet`: {message}");
                    failed = true;
                }
            }
        }
        Ok(None) => eprintln!("no contact sheet: the chosen runs wrote no pictures"),
        Err(message) => {
            eprintln!("error: figure `contact_sheet`: {message}");
            failed = true;
        }
    }
    eprintln!("{done} finished runs of {} plotted", rows.len());
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_matches_known_cases() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!((spearman(&a, &[2.0, 4.0, 8.0, 16.0, 32.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&a, &[5.0, 4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        // scipy.stats.spearmanr([1,2,3,4,5], [5,6,7,8,7]) = 0.8207826816681233 (ties averaged).
        let rho = spearman(&a, &[5.0, 6.0, 7.0, 8.0, 7.0]);
        assert!((rho - 0.820_782_681_668_123_3).abs() < 1e-12, "{rho}");
        assert!(spearman(&a, &[1.0; 5]).is_nan());
        assert!(spearman(&a[..2], &a[..2]).is_nan());
    }

    #[test]
    fn ties_share_their_mean_rank() {
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 30.0]), vec![1.5, 3.0, 1.5, 4.0]);
    }

    #[test]
    fn density_integrates_to_about_one_and_refuses_flat_samples() {
        let (_, curve) = density(&[0.1, 0.2, 0.25, 0.4, 0.5]).expect("spread");
        // Trapezoid rule over the cut range: the mass outside ±1 bandwidth of the data is small.
        let mass: f64 = curve
            .windows(2)
            .map(|w| match w {
                [(y0, d0), (y1, d1)] => (y1 - y0) * (d0 + d1) / 2.0,
                _ => 0.0,
            })
            .sum();
        assert!(mass > 0.8 && mass <= 1.0, "{mass}");
        assert!(density(&[0.3, 0.3, 0.3]).is_none());
        assert!(density(&[0.3]).is_none());
    }
}
