//! Broker and topic settings by Kafka's names: replication (`min.insync.replicas`,
//! `replica.lag.time.max.ms`, `unclean.leader.election.enable`), the KRaft heartbeats
//! (`broker.heartbeat.interval.ms`, `broker.session.timeout.ms`) and the log (segments, retention,
//! compaction).
//!
//! A topic config overrides its broker-wide default (`segment.ms` over `log.roll.ms`,
//! `retention.ms` over `log.retention.ms`, ...), as Kafka's `LogConfig` does. The defaults are
//! Kafka 3.x/4.0's (`ServerLogConfigs`, `ReplicationConfigs`, `KRaftConfigs`, `CleanerConfig`).
//! Broker settings that only make a teaching run shorter, such as `log.cleaner.backoff.ms` or
//! `log.retention.check.interval.ms`, are real broker configs too: a scenario may shorten them as
//! an operator would in `server.properties`.

use std::collections::BTreeMap;

use crate::rng::Ratio;
use crate::units::Millis;

/// A config name or value Kafka would refuse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not a broker (or topic) config the simulator knows.
    #[error("unknown config {name:?}{hint}")]
    Unknown {
        /// The name as written.
        name: String,
        /// A suggestion, if any.
        hint: String,
    },
    /// The value does not parse or is out of Kafka's range.
    #[error("invalid value {value:?} for {name}: {expected}")]
    Invalid {
        /// The config.
        name: String,
        /// The value as written.
        value: String,
        /// What Kafka accepts.
        expected: &'static str,
    },
}

/// `cleanup.policy`: what happens to old data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CleanupPolicy {
    /// `delete`: whole segments go when they pass `retention.ms` or `retention.bytes`.
    pub delete: bool,
    /// `compact`: the cleaner keeps the latest record of each key.
    pub compact: bool,
}

impl CleanupPolicy {
    fn parse(value: &str) -> Option<CleanupPolicy> {
        let mut policy = CleanupPolicy::default();
        for part in value.split(',').map(str::trim) {
            match part {
                "delete" => policy.delete = true,
                "compact" => policy.compact = true,
                _ => return None,
            }
        }
        (policy.delete || policy.compact).then_some(policy)
    }

    /// As Kafka writes it: `delete`, `compact` or `compact,delete`.
    pub fn name(self) -> &'static str {
        match (self.compact, self.delete) {
            (true, true) => "compact,delete",
            (true, false) => "compact",
            _ => "delete",
        }
    }
}

/// The settings that decide one partition log's segments, retention and compaction, and its
/// replication rules: a topic's configs over the broker's defaults (Kafka's `LogConfig`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicConfig {
    /// `cleanup.policy` (`log.cleanup.policy`, default `delete`).
    pub cleanup_policy: CleanupPolicy,
    /// `segment.bytes` (`log.segment.bytes`, 1 GiB): the active segment rolls before it would
    /// pass this size.
    pub segment_bytes: u64,
    /// `segment.ms` (`log.roll.ms`, 7 days): the active segment rolls when a new batch's
    /// timestamp is this much later than its first batch's.
    pub segment_ms: Millis,
    /// `retention.ms` (`log.retention.ms`, 7 days); `None` for -1 (keep forever).
    pub retention_ms: Option<Millis>,
    /// `retention.bytes` (`log.retention.bytes`, -1): `None` for no size limit.
    pub retention_bytes: Option<u64>,
    /// `delete.retention.ms` (`log.cleaner.delete.retention.ms`, 1 day): how long a tombstone
    /// outlives the cleaning pass that first saw it.
    pub delete_retention_ms: Millis,
    /// `min.cleanable.dirty.ratio` (`log.cleaner.min.cleanable.ratio`, 0.5).
    pub min_cleanable_dirty_ratio: Ratio,
    /// `min.compaction.lag.ms` (0): younger segments stay dirty.
    pub min_compaction_lag_ms: Millis,
    /// `min.insync.replicas` (1).
    pub min_insync_replicas: u32,
    /// `unclean.leader.election.enable` (false since Kafka 0.11).
    pub unclean_leader_election: bool,
}

/// A broker's settings (Kafka's `KafkaConfig`), the topic defaults among them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerConfig {
    /// The topic defaults (`log.*`, `min.insync.replicas`, `unclean.leader.election.enable`).
    pub topic_defaults: TopicConfig,
    /// `replica.lag.time.max.ms` (30000 since 2.5): a follower that has not caught up with the
    /// leader's log end for this long leaves the ISR.
    pub replica_lag_time_max: Millis,
    /// `replica.fetch.wait.max.ms` (500): how long a follower's fetch waits at the leader for
    /// data.
    pub replica_fetch_wait_max: Millis,
    /// `replica.fetch.max.bytes` (1048576) per partition.
    pub replica_fetch_max_bytes: u64,
    /// `replica.fetch.response.max.bytes` (10485760) per fetch.
    pub replica_fetch_response_max_bytes: u64,
    /// `replica.fetch.backoff.ms` (1000): the wait after a failed replica fetch.
    pub replica_fetch_backoff: Millis,
    /// `broker.heartbeat.interval.ms` (2000): how often a broker heartbeats to the controller.
    pub broker_heartbeat_interval: Millis,
    /// `broker.session.timeout.ms` (9000): the controller fences a broker whose heartbeats stop
    /// for this long.
    pub broker_session_timeout: Millis,
    /// `log.cleaner.enable` (true).
    pub log_cleaner_enable: bool,
    /// `log.cleaner.backoff.ms` (15000): the cleaner's sleep when no log needs cleaning.
    pub log_cleaner_backoff: Millis,
    /// `log.retention.check.interval.ms` (300000): how often retention runs.
    pub log_retention_check_interval: Millis,
    /// `log.initial.task.delay.ms` (30000): the first retention run waits this long after the
    /// broker starts.
    pub log_initial_task_delay: Millis,
    /// `auto.leader.rebalance.enable` (true): the controller moves leadership back to each
    /// partition's preferred replica (`broker::controller`, `balance.rs`).
    pub auto_leader_rebalance_enable: bool,
    /// `leader.imbalance.check.interval.seconds` (300), as milliseconds.
    pub leader_imbalance_check_interval: Millis,
    /// `leader.imbalance.per.broker.percentage` (10): read by the ZooKeeper controller only; the
    /// KRaft controller balances every imbalanced partition.
    pub leader_imbalance_per_broker_percentage: u32,
    /// `offsets.topic.replication.factor`: the replicas of each `__consumer_offsets` partition,
    /// capped by the broker count (`broker::offsets_topic`). Kafka's default, 3: when a
    /// coordinator's broker dies, the group fails over to the partition's new leader
    /// (`min_insync_two_down.toml`: broker 2 -> broker 1 at 27 s). A scenario sets 1 to see a
    /// development cluster's single-replica offsets topic, whose groups wait for their broker.
    pub offsets_topic_replication_factor: u32,
}

const DAY_MS: u64 = 86_400_000;

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig {
            cleanup_policy: CleanupPolicy {
                delete: true,
                compact: false,
            },
            segment_bytes: 1 << 30,
            segment_ms: Millis(7 * DAY_MS),
            retention_ms: Some(Millis(7 * DAY_MS)),
            retention_bytes: None,
            delete_retention_ms: Millis(DAY_MS),
            min_cleanable_dirty_ratio: Ratio::from_ppm(500_000),
            min_compaction_lag_ms: Millis(0),
            min_insync_replicas: 1,
            unclean_leader_election: false,
        }
    }
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            topic_defaults: TopicConfig::default(),
            replica_lag_time_max: Millis(30_000),
            replica_fetch_wait_max: Millis(500),
            replica_fetch_max_bytes: 1_048_576,
            replica_fetch_response_max_bytes: 10_485_760,
            replica_fetch_backoff: Millis(1_000),
            broker_heartbeat_interval: Millis(2_000),
            broker_session_timeout: Millis(9_000),
            log_cleaner_enable: true,
            log_cleaner_backoff: Millis(15_000),
            log_retention_check_interval: Millis(300_000),
            log_initial_task_delay: Millis(30_000),
            auto_leader_rebalance_enable: true,
            leader_imbalance_check_interval: Millis(300_000),
            leader_imbalance_per_broker_percentage: 10,
            offsets_topic_replication_factor: 3,
        }
    }
}

/// The topic configs the simulator models, as `kafka-configs` names them.
pub const TOPIC_CONFIGS: &[&str] = &[
    "cleanup.policy",
    "delete.retention.ms",
    "min.cleanable.dirty.ratio",
    "min.compaction.lag.ms",
    "min.insync.replicas",
    "retention.bytes",
    "retention.ms",
    "segment.bytes",
    "segment.ms",
    "unclean.leader.election.enable",
];

impl TopicConfig {
    /// This topic's settings: `configs` (topic-level names) over `defaults`.
    pub fn resolve<'a>(
        defaults: &TopicConfig,
        configs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<TopicConfig, ConfigError> {
        let mut c = defaults.clone();
        for (name, value) in configs {
            c.set(name, name, value)?;
        }
        Ok(c)
    }

    /// Sets one setting; `key` is the name the user wrote (a topic or a broker name).
    fn set(&mut self, field: &str, key: &str, value: &str) -> Result<(), ConfigError> {
        let invalid = |expected| ConfigError::Invalid {
            name: key.to_string(),
            value: value.to_string(),
            expected,
        };
        match field {
            "cleanup.policy" => {
                self.cleanup_policy = CleanupPolicy::parse(value)
                    .ok_or_else(|| invalid("delete, compact or compact,delete"))?;
            }
            "segment.bytes" => {
                self.segment_bytes = int(value, 14).ok_or_else(|| invalid(">= 14"))?
            }
            "segment.ms" => self.segment_ms = Millis(int(value, 1).ok_or_else(|| invalid(">= 1"))?),
            "retention.ms" => {
                self.retention_ms = optional_ms(value).ok_or_else(|| invalid(">= -1"))?
            }
            "retention.bytes" => {
                self.retention_bytes = optional_int(value).ok_or_else(|| invalid(">= -1"))?;
            }
            "delete.retention.ms" => {
                self.delete_retention_ms = Millis(int(value, 0).ok_or_else(|| invalid(">= 0"))?);
            }
            "min.cleanable.dirty.ratio" => {
                self.min_cleanable_dirty_ratio =
                    Ratio::parse(value).map_err(|_| invalid("a decimal between 0 and 1"))?;
            }
            "min.compaction.lag.ms" => {
                self.min_compaction_lag_ms = Millis(int(value, 0).ok_or_else(|| invalid(">= 0"))?);
            }
            "min.insync.replicas" => {
                self.min_insync_replicas = int(value, 1)
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| invalid(">= 1"))?;
            }
            "unclean.leader.election.enable" => {
                self.unclean_leader_election =
                    boolean(value).ok_or_else(|| invalid("true or false"))?;
            }
            _ => {
                return Err(ConfigError::Unknown {
                    name: key.to_string(),
                    hint: format!("; topic configs: {}", TOPIC_CONFIGS.join(", ")),
                });
            }
        }
        Ok(())
    }

    /// Kafka's `effectiveMinIsr`: `min.insync.replicas`, but never more than the replicas.
    pub fn effective_min_isr(&self, replicas: usize) -> usize {
        (self.min_insync_replicas as usize).min(replicas.max(1))
    }
}

/// Broker configs the simulator models (besides the topic defaults).
pub const BROKER_CONFIGS: &[&str] = &[
    "auto.leader.rebalance.enable",
    "broker.heartbeat.interval.ms",
    "broker.session.timeout.ms",
    "log.cleaner.backoff.ms",
    "log.cleaner.delete.retention.ms",
    "log.cleaner.enable",
    "log.cleaner.min.cleanable.ratio",
    "log.cleaner.min.compaction.lag.ms",
    "log.cleanup.policy",
    "log.initial.task.delay.ms",
    "log.retention.bytes",
    "log.retention.check.interval.ms",
    "log.retention.hours",
    "log.retention.minutes",
    "log.retention.ms",
    "log.roll.hours",
    "log.roll.ms",
    "log.segment.bytes",
    "leader.imbalance.check.interval.seconds",
    "leader.imbalance.per.broker.percentage",
    "min.insync.replicas",
    "offsets.topic.replication.factor",
    "replica.fetch.backoff.ms",
    "replica.fetch.max.bytes",
    "replica.fetch.response.max.bytes",
    "replica.fetch.wait.max.ms",
    "replica.lag.time.max.ms",
    "unclean.leader.election.enable",
];

impl BrokerConfig {
    /// Parses broker configs by Kafka name over Kafka's defaults. Unknown names are errors.
    /// The finer unit wins, as in Kafka (`log.retention.ms` over `.minutes` over `.hours`):
    /// the names are applied in sorted order, which puts the finer one last.
    pub fn parse<'a>(
        configs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<BrokerConfig, ConfigError> {
        let configs: BTreeMap<&str, &str> = configs.into_iter().collect();
        let mut c = BrokerConfig::default();
        for (name, value) in configs {
            if !c.set(name, value)? {
                return Err(ConfigError::Unknown {
                    name: name.to_string(),
                    hint: format!("; broker configs: {}", BROKER_CONFIGS.join(", ")),
                });
            }
        }
        Ok(c)
    }

    /// Sets one broker config; `Ok(false)` if the name is not one of [`BROKER_CONFIGS`] (the
    /// caller may know it: the group coordinator's `group.*` settings). Set a coarse unit
    /// (`log.retention.hours`) before a finer one (`log.retention.ms`).
    pub fn set(&mut self, name: &str, value: &str) -> Result<bool, ConfigError> {
        let invalid = |expected| ConfigError::Invalid {
            name: name.to_string(),
            value: value.to_string(),
            expected,
        };
        let ms = |min| {
            let expected = if min == 0 { ">= 0" } else { ">= 1" };
            int(value, min).map(Millis).ok_or_else(|| invalid(expected))
        };
        let topic_field = match name {
            "log.cleanup.policy" => Some("cleanup.policy"),
            "log.segment.bytes" => Some("segment.bytes"),
            "log.roll.ms" => Some("segment.ms"),
            "log.retention.ms" => Some("retention.ms"),
            "log.retention.bytes" => Some("retention.bytes"),
            "log.cleaner.delete.retention.ms" => Some("delete.retention.ms"),
            "log.cleaner.min.cleanable.ratio" => Some("min.cleanable.dirty.ratio"),
            "log.cleaner.min.compaction.lag.ms" => Some("min.compaction.lag.ms"),
            "min.insync.replicas" | "unclean.leader.election.enable" => Some(name),
            _ => None,
        };
        if let Some(field) = topic_field {
            self.topic_defaults.set(field, name, value)?;
            return Ok(true);
        }
        let scaled = |factor: u64| {
            int(value, 1)
                .map(|n| Millis(n * factor))
                .ok_or_else(|| invalid(">= 1"))
        };
        match name {
            "log.retention.hours" => self.topic_defaults.retention_ms = Some(scaled(3_600_000)?),
            "log.retention.minutes" => self.topic_defaults.retention_ms = Some(scaled(60_000)?),
            "log.roll.hours" => self.topic_defaults.segment_ms = scaled(3_600_000)?,
            "replica.lag.time.max.ms" => self.replica_lag_time_max = ms(1)?,
            "replica.fetch.wait.max.ms" => self.replica_fetch_wait_max = ms(0)?,
            "replica.fetch.backoff.ms" => self.replica_fetch_backoff = ms(0)?,
            "replica.fetch.max.bytes" => self.replica_fetch_max_bytes = ms(1)?.0,
            "replica.fetch.response.max.bytes" => {
                self.replica_fetch_response_max_bytes = ms(1)?.0;
            }
            "broker.heartbeat.interval.ms" => self.broker_heartbeat_interval = ms(1)?,
            "broker.session.timeout.ms" => self.broker_session_timeout = ms(1)?,
            "log.cleaner.enable" => {
                self.log_cleaner_enable = boolean(value).ok_or_else(|| invalid("true or false"))?;
            }
            "log.cleaner.backoff.ms" => self.log_cleaner_backoff = ms(1)?,
            "log.retention.check.interval.ms" => self.log_retention_check_interval = ms(1)?,
            "log.initial.task.delay.ms" => self.log_initial_task_delay = ms(0)?,
            _ => return self.set_cluster(name, value),
        }
        Ok(true)
    }

    /// The controller's and the offsets topic's settings (a part of [`BrokerConfig::set`]).
    fn set_cluster(&mut self, name: &str, value: &str) -> Result<bool, ConfigError> {
        let invalid = |expected| ConfigError::Invalid {
            name: name.to_string(),
            value: value.to_string(),
            expected,
        };
        match name {
            "offsets.topic.replication.factor" => {
                self.offsets_topic_replication_factor = int(value, 1)
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| invalid(">= 1"))?;
            }
            "auto.leader.rebalance.enable" => {
                self.auto_leader_rebalance_enable =
                    boolean(value).ok_or_else(|| invalid("true or false"))?;
            }
            "leader.imbalance.check.interval.seconds" => {
                self.leader_imbalance_check_interval =
                    Millis(int(value, 1).ok_or_else(|| invalid(">= 1"))? * 1_000);
            }
            "leader.imbalance.per.broker.percentage" => {
                self.leader_imbalance_per_broker_percentage = int(value, 0)
                    .filter(|v| *v <= 100)
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| invalid("0 to 100"))?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

fn int(value: &str, min: u64) -> Option<u64> {
    value.trim().parse::<u64>().ok().filter(|v| *v >= min)
}

/// `-1` (no limit) or a non-negative number.
fn optional_int(value: &str) -> Option<Option<u64>> {
    match value.trim() {
        "-1" => Some(None),
        v => v.parse::<u64>().ok().map(Some),
    }
}

fn optional_ms(value: &str) -> Option<Option<Millis>> {
    optional_int(value).map(|v| v.map(Millis))
}

fn boolean(value: &str) -> Option<bool> {
    match value.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_configs_override_broker_defaults() {
        let broker = BrokerConfig::parse([
            ("log.retention.hours", "1"),
            ("min.insync.replicas", "2"),
            ("log.cleaner.backoff.ms", "1000"),
        ])
        .unwrap();
        assert_eq!(broker.topic_defaults.retention_ms, Some(Millis(3_600_000)));
        assert_eq!(broker.log_cleaner_backoff, Millis(1000));
        let topic = TopicConfig::resolve(
            &broker.topic_defaults,
            [
                ("cleanup.policy", "compact"),
                ("segment.ms", "1000"),
                ("min.cleanable.dirty.ratio", "0.01"),
                ("retention.ms", "-1"),
            ],
        )
        .unwrap();
        assert_eq!(topic.cleanup_policy.name(), "compact");
        let both = TopicConfig::resolve(
            &TopicConfig::default(),
            [("cleanup.policy", "compact,delete")],
        )
        .unwrap();
        assert!(both.cleanup_policy.compact && both.cleanup_policy.delete);
        assert_eq!(both.cleanup_policy.name(), "compact,delete");
        assert_eq!(topic.min_insync_replicas, 2, "the broker default");
        assert_eq!(topic.retention_ms, None);
        assert_eq!(topic.effective_min_isr(1), 1);
        assert!(matches!(
            TopicConfig::resolve(&broker.topic_defaults, [("segment.ms", "0")]),
            Err(ConfigError::Invalid { .. })
        ));
        assert!(matches!(
            BrokerConfig::parse([("log.segment.byte", "1")]),
            Err(ConfigError::Unknown { .. })
        ));
    }
}
