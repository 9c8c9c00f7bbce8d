//! Eligibility criteria: which agents may take an interaction at its current routing step.
//!
//! Queue membership is treated as one more skill (a "key" above the real skills), so that a
//! criterion is uniformly a disjunction of clauses, each a conjunction of `key >= level`
//! requirements. The primary clause holds membership of the home queue, the queue's skills
//! and the interaction's own requirements, changed by the steps reached so far; every
//! overflow adds a clause. Criteria are interned: interactions with the same requirements
//! at the same step share one, and so share one waiting group.

use crate::hash::FxHashMap;

/// A skill or a queue membership, in one numbering: skills first, then one key per queue.
pub(crate) type Key = u32;

/// One requirement: the agent holds `key` at `level` or above.
pub(crate) type Req = (Key, u8);

/// A conjunction of requirements, sorted by key.
#[derive(Clone, Debug)]
pub(crate) struct Clause {
    pub reqs: Vec<Req>,
    /// The requirement whose key the fewest agents hold: candidates are drawn from it.
    pub driver: Req,
    /// The skill ranked by the most-skilled strategy, when the clause requires it.
    pub rank: Option<Key>,
}

impl Clause {
    /// Whether an agent with these sorted `(key, level)` pairs satisfies every requirement.
    pub fn matches(&self, levels: &[Req]) -> bool {
        let mut held = levels.iter();
        'reqs: for &(key, min) in &self.reqs {
            for &(k, level) in held.by_ref() {
                if k == key {
                    if level >= min {
                        continue 'reqs;
                    }
                    return false;
                }
                if k > key {
                    return false;
                }
            }
            return false;
        }
        true
    }
}

/// A disjunction of clauses.
#[derive(Clone, Debug)]
pub(crate) struct Criteria {
    pub clauses: Vec<Clause>,
}

impl Criteria {
    pub fn matches(&self, levels: &[Req]) -> bool {
        self.clauses.iter().any(|c| c.matches(levels))
    }
}

pub(crate) type CriteriaIx = u32;

/// The shape of a clause before a driver is chosen: requirements and rank skill.
pub(crate) type ClauseSpec = (Vec<Req>, Option<Key>);

/// Interned criteria.
#[derive(Debug, Default)]
pub(crate) struct CriteriaTable {
    list: Vec<Criteria>,
    lookup: FxHashMap<Vec<ClauseSpec>, CriteriaIx>,
}

impl CriteriaTable {
    /// Returns the index of these clauses, interning them on first sight. Each clause's
    /// driver is the requirement, among the keys the index keeps (`allowed`), that the fewest
    /// agents hold (`holders`).
    pub fn intern(&mut self, spec: Vec<ClauseSpec>, holders: &[u32], allowed: &[bool]) -> CriteriaIx {
        if let Some(&ix) = self.lookup.get(&spec) {
            return ix;
        }
        let clauses = spec
            .iter()
            .map(|(reqs, rank)| {
                let driver = *reqs
                    .iter()
                    .filter(|(key, _)| allowed[*key as usize])
                    .min_by_key(|(key, _)| holders[*key as usize])
                    .expect("every clause holds a membership or overflow key that its index keeps");
                Clause { reqs: reqs.clone(), driver, rank: *rank }
            })
            .collect();
        let ix = self.list.len() as CriteriaIx;
        self.list.push(Criteria { clauses });
        self.lookup.insert(spec, ix);
        ix
    }

    pub fn get(&self, ix: CriteriaIx) -> &Criteria {
        &self.list[ix as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(reqs: &[Req]) -> Clause {
        Clause { reqs: reqs.to_vec(), driver: reqs[0], rank: None }
    }

    #[test]
    fn clause_matching_checks_every_requirement_and_level() {
        let agent = [(1, 3), (4, 5), (9, 1)];
        assert!(clause(&[(1, 3)]).matches(&agent));
        assert!(clause(&[(1, 2), (9, 1)]).matches(&agent));
        assert!(!clause(&[(1, 4)]).matches(&agent));
        assert!(!clause(&[(2, 1)]).matches(&agent));
        assert!(!clause(&[(4, 5), (10, 1)]).matches(&agent));
        assert!(!clause(&[(0, 1), (1, 1)]).matches(&agent));
    }
}
