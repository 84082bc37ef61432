//! World invariants, checked after every event when
//! [`WorldConfig::check_invariants`](super::WorldConfig::check_invariants) is set
//! (the integration tests set it): Kafka's simulation tests verify their `Invariant`s after every
//! event the same way. Only what is O(1) per partition and group runs here; the offset-by-offset
//! checks are the unit tests' business.

use std::collections::BTreeSet;

use super::World;

impl World<'_> {
    pub(super) fn check_invariants(&self) {
        for node in &self.brokers {
            for topic in node.broker.topics().values() {
                for log in topic.logs() {
                    // The offset-by-offset checks are the log's own unit tests' business: after
                    // every event only what is O(1).
                    assert!(log.log_start_offset() <= log.high_watermark());
                    assert!(log.high_watermark() <= log.log_end_offset());
                }
                for states in topic.producer_states() {
                    states.check_invariants();
                }
            }
            let coordinator = node.broker.coordinator();
            for group in coordinator.group_ids() {
                let described = coordinator.describe(&group).expect("listed");
                for (tp, committed) in &described.offsets {
                    let high_watermark = self
                        .brokers
                        .iter()
                        .filter_map(|node| node.broker.log(&tp.topic, tp.partition))
                        .map(|l| l.high_watermark())
                        .max();
                    // In a cluster an unclean election can leave a commit beyond the new log.
                    let unclean_possible = self.controller.is_some();
                    if let Some(high_watermark) = high_watermark.filter(|_| !unclean_possible) {
                        assert!(
                            *committed <= high_watermark,
                            "group {group} committed {committed} on {tp} beyond its high \
                             watermark {high_watermark}"
                        );
                    }
                }
                let mut owners = BTreeSet::new();
                for member in &described.members {
                    for tp in &member.assignment {
                        assert!(owners.insert(tp), "group {group}: {tp} has two owners");
                    }
                }
            }
        }
    }
}
