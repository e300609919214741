//! Gradient-boosted decision trees as scikit-learn 1.9.1's `GradientBoostingClassifier()`, with its
//! impurity-based `feature_importances_`.
//!
//! # The algorithm replayed (scikit-learn 1.9.1 `ensemble/_gb.py`, `tree/_splitter.pyx`)
//! - Features are cast to `f32` first (scikit-learn fits and predicts on `float32` X); thresholds are
//!   `f64` midpoints of consecutive `f32` values, `prev/2 + next/2` (or `prev` if that rounds to `next`);
//!   a row goes left when `x ≤ threshold`.
//! - Log-loss; K = 2 classes: one tree per stage on the binomial residual `y − σ(F)` with `y = 1` for
//!   `classes[1]`; K > 2: K trees per stage, tree k on `y_k − softmax(F)_k`, all K residuals computed from
//!   the scores at the start of the stage.
//! - Initial scores: class log-priors, binary `logit(p₁)`, multiclass `log p_k − mean_j log p_j` (the
//!   symmetric multinomial link), priors clipped to `[eps, 1 − eps]`.
//! - Trees: `DecisionTreeRegressor(criterion="squared_error", max_depth=3, min_samples_split=2,
//!   min_samples_leaf=1)`. In 1.9 the classifier's `criterion` ("friedman_mse") is deprecated and the
//!   trees use squared error; both choose the same split up to rounding, since the squared-error proxy
//!   `S_l²/n_l + S_r²/n_r` equals `S²/n + (n_l·n_r/n)·(ȳ_l − ȳ_r)²`, a constant plus Friedman's
//!   criterion over n. A node is a leaf at `max_depth`, below `min_samples_split` (or
//!   `2 · min_samples_leaf`) rows, when its variance is `≤ f64::EPSILON`, or when no feature has two
//!   values more than `1e-7` apart (compared in `f32`, as scikit-learn's `FEATURE_THRESHOLD`). The split maximises `S_l²/n_l + S_r²/n_r` over every feature and
//!   every boundary between sorted distinct values (exact greedy search).
//! - Leaf values: one Newton step, `mean(residual) / mean(p(1 − p))` with `p = y − residual`, times
//!   `(K − 1)/K` for K > 2, and 0 when the denominator is below `1e-150`; the stage adds
//!   `learning_rate · leaf value`.
//! - Predictions: binary `classes[1]` where `F ≥ 0` (scikit-learn's rule for this class), multiclass the
//!   first class of largest score; probabilities `[1 − σ(F), σ(F)]` or `softmax(F)`.
//! - Importances: per tree, `Σ_splits (n·imp − n_l·imp_l − n_r·imp_r) / n_root` with `imp` the node's
//!   target variance; averaged over the trees that split at least once and normalised to sum 1 (all
//!   zero when no tree splits or no split improves anything, where scikit-learn would divide 0 by 0).
//!
//! # Ties (documented difference)
//! scikit-learn visits features in a fresh random permutation at every node (`random_state=None`) and
//! keeps the first strictly best split, so when several features give *exactly* the same best
//! improvement (duplicated codes, the reference's `[x, x]` test) it credits one of them at random and
//! repeated runs differ. Features that reach the same partition of a node by different orders (common
//! in small deep nodes) have improvements equal up to rounding, and which one wins depends on the order
//! scikit-learn accumulates its sums in, which is not reproducible from outside. Here the tree uses the
//! first feature of largest improvement, and the split's importance is **shared equally among the
//! features within a relative 1e-12 of it**: the expected value of scikit-learn's accidental credit,
//! deterministically. Within one feature the first (lowest) threshold wins, as in scikit-learn.
//! Consequence: the partition of the training rows, hence the fitted values on them, is the same
//! whichever tied feature carries the split, but a new point can fall on the other side of such a split
//! (`tests.rs` sees this on one test point in 15; scikit-learn's own runs differ the same way).
//!
//! # Speed
//! Each feature is sorted once per fit (X is the same for every tree). A tree is grown level by level
//! on per-feature row orders kept partitioned by node (see `build_tree`): sequential, branch-free
//! sweeps, O(n·d) per level, into a second buffer of a per-thread workspace reused across trees and
//! fits. Only row ids move; values and residuals are looked up by row, which keeps a tree's working
//! set in L2 at the metrics' sizes. The split scan
//! runs four features side by side and computes the exact proxy only near each feature's best
//! approximate one (`scan_features`, bit for bit the direct scan). The K trees of a stage are fitted,
//! and the K score columns predicted, in parallel.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::{
    Classifier, EncodedLabels, Fitted, LearnError, argmax, at_least, positive, validate_training,
};

/// `GradientBoostingClassifier()` hyper-parameters (scikit-learn 1.9.1 defaults: 100 stages, learning
/// rate 0.1, depth 3, `min_samples_split = 2`, `min_samples_leaf = 1`, `subsample = 1`, log-loss).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradientBoosting {
    /// Number of boosting stages (`n_estimators`), ≥ 1.
    pub n_estimators: usize,
    /// Shrinkage of each tree's contribution, > 0.
    pub learning_rate: f64,
    /// Depth of each regression tree, ≥ 1.
    pub max_depth: usize,
    /// Fewest rows a node needs to be split, ≥ 2.
    pub min_samples_split: usize,
    /// Fewest rows in each child of a split, ≥ 1.
    pub min_samples_leaf: usize,
}

impl Default for GradientBoosting {
    fn default() -> Self {
        GradientBoosting {
            n_estimators: 100,
            learning_rate: 0.1,
            max_depth: 3,
            min_samples_split: 2,
            min_samples_leaf: 1,
        }
    }
}

/// Marks a leaf in [`Node::left`].
const LEAF: u32 = u32::MAX;
/// scikit-learn's `FEATURE_THRESHOLD`: values closer than this (in `f32`) cannot be split apart.
const FEATURE_THRESHOLD: f32 = 1e-7;

/// One node of a regression tree.
#[derive(Debug, Clone, PartialEq)]
struct Node {
    feature: usize,
    threshold: f64,
    /// Child node ids, `LEAF` for a leaf.
    left: u32,
    right: u32,
    /// Leaf value (Newton step); unused for internal nodes.
    value: f64,
}

/// A regression tree: `nodes[0]` is the root.
#[derive(Debug, Clone, PartialEq)]
struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    /// The leaf value for one row of `f32`-rounded features.
    fn predict_row(&self, row: &[f64]) -> f64 {
        let mut id = 0usize;
        loop {
            let node = &self.nodes[id];
            if node.left == LEAF {
                return node.value;
            }
            id = if row[node.feature] <= node.threshold {
                node.left
            } else {
                node.right
            } as usize;
        }
    }
}

/// A fitted gradient-boosting classifier.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedGradientBoosting {
    classes: Vec<u32>,
    /// Initial score per tree slot (1 binary, K multiclass, 0 for a single class).
    init: Vec<f64>,
    /// `trees[stage][slot]`.
    trees: Vec<Vec<Tree>>,
    learning_rate: f64,
    n_features: usize,
    importances: Vec<f64>,
}

impl FittedGradientBoosting {
    /// Impurity-based feature importances (scikit-learn's `feature_importances_`), one per feature,
    /// summing to 1 (all zero when no tree ever split, e.g. a single training class).
    pub fn feature_importances(&self) -> Vec<f64> {
        self.importances.clone()
    }

    /// Number of fitted stages.
    pub fn n_stages(&self) -> usize {
        self.trees.len()
    }

    /// Raw scores F (scikit-learn's `decision_function` before squeezing), shape (n_samples, slots):
    /// one column for two classes, K columns for K > 2, none for one class.
    ///
    /// # Panics
    /// If `x` does not have the training number of columns.
    pub fn decision_function(&self, x: ArrayView2<f64>) -> Array2<f64> {
        assert_eq!(
            x.ncols(),
            self.n_features,
            "prediction features must match the training width"
        );
        let (n, d) = (x.nrows(), self.n_features);
        let slots = self.init.len();
        // Row-major f32-grid copy of the features (what scikit-learn predicts on).
        let grid: Vec<f64> = x.iter().map(|&v| to_f32_grid(v)).collect();
        // The slots' columns are independent: computed in parallel, each in the same order as before.
        let columns: Vec<Vec<f64>> = self
            .init
            .par_iter()
            .enumerate()
            .map(|(k, &init)| {
                let mut column = vec![init; n];
                // Same order of additions as scikit-learn's `predict_stages`: init, then stage by stage;
                // rows innermost so a tree stays in cache and independent rows overlap in the pipeline.
                for stage in &self.trees {
                    let tree = &stage[k];
                    for (score, row) in column.iter_mut().zip(grid.chunks_exact(d.max(1))) {
                        *score += self.learning_rate * tree.predict_row(row);
                    }
                }
                column
            })
            .collect();
        let mut scores = Array2::zeros((n, slots));
        for (k, column) in columns.into_iter().enumerate() {
            scores
                .column_mut(k)
                .iter_mut()
                .zip(column)
                .for_each(|(slot, value)| *slot = value);
        }
        scores
    }
}

impl Fitted for FittedGradientBoosting {
    fn classes(&self) -> &[u32] {
        &self.classes
    }

    fn predict(&self, x: ArrayView2<f64>) -> Vec<u32> {
        if self.classes.len() == 1 {
            return vec![self.classes[0]; x.nrows()];
        }
        let scores = self.decision_function(x);
        if self.classes.len() == 2 {
            scores
                .column(0)
                .iter()
                .map(|&f| {
                    if f >= 0.0 {
                        self.classes[1]
                    } else {
                        self.classes[0]
                    }
                })
                .collect()
        } else {
            scores
                .rows()
                .into_iter()
                .map(|row| self.classes[argmax(&row.to_vec())])
                .collect()
        }
    }

    fn predict_proba(&self, x: ArrayView2<f64>) -> Option<Array2<f64>> {
        let n = x.nrows();
        if self.classes.len() == 1 {
            return Some(Array2::ones((n, 1)));
        }
        let scores = self.decision_function(x);
        if self.classes.len() == 2 {
            let mut proba = Array2::zeros((n, 2));
            for (i, &f) in scores.column(0).iter().enumerate() {
                let p = sigmoid(f);
                proba[[i, 0]] = 1.0 - p;
                proba[[i, 1]] = p;
            }
            Some(proba)
        } else {
            let mut proba = scores;
            for mut row in proba.rows_mut() {
                let values = row
                    .as_slice_mut()
                    .expect("INVARIANT: rows of a fresh array are contiguous");
                softmax_in_place(values);
            }
            Some(proba)
        }
    }
}

impl Classifier for GradientBoosting {
    type Fitted = FittedGradientBoosting;

    fn fit(&self, x: ArrayView2<f64>, y: &[u32]) -> Result<FittedGradientBoosting, LearnError> {
        at_least("n_estimators", self.n_estimators, 1)?;
        positive("learning_rate", self.learning_rate)?;
        at_least("max_depth", self.max_depth, 1)?;
        at_least("min_samples_split", self.min_samples_split, 2)?;
        at_least("min_samples_leaf", self.min_samples_leaf, 1)?;
        validate_training(x, y)?;
        for ((row, column), &value) in x.indexed_iter() {
            if value.abs() > f64::from(f32::MAX) {
                return Err(LearnError::Float32Overflow { row, column, value });
            }
        }
        let labels = EncodedLabels::new(y);
        let (n, d) = x.dim();
        let k = labels.classes.len();
        if k == 1 {
            return Ok(FittedGradientBoosting {
                classes: labels.classes,
                init: Vec::new(),
                trees: Vec::new(),
                learning_rate: self.learning_rate,
                n_features: d,
                importances: vec![0.0; d],
            });
        }
        let slots = if k == 2 { 1 } else { k };
        let presorted = Presorted::new(x);
        // One-hot targets per slot: y_k(i) ∈ {0, 1}; binary uses `classes[1]` as the positive class.
        let targets: Vec<Vec<f64>> = (0..slots)
            .map(|slot| {
                let class = if k == 2 { 1 } else { slot };
                labels
                    .codes
                    .iter()
                    .map(|&c| if c == class { 1.0 } else { 0.0 })
                    .collect()
            })
            .collect();
        let init = initial_scores(&labels.codes, k);
        // scores[slot][i]: current raw score F_slot(x_i).
        let mut scores: Vec<Vec<f64>> = init.iter().map(|&f| vec![f; n]).collect();
        let newton_factor = if k == 2 {
            1.0
        } else {
            (k - 1) as f64 / k as f64
        };
        let mut trees = Vec::with_capacity(self.n_estimators);
        let mut importance_sum = vec![0.0; d];
        let mut relevant_trees = 0usize;
        let mut residuals: Vec<Vec<f64>> = vec![vec![0.0; n]; slots];
        let mut probabilities = vec![0.0; slots];
        for _ in 0..self.n_estimators {
            // Negative gradients of the half log-loss at the stage's starting scores.
            for i in 0..n {
                if slots == 1 {
                    residuals[0][i] = targets[0][i] - sigmoid(scores[0][i]);
                } else {
                    for slot in 0..slots {
                        probabilities[slot] = scores[slot][i];
                    }
                    softmax_in_place(&mut probabilities);
                    for slot in 0..slots {
                        residuals[slot][i] = targets[slot][i] - probabilities[slot];
                    }
                }
            }
            let built: Vec<BuiltTree> = (0..slots)
                .into_par_iter()
                .map(|slot| {
                    TreeWorkspace::with(n, d, |workspace| {
                        build_tree(
                            &presorted,
                            &residuals[slot],
                            &targets[slot],
                            self,
                            newton_factor,
                            workspace,
                        )
                    })
                })
                .collect();
            let mut stage = Vec::with_capacity(slots);
            for (slot, tree) in built.into_iter().enumerate() {
                for (score, &leaf) in scores[slot].iter_mut().zip(&tree.leaf_of) {
                    *score += self.learning_rate * tree.tree.nodes[leaf as usize].value;
                }
                if tree.tree.nodes.len() > 1 {
                    relevant_trees += 1;
                    importance_sum
                        .iter_mut()
                        .zip(&tree.importance)
                        .for_each(|(s, v)| *s += v);
                }
                stage.push(tree.tree);
            }
            trees.push(stage);
        }
        let total: f64 = importance_sum.iter().sum();
        let importances = if relevant_trees > 0 && total > 0.0 {
            // scikit-learn averages over the relevant trees then normalises; the average's divisor cancels.
            importance_sum.iter().map(|v| v / total).collect()
        } else {
            vec![0.0; d]
        };
        Ok(FittedGradientBoosting {
            classes: labels.classes,
            init,
            trees,
            learning_rate: self.learning_rate,
            n_features: d,
            importances,
        })
    }
}

/// The prior scores: binary `logit(p₁)`, multiclass `log p_k − mean log p`, priors clipped to
/// `[eps, 1 − eps]` (scikit-learn's `_init_raw_predictions` with a prior `DummyClassifier`).
fn initial_scores(codes: &[usize], k: usize) -> Vec<f64> {
    let n = codes.len() as f64;
    let mut counts = vec![0usize; k];
    codes.iter().for_each(|&c| counts[c] += 1);
    let clip = |p: f64| p.clamp(f64::EPSILON, 1.0 - f64::EPSILON);
    if k == 2 {
        let p = clip(counts[1] as f64 / n);
        vec![(p / (1.0 - p)).ln()]
    } else {
        let logs: Vec<f64> = counts.iter().map(|&c| clip(c as f64 / n).ln()).collect();
        let mean = logs.iter().sum::<f64>() / k as f64;
        logs.iter().map(|l| l - mean).collect()
    }
}

/// Rounds a feature to the `f32` grid scikit-learn fits and predicts on, back in `f64`.
fn to_f32_grid(value: f64) -> f64 {
    f64::from(value as f32)
}

/// Each feature's rows sorted by value, computed once per fit. Flat arrays of d blocks of n entries.
struct Presorted {
    n: usize,
    d: usize,
    /// `order[f·n + p]`: the row at sorted position p of feature f (sorted by value, then row index).
    order: Vec<u32>,
    /// `columns[f·n + i]`: the `f32` value of feature f in row i (row order, looked up through
    /// `order` or a node's row list).
    columns: Vec<f32>,
    /// `reciprocals[k] = 1/k` for k in 0..=n (the row counts a split can leave on one side).
    reciprocals: Vec<f64>,
}

impl Presorted {
    fn new(x: ArrayView2<f64>) -> Self {
        let (n, d) = x.dim();
        let blocks: Vec<(Vec<u32>, Vec<f32>)> = (0..d)
            .into_par_iter()
            .map(|f| {
                let column: Vec<f32> = x.column(f).iter().map(|&v| v as f32).collect();
                let mut order: Vec<u32> = (0..n as u32).collect();
                order.sort_by(|&a, &b| {
                    column[a as usize]
                        .total_cmp(&column[b as usize])
                        .then(a.cmp(&b))
                });
                (order, column)
            })
            .collect();
        let mut order = Vec::with_capacity(n * d);
        let mut columns = Vec::with_capacity(n * d);
        for (block_order, column) in blocks {
            order.extend(block_order);
            columns.extend(column);
        }
        Presorted {
            n,
            d,
            order,
            columns,
            reciprocals: (0..=n).map(|k| 1.0 / k as f64).collect(),
        }
    }
}

/// The working arrays of [`build_tree`]: the per-feature row orders of the current level (d blocks
/// of n row ids) and the buffer the next level is partitioned into, with the scan's scratch.
///
/// Only row ids move: values and residuals are looked up by row (`Presorted::columns`, the
/// residual vector), which keeps a tree's working set (two 4-byte arrays of n·d, one 8-byte array
/// of n, the f32 columns) in the core's L2 at the metrics' sizes (10,000 rows × 10 codes: 1.3 MB)
/// where moving values and residuals alongside took 3.2 MB per buffer pair and ran from L3.
struct TreeWorkspace {
    rows: Vec<u32>,
    next_rows: Vec<u32>,
    /// [`scan_features`]'s per-boundary scratch.
    scan_scratch: Vec<f64>,
}

thread_local! {
    /// One workspace per thread, kept across trees and fits: rayon hands the K trees of a stage to
    /// its threads in many small jobs, and a workspace made per job was allocated and zeroed
    /// thousands of times per fit.
    static WORKSPACE: std::cell::RefCell<TreeWorkspace> = const {
        std::cell::RefCell::new(TreeWorkspace {
            rows: Vec::new(),
            next_rows: Vec::new(),
            scan_scratch: Vec::new(),
        })
    };
}

impl TreeWorkspace {
    /// Runs `f` with this thread's workspace, sized for n rows and d features. Not re-entrant
    /// (`build_tree` never fits another model), so the borrow cannot conflict.
    fn with<T>(n: usize, d: usize, f: impl FnOnce(&mut TreeWorkspace) -> T) -> T {
        WORKSPACE.with(|cell| {
            let mut workspace = cell.borrow_mut();
            workspace.rows.resize(n * d, 0);
            workspace.next_rows.resize(n * d, 0);
            f(&mut workspace)
        })
    }
}

/// A fitted tree with what the ensemble needs from it.
struct BuiltTree {
    tree: Tree,
    /// Leaf node id of every training row.
    leaf_of: Vec<u32>,
    /// Unnormalised importance per feature, `Σ (n·imp − n_l·imp_l − n_r·imp_r) / n_root`.
    importance: Vec<f64>,
}

/// Count, sum and sum of squares of the targets in a node.
#[derive(Debug, Clone, Copy, Default)]
struct NodeStats {
    count: usize,
    sum: f64,
    sum_squares: f64,
}

impl NodeStats {
    /// Target variance (scikit-learn's MSE `node_impurity`).
    fn impurity(&self) -> f64 {
        let n = self.count as f64;
        let mean = self.sum / n;
        self.sum_squares / n - mean * mean
    }
}

/// Relative gap under which two features' best splits count as tied for importance credit.
const TIE_TOLERANCE: f64 = 1e-12;

/// One feature's best split of one node.
#[derive(Debug, Clone, Copy)]
struct Proposal {
    /// scikit-learn's squared-error proxy `S_l²/n_l + S_r²/n_r` (−∞ when the feature cannot split).
    proxy: f64,
    /// Rows going left (a prefix of the node's segment in this feature's order).
    left_count: usize,
    threshold: f64,
}

/// The split chosen for one open node.
#[derive(Debug, Clone)]
struct BestSplit {
    feature: usize,
    left_count: usize,
    threshold: f64,
    /// Features credited with the split (those tied with `feature`, itself included).
    tied: Vec<usize>,
}

/// Picks a node's split from each feature's [`Proposal`]: the first feature with the largest proxy
/// (scikit-learn's strict `>`), crediting every feature within [`TIE_TOLERANCE`] of it. Features reaching
/// the same partition accumulate their sums in different orders, so their proxies differ only by
/// rounding, and scikit-learn's winner is then an accident of rounding and of its random feature order;
/// sharing the credit gives the expected importance deterministically. `None` if no feature can split.
fn choose_split(proposals: &[Proposal]) -> Option<BestSplit> {
    let mut best: Option<(usize, Proposal)> = None;
    for (feature, proposal) in proposals.iter().enumerate() {
        if proposal.proxy > best.map_or(f64::NEG_INFINITY, |(_, b)| b.proxy) {
            best = Some((feature, *proposal));
        }
    }
    let (feature, proposal) = best?;
    let floor = proposal.proxy - TIE_TOLERANCE * proposal.proxy.abs();
    let tied = (0..proposals.len())
        .filter(|&f| proposals[f].proxy >= floor)
        .collect();
    Some(BestSplit {
        feature,
        left_count: proposal.left_count,
        threshold: proposal.threshold,
        tied,
    })
}

/// Features scanned together by [`scan_features`]: that many independent running sums in flight.
const LANES: usize = 4;

/// Relative slack under which a boundary's approximate proxy keeps it a candidate for the exact one (far
/// above the approximation's error of a few units in the last place, far below any real gap).
const CANDIDATE_SLACK: f64 = 1e-12;

/// Best split of one node along each of `L` features at once, the same proposals as
/// [`scan_feature`] gives feature by feature, bit for bit: `rows[l]` are the node's rows in feature
/// l's sorted order (all of the node's length m), `columns[l]` feature l's values by row,
/// `residuals` the residuals by row, `total` the residual sum over the node, `reciprocals[k] = 1/k`.
///
/// Why two passes: the exact proxy `S_l²/n_l + S_r²/n_r` costs two divisions per boundary, which bound
/// the direct scan. Pass 1 runs the L running sums side by side (independent dependency chains) and
/// computes the proxy with the shared reciprocals of `n_l` and `n_r` (multiplications, within a few
/// units in the last place of the exact proxy), keeping each feature's largest approximation M and the
/// per-boundary values in `scratch`. Pass 2 evaluates the exact proxy only where the approximation is
/// at least M·(1 − [`CANDIDATE_SLACK`]): every other boundary is provably below the exact maximum, so
/// the first exact maximiser among the candidates is the direct scan's.
fn scan_features<const L: usize>(
    rows: [&[u32]; L],
    columns: [&[f32]; L],
    residuals: &[f64],
    total: f64,
    min_leaf: usize,
    reciprocals: &[f64],
    scratch: &mut Vec<f64>,
) -> [Proposal; L] {
    let none = Proposal {
        proxy: f64::NEG_INFINITY,
        left_count: 0,
        threshold: 0.0,
    };
    let m = rows[0].len();
    let first = min_leaf.max(1);
    if m < first + min_leaf {
        return [none; L];
    }
    let last = m - min_leaf;
    let positions = last - first + 1;
    let value = |l: usize, pos: usize| columns[l][rows[l][pos] as usize];
    // scratch: per boundary, L approximate proxies then L left sums. Pass 1 writes every entry, so
    // the buffer only grows and is never cleared (zeroing it was 6 % of a DCI fit).
    if scratch.len() < positions * 2 * L {
        scratch.resize(positions * 2 * L, 0.0);
    }
    let scratch = &mut scratch[..positions * 2 * L];
    let mut left_sum: [f64; L] = std::array::from_fn(|l| {
        rows[l][..first - 1]
            .iter()
            .map(|&row| residuals[row as usize])
            .sum()
    });
    // The value left of the boundary, carried from one boundary to the next.
    let mut previous: [f32; L] = std::array::from_fn(|l| value(l, first - 1));
    let mut best_approx = [f64::NEG_INFINITY; L];
    for (offset, slot) in scratch.chunks_exact_mut(2 * L).enumerate() {
        let pos = first + offset;
        let (inverse_left, inverse_right) = (reciprocals[pos], reciprocals[m - pos]);
        let (approx_slot, sum_slot) = slot.split_at_mut(L);
        for l in 0..L {
            left_sum[l] += residuals[rows[l][pos - 1] as usize];
            let right_sum = total - left_sum[l];
            let next = value(l, pos);
            let apart = next > previous[l] + FEATURE_THRESHOLD;
            previous[l] = next;
            let approx =
                left_sum[l] * left_sum[l] * inverse_left + right_sum * right_sum * inverse_right;
            let approx = if apart { approx } else { f64::NEG_INFINITY };
            best_approx[l] = if approx > best_approx[l] {
                approx
            } else {
                best_approx[l]
            };
            approx_slot[l] = approx;
            sum_slot[l] = left_sum[l];
        }
    }
    std::array::from_fn(|l| {
        if best_approx[l] == f64::NEG_INFINITY {
            return none;
        }
        // Proxies are ≥ 0; the absolute term covers subnormal results, where relative bounds fail.
        let floor = best_approx[l] * (1.0 - CANDIDATE_SLACK) - 1e-300;
        let mut best_proxy = f64::NEG_INFINITY;
        let mut best_pos = 0usize;
        for (offset, slot) in scratch.chunks_exact(2 * L).enumerate() {
            if slot[l] >= floor {
                let pos = first + offset;
                let left = slot[L + l];
                let right = total - left;
                // The direct scan's expression, with its exactly stepped float counts.
                let proxy = left * left / pos as f64 + right * right / (m - pos) as f64;
                if proxy > best_proxy {
                    best_proxy = proxy;
                    best_pos = pos;
                }
            }
        }
        if best_pos == 0 {
            // Unreachable with finite residuals (M's own boundary is a candidate); kept total.
            return none;
        }
        Proposal {
            proxy: best_proxy,
            left_count: best_pos,
            threshold: midpoint(value(l, best_pos - 1), value(l, best_pos)),
        }
    })
}

/// Best split of one node along one feature, directly (the reference [`scan_features`] is tested
/// against): `values` and `residuals` are the node's rows in the feature's sorted order, `total` the
/// residual sum over them. Candidate boundaries lie between consecutive rows whose `f32` values differ
/// by more than [`FEATURE_THRESHOLD`] (compared in `f32`, as scikit-learn) with at least `min_leaf` rows
/// on each side; the first of the largest proxy wins.
#[cfg(test)]
fn scan_feature(values: &[f32], residuals: &[f64], total: f64, min_leaf: usize) -> Proposal {
    let m = values.len();
    let none = Proposal {
        proxy: f64::NEG_INFINITY,
        left_count: 0,
        threshold: 0.0,
    };
    // Boundary positions p (rows [0, p) go left) with at least `min_leaf` rows on each side.
    let first = min_leaf.max(1);
    if m < first + min_leaf {
        return none;
    }
    let last = m - min_leaf;
    let mut left_sum: f64 = residuals[..first - 1].iter().sum();
    // The running best is updated by selects rather than branches (the new-best test is unpredictable
    // and this loop is the hot spot of the whole fit); the proxy's division is off the loop-carried
    // dependency chain, which is just the running sum and the select.
    let mut best_proxy = f64::NEG_INFINITY;
    let mut best_pos = 0usize;
    // Zipped slices (previous value, value, residual entering the left side) keep the loop free of
    // bounds checks.
    let previous_values = &values[first - 1..last];
    let next_values = &values[first..=last];
    let entering = &residuals[first - 1..last];
    // Row counts as floats, stepped rather than converted each iteration.
    let mut left_n = (first - 1) as f64;
    let mut right_n = (m - first + 1) as f64;
    for (offset, ((&previous, &value), &residual)) in previous_values
        .iter()
        .zip(next_values)
        .zip(entering)
        .enumerate()
    {
        left_sum += residual;
        left_n += 1.0;
        right_n -= 1.0;
        let apart = value > previous + FEATURE_THRESHOLD;
        let right_sum = total - left_sum;
        // scikit-learn's `MSE.proxy_impurity_improvement`; −∞ where the boundary does not separate
        // distinct values, so the running best is a plain compare-and-select (a `max`, short chain).
        let proxy = left_sum * left_sum / left_n + right_sum * right_sum / right_n;
        let proxy = if apart { proxy } else { f64::NEG_INFINITY };
        let better = proxy > best_proxy;
        best_proxy = if better { proxy } else { best_proxy };
        best_pos = if better { first + offset } else { best_pos };
    }
    if best_pos == 0 {
        return none;
    }
    Proposal {
        proxy: best_proxy,
        left_count: best_pos,
        threshold: midpoint(values[best_pos - 1], values[best_pos]),
    }
}

/// Grows one regression tree on `residuals` (n) and sets Newton leaf values from `targets` (n, 0/1).
///
/// Working layout: for every feature, the rows in that feature's sorted order (d blocks of n row
/// ids; values and residuals are looked up by row). Every open node owns the same segment
/// `[start, end)` of each block, so the split search of a node is a sequential sweep of its
/// segments; after a level, each split node's segment is stably partitioned into its children's
/// segments (left rows first) in the workspace's other buffer, which keeps every block sorted within
/// each segment. The root level reads the presorted order in place. Cost O(n·d) per level, no
/// per-row node lookups.
fn build_tree(
    presorted: &Presorted,
    residuals: &[f64],
    targets: &[f64],
    params: &GradientBoosting,
    newton_factor: f64,
    workspace: &mut TreeWorkspace,
) -> BuiltTree {
    let (n, d) = (presorted.n, presorted.d);
    let TreeWorkspace {
        rows,
        next_rows,
        scan_scratch,
    } = workspace;
    let mut nodes = vec![Node {
        feature: 0,
        threshold: 0.0,
        left: LEAF,
        right: LEAF,
        value: 0.0,
    }];
    let mut stats = vec![NodeStats {
        count: n,
        sum: residuals.iter().sum(),
        sum_squares: residuals.iter().map(|r| r * r).sum(),
    }];
    // Features credited with each internal node's split.
    let mut credited: Vec<Vec<usize>> = vec![Vec::new()];
    let mut node_of = vec![0u32; n];
    let mut go_left = vec![false; n];
    // Open nodes of the current level: (node id, segment start, segment end).
    let mut open: Vec<(usize, usize, usize)> = vec![(0, 0, n)];
    let mut proposals = vec![
        Proposal {
            proxy: f64::NEG_INFINITY,
            left_count: 0,
            threshold: 0.0
        };
        d
    ];
    for depth in 0..params.max_depth {
        // This level's row orders: the presorted ones at the root, then the last partition's.
        let level: &[u32] = if depth == 0 { &presorted.order } else { rows };
        let column = |feature: usize| &presorted.columns[feature * n..(feature + 1) * n];
        let mut splits: Vec<(usize, usize, usize, BestSplit)> = Vec::new();
        for &(id, start, end) in &open {
            let total = stats[id];
            if total.count < params.min_samples_split
                || total.count < 2 * params.min_samples_leaf
                || total.impurity() <= f64::EPSILON
            {
                continue;
            }
            let segment = |feature: usize| feature * n + start..feature * n + end;
            let mut feature = 0;
            while feature < d {
                // LANES features at a time, the remainder one by one.
                let lanes = if d - feature >= LANES { LANES } else { 1 };
                if lanes == LANES {
                    let found = scan_features::<LANES>(
                        std::array::from_fn(|l| &level[segment(feature + l)]),
                        std::array::from_fn(|l| column(feature + l)),
                        residuals,
                        total.sum,
                        params.min_samples_leaf,
                        &presorted.reciprocals,
                        scan_scratch,
                    );
                    proposals[feature..feature + LANES].copy_from_slice(&found);
                } else {
                    let [found] = scan_features::<1>(
                        [&level[segment(feature)]],
                        [column(feature)],
                        residuals,
                        total.sum,
                        params.min_samples_leaf,
                        &presorted.reciprocals,
                        scan_scratch,
                    );
                    proposals[feature] = found;
                }
                feature += lanes;
            }
            if let Some(split) = choose_split(&proposals) {
                splits.push((id, start, end, split));
            }
        }
        if splits.is_empty() {
            break;
        }
        let mut next_open = Vec::with_capacity(2 * splits.len());
        for (id, start, end, split) in &splits {
            let left = nodes.len();
            let (left_stats, right_stats) = {
                // Rows left of the boundary in the split feature's order go left.
                let block = split.feature * n;
                let middle = start + split.left_count;
                for (pos, &row) in level[block + start..block + end].iter().enumerate() {
                    let row = row as usize;
                    let is_left = pos < split.left_count;
                    go_left[row] = is_left;
                    node_of[row] = if is_left {
                        left as u32
                    } else {
                        left as u32 + 1
                    };
                }
                // Each side's sums in the split feature's order (the same additions as one sweep that
                // alternates sides), as two straight loops over contiguous residuals: no
                // data-dependent store-to-load chain through a per-side accumulator.
                let side_stats = |segment: &[u32]| {
                    let mut stats = NodeStats {
                        count: segment.len(),
                        ..NodeStats::default()
                    };
                    for &row in segment {
                        let r = residuals[row as usize];
                        stats.sum += r;
                        stats.sum_squares += r * r;
                    }
                    stats
                };
                (
                    side_stats(&level[block + start..block + middle]),
                    side_stats(&level[block + middle..block + end]),
                )
            };
            nodes.push(Node {
                feature: 0,
                threshold: 0.0,
                left: LEAF,
                right: LEAF,
                value: 0.0,
            });
            nodes.push(Node {
                feature: 0,
                threshold: 0.0,
                left: LEAF,
                right: LEAF,
                value: 0.0,
            });
            stats.push(left_stats);
            stats.push(right_stats);
            credited.push(Vec::new());
            credited.push(Vec::new());
            nodes[*id].feature = split.feature;
            nodes[*id].threshold = split.threshold;
            nodes[*id].left = left as u32;
            nodes[*id].right = left as u32 + 1;
            credited[*id] = split.tied.clone();
            let middle = start + split.left_count;
            next_open.push((left, *start, middle));
            next_open.push((left + 1, middle, *end));
        }
        if depth + 1 == params.max_depth {
            break;
        }
        // Stable partition of each split segment in every feature block into the other buffer: left
        // rows first. The left count is known, so every row is written once, at the next free slot of
        // its side (a branch-free select: the side of a row is a coin flip to the branch predictor).
        // Segments of nodes that did not split are closed and need no copy.
        for feature in 0..d {
            let block = feature * n;
            for (_, start, end, split) in &splits {
                let (start, end) = (block + start, block + end);
                let out_rows = &mut next_rows[start..end];
                let (mut left_slot, mut right_slot) = (0usize, split.left_count);
                for &row in &level[start..end] {
                    let is_left = go_left[row as usize];
                    let slot = if is_left { left_slot } else { right_slot };
                    out_rows[slot] = row;
                    left_slot += usize::from(is_left);
                    right_slot += usize::from(!is_left);
                }
            }
        }
        std::mem::swap(rows, next_rows);
        open = next_open;
    }
    // Newton leaf values: mean(residual)·factor / mean(p(1 − p)), p = target − residual.
    let mut numerators = vec![0.0; nodes.len()];
    let mut denominators = vec![0.0; nodes.len()];
    for i in 0..n {
        let leaf = node_of[i] as usize;
        let p = targets[i] - residuals[i];
        numerators[leaf] += residuals[i];
        denominators[leaf] += p * (1.0 - p);
    }
    for (id, node) in nodes.iter_mut().enumerate() {
        if node.left == LEAF && stats[id].count > 0 {
            let count = stats[id].count as f64;
            let numerator = numerators[id] / count * newton_factor;
            let denominator = denominators[id] / count;
            node.value = if denominator.abs() < 1e-150 {
                0.0
            } else {
                numerator / denominator
            };
        }
    }
    let mut importance = vec![0.0; d];
    for (id, node) in nodes.iter().enumerate() {
        if node.left == LEAF {
            continue;
        }
        let weighted = |s: &NodeStats| s.count as f64 * s.impurity();
        let gain = weighted(&stats[id])
            - weighted(&stats[node.left as usize])
            - weighted(&stats[node.right as usize]);
        let share = gain / n as f64 / credited[id].len() as f64;
        credited[id].iter().for_each(|&f| importance[f] += share);
    }
    BuiltTree {
        tree: Tree { nodes },
        leaf_of: node_of,
        importance,
    }
}

/// scikit-learn's split threshold between consecutive sorted `f32` values: `prev/2 + next/2` in `f64`,
/// or `prev` when that rounds up to `next`.
fn midpoint(previous: f32, next: f32) -> f64 {
    let (a, b) = (f64::from(previous), f64::from(next));
    let threshold = a / 2.0 + b / 2.0;
    if threshold == b || threshold.is_infinite() {
        a
    } else {
        threshold
    }
}

/// The logistic function without overflow.
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Replaces `values` by their softmax (max-shifted, so no overflow).
fn softmax_in_place(values: &mut [f64]) {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    for v in values.iter_mut() {
        *v = (*v - max).exp();
        total += *v;
    }
    values.iter_mut().for_each(|v| *v /= total);
}

#[cfg(test)]
mod tests {
    use disc_data::rng::RandomState;

    use super::{LANES, Proposal, scan_feature, scan_features};

    /// One feature of a node: its values by row (a coarse grid for some seeds, so ties and
    /// non-separable boundaries occur) and the rows in sorted order (by value, then row).
    fn feature(rng: &mut RandomState, m: usize, coarse: bool) -> (Vec<f32>, Vec<u32>) {
        let column: Vec<f32> = (0..m)
            .map(|_| {
                if coarse {
                    rng.randint(0, 5) as f32
                } else {
                    rng.normal(0.0, 1.0) as f32
                }
            })
            .collect();
        let mut rows: Vec<u32> = (0..m as u32).collect();
        rows.sort_by(|&a, &b| {
            column[a as usize]
                .total_cmp(&column[b as usize])
                .then(a.cmp(&b))
        });
        (column, rows)
    }

    fn same(a: &Proposal, b: &Proposal) -> bool {
        a.proxy.to_bits() == b.proxy.to_bits()
            && a.left_count == b.left_count
            && a.threshold.to_bits() == b.threshold.to_bits()
    }

    /// The two-pass scan of several features gives each feature's direct scan, bit for bit (proxy,
    /// boundary, threshold), on random segments with and without ties, short and long, for several
    /// `min_samples_leaf`, including segments too short to split.
    #[test]
    fn lockstep_scan_equals_the_direct_scan() {
        let mut rng = RandomState::new(7);
        let reciprocals: Vec<f64> = (0..=3000).map(|k| 1.0 / k as f64).collect();
        let mut scratch = Vec::new();
        for case in 0..300 {
            let m = match case % 4 {
                0 => rng.randint(1, 6) as usize,
                1 => rng.randint(6, 40) as usize,
                _ => rng.randint(40, 3000) as usize,
            };
            let min_leaf = [1, 1, 2, 5][case % 4];
            // Every feature of a node holds the same rows: one residual per row, looked up through
            // each feature's order.
            let residuals: Vec<f64> = (0..m).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let lanes: Vec<(Vec<f32>, Vec<u32>)> = (0..LANES)
                .map(|l| feature(&mut rng, m, (case + l) % 3 == 0))
                .collect();
            // Any total exercises the arithmetic the same way.
            let total: f64 = residuals.iter().sum();
            let direct: Vec<Proposal> = lanes
                .iter()
                .map(|(column, rows)| {
                    let values: Vec<f32> = rows.iter().map(|&r| column[r as usize]).collect();
                    let sorted: Vec<f64> = rows.iter().map(|&r| residuals[r as usize]).collect();
                    scan_feature(&values, &sorted, total, min_leaf)
                })
                .collect();
            let together = scan_features::<LANES>(
                std::array::from_fn(|l| lanes[l].1.as_slice()),
                std::array::from_fn(|l| lanes[l].0.as_slice()),
                &residuals,
                total,
                min_leaf,
                &reciprocals,
                &mut scratch,
            );
            for (l, (a, b)) in direct.iter().zip(&together).enumerate() {
                assert!(same(a, b), "case {case} lane {l}: {a:?} vs {b:?}");
            }
            let [alone] = scan_features::<1>(
                [lanes[1].1.as_slice()],
                [lanes[1].0.as_slice()],
                &residuals,
                total,
                min_leaf,
                &reciprocals,
                &mut scratch,
            );
            assert!(
                same(&direct[1], &alone),
                "case {case}: {:?} vs {alone:?}",
                direct[1]
            );
        }
    }
}
