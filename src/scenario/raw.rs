//! The scenario file exactly as written: serde structs that mirror the TOML, with spans kept on
//! the fields whose values are checked later, and unknown keys rejected (`deny_unknown_fields`),
//! because a typo must never be ignored silently.
//!
//! Nothing here is validated beyond its TOML type; `scenario::mod` turns it into a typed
//! [`Scenario`](super::Scenario) and says what is wrong, where.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// A Kafka config value as written: a string, an integer, a boolean or a list of strings.
pub type RawConfig = BTreeMap<String, Spanned<toml::Value>>;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// `[scenario]`
    pub scenario: RawMeta,
    /// `[cluster]`
    #[serde(default)]
    pub cluster: Option<RawCluster>,
    /// `[[topic]]`
    #[serde(default)]
    pub topic: Vec<RawTopic>,
    /// `[[producer]]`
    #[serde(default)]
    pub producer: Vec<RawProducer>,
    /// `[[consumer_group]]`
    #[serde(default)]
    pub consumer_group: Vec<RawGroup>,
    /// `[[timeline]]`
    #[serde(default)]
    pub timeline: Vec<RawAction>,
    /// `[[fault]]`
    #[serde(default)]
    pub fault: Vec<RawFault>,
    /// `[[variant]]`
    #[serde(default)]
    pub variant: Vec<RawVariant>,
    /// `[[expect]]`
    #[serde(default)]
    pub expect: Vec<RawExpect>,
    /// `[report]`
    #[serde(default)]
    pub report: Option<RawReport>,
}

/// `[scenario]`: what this is and how long it runs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    /// Short name, used in traces.
    pub name: String,
    /// The course exercise it replays.
    #[serde(default)]
    pub course: Option<String>,
    /// What to look at, and where the course and Kafka differ.
    #[serde(default)]
    pub notes: Option<String>,
    /// The same notes for French-speaking students (`--lang fr`), written for them.
    #[serde(default)]
    pub notes_fr: Option<String>,
    /// The master seed.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Virtual time to simulate.
    pub duration_ms: Spanned<u64>,
    /// The client library every producer and consumer models unless it says otherwise.
    #[serde(default)]
    pub client: Option<Spanned<String>>,
    /// `records` (default) or `batches`.
    #[serde(default)]
    pub trace_detail: Option<Spanned<String>>,
    /// The event limit.
    #[serde(default)]
    pub max_events: Option<u64>,
}

/// `[cluster]`: brokers and the network.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    /// Broker count.
    #[serde(default)]
    pub brokers: Option<Spanned<u32>>,
    /// One-way client-broker latency.
    #[serde(default)]
    pub network_latency_ms: Option<u64>,
    /// Broker configs by Kafka name (`group.initial.rebalance.delay.ms`, `min.insync.replicas`).
    #[serde(default)]
    pub config: RawConfig,
}

/// `[[topic]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopic {
    /// Topic name.
    pub name: Spanned<String>,
    /// Partition count.
    pub partitions: Spanned<u32>,
    /// Replicas per partition.
    #[serde(default)]
    pub replication_factor: Option<Spanned<u32>>,
    /// Topic configs by Kafka name (`cleanup.policy`, `segment.ms`, ...).
    #[serde(default)]
    pub config: RawConfig,
}

/// `[[producer]]`: an application sending records through one Kafka producer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProducer {
    /// Name; the component is `producer/<name>`.
    pub name: Spanned<String>,
    /// Target topic.
    pub topic: Spanned<String>,
    /// `java` or `librdkafka` (overrides `[scenario] client`).
    #[serde(default)]
    pub client: Option<Spanned<String>>,
    /// Records to send.
    pub records: Spanned<u64>,
    /// When the first record is sent.
    #[serde(default)]
    pub start_ms: Option<u64>,
    /// Send rate; absent means all at once (a burst).
    #[serde(default)]
    pub rate_per_s: Option<Spanned<u64>>,
    /// Alternatively, a fixed gap between records.
    #[serde(default)]
    pub interval_ms: Option<Spanned<u64>>,
    /// `async` (default) or `sync` (wait for each delivery report).
    #[serde(default)]
    pub send: Option<Spanned<String>>,
    /// Keys.
    #[serde(default)]
    pub key: Option<RawKey>,
    /// Values.
    #[serde(default)]
    pub value: Option<RawValue>,
    /// An explicit partition for every record (bypasses the partitioner).
    #[serde(default)]
    pub partition: Option<Spanned<u32>>,
    /// Producer configs by Kafka name.
    #[serde(default)]
    pub config: RawConfig,
}

/// `key = { ... }`: how record keys are chosen.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKey {
    /// Every record has a null key.
    #[serde(default)]
    pub null: Option<bool>,
    /// A pattern with `{n}`, e.g. `user-{n}`.
    #[serde(default)]
    pub pattern: Option<Spanned<String>>,
    /// How many distinct `{n}` values (keys cycle through `0..distinct` in order, or are drawn
    /// at random with `order = "random"`).
    #[serde(default)]
    pub distinct: Option<Spanned<u64>>,
    /// The first `{n}`.
    #[serde(default)]
    pub first: Option<u64>,
    /// `cycle` (default) or `random`.
    #[serde(default)]
    pub order: Option<Spanned<String>>,
    /// Explicit keys, used in turn.
    #[serde(default)]
    pub values: Option<Spanned<Vec<String>>>,
    /// A hot key that takes `hot_ratio` of the records.
    #[serde(default)]
    pub hot: Option<String>,
    /// The hot key's share, a decimal such as `"0.5"`.
    #[serde(default)]
    pub hot_ratio: Option<Spanned<String>>,
}

/// `value = { ... }`: record values.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawValue {
    /// Text with `{n}` (the record number) and `{key}`.
    #[serde(default)]
    pub template: Option<String>,
    /// Bytes per value on the wire, if not the template's length.
    #[serde(default)]
    pub size: Option<u32>,
    /// Share of malformed values (poison pills), a decimal such as `"0.05"`.
    #[serde(default)]
    pub malformed_ratio: Option<Spanned<String>>,
    /// Record numbers whose values are malformed.
    #[serde(default)]
    pub malformed: Vec<u64>,
    /// Null values: tombstones.
    #[serde(default)]
    pub tombstone: bool,
}

/// `[[consumer_group]]`: an application whose instances share a `group.id`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    /// `group.id`; members are `consumer/<group_id>/<n>` from 1.
    pub group_id: Spanned<String>,
    /// Subscribed topics.
    pub topics: Spanned<Vec<String>>,
    /// Instances.
    pub members: Spanned<u32>,
    /// `java` or `librdkafka`.
    #[serde(default)]
    pub client: Option<Spanned<String>>,
    /// When every member starts (default 0).
    #[serde(default)]
    pub start_ms: Option<u64>,
    /// Per-member start times, one per member (staggered starts).
    #[serde(default)]
    pub member_start_ms: Option<Spanned<Vec<u64>>>,
    /// Constant processing time per record.
    #[serde(default)]
    pub processing_ms: Option<u64>,
    /// Or a uniform range.
    #[serde(default)]
    pub processing: Option<RawProcessing>,
    /// `auto` (default: follows `enable.auto.commit`), `per-record` or `per-batch`.
    #[serde(default)]
    pub commit: Option<Spanned<String>>,
    /// Static membership: member n gets `group.instance.id = <group_id>-<n>`.
    #[serde(default)]
    pub static_members: Option<bool>,
    /// What a member does with a record it cannot process.
    #[serde(default)]
    pub on_failure: Option<RawOnFailure>,
    /// A service: each processed record produces one record to this topic.
    #[serde(default)]
    pub output: Option<RawOutput>,
    /// Consumer configs by Kafka name.
    #[serde(default)]
    pub config: RawConfig,
}

/// `processing = { min_ms = .., max_ms = .. }`: uniform processing time, seeded.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProcessing {
    /// Shortest.
    pub min_ms: u64,
    /// Longest.
    pub max_ms: Spanned<u64>,
}

/// `on_failure = { action = "...", ... }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOnFailure {
    /// `crash`, `skip`, `retry` or `dead-letter`.
    pub action: Spanned<String>,
    /// Retries before giving up (`retry`, `dead-letter`).
    #[serde(default)]
    pub retries: Option<u32>,
    /// First backoff, doubled each retry.
    #[serde(default)]
    pub backoff_ms: Option<u64>,
    /// The dead-letter topic.
    #[serde(default)]
    pub topic: Option<Spanned<String>>,
}

/// `output = { topic = "..." }`: what a service produces per processed record.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    /// Target topic.
    pub topic: Spanned<String>,
    /// Value template (`{n}`, `{key}`); default: the input value.
    #[serde(default)]
    pub value: Option<String>,
    /// Producer configs of the service's producer.
    #[serde(default)]
    pub config: RawConfig,
}

/// `[[timeline]]`: something an operator does at a time.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAction {
    /// When.
    pub at_ms: Spanned<u64>,
    /// `crash`, `close`, `pause` or `restart`.
    pub action: Spanned<String>,
    /// A component: `consumer/<group>/<n>`, `producer/<name>`.
    pub target: Spanned<String>,
    /// For `pause`.
    #[serde(default)]
    pub duration_ms: Option<u64>,
}

/// `[[fault]]`: an injected failure with a start and an end.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    /// When it starts.
    pub at_ms: Spanned<u64>,
    /// When it ends (absent: until the end of the run).
    #[serde(default)]
    pub until_ms: Option<Spanned<u64>>,
    /// `latency`, `lost_ack`, `timeout`, `bandwidth`, `broker_down`, `crash`, `pause`,
    /// `poison_pill`.
    pub kind: Spanned<String>,
    /// What it hits: `producer/<name>`, `consumer/<group>/<n>`, `broker/<id>`.
    pub target: Spanned<String>,
    /// `upstream` (client to broker), `downstream` (default) or `both`.
    #[serde(default)]
    pub direction: Option<Spanned<String>>,
    /// Added latency.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// Up to this much more, uniformly.
    #[serde(default)]
    pub jitter_ms: Option<u64>,
    /// Responses to drop (`lost_ack`).
    #[serde(default)]
    pub count: Option<u32>,
    /// Bytes per second (`bandwidth`).
    #[serde(default)]
    pub rate_bytes_per_s: Option<u64>,
    /// Cut the connection after this long (`timeout`).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Share of records made malformed (`poison_pill`), a decimal such as `"0.1"`.
    #[serde(default)]
    pub ratio: Option<Spanned<String>>,
}

/// `[[variant]]`: named overrides, run side by side with the others.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariant {
    /// Name, e.g. `3p3c`.
    pub name: Spanned<String>,
    /// What differs.
    #[serde(default)]
    pub description: Option<String>,
    /// What differs, in French (`--lang fr`).
    #[serde(default)]
    pub description_fr: Option<String>,
    /// Overrides per topic name.
    #[serde(default)]
    pub topic: BTreeMap<String, RawTopicOverride>,
    /// Overrides per producer name.
    #[serde(default)]
    pub producer: BTreeMap<String, RawProducerOverride>,
    /// Overrides per group id.
    #[serde(default)]
    pub consumer_group: BTreeMap<String, RawGroupOverride>,
    /// Extra timeline actions.
    #[serde(default)]
    pub timeline: Vec<RawAction>,
    /// Extra faults.
    #[serde(default)]
    pub fault: Vec<RawFault>,
}

/// Fields a variant may change on a topic.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopicOverride {
    /// New partition count.
    #[serde(default)]
    pub partitions: Option<Spanned<u32>>,
    /// New replication factor.
    #[serde(default)]
    pub replication_factor: Option<Spanned<u32>>,
    /// Configs to set.
    #[serde(default)]
    pub config: RawConfig,
}

/// Fields a variant may change on a producer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProducerOverride {
    /// Client library.
    #[serde(default)]
    pub client: Option<Spanned<String>>,
    /// Records.
    #[serde(default)]
    pub records: Option<Spanned<u64>>,
    /// When the first record is sent.
    #[serde(default)]
    pub start_ms: Option<u64>,
    /// Rate.
    #[serde(default)]
    pub rate_per_s: Option<Spanned<u64>>,
    /// Fixed gap between records.
    #[serde(default)]
    pub interval_ms: Option<Spanned<u64>>,
    /// Send mode.
    #[serde(default)]
    pub send: Option<Spanned<String>>,
    /// Keys.
    #[serde(default)]
    pub key: Option<RawKey>,
    /// Configs to set.
    #[serde(default)]
    pub config: RawConfig,
}

/// Fields a variant may change on a consumer group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroupOverride {
    /// Client library.
    #[serde(default)]
    pub client: Option<Spanned<String>>,
    /// When every member starts.
    #[serde(default)]
    pub start_ms: Option<u64>,
    /// Instances.
    #[serde(default)]
    pub members: Option<Spanned<u32>>,
    /// Constant processing time.
    #[serde(default)]
    pub processing_ms: Option<u64>,
    /// Commit mode.
    #[serde(default)]
    pub commit: Option<Spanned<String>>,
    /// Static membership.
    #[serde(default)]
    pub static_members: Option<bool>,
    /// Failure handling.
    #[serde(default)]
    pub on_failure: Option<RawOnFailure>,
    /// Configs to set.
    #[serde(default)]
    pub config: RawConfig,
}

/// `[[expect]]`: a claim checked at the end of the run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    /// A readable name; defaults to the claim itself.
    #[serde(default)]
    pub name: Option<String>,
    /// Variants it applies to (default: all).
    #[serde(default)]
    pub variants: Option<Spanned<Vec<String>>>,
    /// The metric, e.g. `group.orders.drained_at_ms`.
    pub metric: Spanned<String>,
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`, `about`, `between`.
    pub op: Spanned<String>,
    /// The value (for `between`: `[low, high]`).
    pub value: Spanned<toml::Value>,
    /// For `about`: the allowed distance.
    #[serde(default)]
    pub tolerance: Option<Spanned<toml::Value>>,
}

/// `[report]`: what the run report shows.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    /// Print `kafka-consumer-groups --describe` tables at these times.
    #[serde(default)]
    pub lag_at_ms: Vec<u64>,
    /// Lag sampling interval (default 1000).
    #[serde(default)]
    pub lag_sample_ms: Option<Spanned<u64>>,
    /// Print one delivery line per record (as the course's producer logs do).
    #[serde(default)]
    pub delivery_reports: Option<bool>,
}
