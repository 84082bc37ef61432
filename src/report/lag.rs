//! Consumer lag per group over time, from `LagSampled` (what `kafka-consumer-groups --describe`
//! shows in its LAG column), and when a group drained its topics.

use std::collections::BTreeMap;

use super::Report;

impl Report {
    /// The group's total lag at each sample time: `(t_ms, sum over partitions)`, using each
    /// partition's latest sample at or before that time.
    pub fn group_lag_series(&self, group: &str) -> Vec<(u64, u64)> {
        let mut latest: BTreeMap<(String, u32), u64> = BTreeMap::new();
        let mut series: Vec<(u64, u64)> = Vec::new();
        for row in self.lag.iter().filter(|r| r.group == group) {
            latest.insert((row.topic.clone(), row.partition), row.lag);
            let total = latest.values().sum();
            match series.last_mut() {
                Some(last) if last.0 == row.t_ms => last.1 = total,
                _ => series.push((row.t_ms, total)),
            }
        }
        series
    }

    /// The first lag sample at or after the group's topics received their last record in which
    /// the group's total lag is 0 (`kafka-consumer-groups` would show LAG 0 everywhere).
    pub fn drained_at_ms(&self, group: &str) -> Option<u64> {
        let topics = self.group_topics(group);
        let last_append = self
            .appended
            .iter()
            .filter(|a| topics.contains(&a.topic))
            .map(|a| a.t_ms)
            .chain(
                self.appended_batches
                    .iter()
                    .filter(|b| topics.contains(&b.topic))
                    .map(|b| b.t_ms),
            )
            .max()?;
        self.group_lag_series(group)
            .into_iter()
            .find(|&(t, lag)| t >= last_append && lag == 0)
            .map(|(t, _)| t)
    }
}
