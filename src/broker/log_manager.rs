//! The broker's log housekeeping on its own timers (Kafka's `LogManager` and `LogCleaner`):
//!
//! - the **log cleaner** thread wakes, cleans the dirtiest compacted log that is dirty enough
//!   (`cleaner.rs`), and again at once while there is one; when none is, it sleeps
//!   `log.cleaner.backoff.ms` (15000). For `compact,delete` topics it also applies retention.
//! - the **retention task** runs every `log.retention.check.interval.ms` (300000), the first time
//!   `log.initial.task.delay.ms` (30000) after the start, on the logs that are not compacted.
//!
//! Every replica, leader or follower, runs them on its own log. The timers only run on a broker
//! hosting a compacted topic (the cleaner) or a topic with a retention setting of its own (the
//! retention task): with Kafka's defaults (7 days) retention deletes nothing in a teaching run,
//! and an idle timer would keep a run from ever ending on its own.

use crate::effects::Effects;
use crate::trace::{LogCleaned, SegmentDeleted, SegmentRolled, TraceEvent};
use crate::units::{Millis, PartitionId, SimTime, TopicName};

use super::config::TopicConfig;
use super::{Broker, BrokerTimer};

impl Broker {
    /// Starts the cleaner and the retention task if some hosted topic needs them.
    pub(super) fn ensure_log_timers(&mut self, now: SimTime, out: &mut Effects<BrokerTimer>) {
        let defaults = TopicConfig::default();
        let hosted = || self.topics.values().filter(|t| t.logs().next().is_some());
        let compacted = hosted().any(|t| t.config.cleanup_policy.compact);
        let retained = hosted().any(|t| {
            let c = &t.config;
            c.cleanup_policy.delete
                && !c.cleanup_policy.compact
                && (c.retention_ms != defaults.retention_ms || c.retention_bytes.is_some())
        });
        if compacted && self.config.log_cleaner_enable && !self.cleaner_running {
            self.cleaner_running = true;
            out.set_timer(
                BrokerTimer::LogCleaner,
                now + self.config.log_cleaner_backoff,
            );
        }
        if retained && !self.retention_running {
            self.retention_running = true;
            out.set_timer(
                BrokerTimer::LogRetention,
                now + self.config.log_initial_task_delay,
            );
        }
    }

    /// One wake-up of the cleaner thread (`CleanerThread.doWork`): retention of the
    /// `compact,delete` logs, then the dirtiest log cleaned, again while one is dirty enough,
    /// then sleep.
    pub(super) fn run_cleaner(&mut self, now: SimTime, out: &mut Effects<BrokerTimer>) {
        let names: Vec<TopicName> = self
            .topics
            .values()
            .filter(|t| t.config.cleanup_policy.compact && t.config.cleanup_policy.delete)
            .map(|t| t.name.clone())
            .collect();
        for name in names {
            self.retain_topic(now, &name, out);
        }
        while let Some((name, p)) = self.filthiest(now) {
            self.clean_one(now, &name, p, out);
        }
        out.set_timer(
            BrokerTimer::LogCleaner,
            now + self.config.log_cleaner_backoff,
        );
    }

    /// The compacted log with the highest dirty ratio above its threshold.
    fn filthiest(&self, now: SimTime) -> Option<(TopicName, PartitionId)> {
        let mut best: Option<((u64, u64), TopicName, PartitionId)> = None;
        for t in self
            .topics
            .values()
            .filter(|t| t.config.cleanup_policy.compact)
        {
            for slot in &t.partitions {
                let Some(r) = &slot.replica else {
                    continue;
                };
                let Some(c) = r.log().cleanable(now, &t.config) else {
                    continue;
                };
                let (d, total) = c.ratio();
                let better = best.as_ref().is_none_or(|((bd, bt), _, _)| {
                    u128::from(d) * u128::from(*bt) > u128::from(*bd) * u128::from(total)
                });
                if better {
                    best = Some(((d, total), t.name.clone(), slot.state.partition));
                }
            }
        }
        best.map(|(_, t, p)| (t, p))
    }

    fn clean_one(
        &mut self,
        now: SimTime,
        name: &TopicName,
        p: PartitionId,
        out: &mut Effects<BrokerTimer>,
    ) {
        let topic = self.topics.get_mut(name).expect("listed");
        let config = topic.config.clone();
        let replica = topic.partitions[p.0 as usize]
            .replica
            .as_mut()
            .expect("listed");
        let c = replica
            .log
            .cleanable(now, &config)
            .expect("listed as cleanable");
        let outcome = replica.log.clean(now, &config, c);
        out.trace(TraceEvent::LogCleaned(LogCleaned {
            topic: name.as_arc().clone(),
            partition: p.0,
            first_dirty_offset: c.first_dirty.0,
            first_uncleanable_offset: c.first_uncleanable.0,
            dirty_bytes: c.dirty_bytes,
            total_bytes: c.clean_bytes + c.dirty_bytes,
            removed: outcome.removed_count,
            removed_offsets: outcome.removed.iter().map(|(a, b)| [a.0, b.0]).collect(),
            tombstones_removed: outcome.tombstones_removed,
        }));
    }

    /// One run of the retention task (`LogManager.cleanupLogs`) over the logs that are not
    /// compacted.
    pub(super) fn run_retention(&mut self, now: SimTime, out: &mut Effects<BrokerTimer>) {
        let names: Vec<TopicName> = self
            .topics
            .values()
            .filter(|t| !t.config.cleanup_policy.compact)
            .map(|t| t.name.clone())
            .collect();
        for name in names {
            self.retain_topic(now, &name, out);
        }
        let every = self.config.log_retention_check_interval;
        out.set_timer(BrokerTimer::LogRetention, now + Millis(every.0.max(1)));
    }

    fn retain_topic(&mut self, now: SimTime, name: &TopicName, out: &mut Effects<BrokerTimer>) {
        let topic = self.topics.get_mut(name).expect("listed");
        let config = topic.config.clone();
        for slot in &mut topic.partitions {
            let Some(replica) = slot.replica.as_mut() else {
                continue;
            };
            let outcome = replica.log.delete_old_segments(now, &config);
            let partition = slot.state.partition.0;
            if let Some(rolled) = outcome.rolled {
                out.trace(TraceEvent::SegmentRolled(SegmentRolled {
                    topic: name.as_arc().clone(),
                    partition,
                    base_offset: rolled.base_offset.0,
                    reason: rolled.reason.name().to_string(),
                }));
            }
            for d in outcome.deleted {
                out.trace(TraceEvent::SegmentDeleted(SegmentDeleted {
                    topic: name.as_arc().clone(),
                    partition,
                    base_offset: d.base_offset.0,
                    end_offset: d.end_offset.0,
                    records: d.records,
                    reason: d.reason.name().to_string(),
                    log_start_offset: replica.log.log_start_offset().0,
                }));
            }
        }
    }
}
