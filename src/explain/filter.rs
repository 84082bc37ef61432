//! The command's filters (`--at`, `--from`/`--to`, `--key`, `--partition`, `--member`,
//! `--group`), the names a trace holds, and the closest of them to a name it does not hold
//! (edit distance), so that a typo gets an answer instead of an empty list.

use std::collections::BTreeSet;

use super::{Context, Entry, tp};
use crate::trace::{TraceEvent, TraceRecord};

/// Which entries to show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// The decisions at this time (or the latest ones before it).
    pub at: Option<u64>,
    /// From this time on.
    pub from: Option<u64>,
    /// Up to this time.
    pub to: Option<u64>,
    /// Entries about this record key.
    pub key: Option<String>,
    /// Entries about this partition (`topic-N`).
    pub partition: Option<String>,
    /// Entries about this member (a member id or its consumer, `consumer/g/1`).
    pub member: Option<String>,
    /// Entries about this consumer group.
    pub group: Option<String>,
}

/// A name the trace does not hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {name:?}; the closest that exist: {}", closest.join(", "))]
pub struct FilterError {
    /// `key`, `member`, `group`, `partition` or `variant`.
    pub what: &'static str,
    /// The name given.
    pub name: String,
    /// The closest names that exist, closest first.
    pub closest: Vec<String>,
}

/// Every name of a trace the filters accept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    /// Record keys.
    pub keys: BTreeSet<String>,
    /// Member ids and consumer components.
    pub members: BTreeSet<String>,
    /// `group.id`s.
    pub groups: BTreeSet<String>,
    /// `topic-N` of every partition.
    pub partitions: BTreeSet<String>,
}

impl Names {
    /// The names of one trace.
    pub fn of(ctx: &Context<'_>) -> Names {
        let mut names = Names::default();
        for (topic, partitions) in ctx.topics() {
            names
                .partitions
                .extend((0..partitions).map(|p| tp(topic, p)));
        }
        for (member, component) in ctx.members() {
            names.members.insert(member.to_string());
            names.members.insert(component.to_string());
        }
        for r in ctx.records {
            names.add(r);
        }
        names
    }

    /// Adds the names of another trace.
    pub fn merge(&mut self, other: Names) {
        self.keys.extend(other.keys);
        self.members.extend(other.members);
        self.groups.extend(other.groups);
        self.partitions.extend(other.partitions);
    }

    fn add(&mut self, r: &TraceRecord) {
        match &r.event {
            TraceEvent::RecordAppended { key: Some(k), .. }
            | TraceEvent::DeliveryReported { key: Some(k), .. } => {
                self.keys.insert(k.to_string());
            }
            TraceEvent::MemberJoined {
                group, member_id, ..
            } => {
                self.groups.insert(group.to_string());
                self.members.insert(member_id.to_string());
            }
            TraceEvent::GroupStateChanged { group, .. }
            | TraceEvent::OffsetCommitted { group, .. } => {
                self.groups.insert(group.to_string());
            }
            _ => {}
        }
    }
}

/// Up to three names of `candidates` closest to `name` by edit distance, closest first (ties
/// in name order).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut scored: Vec<(usize, &String)> = candidates
        .into_iter()
        .map(|c| (levenshtein(name, c), c))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, c)| c.clone()).collect()
}

/// The edit distance between two strings, by characters.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// `name` if the set holds it, else the error with the closest names.
fn known(
    what: &'static str,
    name: &Option<String>,
    set: &BTreeSet<String>,
) -> Result<(), FilterError> {
    match name {
        Some(n) if !set.contains(n) => Err(FilterError {
            what,
            name: n.clone(),
            closest: closest(n, set),
        }),
        _ => Ok(()),
    }
}

impl Filter {
    /// Refuses a name the trace does not hold.
    pub fn check(&self, names: &Names) -> Result<(), FilterError> {
        known("key", &self.key, &names.keys)?;
        known("member", &self.member, &names.members)?;
        known("group", &self.group, &names.groups)?;
        known("partition", &self.partition, &names.partitions)
    }

    /// The entries this filter keeps, in order.
    pub fn select<'e>(&self, ctx: &Context<'_>, entries: &'e [Entry]) -> Vec<&'e Entry> {
        let members = self.member_names(ctx);
        let kept: Vec<&Entry> = entries
            .iter()
            .filter(|e| self.from.is_none_or(|f| e.t_ms >= f))
            .filter(|e| self.to.is_none_or(|t| e.t_ms <= t))
            .filter(|e| self.at.is_none_or(|t| e.t_ms <= t))
            .filter(|e| self.about(e, &members))
            .collect();
        match self.at {
            Some(_) => {
                let last = kept.last().map(|e| e.t_ms);
                kept.into_iter().filter(|e| Some(e.t_ms) == last).collect()
            }
            None => kept,
        }
    }

    fn about(&self, e: &Entry, members: &BTreeSet<String>) -> bool {
        let s = &e.subjects;
        self.key.as_ref().is_none_or(|k| s.key.as_ref() == Some(k))
            && self
                .group
                .as_ref()
                .is_none_or(|g| s.group.as_ref() == Some(g))
            && self
                .partition
                .as_ref()
                .is_none_or(|p| s.partitions.contains(p))
            && (members.is_empty() || s.members.iter().any(|m| members.contains(m)))
    }

    /// The member asked for under all its names: its id and its consumer's component.
    fn member_names(&self, ctx: &Context<'_>) -> BTreeSet<String> {
        let Some(m) = &self.member else {
            return BTreeSet::new();
        };
        let mut out = BTreeSet::from([m.clone()]);
        for (id, component) in ctx.members() {
            if id == m || component == m {
                out.insert(id.to_string());
                out.insert(component.to_string());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_and_the_closest_names() {
        assert_eq!(levenshtein("user123", "user123"), 0);
        assert_eq!(levenshtein("usr123", "user123"), 1);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        let names: BTreeSet<String> = ["user123", "user456", "order-1", "user124"]
            .map(String::from)
            .into();
        assert_eq!(closest("user12", &names), ["user123", "user124", "user456"]);
    }
}
