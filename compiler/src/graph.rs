//! The structural graph check: is the declared latent graph a DAG, and in which order are its nodes.
//!
//! Built on petgraph (`DiGraph` plus Tarjan's strongly connected components for cycles). The result
//! is a plain [`GraphSpec`] (names and parent indices): petgraph types never leave this module, as
//! the plan must not contain them. This module knows nothing about spans or diagnostics; the caller
//! turns a [`CycleError`] into one.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::plan::GraphSpec;

/// The graph has a cycle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the graph has a cycle through nodes {cycle:?}")]
pub struct CycleError {
    /// Node indices (into the `nodes` given to [`check_dag`]) along the cycle, following the edge
    /// direction, the first node repeated at the end: `a -> b -> a` is `[a, b, a]`, a self-loop
    /// `a -> a` is `[a, a]`. The cycle starts at its smallest index and is a shortest one through
    /// that node, so the report does not depend on hash or edge order.
    pub cycle: Vec<usize>,
}

/// Checks that `edges` (parent, child) over `nodes` form a DAG and returns it in topological order.
///
/// The order puts parents before children and breaks ties by declaration order (the index in
/// `nodes`), so the output depends only on the graph. Duplicate edges count once. Edges naming an
/// index outside `nodes` are a caller bug (the caller resolves names to indices first); they are
/// skipped rather than panicking.
pub fn check_dag(nodes: &[String], edges: &[(usize, usize)]) -> Result<GraphSpec, CycleError> {
    let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(nodes.len(), edges.len());
    for _ in nodes {
        graph.add_node(());
    }
    for &(parent, child) in edges {
        if parent < nodes.len() && child < nodes.len() {
            // update_edge keeps a single edge per (parent, child) pair.
            graph.update_edge(NodeIndex::new(parent), NodeIndex::new(child), ());
        }
    }
    if let Some(cycle) = find_cycle(&graph) {
        return Err(CycleError { cycle });
    }
    let order = topological_order(&graph);
    let mut position = vec![0u32; nodes.len()];
    for (rank, node) in order.iter().enumerate() {
        if let Some(slot) = position.get_mut(*node) {
            // INVARIANT: a graph with more than u32::MAX nodes cannot be declared in a source file
            // under the parser's size limits; saturate rather than panic all the same.
            *slot = u32::try_from(rank).unwrap_or(u32::MAX);
        }
    }
    let parents = order
        .iter()
        .map(|node| {
            let mut ps: Vec<u32> = graph
                .neighbors_directed(NodeIndex::new(*node), Direction::Incoming)
                .filter_map(|p| position.get(p.index()).copied())
                .collect();
            ps.sort_unstable();
            ps
        })
        .collect();
    Ok(GraphSpec {
        nodes: order
            .iter()
            .filter_map(|i| nodes.get(*i).cloned())
            .collect(),
        parents,
    })
}

/// Kahn's algorithm with a min-heap, so that among the nodes whose parents are all placed the
/// first declared goes first. Only called on acyclic graphs (every node is placed).
fn topological_order(graph: &DiGraph<(), ()>) -> Vec<usize> {
    let mut waiting: Vec<usize> = graph
        .node_indices()
        .map(|n| graph.neighbors_directed(n, Direction::Incoming).count())
        .collect();
    let mut ready: BinaryHeap<Reverse<usize>> = waiting
        .iter()
        .enumerate()
        .filter(|(_, w)| **w == 0)
        .map(|(i, _)| Reverse(i))
        .collect();
    let mut order = Vec::with_capacity(graph.node_count());
    while let Some(Reverse(node)) = ready.pop() {
        order.push(node);
        for child in graph.neighbors_directed(NodeIndex::new(node), Direction::Outgoing) {
            if let Some(w) = waiting.get_mut(child.index()) {
                *w -= 1;
                if *w == 0 {
                    ready.push(Reverse(child.index()));
                }
            }
        }
    }
    order
}

/// A shortest cycle through the smallest node that lies on any cycle, or `None` for a DAG.
fn find_cycle(graph: &DiGraph<(), ()>) -> Option<Vec<usize>> {
    // A node is on a cycle iff its strongly connected component has several nodes or a self-loop.
    let mut component_of = vec![usize::MAX; graph.node_count()];
    let mut start: Option<usize> = None;
    for (component, members) in tarjan_scc(graph).iter().enumerate() {
        let cyclic = members.len() > 1 || members.iter().any(|n| graph.contains_edge(*n, *n));
        if !cyclic {
            continue;
        }
        for n in members {
            if let Some(slot) = component_of.get_mut(n.index()) {
                *slot = component;
            }
            start = Some(start.map_or(n.index(), |s| s.min(n.index())));
        }
    }
    let start = start?;
    if graph.contains_edge(NodeIndex::new(start), NodeIndex::new(start)) {
        return Some(vec![start, start]);
    }
    // Breadth-first search from `start` inside its component, back to `start`: the first time an
    // edge reaches `start`, following the predecessors gives a shortest cycle. Neighbours are
    // visited in index order so equal-length cycles are chosen deterministically.
    let component = component_of.get(start).copied();
    let mut previous = vec![usize::MAX; graph.node_count()];
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        let mut children: Vec<usize> = graph
            .neighbors_directed(NodeIndex::new(node), Direction::Outgoing)
            .map(NodeIndex::index)
            .filter(|c| component_of.get(*c).copied() == component)
            .collect();
        children.sort_unstable();
        for child in children {
            if child == start {
                let mut path = vec![start];
                let mut cur = node;
                while cur != start {
                    path.push(cur);
                    cur = previous.get(cur).copied().unwrap_or(start);
                }
                path.push(start);
                path.reverse();
                return Some(path);
            }
            if previous.get(child) == Some(&usize::MAX) {
                if let Some(slot) = previous.get_mut(child) {
                    *slot = node;
                }
                queue.push_back(child);
            }
        }
    }
    // Unreachable for a cyclic component (every member reaches every other); report the start
    // alone rather than claiming the graph is acyclic.
    Some(vec![start, start])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    #[test]
    fn orders_parents_first_with_ties_by_declaration() {
        // c2 -> c0, c1 -> c0: c0 must come after both; c1 and c2 are free, so declaration order.
        let spec = check_dag(&names(4), &[(2, 0), (1, 0)]).expect("acyclic");
        assert_eq!(spec.nodes, ["c1", "c2", "c0", "c3"]);
        assert_eq!(spec.parents, vec![vec![], vec![], vec![0, 1], vec![]]);
    }

    #[test]
    fn issue_example_and_duplicates() {
        // c1 -> c3; c2 -> c3 (plus a duplicate edge, counted once).
        let nodes: Vec<String> = ["c1", "c2", "c3"].map(String::from).to_vec();
        let spec = check_dag(&nodes, &[(0, 2), (1, 2), (0, 2)]).expect("acyclic");
        assert_eq!(spec.nodes, ["c1", "c2", "c3"]);
        assert_eq!(spec.parents, vec![vec![], vec![], vec![0, 1]]);
    }

    #[test]
    fn empty_and_edgeless_graphs() {
        assert_eq!(
            check_dag(&[], &[]),
            Ok(GraphSpec {
                nodes: vec![],
                parents: vec![]
            })
        );
        let spec = check_dag(&names(3), &[]).expect("acyclic");
        assert_eq!(spec.nodes, ["c0", "c1", "c2"]);
    }

    #[test]
    fn reports_the_cycle_path_in_edge_direction() {
        // c0 -> c1 -> c2 -> c0, plus a tail c3 -> c0 that is not on the cycle.
        let err = check_dag(&names(4), &[(3, 0), (0, 1), (1, 2), (2, 0)]).expect_err("cycle");
        assert_eq!(err.cycle, vec![0, 1, 2, 0]);
        // The cycle starts at its smallest node even when edges are listed in another order.
        let err = check_dag(&names(4), &[(2, 3), (3, 2)]).expect_err("cycle");
        assert_eq!(err.cycle, vec![2, 3, 2]);
    }

    #[test]
    fn reports_a_shortest_cycle_and_self_loops() {
        // c0 -> c1 -> c0 and c0 -> c2 -> c3 -> c0: the two-node cycle is reported.
        let err =
            check_dag(&names(4), &[(0, 2), (2, 3), (3, 0), (0, 1), (1, 0)]).expect_err("cycle");
        assert_eq!(err.cycle, vec![0, 1, 0]);
        let err = check_dag(&names(2), &[(0, 1), (1, 1)]).expect_err("self-loop");
        assert_eq!(err.cycle, vec![1, 1]);
    }

    #[test]
    fn out_of_range_edges_are_skipped() {
        let spec = check_dag(&names(2), &[(0, 9), (0, 1)]).expect("acyclic");
        assert_eq!(spec.parents, vec![vec![], vec![0]]);
    }
}
