//! What producers sent and where it landed: records per topic, the partitions of each key, and
//! acknowledged records the final logs do not hold.

use std::collections::{BTreeMap, BTreeSet};

use super::Report;

impl Report {
    /// Records a producer was told were delivered (no error) that the topic's log does not hold:
    /// acknowledged and lost. With an offset (`acks=1`, `all`), the log must hold the record's
    /// value at that offset; without (`acks=0`), anywhere. The log is the one the last leaders
    /// kept ([`cluster::ClusterFacts`]): what an unclean election cut off is lost, what
    /// retention or compaction removed is not.
    pub fn acked_lost(&self, topic: &str) -> u64 {
        let logs: BTreeMap<u32, _> = self
            .cluster
            .log
            .iter()
            .filter(|((t, _), _)| t == topic)
            .map(|((_, p), log)| (*p, log))
            .collect();
        let present: BTreeSet<&str> = logs
            .values()
            .flat_map(|log| log.values())
            .filter_map(|(_, v)| v.as_deref())
            .collect();
        self.deliveries
            .iter()
            .filter(|d| d.topic == topic && d.error.is_none())
            .filter(|d| match d.offset {
                Some(o) => {
                    let held = logs.get(&d.partition).and_then(|log| log.get(&o));
                    held.is_none_or(|(_, v)| v != &d.value)
                }
                None => d.value.as_deref().is_some_and(|v| !present.contains(v)),
            })
            .count() as u64
    }

    /// The partitions each key of `topic` was appended to (one, unless the partition count
    /// changed or the partitioner ignores keys).
    pub fn key_partitions(&self, topic: &str) -> BTreeMap<String, BTreeSet<u32>> {
        let mut out: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
        for a in self.appended.iter().filter(|a| a.topic == topic) {
            if let Some(k) = &a.key {
                out.entry(k.clone()).or_default().insert(a.partition);
            }
        }
        out
    }

    /// Records appended to `topic`, all partitions.
    pub fn topic_records(&self, topic: &str) -> u64 {
        self.partitions
            .iter()
            .filter(|((t, _), _)| t == topic)
            .map(|(_, s)| s.records)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::super::test_trace::appended;
    use crate::report::Report;

    #[test]
    fn duplicates_and_key_partitions() {
        let trace = vec![
            appended(1, 0, 0, "user123", "payment-1"),
            appended(2, 0, 1, "user123", "payment-2"),
            appended(3, 0, 2, "user123", "payment-2"),
            appended(4, 2, 0, "user456", "payment-3"),
        ];
        let report = Report::from_trace(None, &trace);
        assert_eq!(report.duplicates_appended, 1);
        assert_eq!(report.topic_records("orders"), 4);
        assert_eq!(
            report.partitions[&("orders".to_string(), 0)].log_end_offset,
            3
        );
        let keys = report.key_partitions("orders");
        assert_eq!(keys["user123"], BTreeSet::from([0]));
        assert_eq!(keys["user456"], BTreeSet::from([2]));
    }
}
