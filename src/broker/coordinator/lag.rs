//! Consumer lag, as `kafka-consumer-groups --describe` computes it (`ConsumerGroupCommand`):
//! per partition, LOG-END-OFFSET (the high watermark, what `ListOffsets(latest)` returns under
//! `read_uncommitted`) minus CURRENT-OFFSET (the group's committed offset).
//!
//! The tool prints `-` for CURRENT-OFFSET and LAG when the group has committed nothing for a
//! partition. The trace keeps `committed_offset` null in that case (so a table can print `-`) and
//! counts the whole log as lag (high watermark minus log start offset): every record still
//! readable is one the group has not yet confirmed consuming.
//!
//! Which partitions: every partition of the topics the group's members subscribe to, plus every
//! partition the group has committed an offset for (as the tool lists owned partitions, then
//! partitions with a commit but no owner). Groups are sampled in `group.id` order, partitions by
//! topic then partition number.
//!
//! In a cluster the coordinator reads its own replica's high watermark: on a follower it trails
//! the leader's by one fetch round trip (the tool would ask the leader); a partition the
//! coordinator's broker hosts no replica of is not sampled.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::broker::Topic;
use crate::trace::TraceEvent;
use crate::units::{Offset, PartitionId, TopicName, TopicPartition};

use super::Context;
use super::classic_group::ClassicGroup;
use super::state::GroupState;

/// Traces one `LagSampled` per group and partition.
pub(super) fn sample_lag(
    groups: &BTreeMap<Arc<str>, ClassicGroup>,
    topics: &BTreeMap<TopicName, Topic>,
    context: &mut Context<'_>,
) {
    for group in groups.values() {
        if group.state() == GroupState::Dead {
            continue;
        }
        let subscribed = group.subscribed_topics();
        sample_group((&group.id, &group.offsets), &subscribed, topics, context);
    }
}

/// One group's samples, given its id and offsets and the topics its members subscribe to
/// (classic and KIP-848 groups alike).
pub(super) fn sample_group(
    (group_id, offsets): (&Arc<str>, &BTreeMap<TopicPartition, Offset>),
    subscribed: &BTreeSet<TopicName>,
    topics: &BTreeMap<TopicName, Topic>,
    context: &mut Context<'_>,
) {
    let mut partitions: BTreeSet<TopicPartition> = offsets.keys().cloned().collect();
    for topic in subscribed {
        if let Some(t) = topics.get(topic) {
            let count = t.partition_count();
            partitions
                .extend((0..count).map(|p| TopicPartition::new(topic.clone(), PartitionId(p))));
        }
    }
    let component: Arc<str> = Arc::from(format!("group/{group_id}"));
    for tp in partitions {
        let Some(log) = topics.get(&tp.topic).and_then(|t| t.log(tp.partition)) else {
            continue;
        };
        let end = log.high_watermark();
        let committed = offsets.get(&tp).copied();
        let lag = match committed {
            Some(c) => end.0.saturating_sub(c.0),
            None => end.0 - log.log_start_offset().0,
        };
        let event = TraceEvent::LagSampled {
            group: group_id.clone(),
            topic: tp.topic.as_arc().clone(),
            partition: tp.partition.0,
            log_end_offset: end.0,
            committed_offset: committed.map(|c| c.0),
            lag,
        };
        context.out.trace_as(component.clone(), event);
    }
}
