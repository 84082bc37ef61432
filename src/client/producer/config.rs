//! Producer configuration, by Kafka's own names, with the defaults and conflict rules of the
//! client modelled.
//!
//! [`ProducerConfig::parse`] takes `(key, value)` strings exactly as a Java `Properties` or a
//! librdkafka config holds them (`"acks" = "all"`, `"linger.ms" = "5"`). An unknown key is an
//! error that names the closest known one: a typo must never be ignored silently. Keys that
//! matter to a real client but not to the model (`client.id`, `compression.type`, serializers...)
//! are accepted and listed in [`ProducerConfig::ignored`].
//!
//! | key | Java 3.x | Java 4.0 | librdkafka |
//! |---|---|---|---|
//! | `acks` | all | all | all |
//! | `enable.idempotence` | true | true | false |
//! | `linger.ms` | 0 | 5 (KIP-1030) | 5 |
//! | `batch.size` | 16384 | 16384 | 1000000 |
//! | `max.in.flight.requests.per.connection` | 5 | 5 | 1000000 |
//! | `retries` | 2147483647 | 2147483647 | 2147483647 |
//! | `retry.backoff.ms` / `.max.ms` | 100 / 1000 | 100 / 1000 | 100 / 1000 |
//! | `request.timeout.ms` | 30000 | 30000 | 30000 |
//! | `socket.timeout.ms` | - | - | 60000 |
//! | `delivery.timeout.ms` | 120000 | 120000 | 300000 |
//! | `reconnect.backoff.ms` / `.max.ms` | 50 / 1000 | 50 / 1000 | 100 / 10000 |
//! | partitioner | built-in (KIP-794) | built-in | `consistent_random` |
//!
//! Java 3.x means 3.7 to 3.9 (the exponential retry backoff of KIP-580 arrived in 3.7).
//!
//! How long a client waits for a response is `request.timeout.ms` in Java, but
//! `socket.timeout.ms` in librdkafka, whose `request.timeout.ms` is only "the ack timeout of the
//! producer request [...] only enforced by the broker" (librdkafka `CONFIGURATION.md`; its
//! `socket.timeout.ms`: "Default timeout for network requests", 10 to 300000, default 60000).
//! A Python producer with `request.timeout.ms=1500` whose acknowledgement is lost therefore
//! waits a minute before it retries, not 1.5 s ([`ProducerConfig::response_timeout`]).
//!
//! Conflict rules (`ProducerConfig.postProcessAndValidateIdempotenceConfigs`): idempotence needs
//! `acks=all`, `retries > 0` and at most 5 requests in flight. When `enable.idempotence` was not
//! set, a conflicting `acks` or `retries` silently turns idempotence off; when it was set to
//! `true`, the conflict is a `ConfigException`. More than 5 in flight turns default idempotence
//! off in 3.x and is an error in 4.0 unless `enable.idempotence=false` is set (KAFKA-17927).
//! `delivery.timeout.ms` must be at least `linger.ms + request.timeout.ms`: an error if the user
//! set it, else it is raised to that sum (`KafkaProducer.configureDeliveryTimeout`).
//! librdkafka (`rd_kafka_conf_finalize`): with `enable.idempotence=true`, an explicit `acks`
//! other than all, `retries=0` or more than 5 in flight is an error; unset, they are adjusted.

use std::collections::BTreeMap;

use crate::client::library::ClientLibrary;
use crate::client::partitioner::{self, Partitioner};
use crate::protocol::produce::Acks;
use crate::units::Millis;

/// A producer's settings after defaults and conflict rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducerConfig {
    /// The client modelled.
    pub library: ClientLibrary,
    /// `acks`.
    pub acks: Acks,
    /// `batch.size`: bytes per batch before it counts as full.
    pub batch_size: u64,
    /// librdkafka `batch.num.messages`: records per batch before it counts as full.
    pub batch_num_messages: Option<u32>,
    /// `linger.ms`: how long a batch waits for more records before it may be sent.
    pub linger: Millis,
    /// `max.in.flight.requests.per.connection`.
    pub max_in_flight: u32,
    /// `retries`: attempts after the first before a retriable error becomes final.
    pub retries: u32,
    /// `retry.backoff.ms`: the first retry's backoff.
    pub retry_backoff: Millis,
    /// `retry.backoff.max.ms`: the cap of the exponential backoff (KIP-580).
    pub retry_backoff_max: Millis,
    /// `reconnect.backoff.ms`.
    pub reconnect_backoff: Millis,
    /// `reconnect.backoff.max.ms`.
    pub reconnect_backoff_max: Millis,
    /// `request.timeout.ms`: in Java how long a request may wait for its response; in
    /// librdkafka only the broker's wait for `acks` (sent in the Produce request).
    pub request_timeout: Millis,
    /// librdkafka `socket.timeout.ms`: how long a request may wait for its response (`None` for
    /// Java, which has no such setting).
    pub socket_timeout: Option<Millis>,
    /// `delivery.timeout.ms` (librdkafka `message.timeout.ms`): from `send()` to a final report.
    pub delivery_timeout: Millis,
    /// `max.request.size`: bytes per Produce request (a bigger single batch still goes alone).
    pub max_request_size: u64,
    /// `enable.idempotence`, as in effect.
    pub enable_idempotence: bool,
    /// Why idempotence is off although the client's default has it on.
    pub idempotence_note: Option<String>,
    /// `partitioner.class` (Java) or `partitioner` (librdkafka).
    pub partitioner: Partitioner,
    /// `partitioner.ignore.keys`: keyed records use the sticky path too.
    pub partitioner_ignore_keys: bool,
    /// `partitioner.adaptive.partitioning.enable`: the sticky choice favours shorter queues.
    pub adaptive_partitioning: bool,
    /// librdkafka `sticky.partitioning.linger.ms` (default `2 x linger.ms`).
    pub sticky_partitioning_linger: Millis,
    /// Keys a real client needs and the model does not use, in the order given.
    pub ignored: Vec<String>,
    /// `transactional.id` and `transaction.timeout.ms`, when a transactional id is set.
    pub transactional: Option<TransactionalConfig>,
}

/// A transactional producer's settings (`transactional.rs` has the rules).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionalConfig {
    /// `transactional.id`: the identity that survives restarts; a new instance with the same id
    /// fences the old one.
    pub transactional_id: String,
    /// `transaction.timeout.ms`: how long the coordinator lets a transaction stay open.
    pub transaction_timeout: Millis,
}

/// A configuration the client would refuse, saying what to change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No such producer setting.
    #[error("unknown {client} producer config {key:?}{}", suggest(*suggestion))]
    UnknownKey {
        /// The key given.
        key: String,
        /// The client modelled.
        client: &'static str,
        /// The closest known key, if one is close.
        suggestion: Option<&'static str>,
    },
    /// A value the client would not parse or accept.
    #[error("invalid value {value:?} for {key}: expected {expected}")]
    InvalidValue {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// What is allowed.
        expected: &'static str,
    },
    /// A setting conflicts with idempotence (Java's and librdkafka's `ConfigException`).
    #[error("{message} (got {key}={value}; {fix})")]
    IdempotenceConflict {
        /// The conflicting key.
        key: &'static str,
        /// Its value.
        value: String,
        /// The client's own message.
        message: &'static str,
        /// What to do about it.
        fix: &'static str,
    },
    /// `delivery.timeout.ms` set below `linger.ms + request.timeout.ms`.
    #[error(
        "delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms \
         (got {delivery_ms} < {linger_ms} + {request_ms}): raise delivery.timeout.ms or leave it \
         unset"
    )]
    DeliveryTimeoutTooShort {
        /// `delivery.timeout.ms`.
        delivery_ms: u64,
        /// `linger.ms`.
        linger_ms: u64,
        /// `request.timeout.ms`.
        request_ms: u64,
    },
    /// A partitioner this client does not have.
    #[error("partitioner {name:?} is not available in the {client} client: {why}")]
    Partitioner {
        /// The name given.
        name: String,
        /// The client modelled.
        client: &'static str,
        /// Why, and what to use.
        why: String,
    },
    /// A setting the model does not support.
    #[error("{key} is not modelled: {why}")]
    Unsupported {
        /// The key.
        key: String,
        /// Why, and what to do.
        why: &'static str,
    },
}

fn suggest(s: Option<&'static str>) -> String {
    s.map(|k| format!("; did you mean {k:?}?"))
        .unwrap_or_default()
}

/// Every key the model uses (after aliases are resolved).
const KNOWN: [&str; 23] = [
    "transactional.id",
    "transaction.timeout.ms",
    "acks",
    "batch.size",
    "batch.num.messages",
    "linger.ms",
    "max.in.flight.requests.per.connection",
    "retries",
    "retry.backoff.ms",
    "retry.backoff.max.ms",
    "reconnect.backoff.ms",
    "reconnect.backoff.max.ms",
    "request.timeout.ms",
    "socket.timeout.ms",
    "delivery.timeout.ms",
    "max.request.size",
    "enable.idempotence",
    "partitioner.class",
    "partitioner",
    "partitioner.ignore.keys",
    "partitioner.adaptive.partitioning.enable",
    "sticky.partitioning.linger.ms",
    "partitioner.availability.timeout.ms",
];

/// Keys a real client needs that do not change what the model computes.
const IGNORED: [&str; 14] = [
    "bootstrap.servers",
    "client.id",
    "compression.type",
    "compression.codec",
    "buffer.memory",
    "max.block.ms",
    "key.serializer",
    "value.serializer",
    "metadata.max.age.ms",
    "send.buffer.bytes",
    "receive.buffer.bytes",
    "security.protocol",
    "socket.connection.setup.timeout.ms",
    "connections.max.idle.ms",
];

/// librdkafka's alternative names.
fn canonical(library: ClientLibrary, key: &str) -> &str {
    if library != ClientLibrary::Librdkafka {
        return key;
    }
    match key {
        "queue.buffering.max.ms" => "linger.ms",
        "message.timeout.ms" => "delivery.timeout.ms",
        "request.required.acks" => "acks",
        "max.in.flight" => "max.in.flight.requests.per.connection",
        "message.send.max.retries" => "retries",
        "message.max.bytes" => "max.request.size",
        other => other,
    }
}

impl ProducerConfig {
    /// The client's defaults, with nothing set.
    pub fn defaults(library: ClientLibrary) -> ProducerConfig {
        ProducerConfig::parse(library, std::iter::empty::<(&str, &str)>())
            .expect("the defaults are valid")
    }

    /// [`ProducerConfig::parse`], transactional settings included.
    pub(super) fn parse_all<K, V>(
        library: ClientLibrary,
        settings: impl IntoIterator<Item = (K, V)>,
    ) -> Result<ProducerConfig, ConfigError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut set: BTreeMap<String, String> = BTreeMap::new();
        let mut ignored = Vec::new();
        for (key, value) in settings {
            let key = canonical(library, key.as_ref().trim()).to_string();
            let value = value.as_ref().trim().to_string();
            if IGNORED.contains(&key.as_str()) {
                ignored.push(key);
            } else if key == "socket.timeout.ms" && library.is_java() {
                // Not a Java producer config: Java's request.timeout.ms is the client's wait.
                return Err(ConfigError::UnknownKey {
                    key,
                    client: library.name(),
                    suggestion: Some("request.timeout.ms"),
                });
            } else if KNOWN.contains(&key.as_str()) {
                set.insert(key, value);
            } else {
                return Err(ConfigError::UnknownKey {
                    suggestion: closest_key(&key),
                    key,
                    client: library.name(),
                });
            }
        }
        let mut config = Settings { library, set: &set }.build()?;
        config.ignored = ignored;
        Ok(config)
    }

    /// True if batches carry producer ids and sequence numbers.
    pub fn idempotent(&self) -> bool {
        self.enable_idempotence
    }

    /// How long a request waits for its response before the client gives up on it (and closes
    /// its connection, failing every request in flight there): Java's `request.timeout.ms`,
    /// librdkafka's `socket.timeout.ms`.
    pub fn response_timeout(&self) -> Millis {
        self.socket_timeout.unwrap_or(self.request_timeout)
    }

    /// `acks` as Kafka prints it.
    pub fn acks_name(&self) -> &'static str {
        match self.acks {
            Acks::None => "0",
            Acks::Leader => "1",
            Acks::All => "all",
        }
    }
}

/// The default `linger.ms`: 0 before Kafka 4.0, 5 since (KIP-1030), and 5 in librdkafka.
fn linger_default(library: ClientLibrary) -> u64 {
    if library == ClientLibrary::Java3 {
        0
    } else {
        5
    }
}

/// The raw settings of one parse, with typed getters that fall back to the defaults.
struct Settings<'a> {
    library: ClientLibrary,
    set: &'a BTreeMap<String, String>,
}

impl Settings<'_> {
    fn explicit(&self, key: &str) -> bool {
        self.set.contains_key(key)
    }

    fn raw(&self, key: &str) -> Option<&str> {
        self.set.get(key).map(String::as_str)
    }

    fn invalid(key: &str, value: &str, expected: &'static str) -> ConfigError {
        ConfigError::InvalidValue {
            key: key.to_string(),
            value: value.to_string(),
            expected,
        }
    }

    /// A non-negative integer at least `min`, as Java's `ConfigDef` `atLeast` validates it.
    pub(super) fn int(
        &self,
        key: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        let Some(v) = self.raw(key) else {
            return Ok(default);
        };
        match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(Self::invalid(key, v, range_text(min, max))),
        }
    }

    fn ms(&self, key: &str, default: u64) -> Result<Millis, ConfigError> {
        self.int(key, default, 0, i32::MAX as u64).map(Millis)
    }

    fn bool(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.raw(key) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(Self::invalid(key, v, "true or false")),
        }
    }

    fn acks(&self) -> Result<Acks, ConfigError> {
        match self.raw("acks") {
            None => Ok(Acks::All),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "all" | "-1" => Ok(Acks::All),
                "1" => Ok(Acks::Leader),
                "0" => Ok(Acks::None),
                _ => Err(Self::invalid("acks", v, "one of all, -1, 0, 1")),
            },
        }
    }

    fn partitioner(&self) -> Result<Partitioner, ConfigError> {
        let given = self.raw("partitioner.class").or(self.raw("partitioner"));
        let default = match self.library {
            ClientLibrary::Librdkafka => Partitioner::ConsistentRandom,
            _ => Partitioner::Java,
        };
        let Some(name) = given else {
            return Ok(default);
        };
        let err = |why: String| ConfigError::Partitioner {
            name: name.to_string(),
            client: self.library.name(),
            why,
        };
        let p: Partitioner = name
            .parse()
            .map_err(|e: partitioner::UnknownPartitioner| err(e.to_string()))?;
        if self.library.is_java() == p.is_librdkafka() {
            return Err(err(format!("it belongs to {}", p.client())));
        }
        if self.library == ClientLibrary::Java4 && p == Partitioner::JavaLegacy {
            return Err(err(
                "DefaultPartitioner was removed in Kafka 4.0 (KAFKA-18262): leave \
                 partitioner.class unset for the built-in partitioner, or model java-3"
                    .to_string(),
            ));
        }
        Ok(p)
    }

    fn build(&self) -> Result<ProducerConfig, ConfigError> {
        let library = self.library;
        let librdkafka = library == ClientLibrary::Librdkafka;
        let linger = self.ms("linger.ms", linger_default(library))?;
        let mut config = ProducerConfig {
            library,
            acks: self.acks()?,
            batch_size: self.int(
                "batch.size",
                if librdkafka { 1_000_000 } else { 16_384 },
                if librdkafka { 1 } else { 0 },
                i32::MAX as u64,
            )?,
            batch_num_messages: librdkafka.then(|| self.batch_num_messages()).transpose()?,
            linger,
            max_in_flight: self.int(
                "max.in.flight.requests.per.connection",
                if librdkafka { 1_000_000 } else { 5 },
                1,
                1_000_000,
            )? as u32,
            retries: self.int("retries", i32::MAX as u64, 0, i32::MAX as u64)? as u32,
            retry_backoff: self.ms("retry.backoff.ms", 100)?,
            retry_backoff_max: self.ms("retry.backoff.max.ms", 1_000)?,
            reconnect_backoff: self
                .ms("reconnect.backoff.ms", if librdkafka { 100 } else { 50 })?,
            reconnect_backoff_max: self.ms(
                "reconnect.backoff.max.ms",
                if librdkafka { 10_000 } else { 1_000 },
            )?,
            request_timeout: self.ms("request.timeout.ms", 30_000)?,
            socket_timeout: librdkafka.then(|| self.socket_timeout()).transpose()?,
            delivery_timeout: self.ms(
                "delivery.timeout.ms",
                if librdkafka { 300_000 } else { 120_000 },
            )?,
            max_request_size: self.int("max.request.size", 1_048_576, 1, i32::MAX as u64)?,
            enable_idempotence: self.bool("enable.idempotence", !librdkafka)?,
            idempotence_note: None,
            partitioner: self.partitioner()?,
            partitioner_ignore_keys: self.bool("partitioner.ignore.keys", false)?,
            adaptive_partitioning: self.bool("partitioner.adaptive.partitioning.enable", true)?,
            sticky_partitioning_linger: self.ms(
                "sticky.partitioning.linger.ms",
                partitioner::librdkafka_sticky_linger(linger).0,
            )?,
            ignored: Vec::new(),
            transactional: None,
        };
        if self
            .raw("partitioner.availability.timeout.ms")
            .is_some_and(|v| v != "0")
        {
            return Err(ConfigError::Unsupported {
                key: "partitioner.availability.timeout.ms".to_string(),
                why: "every partition's leader stays available in this model; leave it at 0",
            });
        }
        match library {
            ClientLibrary::Librdkafka => self.librdkafka_idempotence(&mut config)?,
            _ => self.java_idempotence(&mut config)?,
        }
        self.delivery_timeout(&mut config)?;
        Ok(config)
    }

    /// librdkafka `batch.num.messages` (a Java client counts bytes only, `batch.size`).
    fn batch_num_messages(&self) -> Result<u32, ConfigError> {
        Ok(self.int("batch.num.messages", 10_000, 1, 1_000_000)? as u32)
    }

    /// librdkafka `socket.timeout.ms` (a Java client's requests wait `request.timeout.ms`).
    fn socket_timeout(&self) -> Result<Millis, ConfigError> {
        self.int("socket.timeout.ms", 60_000, 10, 300_000)
            .map(Millis)
    }

    /// `ProducerConfig.postProcessAndValidateIdempotenceConfigs` (Java 3.2+, and 4.0).
    fn java_idempotence(&self, c: &mut ProducerConfig) -> Result<(), ConfigError> {
        if !c.enable_idempotence {
            return Ok(());
        }
        let explicit = self.explicit("enable.idempotence");
        let mut notes: Vec<String> = Vec::new();
        if c.retries == 0 {
            if explicit {
                return Err(conflict(
                    "retries",
                    "0",
                    "Must set retries to non-zero when using the idempotent producer.",
                ));
            }
            notes.push("retries=0".to_string());
        }
        if c.acks != Acks::All {
            if explicit {
                return Err(conflict(
                    "acks",
                    c.acks_name(),
                    "Must set acks to all in order to use the idempotent producer. Otherwise \
                     we cannot guarantee idempotence.",
                ));
            }
            notes.push(format!("acks={}", c.acks_name()));
        }
        if c.max_in_flight > 5 {
            // In 4.0 the check no longer looks at whether idempotence was set explicitly.
            if explicit || c.library == ClientLibrary::Java4 {
                return Err(conflict(
                    "max.in.flight.requests.per.connection",
                    &c.max_in_flight.to_string(),
                    "Must set max.in.flight.requests.per.connection to at most 5 when using \
                     the idempotent producer.",
                ));
            }
            notes.push(format!(
                "max.in.flight.requests.per.connection={} (> 5)",
                c.max_in_flight
            ));
        }
        if !notes.is_empty() {
            c.enable_idempotence = false;
            c.idempotence_note = Some(format!(
                "idempotence disabled because {} (enable.idempotence was not set)",
                notes.join(", ")
            ));
        }
        Ok(())
    }

    /// librdkafka `rd_kafka_conf_finalize`: explicit conflicts are errors, unset values adjusted.
    fn librdkafka_idempotence(&self, c: &mut ProducerConfig) -> Result<(), ConfigError> {
        if !c.enable_idempotence {
            return Ok(());
        }
        if self.explicit("max.in.flight.requests.per.connection") {
            if c.max_in_flight > 5 {
                return Err(conflict(
                    "max.in.flight",
                    &c.max_in_flight.to_string(),
                    "`max.in.flight` must be set <= 5 when `enable.idempotence` is true",
                ));
            }
        } else {
            c.max_in_flight = c.max_in_flight.min(5);
        }
        if c.retries == 0 {
            return Err(conflict(
                "retries",
                "0",
                "`retries` must be set >= 1 when `enable.idempotence` is true",
            ));
        }
        if c.acks != Acks::All {
            return Err(conflict(
                "acks",
                c.acks_name(),
                "`acks` must be set to `all` when `enable.idempotence` is true",
            ));
        }
        Ok(())
    }

    /// `KafkaProducer.configureDeliveryTimeout`.
    fn delivery_timeout(&self, c: &mut ProducerConfig) -> Result<(), ConfigError> {
        let floor = c.linger.0 + c.request_timeout.0;
        if c.delivery_timeout.0 >= floor || self.library == ClientLibrary::Librdkafka {
            return Ok(());
        }
        if self.explicit("delivery.timeout.ms") {
            return Err(ConfigError::DeliveryTimeoutTooShort {
                delivery_ms: c.delivery_timeout.0,
                linger_ms: c.linger.0,
                request_ms: c.request_timeout.0,
            });
        }
        c.delivery_timeout = Millis(floor);
        Ok(())
    }
}

fn conflict(key: &'static str, value: &str, message: &'static str) -> ConfigError {
    ConfigError::IdempotenceConflict {
        key,
        value: value.to_string(),
        message,
        fix: "change it, or set enable.idempotence=false to accept duplicates and reordering",
    }
}

fn range_text(min: u64, max: u64) -> &'static str {
    match (min, max) {
        (0, m) if m == i32::MAX as u64 => "an integer from 0 to 2147483647",
        (1, m) if m == i32::MAX as u64 => "an integer from 1 to 2147483647",
        (1, 1_000_000) => "an integer from 1 to 1000000",
        (10, 300_000) => "an integer from 10 to 300000",
        _ => "an integer in the allowed range",
    }
}

/// The known key within two edits of `key`, if any.
fn closest_key(key: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .chain(IGNORED.iter())
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (prev + cost).min(row[j] + 1).min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(f: ClientLibrary, kv: &[(&str, &str)]) -> Result<ProducerConfig, ConfigError> {
        ProducerConfig::parse(f, kv.iter().copied())
    }

    #[test]
    fn defaults_differ_by_client() {
        let j3 = ProducerConfig::defaults(ClientLibrary::Java3);
        let j4 = ProducerConfig::defaults(ClientLibrary::Java4);
        let rdk = ProducerConfig::defaults(ClientLibrary::Librdkafka);
        assert_eq!(
            (j3.linger, j4.linger, rdk.linger),
            (Millis(0), Millis(5), Millis(5))
        );
        assert!(j3.enable_idempotence && j4.enable_idempotence && !rdk.enable_idempotence);
        assert_eq!(
            (j4.acks, j4.max_in_flight, j4.batch_size),
            (Acks::All, 5, 16_384)
        );
        assert_eq!(j4.delivery_timeout, Millis(120_000));
        assert_eq!(rdk.delivery_timeout, Millis(300_000));
        assert_eq!(rdk.partitioner, Partitioner::ConsistentRandom);
        assert_eq!(rdk.sticky_partitioning_linger, Millis(10));
        assert_eq!(j4.retries, i32::MAX as u32);
    }

    #[test]
    fn unset_idempotence_yields_to_acks_and_explicit_idempotence_refuses() {
        let c = parse(ClientLibrary::Java4, &[("acks", "1")]).unwrap();
        assert!(!c.enable_idempotence);
        assert!(c.idempotence_note.unwrap().contains("acks=1"));
        let e = parse(
            ClientLibrary::Java4,
            &[("acks", "1"), ("enable.idempotence", "true")],
        );
        let e = e.unwrap_err().to_string();
        assert!(e.starts_with("Must set acks to all"), "{e}");
        let e = parse(
            ClientLibrary::Java3,
            &[("retries", "0"), ("enable.idempotence", "TRUE")],
        );
        assert!(matches!(
            e,
            Err(ConfigError::IdempotenceConflict { key: "retries", .. })
        ));
    }

    #[test]
    fn more_than_five_in_flight_is_an_error_in_4_0_only() {
        let kv = [("max.in.flight.requests.per.connection", "6")];
        let c = parse(ClientLibrary::Java3, &kv).unwrap();
        assert!(!c.enable_idempotence);
        let e = parse(ClientLibrary::Java4, &kv).unwrap_err();
        assert!(e.to_string().contains("at most 5"), "{e}");
        let ok = [
            ("max.in.flight.requests.per.connection", "6"),
            ("enable.idempotence", "false"),
        ];
        assert_eq!(parse(ClientLibrary::Java4, &ok).unwrap().max_in_flight, 6);
    }

    #[test]
    fn delivery_timeout_floor() {
        let c = parse(ClientLibrary::Java4, &[("request.timeout.ms", "200000")]).unwrap();
        assert_eq!(c.delivery_timeout, Millis(200_005));
        let e = parse(ClientLibrary::Java4, &[("delivery.timeout.ms", "1000")]).unwrap_err();
        assert!(
            matches!(e, ConfigError::DeliveryTimeoutTooShort { .. }),
            "{e}"
        );
    }

    #[test]
    fn librdkafka_rules_and_aliases() {
        let c = parse(ClientLibrary::Librdkafka, &[("enable.idempotence", "true")]).unwrap();
        assert_eq!(c.max_in_flight, 5);
        let e = parse(
            ClientLibrary::Librdkafka,
            &[("enable.idempotence", "true"), ("acks", "1")],
        );
        assert!(
            e.unwrap_err()
                .to_string()
                .contains("`acks` must be set to `all`")
        );
        let c = parse(ClientLibrary::Librdkafka, &[("message.timeout.ms", "5000")]).unwrap();
        assert_eq!(c.delivery_timeout, Millis(5000));
    }

    /// librdkafka's client-side wait is `socket.timeout.ms`; its `request.timeout.ms` only goes
    /// to the broker (librdkafka `CONFIGURATION.md`). Java has no `socket.timeout.ms`.
    #[test]
    fn librdkafka_waits_socket_timeout_ms_for_a_response() {
        let rdk = ProducerConfig::defaults(ClientLibrary::Librdkafka);
        assert_eq!(rdk.response_timeout(), Millis(60_000));
        let c = parse(ClientLibrary::Librdkafka, &[("request.timeout.ms", "1500")]).unwrap();
        assert_eq!(
            (c.request_timeout, c.response_timeout()),
            (Millis(1500), Millis(60_000))
        );
        let c = parse(ClientLibrary::Librdkafka, &[("socket.timeout.ms", "1500")]).unwrap();
        assert_eq!(c.response_timeout(), Millis(1500));
        let e = parse(ClientLibrary::Librdkafka, &[("socket.timeout.ms", "5")]).unwrap_err();
        assert!(e.to_string().contains("from 10 to 300000"), "{e}");
        let java = parse(ClientLibrary::Java4, &[("request.timeout.ms", "1500")]).unwrap();
        assert_eq!(java.response_timeout(), Millis(1500));
        let e = parse(ClientLibrary::Java3, &[("socket.timeout.ms", "1500")]).unwrap_err();
        assert!(
            e.to_string()
                .contains("did you mean \"request.timeout.ms\""),
            "{e}"
        );
    }

    #[test]
    fn typos_and_bad_values_are_errors_that_help() {
        let e = parse(ClientLibrary::Java4, &[("linger.sm", "5")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean \"linger.ms\""), "{e}");
        let e = parse(ClientLibrary::Java4, &[("acks", "2")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("one of all, -1, 0, 1"), "{e}");
        let e = parse(ClientLibrary::Java4, &[("partitioner", "murmur2_random")]);
        assert!(e.unwrap_err().to_string().contains("librdkafka"));
        let e = parse(
            ClientLibrary::Java4,
            &[("partitioner.class", "java-legacy")],
        );
        assert!(e.unwrap_err().to_string().contains("removed in Kafka 4.0"));
        let c = parse(
            ClientLibrary::Java3,
            &[("partitioner.class", "java-legacy")],
        )
        .unwrap();
        assert_eq!(c.partitioner, Partitioner::JavaLegacy);
        let c = parse(
            ClientLibrary::Java4,
            &[("client.id", "x"), ("compression.type", "lz4")],
        );
        assert_eq!(c.unwrap().ignored, vec!["client.id", "compression.type"]);
    }
}
