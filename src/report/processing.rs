//! What consumer groups did with their records: processings, repeats and skips, processing
//! order against production order, the naive revenue and per-minute counts, crashed processes.

use std::collections::BTreeMap;

use super::Report;

impl Report {
    /// Records a group processed before a record that was produced (appended) earlier: how
    /// much the processing order departs from the production order across partitions
    /// (needs detail `records`; repeats after a rebalance count too).
    pub fn out_of_production_order(&self, group: &str) -> u64 {
        let appended_at: BTreeMap<(&str, u32, u64), u64> = self
            .appended
            .iter()
            .map(|a| ((a.topic.as_str(), a.partition, a.offset), a.t_ms))
            .collect();
        let mut latest = 0;
        let mut late = 0;
        for p in self.processed.iter().filter(|p| p.group == group) {
            for offset in p.first_offset..=p.last_offset {
                let Some(&t) = appended_at.get(&(p.topic.as_str(), p.partition, offset)) else {
                    continue;
                };
                if t < latest {
                    late += 1;
                }
                latest = latest.max(t);
            }
        }
        late
    }

    /// Processing totals of a group: (processings, distinct records processed, records
    /// processed more than once, records of its topics never processed).
    pub fn processing_totals(&self, group: &str) -> ProcessingTotals {
        let mut ranges: BTreeMap<(String, u32), Vec<(u64, u64)>> = BTreeMap::new();
        let mut processings = 0;
        for p in self.processed.iter().filter(|p| p.group == group) {
            processings += p.last_offset - p.first_offset + 1;
            let key = (p.topic.clone(), p.partition);
            ranges
                .entry(key)
                .or_default()
                .push((p.first_offset, p.last_offset + 1));
        }
        let (mut distinct, mut repeated) = (0, 0);
        for list in ranges.values() {
            let (d, r) = coverage(list);
            distinct += d;
            repeated += r;
        }
        let topics = self.group_topics(group);
        let total: u64 = self
            .partitions
            .iter()
            .filter(|((t, _), _)| topics.contains(t))
            .map(|(_, s)| s.records)
            .sum();
        ProcessingTotals {
            processings,
            distinct,
            reprocessed: repeated,
            skipped: total.saturating_sub(distinct),
        }
    }

    /// The revenue a naive analytics service computes: the sum of the `amount` field
    /// ([`value_field`](crate::record::value_field)) of every value `group` processed, on
    /// `topic` only if given. A record processed twice counts twice, as it would in a service
    /// that adds up what it reads. `None` without per-record events (detail `batches`).
    pub fn revenue(&self, group: &str, topic: Option<&str>) -> Option<f64> {
        if !self.has_records {
            return None;
        }
        let amounts = self
            .processed_records
            .iter()
            .filter(|p| p.group == group && topic.is_none_or(|t| p.topic == t))
            .filter_map(|p| crate::record::value_field(p.value.as_deref()?, "amount"))
            .filter_map(|a| a.parse::<f64>().ok());
        Some(amounts.sum())
    }

    /// Records `group` finished processing in minute `minute` of virtual time (from
    /// `minute x 60000` ms inclusive to the next minute exclusive), counting repeats: a
    /// per-minute rate as the course's analytics computes it, from processing time. `None`
    /// without per-record events.
    pub fn processed_in_minute(&self, group: &str, minute: u64) -> Option<u64> {
        if !self.has_records {
            return None;
        }
        let count = self
            .processed_records
            .iter()
            .filter(|p| p.group == group && p.processed_at_ms / 60_000 == minute)
            .count();
        Some(count as u64)
    }

    /// Client processes that crashed: every crashed component, except that the producer
    /// `producer/<group>/<n>` of a service member dying with its consumer `consumer/<group>/<n>`
    /// (at the same time) is the same process.
    pub fn crashed_processes(&self) -> u64 {
        let partner_died = |t: u64, c: &str| {
            c.strip_prefix("producer/").is_some_and(|member| {
                let consumer = format!("consumer/{member}");
                self.crashes.iter().any(|(u, d)| *u == t && *d == consumer)
            })
        };
        self.crashes
            .iter()
            .filter(|(t, c)| !partner_died(*t, c))
            .count() as u64
    }
}

/// What a group did with the records of its topics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessingTotals {
    /// Records processed, counting repeats.
    pub processings: u64,
    /// Distinct records processed at least once.
    pub distinct: u64,
    /// Distinct records processed more than once.
    pub reprocessed: u64,
    /// Records appended to the group's topics and never processed.
    pub skipped: u64,
}

/// Half-open ranges `[from, to)` -> (offsets covered at least once, offsets covered twice or more).
fn coverage(ranges: &[(u64, u64)]) -> (u64, u64) {
    let mut edges: Vec<(u64, i64)> = Vec::with_capacity(ranges.len() * 2);
    for &(from, to) in ranges {
        edges.push((from, 1));
        edges.push((to, -1));
    }
    edges.sort_unstable();
    let (mut once, mut twice, mut depth, mut at) = (0, 0, 0i64, 0);
    for (x, delta) in edges {
        if depth >= 1 {
            once += x - at;
        }
        if depth >= 2 {
            twice += x - at;
        }
        depth += delta;
        at = x;
    }
    (once, twice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_counts_repeats() {
        assert_eq!(coverage(&[(0, 10), (5, 15), (20, 21)]), (16, 5));
        assert_eq!(coverage(&[(0, 3), (0, 3), (0, 3)]), (3, 3));
        assert_eq!(coverage(&[]), (0, 0));
    }
}
