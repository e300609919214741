//! DAG check (placeholder written by FE-CORE so the crate compiles; FE-INFRA owns this file).

use crate::plan::GraphSpec;

/// A cycle: node indices along it, the first repeated at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleError {
    /// The cycle.
    pub cycle: Vec<usize>,
}

/// Topological order (ties by declaration order) or a cycle.
pub fn check_dag(nodes: &[String], edges: &[(usize, usize)]) -> Result<GraphSpec, CycleError> {
    let n = nodes.len();
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in edges {
        if let Some(p) = parents.get_mut(b) {
            if !p.contains(&a) {
                p.push(a);
            }
        }
    }
    let mut order = Vec::new();
    let mut placed = vec![false; n];
    while order.len() < n {
        let next = (0..n).find(|&i| !placed[i] && parents[i].iter().all(|p| placed[*p]));
        match next {
            Some(i) => {
                placed[i] = true;
                order.push(i);
            }
            None => {
                // Walk parents among unplaced nodes until a node repeats.
                let mut path = vec![(0..n).find(|&i| !placed[i]).unwrap_or(0)];
                loop {
                    let cur = *path.last().unwrap_or(&0);
                    let p = parents[cur].iter().copied().find(|p| !placed[*p]).unwrap_or(cur);
                    if let Some(pos) = path.iter().position(|x| *x == p) {
                        let mut cycle: Vec<usize> = path[pos..].to_vec();
                        cycle.reverse();
                        cycle.push(*cycle.first().unwrap_or(&p));
                        return Err(CycleError { cycle });
                    }
                    path.push(p);
                }
            }
        }
    }
    let pos: Vec<usize> = {
        let mut pos = vec![0; n];
        for (k, i) in order.iter().enumerate() {
            pos[*i] = k;
        }
        pos
    };
    Ok(GraphSpec {
        nodes: order.iter().map(|i| nodes[*i].clone()).collect(),
        parents: order
            .iter()
            .map(|i| {
                let mut ps: Vec<u32> = parents[*i].iter().map(|p| pos[*p] as u32).collect();
                ps.sort_unstable();
                ps
            })
            .collect(),
    })
}
