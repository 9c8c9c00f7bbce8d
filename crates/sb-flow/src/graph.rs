//! Checks of the flow as a whole, once every node is decoded.
//!
//! A flow is a directed graph from its start node. Three things are errors: a node that
//! cannot be reached from the start (it is dead code, and usually a forgotten branch), a loop
//! from which no hangup, queue or voicemail node can be reached (a caller would go round it
//! until they gave up), and a loop made only of `set` and `business_hours` nodes (they move on
//! at once, so a call taking the loop would spin without ever waiting). A menu that retries
//! itself is no loop here: its retries are counted and end at the fallback.
//!
//! A node with an error, or a branch to an unknown node, may lead anywhere. Such nodes count
//! as having a way out, and unreachable nodes are only reported when every reachable node's
//! branches are known, so that one typo does not bring a cascade of reports.
//!
//! Variables used in templates but set by no node draw a warning: they are always empty.

use sb_config::{Sink, did_you_mean};

use crate::decode::RawFlow;
use crate::model::VarName;

/// Runs the whole-flow checks on `raw`.
pub(crate) fn check(raw: &RawFlow, sink: &mut Sink) {
    if let Some(start) = &raw.start {
        check_graph(raw, start.value.index(), sink);
    }
    check_variables(raw, sink);
}

fn check_graph(raw: &RawFlow, start: usize, sink: &mut Sink) {
    let nodes = &raw.nodes;
    let successors: Vec<Vec<usize>> = nodes.iter().map(|n| n.edges.iter().map(|ix| ix.index()).collect()).collect();
    let everything = vec![true; nodes.len()];
    let reachable = reach(&successors, &everything, &[start]);

    if nodes.iter().zip(&reachable).all(|(node, &r)| !r || node.edges_complete) {
        let start_id = &nodes[start].id;
        for (node, _) in nodes.iter().zip(&reachable).filter(|(_, r)| !**r) {
            let message = format!(
                "node {:?} cannot be reached from the start node {start_id:?}; branch to it or remove it",
                node.id
            );
            sink.error(node.pos, &node.path, message);
        }
    }

    // Which nodes can lead out of the flow: exits themselves, nodes that may lead anywhere,
    // and, until nothing changes, every node with a branch to one of them.
    let mut can_exit: Vec<bool> =
        nodes.iter().map(|n| !n.edges_complete || n.tag.is_some_and(|tag| tag.is_exit())).collect();
    let mut changed = true;
    while changed {
        changed = false;
        for (i, next) in successors.iter().enumerate() {
            if !can_exit[i] && next.iter().any(|&j| can_exit[j]) {
                can_exit[i] = true;
                changed = true;
            }
        }
    }
    let trapped: Vec<bool> = (0..nodes.len()).map(|i| reachable[i] && !can_exit[i]).collect();
    let instant: Vec<bool> =
        nodes.iter().zip(&reachable).map(|(n, &r)| r && n.tag.is_some_and(|tag| tag.is_instant())).collect();
    // A loop of instant nodes only is reported below, as the more telling problem.
    for cycle in cycles(&successors, &trapped).into_iter().filter(|c| !c.iter().all(|&i| instant[i])) {
        let first = &nodes[cycle[0]];
        let message = match cycle[..] {
            [_] => format!(
                "node {} loops back to itself forever: no hangup, queue or voicemail can be reached from it",
                first.id
            ),
            _ => format!(
                "nodes {} loop forever: no hangup, queue or voicemail can be reached from them",
                and_list(cycle.iter().map(|&i| nodes[i].id.as_str()))
            ),
        };
        sink.error(first.pos, &first.path, message);
    }

    for cycle in cycles(&successors, &instant) {
        let first = &nodes[cycle[0]];
        let names = and_list(cycle.iter().map(|&i| nodes[i].id.as_str()));
        let what = if cycle.len() == 1 {
            format!("node {names} branches to itself without waiting")
        } else {
            format!("nodes {names} form a loop that never waits")
        };
        let message = format!(
            "{what}: set and business_hours nodes move on at once, so a call taking the loop \
             would go round it forever; put a node that waits (a play or a menu) in it"
        );
        sink.error(first.pos, &first.path, message);
    }
}

/// The nodes reachable from `from` through members of the subgraph `member` (`from` included).
fn reach(successors: &[Vec<usize>], member: &[bool], from: &[usize]) -> Vec<bool> {
    let mut seen = vec![false; successors.len()];
    let mut stack: Vec<usize> = from.iter().copied().filter(|&i| member[i]).collect();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        stack.extend(successors[i].iter().copied().filter(|&j| member[j] && !seen[j]));
    }
    seen
}

/// The cycles of the subgraph `member`: its strongly connected components that hold a loop,
/// each in file order, ordered by their first node.
fn cycles(successors: &[Vec<usize>], member: &[bool]) -> Vec<Vec<usize>> {
    let n = successors.len();
    // What each member reaches in one step or more: it is on a loop if it reaches itself.
    let after: Vec<Vec<bool>> = (0..n)
        .map(|i| {
            if member[i] {
                let next: Vec<usize> = successors[i].iter().copied().filter(|&j| member[j]).collect();
                reach(successors, member, &next)
            } else {
                vec![false; n]
            }
        })
        .collect();
    let mut assigned = vec![false; n];
    let mut found = Vec::new();
    for i in 0..n {
        if !member[i] || assigned[i] || !after[i][i] {
            continue;
        }
        let component: Vec<usize> = (0..n).filter(|&j| j == i || (after[i][j] && after[j][i])).collect();
        for &j in &component {
            assigned[j] = true;
        }
        found.push(component);
    }
    found
}

fn check_variables(raw: &RawFlow, sink: &mut Sink) {
    let plain = |name: &str| VarName::BUILT_IN.contains(&name) || raw.defs.iter().any(|d| d == name);
    let lookup = |name: &str| raw.defs.iter().any(|d| d.strip_suffix(".*") == Some(name));
    for used in &raw.uses {
        let message = match used.value.split_once('.') {
            None if plain(&used.value) => continue,
            Some((root, _)) if lookup(root) => continue,
            None if lookup(&used.value) => format!(
                "variable {:?} is never set: an HTTP lookup into {0} sets variables such as {{{0}.name}}, \
                 one for each value of its answer",
                used.value
            ),
            Some((root, _)) if plain(root) => {
                format!("variable {:?} is never set: {root} holds a single value; write {{{root}}}", used.value)
            }
            _ => {
                let root = used.value.split('.').next().unwrap_or_default();
                let candidates = raw.defs.iter().map(|d| d.trim_end_matches(".*")).chain(VarName::BUILT_IN);
                format!(
                    "variable {:?} is never set in this flow, so it is always empty{}",
                    used.value,
                    did_you_mean(root, candidates)
                )
            }
        };
        sink.warning(used.pos, &used.path, message);
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    match &items[..] {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
