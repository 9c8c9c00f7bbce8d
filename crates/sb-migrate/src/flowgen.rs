//! Building a contact flow from a legacy system's steps: nodes are written as they are
//! translated, branches name places that are translated later (a work list), and a place
//! that needs no node of its own (a `Goto`, a step without an effect) is an alias of another
//! node, resolved when the flow is finished.

use std::collections::{HashMap, HashSet, VecDeque};

/// The nodes of one flow being built; `P` is a place in the legacy steps.
#[derive(Debug)]
pub(crate) struct Nodes<P> {
    nodes: Vec<(String, String)>,
    aliases: HashMap<String, String>,
    queued: HashSet<String>,
    pub work: VecDeque<P>,
}

impl<P> Default for Nodes<P> {
    fn default() -> Nodes<P> {
        Nodes { nodes: Vec::new(), aliases: HashMap::new(), queued: HashSet::new(), work: VecDeque::new() }
    }
}

impl<P> Nodes<P> {
    /// The node `id` of `place`, queued for translation if it is new.
    pub fn reference(&mut self, id: String, place: P) -> String {
        if !self.aliases.contains_key(&id) && self.queued.insert(id.clone()) {
            self.work.push_back(place);
        }
        id
    }

    /// Writes a node: its id and its YAML flow-style text, whose branches are written `: ID`.
    pub fn push(&mut self, node: (String, String)) {
        self.nodes.push(node);
    }

    /// Makes `id` stand for `target`.
    pub fn alias(&mut self, id: String, target: String) {
        self.aliases.insert(id, target);
    }

    pub fn is_alias(&self, id: &str) -> bool {
        self.aliases.contains_key(id)
    }

    /// The node an id stands for, after aliases.
    fn resolve(&self, id: &str) -> String {
        let mut id = id.to_owned();
        for _ in 0..=self.aliases.len() {
            match self.aliases.get(&id) {
                Some(next) => id = next.clone(),
                None => return id,
            }
        }
        id
    }

    /// A node's text with every branch to an alias pointed at the node it stands for.
    fn retarget(&self, node: &str) -> String {
        let mut out = String::with_capacity(node.len());
        let mut rest = node;
        while let Some(at) = rest.find(": ") {
            out.push_str(&rest[..at + 2]);
            rest = &rest[at + 2..];
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).unwrap_or(rest.len());
            let word = &rest[..end];
            if self.aliases.contains_key(word) {
                out.push_str(&self.resolve(word));
            } else {
                out.push_str(word);
            }
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    }

    /// The start node and the nodes, every alias resolved.
    pub fn finish(self, start: &str) -> (String, Vec<(String, String)>) {
        let nodes = self.nodes.iter().map(|(id, node)| (id.clone(), self.retarget(node))).collect();
        (self.resolve(start), nodes)
    }
}
