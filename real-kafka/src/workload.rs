//! A scenario's workload as librdkafka wants it: the keys and values of each record, exactly as
//! the simulator's producer makes them, and the producer and consumer configs translated from
//! Kafka's (Java) names where librdkafka differs.
//!
//! Record `n` (from 0) of a producer gets the key [`KeySpec::choose`] gives (the simulator's own
//! choice: the hot key with its share, then the keys in turn or drawn at random) and the value
//! [`ValueTemplate`] renders for `n` and that key (`{n}`, `{amount}`, `{key}`; the template's
//! `size` is never sent, values go out as their text).
//!
//! A seeded draw (a hot key's share, `order = "random"`) comes from this producer's stream,
//! `producer/<name>`. In the simulator that stream also draws sticky partitions and backoff
//! jitter, so the two runs draw different keys: `kafka-sim compare` then compares the topic by key
//! and by shape, not record by record.

use kafka_sim::client::library::ClientLibrary;
use kafka_sim::client::producer::{KeyChoice, KeySpec};
use kafka_sim::record::{Key, ValueTemplate};
use kafka_sim::rng::SimRng;
use kafka_sim::scenario::{Configs, GroupSpec, ProducerSpec};

use crate::error::{Error, Result};

/// A producer's keys, record after record.
#[derive(Debug)]
pub struct Keys {
    spec: KeySpec,
    names: Vec<String>,
    rng: SimRng,
}

impl Keys {
    /// The keys of `spec`, drawing from the stream `producer/<name>` of `seed`.
    pub fn new(spec: &ProducerSpec, seed: u64) -> Keys {
        Keys {
            spec: spec.keys.clone(),
            names: spec.keys.distinct_keys(),
            rng: SimRng::for_component(seed, &format!("producer/{}", spec.name)),
        }
    }

    /// The key of record `n`, or `None` for a null key.
    pub fn key(&mut self, n: u64) -> Option<String> {
        match self.spec.choose(n, &mut self.rng) {
            KeyChoice::Null => None,
            KeyChoice::Hot => self.spec.hot_key().map(|(k, _)| k.to_string()),
            KeyChoice::Nth(i) => Some(self.names[i].clone()),
        }
    }

    /// True if a key depends on a seeded draw, which the real run cannot reproduce.
    pub fn drawn(&self) -> bool {
        self.spec.hot_key().is_some() || matches!(self.spec, KeySpec::Pattern { random: true, .. })
    }
}

/// The value of record `n` with key `key`, as the simulator renders it (`{n}`, `{amount}`,
/// `{key}`).
pub fn value(spec: &ProducerSpec, n: u64, key: Option<&str>) -> Vec<u8> {
    let template = ValueTemplate::new(&spec.value.template);
    let text = if template.uses_key() {
        template.render_with_key(n, key.map(Key::utf8).as_ref())
    } else {
        template.render(n)
    };
    text.into_bytes()
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
    if spec.client != ClientLibrary::Librdkafka && out.get("partitioner").is_none() {
        out.set("partitioner", "murmur2_random");
        out.notes.push(format!(
            "{who}: models the {}; partitioner=murmur2_random gives Java's keyed partitioning",
            spec.client.description()
        ));
    }
    if spec.client != ClientLibrary::Librdkafka {
        // Java's request.timeout.ms (default 30000) is how long the client waits for a
        // response; librdkafka's is only the broker's wait for acks, and its client-side wait is
        // socket.timeout.ms (default 60000).
        let timeout = spec.config.get("request.timeout.ms").unwrap_or("30000");
        out.set("socket.timeout.ms", timeout);
        out.notes.push(format!(
            "{who}: socket.timeout.ms={timeout}: librdkafka's name for Java's request.timeout.ms"
        ));
    }
    let acks_all = matches!(spec.config.get("acks"), None | Some("all" | "-1"));
    if spec.client != ClientLibrary::Librdkafka
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
pub fn assignment_strategy(configured: Option<&str>, client: ClientLibrary) -> Result<String> {
    let raw = match configured {
        Some(s) => s.to_string(),
        None if client == ClientLibrary::Librdkafka => return Ok("range,roundrobin".into()),
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
    // KIP-848 (`group.protocol=consumer`): librdkafka refuses any assignment strategy, the
    // broker assigns.
    if group.config.get("group.protocol") != Some("consumer") {
        let strategy = assignment_strategy(
            group.config.get("partition.assignment.strategy"),
            group.client,
        )?;
        if group.config.get("partition.assignment.strategy") != Some(strategy.as_str()) {
            out.notes
                .push(format!("{who}: partition.assignment.strategy={strategy}"));
        }
        out.set("partition.assignment.strategy", &strategy);
    }
    out.set("group.id", group_id);
    out.set(
        "client.id",
        &format!("consumer-{}-{member}", group.group_id),
    );
    if group.static_members {
        out.set("group.instance.id", &format!("{}-{member}", group.group_id));
    }
    let transactional = group
        .output
        .as_ref()
        .is_some_and(|o| o.config.get("transactional.id").is_some());
    if group.commit != kafka_sim::scenario::CommitMode::Auto || transactional {
        // A transactional service's offsets are committed by its transactions (KIP-447).
        out.set("enable.auto.commit", "false");
    }
    if group.client != ClientLibrary::Librdkafka && group.config.get("isolation.level").is_none() {
        // Java reads uncommitted by default, librdkafka committed.
        out.set("isolation.level", "read_uncommitted");
    }
    Ok(out)
}

/// A service member's producer config (without `bootstrap.servers`): the output's settings,
/// its `client.id`, and its `transactional.id` with the run suffix, so that a run on a shared
/// cluster fences nothing of the last one. Every member of the group shares the
/// `transactional.id`, as the scenario's instances do.
pub fn output_config(group: &GroupSpec, member: u32, suffix: &str) -> Result<Option<Translated>> {
    let Some(output) = &group.output else {
        return Ok(None);
    };
    let who = format!("producer/{}/{member}", group.group_id);
    let mut out = translate_common(&output.config, &who)?;
    out.set(
        "client.id",
        &format!("producer-{}-{member}", group.group_id),
    );
    if let Some(id) = output.config.get("transactional.id") {
        out.set("transactional.id", &format!("{id}{suffix}"));
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_become_librdkafka_names() {
        let java = ClientLibrary::Java4;
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
            assignment_strategy(None, ClientLibrary::Librdkafka).unwrap(),
            "range,roundrobin"
        );
        assert!(assignment_strategy(Some("sticky"), java).is_err());
    }
}
