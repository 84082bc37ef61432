//! A consumer's configuration, parsed once from Kafka-named keys (`"session.timeout.ms"`) into a
//! typed [`ConsumerConfig`]. Unknown keys and bad values are errors that say what to write
//! instead: a typo must never be ignored silently.
//!
//! The [`ClientLibrary`] chooses the defaults and the auto-commit behaviour (both Java versions
//! behave alike here):
//!
//! | setting | Java client | librdkafka (Python, .NET, Go) |
//! |---|---|---|
//! | `client.id` | `consumer-<group.id>-1` | `rdkafka` |
//! | `partition.assignment.strategy` | `range,cooperative-sticky` | `range,roundrobin` |
//! | records per `poll()` | `max.poll.records` (500) | one message (see below) |
//! | auto-commit | positions, inside `poll()` | stored offsets, by a timer |
//! | `max.poll.interval.ms` checked | at the deadline | by a 500 ms timer |
//! | fetch wait key | `fetch.max.wait.ms` | `fetch.wait.max.ms` (or `fetch.max.wait.ms`) |
//! | `isolation.level` | `read_uncommitted` | `read_committed` |
//!
//! librdkafka has no `max.poll.records`: `poll()` and `Consume()` hand out one message. Here, for
//! librdkafka, `max.poll.records` is the application's `consume(num_messages=N)` batch
//! size, 1 by default. The Java client commits, inside `poll()`, the positions of the records
//! returned by earlier polls; librdkafka stores each message's offset when it hands it out and
//! commits the stored offsets from a background timer (see `poll.rs`).
//!
//! Shared defaults (Kafka 3.0+ and librdkafka 1.7+): `session.timeout.ms` 45000,
//! `heartbeat.interval.ms` 3000, `max.poll.interval.ms` 300000, `auto.offset.reset` latest,
//! `enable.auto.commit` true, `auto.commit.interval.ms` 5000, `fetch.min.bytes` 1,
//! `max.partition.fetch.bytes` 1048576, `fetch.max.bytes` 52428800.
//!
//! `isolation.level` travels in every Fetch (a `read_committed` one stops at the last stable
//! offset, and `isolation.rs` drops aborted and control records), and a `read_committed`
//! consumer's OffsetFetch asks `require_stable` (KIP-447, `fetcher.rs`). It matters in runs whose
//! services write transactions (`scenarios/exactly_once.toml`); elsewhere the last stable offset
//! is the high watermark and no record is aborted, so both levels read the same records.

use std::sync::Arc;

use crate::client::assignor::{RebalanceProtocol, StrategyError, StrategyList};
use crate::client::consumer::isolation::default_isolation;
use crate::client::library::ClientLibrary;
use crate::protocol::transaction::IsolationLevel;
use crate::units::Millis;

/// `auto.offset.reset`: where to start on a partition with no committed offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OffsetReset {
    /// `earliest` (librdkafka also `smallest`, `beginning`): the log start offset.
    Earliest,
    /// `latest` (librdkafka also `largest`, `end`): the high watermark; only new records.
    Latest,
    /// `none` (librdkafka `error`): fail (`NoOffsetForPartitionException`).
    None,
}

impl OffsetReset {
    /// The name used in traces.
    pub fn name(self) -> &'static str {
        match self {
            OffsetReset::Earliest => "earliest",
            OffsetReset::Latest => "latest",
            OffsetReset::None => "none",
        }
    }
}

/// A consumer's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// Java client or librdkafka.
    pub library: ClientLibrary,
    /// `group.id` (required).
    pub group_id: Arc<str>,
    /// `client.id`: the prefix of the member id.
    pub client_id: Arc<str>,
    /// `group.instance.id`: set for a static member (KIP-345).
    pub group_instance_id: Option<Arc<str>>,
    /// `isolation.level` (KIP-98): Java's default `read_uncommitted`, librdkafka's
    /// `read_committed`.
    pub isolation_level: IsolationLevel,
    /// `session.timeout.ms`.
    pub session_timeout: Millis,
    /// `heartbeat.interval.ms`.
    pub heartbeat_interval: Millis,
    /// `max.poll.interval.ms`; also the rebalance timeout sent in JoinGroup.
    pub max_poll_interval: Millis,
    /// Records handed to the application per poll: Java's `max.poll.records`; librdkafka's
    /// `consume(num_messages)` (1 for `poll()`/`Consume()`).
    pub max_poll_records: u32,
    /// `auto.offset.reset`.
    pub auto_offset_reset: OffsetReset,
    /// `enable.auto.commit`.
    pub enable_auto_commit: bool,
    /// `auto.commit.interval.ms`.
    pub auto_commit_interval: Millis,
    /// `partition.assignment.strategy`, as protocol names in preference order.
    pub assignment_strategy: StrategyList,
    /// `fetch.max.wait.ms` (librdkafka: `fetch.wait.max.ms`).
    pub fetch_max_wait: Millis,
    /// `fetch.min.bytes`.
    pub fetch_min_bytes: u64,
    /// `max.partition.fetch.bytes`.
    pub max_partition_fetch_bytes: u64,
    /// `fetch.max.bytes`.
    pub fetch_max_bytes: u64,
    /// `request.timeout.ms` (Java 30000; librdkafka's `socket.timeout.ms`, 60000): a request
    /// to a broker unanswered this long fails, and its connection is closed.
    pub request_timeout: Millis,
    /// `retry.backoff.ms` (100): the wait before asking again (metadata, a lost coordinator).
    pub retry_backoff: Millis,
    /// `retry.backoff.max.ms` (1000): the cap of the KIP-848 heartbeat's exponential backoff
    /// after failed attempts (KIP-580).
    pub retry_backoff_max: Millis,
    /// `reconnect.backoff.ms` (50, both clients): after a connection to a broker closed, no fetch
    /// goes to that broker before this long (Java's `ClusterConnectionStates.isBlackedOut`, which
    /// the `Fetcher` asks before picking a node). Fixed: `reconnect.backoff.max.ms`'s exponential
    /// growth is not modelled on the consumer side.
    pub reconnect_backoff: Millis,
    /// `group.protocol`: `classic` (the default of Java 4 and librdkafka 2.12) or `consumer`
    /// (KIP-848, ConsumerGroupHeartbeat; see `kip848.rs`).
    pub group_protocol: GroupProtocol,
    /// `group.remote.assignor` (consumer protocol only): the server-side assignor to ask for,
    /// `uniform` or `range`; none lets the broker choose (its first, `uniform`).
    pub group_remote_assignor: Option<Arc<str>>,
}

/// `group.protocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupProtocol {
    /// JoinGroup / SyncGroup / Heartbeat, the client-side assignor.
    Classic,
    /// KIP-848: ConsumerGroupHeartbeat, the broker assigns and reconciles.
    Consumer,
}

/// Settings of the classic protocol only: Java 4 (`ConsumerConfig`'s unsupported-config
/// check) and librdkafka (`rd_kafka_conf_finalize`) refuse them with `group.protocol=consumer`,
/// as the broker sets the session and the heartbeat, and assigns.
const CLASSIC_ONLY: [&str; 3] = [
    "partition.assignment.strategy",
    "session.timeout.ms",
    "heartbeat.interval.ms",
];

/// Why a consumer configuration cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A key no consumer of this client library knows.
    #[error("unknown consumer setting {key:?}{hint}")]
    UnknownKey {
        /// The key as written.
        key: String,
        /// A suggestion, starting with "; ".
        hint: String,
    },
    /// A value of the wrong shape.
    #[error("{key}={value:?}: expected {expected}")]
    InvalidValue {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
        /// What would be accepted.
        expected: &'static str,
    },
    /// No `group.id`.
    #[error("group.id is missing: a consumer that subscribes to topics needs a consumer group")]
    MissingGroupId,
    /// `heartbeat.interval.ms` not below `session.timeout.ms` (Kafka's `Heartbeat` refuses it).
    #[error(
        "heartbeat.interval.ms ({heartbeat} ms) must be lower than session.timeout.ms \
         ({session} ms); Kafka advises at most a third of it"
    )]
    HeartbeatNotBelowSession {
        /// `heartbeat.interval.ms`.
        heartbeat: u64,
        /// `session.timeout.ms`.
        session: u64,
    },
    /// A classic-protocol setting with `group.protocol=consumer`, or `group.remote.assignor`
    /// with the classic protocol.
    #[error("{key} is not supported for group.protocol={protocol}{hint}")]
    WrongProtocol {
        /// The key.
        key: &'static str,
        /// `consumer` or `classic`.
        protocol: &'static str,
        /// What to do instead, starting with "; ".
        hint: &'static str,
    },
    /// A bad `partition.assignment.strategy`.
    #[error("partition.assignment.strategy: {0}")]
    Strategy(#[from] StrategyError),
}

impl ConsumerConfig {
    /// The client library's defaults for a consumer of `group_id`.
    pub fn defaults(library: ClientLibrary, group_id: &str) -> ConsumerConfig {
        let (client_id, strategy) = match library {
            ClientLibrary::Java3 | ClientLibrary::Java4 => {
                (format!("consumer-{group_id}-1"), "range,cooperative-sticky")
            }
            ClientLibrary::Librdkafka => ("rdkafka".to_string(), "range,roundrobin"),
        };
        ConsumerConfig {
            library,
            group_id: Arc::from(group_id),
            client_id: Arc::from(client_id),
            group_instance_id: None,
            isolation_level: default_isolation(library),
            session_timeout: Millis(45_000),
            heartbeat_interval: Millis(3_000),
            max_poll_interval: Millis(300_000),
            max_poll_records: match library {
                ClientLibrary::Java3 | ClientLibrary::Java4 => 500,
                ClientLibrary::Librdkafka => 1,
            },
            auto_offset_reset: OffsetReset::Latest,
            enable_auto_commit: true,
            auto_commit_interval: Millis(5_000),
            assignment_strategy: StrategyList::parse(strategy)
                .expect("the default strategy parses"),
            fetch_max_wait: Millis(500),
            fetch_min_bytes: 1,
            max_partition_fetch_bytes: 1_048_576,
            fetch_max_bytes: 52_428_800,
            request_timeout: match library {
                ClientLibrary::Java3 | ClientLibrary::Java4 => Millis(30_000),
                ClientLibrary::Librdkafka => Millis(60_000),
            },
            retry_backoff: Millis(100),
            retry_backoff_max: Millis(1_000),
            reconnect_backoff: Millis(50),
            group_protocol: GroupProtocol::Classic,
            group_remote_assignor: None,
        }
    }

    /// Parses Kafka-named settings over the client library's defaults. `group.id` is required; a
    /// Java consumer without `client.id` is `consumer-<group.id>-1` (one process per consumer),
    /// or `consumer-<group.id>-<group.instance.id>` if static.
    ///
    /// ```
    /// use kafka_sim::client::consumer::config::ConsumerConfig;
    /// use kafka_sim::client::library::ClientLibrary;
    /// let c = ConsumerConfig::parse(ClientLibrary::Java4, [
    ///     ("group.id", "analytics"),
    ///     ("session.timeout.ms", "10000"),
    /// ]).unwrap();
    /// assert_eq!(c.session_timeout.0, 10_000);
    /// assert_eq!(&*c.client_id, "consumer-analytics-1");
    /// ```
    pub fn parse<K, V>(
        library: ClientLibrary,
        settings: impl IntoIterator<Item = (K, V)>,
    ) -> Result<ConsumerConfig, ConfigError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let settings: Vec<(String, String)> = settings
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_string(), v.as_ref().trim().to_string()))
            .collect();
        let group = settings
            .iter()
            .find(|(k, _)| k == "group.id")
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
            .ok_or(ConfigError::MissingGroupId)?;
        let mut config = ConsumerConfig::defaults(library, &group);
        // The protocol first: a setting of the other protocol is refused whatever its value.
        if let Some((key, value)) = settings.iter().find(|(k, _)| k == "group.protocol") {
            config.set(key, value)?;
        }
        config.check_protocol(settings.iter().map(|(k, _)| k.as_str()))?;
        let mut client_id_set = false;
        for (key, value) in &settings {
            client_id_set |= key == "client.id";
            config.set(key, value)?;
        }
        if let (ClientLibrary::Java3 | ClientLibrary::Java4, false, Some(instance)) =
            (library, client_id_set, &config.group_instance_id)
        {
            config.client_id = Arc::from(format!("consumer-{group}-{instance}"));
        }
        if config.heartbeat_interval >= config.session_timeout {
            return Err(ConfigError::HeartbeatNotBelowSession {
                heartbeat: config.heartbeat_interval.0,
                session: config.session_timeout.0,
            });
        }
        Ok(config)
    }

    /// Whether every configured assignor supports the cooperative protocol (KIP-429); else the
    /// consumer uses the eager protocol.
    pub fn is_cooperative(&self) -> bool {
        self.assignment_strategy.rebalance_protocol() == RebalanceProtocol::Cooperative
    }

    /// Refuses settings of the other group protocol.
    fn check_protocol<'a>(&self, keys: impl Iterator<Item = &'a str>) -> Result<(), ConfigError> {
        for key in keys {
            let wrong = match self.group_protocol {
                GroupProtocol::Consumer => CLASSIC_ONLY.iter().find(|k| **k == key).map(|k| {
                    let hint = match *k {
                        "partition.assignment.strategy" => "; use group.remote.assignor",
                        _ => "; the broker sets it (group.consumer.*)",
                    };
                    (*k, "consumer", hint)
                }),
                GroupProtocol::Classic => (key == "group.remote.assignor").then_some((
                    "group.remote.assignor",
                    "classic",
                    "",
                )),
            };
            if let Some((key, protocol, hint)) = wrong {
                return Err(ConfigError::WrongProtocol {
                    key,
                    protocol,
                    hint,
                });
            }
        }
        Ok(())
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let java = self.library.is_java();
        match key {
            "group.id" => {}
            "client.id" => self.client_id = Arc::from(value),
            "group.instance.id" => {
                self.group_instance_id = (!value.is_empty()).then(|| Arc::from(value));
            }
            "session.timeout.ms" => self.session_timeout = millis(key, value)?,
            "heartbeat.interval.ms" => self.heartbeat_interval = millis(key, value)?,
            "max.poll.interval.ms" => self.max_poll_interval = millis(key, value)?,
            "auto.commit.interval.ms" => self.auto_commit_interval = millis(key, value)?,
            "fetch.max.wait.ms" => self.fetch_max_wait = millis(key, value)?,
            "request.timeout.ms" if java => self.request_timeout = millis(key, value)?,
            "socket.timeout.ms" if !java => self.request_timeout = millis(key, value)?,
            "retry.backoff.ms" => self.retry_backoff = millis(key, value)?,
            "retry.backoff.max.ms" => self.retry_backoff_max = millis(key, value)?,
            "reconnect.backoff.ms" => self.reconnect_backoff = millis(key, value)?,
            "fetch.wait.max.ms" if !java => self.fetch_max_wait = millis(key, value)?,
            "max.poll.records" => {
                self.max_poll_records = u32::try_from(positive(key, value)?)
                    .map_err(|_| invalid(key, value, "a positive integer of at most 2147483647"))?;
            }
            "fetch.min.bytes" => self.fetch_min_bytes = positive(key, value)?,
            "max.partition.fetch.bytes" => self.max_partition_fetch_bytes = positive(key, value)?,
            "fetch.max.bytes" => self.fetch_max_bytes = positive(key, value)?,
            "enable.auto.commit" => {
                self.enable_auto_commit = match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(invalid(key, value, "true or false")),
                }
            }
            "auto.offset.reset" => self.auto_offset_reset = offset_reset(java, value)?,
            "isolation.level" => {
                self.isolation_level = IsolationLevel::parse(value)
                    .ok_or_else(|| invalid(key, value, "read_committed or read_uncommitted"))?;
            }
            "partition.assignment.strategy" => {
                self.assignment_strategy = StrategyList::parse(value)?;
            }
            "group.protocol" => {
                self.group_protocol = match value {
                    "classic" => GroupProtocol::Classic,
                    "consumer" => GroupProtocol::Consumer,
                    _ => return Err(invalid(key, value, "classic or consumer")),
                }
            }
            "group.remote.assignor" => match value {
                "uniform" | "range" => self.group_remote_assignor = Some(Arc::from(value)),
                _ => return Err(invalid(key, value, "uniform or range")),
            },
            _ => {
                let hint = match key {
                    "fetch.wait.max.ms" => "; the Java client calls it fetch.max.wait.ms",
                    "enable.auto.offset.store" => {
                        "; offsets are stored when a message is handed out (the default)"
                    }
                    _ => "",
                };
                return Err(ConfigError::UnknownKey {
                    key: key.to_string(),
                    hint: hint.to_string(),
                });
            }
        }
        Ok(())
    }
}

fn invalid(key: &str, value: &str, expected: &'static str) -> ConfigError {
    ConfigError::InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        expected,
    }
}

fn millis(key: &str, value: &str) -> Result<Millis, ConfigError> {
    value
        .parse::<u64>()
        .map(Millis)
        .map_err(|_| invalid(key, value, "a whole number of milliseconds"))
}

fn positive(key: &str, value: &str) -> Result<u64, ConfigError> {
    match value.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(invalid(key, value, "a positive integer")),
    }
}

fn offset_reset(java: bool, value: &str) -> Result<OffsetReset, ConfigError> {
    let key = "auto.offset.reset";
    match (java, value) {
        (_, "earliest") | (false, "smallest" | "beginning") => Ok(OffsetReset::Earliest),
        (_, "latest") | (false, "largest" | "end") => Ok(OffsetReset::Latest),
        (true, "none") | (false, "error") => Ok(OffsetReset::None),
        (true, _) => Err(invalid(key, value, "earliest, latest or none")),
        (false, _) => Err(invalid(
            key,
            value,
            "earliest, latest or error (or smallest, beginning, largest, end)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolation_level_defaults_differ() {
        let java = ConsumerConfig::parse(ClientLibrary::Java4, [("group.id", "g")]).unwrap();
        assert_eq!(java.isolation_level, IsolationLevel::ReadUncommitted);
        let rd = ConsumerConfig::parse(ClientLibrary::Librdkafka, [("group.id", "g")]).unwrap();
        assert_eq!(rd.isolation_level, IsolationLevel::ReadCommitted);
        let set = [("group.id", "g"), ("isolation.level", "read_committed")];
        let java = ConsumerConfig::parse(ClientLibrary::Java4, set).unwrap();
        assert_eq!(java.isolation_level, IsolationLevel::ReadCommitted);
        let bad = [("group.id", "g"), ("isolation.level", "committed")];
        let e = ConsumerConfig::parse(ClientLibrary::Java4, bad).unwrap_err();
        assert!(
            e.to_string().contains("read_committed or read_uncommitted"),
            "{e}"
        );
    }

    #[test]
    fn defaults_follow_each_client() {
        let java = ConsumerConfig::parse(ClientLibrary::Java4, [("group.id", "g")]).unwrap();
        assert_eq!(java.session_timeout, Millis(45_000));
        assert_eq!(java.heartbeat_interval, Millis(3_000));
        assert_eq!(java.max_poll_interval, Millis(300_000));
        assert_eq!(java.max_poll_records, 500);
        assert_eq!(java.auto_offset_reset, OffsetReset::Latest);
        assert!(java.enable_auto_commit);
        assert_eq!(java.auto_commit_interval, Millis(5_000));
        assert!(
            !java.is_cooperative(),
            "range first: the default group is eager"
        );
        assert_eq!(&*java.client_id, "consumer-g-1");
        let rd = ConsumerConfig::parse(ClientLibrary::Librdkafka, [("group.id", "g")]).unwrap();
        assert_eq!(rd.max_poll_records, 1);
        assert_eq!(&*rd.client_id, "rdkafka");
        let names: Vec<&str> = rd
            .assignment_strategy
            .strategies()
            .iter()
            .map(|s| s.name())
            .collect();
        assert_eq!(names, vec!["range", "roundrobin"]);
    }

    /// Both clients refuse the classic protocol's settings with `group.protocol=consumer`
    /// (librdkafka's `rd_kafka_conf_finalize`, Java 4's `ConsumerConfig`).
    #[test]
    fn the_consumer_protocol_refuses_classic_settings() {
        let parse = |pairs: &[(&str, &str)]| {
            let mut all = vec![("group.id", "g")];
            all.extend_from_slice(pairs);
            ConsumerConfig::parse(ClientLibrary::Librdkafka, all)
        };
        let c = parse(&[
            ("group.protocol", "consumer"),
            ("group.remote.assignor", "range"),
        ]);
        let c = c.unwrap();
        assert_eq!(c.group_protocol, GroupProtocol::Consumer);
        assert_eq!(c.group_remote_assignor.as_deref(), Some("range"));
        for key in CLASSIC_ONLY {
            let e = parse(&[("group.protocol", "consumer"), (key, "10000")]).unwrap_err();
            assert!(
                e.to_string()
                    .contains("not supported for group.protocol=consumer")
            );
        }
        let e = parse(&[("group.remote.assignor", "uniform")]).unwrap_err();
        assert!(e.to_string().contains("group.protocol=classic"));
        assert!(parse(&[("group.protocol", "new")]).is_err());
    }

    #[test]
    fn settings_parse_and_errors_say_what_to_fix() {
        let c = ConsumerConfig::parse(
            ClientLibrary::Librdkafka,
            [
                ("group.id", "g"),
                ("auto.offset.reset", "smallest"),
                ("fetch.wait.max.ms", "100"),
                ("group.instance.id", "w1"),
                ("enable.auto.commit", "false"),
            ],
        )
        .unwrap();
        assert_eq!(c.auto_offset_reset, OffsetReset::Earliest);
        assert_eq!(c.fetch_max_wait, Millis(100));
        assert_eq!(c.group_instance_id.as_deref(), Some("w1"));
        assert!(!c.enable_auto_commit);
        let static_java = ConsumerConfig::parse(
            ClientLibrary::Java4,
            [("group.id", "g"), ("group.instance.id", "w1")],
        )
        .unwrap();
        assert_eq!(&*static_java.client_id, "consumer-g-w1");
        let err = |library, pairs: &[(&str, &str)]| {
            ConsumerConfig::parse(library, pairs.iter().copied())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(
                ClientLibrary::Java4,
                &[("group.id", "g"), ("fetch.wait.max.ms", "5")]
            ),
            "unknown consumer setting \"fetch.wait.max.ms\"; the Java client calls it \
             fetch.max.wait.ms"
        );
        assert_eq!(
            err(
                ClientLibrary::Java4,
                &[("group.id", "g"), ("auto.offset.reset", "smallest")]
            ),
            "auto.offset.reset=\"smallest\": expected earliest, latest or none"
        );
        assert!(err(ClientLibrary::Java4, &[("session.timeout.ms", "1")]).contains("group.id"));
        assert!(
            err(
                ClientLibrary::Java4,
                &[("group.id", "g"), ("session.timeout.ms", "3000")]
            )
            .contains("must be lower than session.timeout.ms")
        );
        assert!(
            err(
                ClientLibrary::Java4,
                &[("group.id", "g"), ("max.poll.records", "0")]
            )
            .contains("a positive integer")
        );
        assert!(
            err(
                ClientLibrary::Java4,
                &[("group.id", "g"), ("partition.assignment.strategy", "fair")]
            )
            .starts_with("partition.assignment.strategy: unknown assignor")
        );
    }
}
