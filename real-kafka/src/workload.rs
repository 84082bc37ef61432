//! A scenario's workload as librdkafka wants it: the keys and values of each record, and the
//! producer and consumer configs translated from Kafka's (Java) names where librdkafka differs.
//!
//! Keys and values must be the ones the simulator sends, or nothing can be compared. Until the
//! simulator's producer is merged they are computed here from the scenario alone:
//! record `i` (from 0) of a producer has
//! - key: `values[i % len]`, or `pattern` with `{n}` = `first + i % distinct` (`order = "cycle"`),
//!   or with `{n}` drawn from the seeded stream `producer/<name>/keys` (`order = "random"`, and for
//!   the hot key), or no key;
//! - value: the template with `{n}` = `i` and `{key}` = the key, sent as that text (the simulator
//!   only pretends its values have `size` bytes).
//!
//! RECONCILE: when `src/client/producer.rs` lands, use its key and value functions here.

use kafka_sim::rng::SimRng;
use kafka_sim::scenario::{Client, Configs, GroupSpec, KeySpec, ProducerSpec};

use crate::error::{Error, Result};

/// The key of record `i`, or `None` for a null key.
pub fn key(spec: &ProducerSpec, i: u64, rng: &mut SimRng) -> Option<Vec<u8>> {
    match &spec.keys {
        KeySpec::Null => None,
        KeySpec::Values(values) => Some(values[(i % values.len() as u64) as usize].clone().into()),
        KeySpec::Pattern {
            pattern,
            first,
            distinct,
            random,
            hot,
        } => {
            if let Some((hot_key, ratio)) = hot
                && rng.chance(*ratio)
            {
                return Some(hot_key.clone().into_bytes());
            }
            let n = if *random {
                first + rng.below(*distinct)
            } else {
                first + i % distinct
            };
            Some(pattern.replace("{n}", &n.to_string()).into_bytes())
        }
    }
}

/// The value of record `i` with key `key`.
pub fn value(spec: &ProducerSpec, i: u64, key: Option<&[u8]>) -> Vec<u8> {
    let key = key.map_or_else(|| "null".to_string(), |k| String::from_utf8_lossy(k).into());
    spec.value
        .template
        .replace("{n}", &i.to_string())
        .replace("{key}", &key)
        .into_bytes()
}

/// The seeded stream for a producer's random key choices.
pub fn key_rng(seed: u64, spec: &ProducerSpec) -> SimRng {
    SimRng::for_component(seed, &format!("producer/{}/keys", spec.name))
}

/// A config translated for librdkafka, with what was changed and why (printed, never silent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Translated {
    /// name -> value, as passed to librdkafka.
    pub settings: Vec<(String, String)>,
    /// One line per setting that was added, renamed or dropped.
    pub notes: Vec<String>,
}

impl Translated {
    fn set(&mut self, name: &str, value: &str) {
        self.settings.retain(|(n, _)| n != name);
        self.settings.push((name.to_string(), value.to_string()));
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Java-client settings with no librdkafka counterpart that change nothing observable here.
const JAVA_ONLY_HARMLESS: [(&str, &str); 4] = [
    (
        "max.poll.records",
        "librdkafka hands out one record per poll; the loop processes them one by one",
    ),
    (
        "key.serializer",
        "keys are sent as UTF-8 bytes, as StringSerializer does",
    ),
    ("value.serializer", "values are sent as UTF-8 bytes"),
    (
        "buffer.memory",
        "librdkafka's queue is queue.buffering.max.kbytes",
    ),
];

fn translate_common(configs: &Configs, who: &str) -> Result<Translated> {
    let mut out = Translated::default();
    for (name, value) in configs.iter() {
        if let Some((_, why)) = JAVA_ONLY_HARMLESS.iter().find(|(n, _)| *n == name) {
            out.notes
                .push(format!("{who}: {name}={value} dropped: {why}"));
            continue;
        }
        if name == "partitioner.class" {
            return Err(Error::Unsupported(format!(
                "{who}: partitioner.class={value} is a Java class; set `partitioner` to a \
                 librdkafka partitioner (murmur2_random is Java's keyed partitioning)"
            )));
        }
        out.settings.push((name.to_string(), value.to_string()));
    }
    Ok(out)
}

/// The producer's librdkafka config (without `bootstrap.servers`).
///
/// A producer modelling the Java client gets `partitioner=murmur2_random` unless the scenario
/// names a partitioner: that is Java's keyed partitioning (murmur2), while librdkafka's default,
/// `consistent_random`, is CRC32 and sends 4 of `user1..user10` elsewhere on 3 partitions.
/// Null keys still follow librdkafka's time-based sticky partitioner, not Java's KIP-794.
pub fn producer_config(spec: &ProducerSpec) -> Result<Translated> {
    let who = format!("producer/{}", spec.name);
    let mut out = translate_common(&spec.config, &who)?;
    if spec.client != Client::Librdkafka && out.get("partitioner").is_none() {
        out.set("partitioner", "murmur2_random");
        out.notes.push(format!(
            "{who}: models the {}; partitioner=murmur2_random gives Java's keyed partitioning",
            spec.client.name()
        ));
    }
    if spec.client != Client::Librdkafka
        && let Some(timeout) = spec.config.get("request.timeout.ms")
        && spec.config.get("socket.timeout.ms").is_none()
    {
        // Java's request.timeout.ms is how long the client waits for a response; librdkafka's
        // is only the broker's wait for acks=all, and its client-side wait is socket.timeout.ms.
        out.set("socket.timeout.ms", timeout);
        out.notes.push(format!(
            "{who}: socket.timeout.ms={timeout}: librdkafka's name for Java's request.timeout.ms"
        ));
    }
    let acks_all = matches!(spec.config.get("acks"), None | Some("all" | "-1"));
    if spec.client != Client::Librdkafka
        && spec.config.get("enable.idempotence").is_none()
        && acks_all
    {
        // The Java client (3.2+) is idempotent with acks=all by default; librdkafka is not.
        out.set("enable.idempotence", "true");
        out.notes.push(format!(
            "{who}: enable.idempotence=true, the Java client's default since 3.2 (librdkafka: \
             false)"
        ));
    }
    Ok(out)
}

/// The assignment strategies as librdkafka accepts them: short names, and one protocol only.
///
/// Java names assignors by class and lets a list mix eager and cooperative ones (its default is
/// `[range, cooperative-sticky]`, which runs eager `range` until every member drops `range`);
/// librdkafka refuses a mixed list. The first strategy of the list is the one a group of
/// identical members uses, so a mixed list becomes its first entry.
pub fn assignment_strategy(configured: Option<&str>, client: Client) -> Result<String> {
    let raw = match configured {
        Some(s) => s.to_string(),
        None if client == Client::Librdkafka => return Ok("range,roundrobin".into()),
        None => "range,cooperative-sticky".into(),
    };
    let mut names = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let short = match item.rsplit('.').next().unwrap_or(item) {
            "RangeAssignor" | "range" => "range",
            "RoundRobinAssignor" | "roundrobin" => "roundrobin",
            "CooperativeStickyAssignor" | "cooperative-sticky" => "cooperative-sticky",
            other => {
                return Err(Error::Unsupported(format!(
                    "partition.assignment.strategy {other}: librdkafka has range, roundrobin \
                     and cooperative-sticky"
                )));
            }
        };
        names.push(short);
    }
    let cooperative = names.iter().filter(|n| **n == "cooperative-sticky").count();
    if cooperative > 0 && cooperative < names.len() {
        names.truncate(1);
    }
    Ok(names.join(","))
}

/// A member's librdkafka config (without `bootstrap.servers`): the group's settings, its
/// `group.id`, `group.instance.id` for static members, and manual commits when the scenario
/// commits per record or per batch.
pub fn member_config(group: &GroupSpec, group_id: &str, member: u32) -> Result<Translated> {
    let who = format!("consumer/{}/{member}", group.group_id);
    let mut out = translate_common(&group.config, &who)?;
    let strategy = assignment_strategy(
        group.config.get("partition.assignment.strategy"),
        group.client,
    )?;
    if group.config.get("partition.assignment.strategy") != Some(strategy.as_str()) {
        out.notes
            .push(format!("{who}: partition.assignment.strategy={strategy}"));
    }
    out.set("partition.assignment.strategy", &strategy);
    out.set("group.id", group_id);
    out.set(
        "client.id",
        &format!("consumer-{}-{member}", group.group_id),
    );
    if group.static_members {
        out.set("group.instance.id", &format!("{}-{member}", group.group_id));
    }
    if group.commit != kafka_sim::scenario::CommitMode::Auto {
        out.set("enable.auto.commit", "false");
    }
    if group.client != Client::Librdkafka && group.config.get("isolation.level").is_none() {
        // Java reads uncommitted by default, librdkafka committed.
        out.set("isolation.level", "read_uncommitted");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_become_librdkafka_names() {
        let java = Client::Java4;
        assert_eq!(assignment_strategy(None, java).unwrap(), "range");
        assert_eq!(
            assignment_strategy(Some("cooperative-sticky"), java).unwrap(),
            "cooperative-sticky"
        );
        assert_eq!(
            assignment_strategy(
                Some("org.apache.kafka.clients.consumer.RoundRobinAssignor"),
                java
            )
            .unwrap(),
            "roundrobin"
        );
        assert_eq!(
            assignment_strategy(None, Client::Librdkafka).unwrap(),
            "range,roundrobin"
        );
        assert!(assignment_strategy(Some("sticky"), java).is_err());
    }
}
