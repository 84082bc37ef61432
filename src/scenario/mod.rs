//! Scenario files: a course exercise as TOML, parsed (not merely validated) into a typed
//! [`Scenario`].
//!
//! Two steps, as ripgrep splits low-level and high-level arguments:
//! 1. [`raw`]: serde structs that mirror the file; unknown keys and wrong types are rejected with
//!    the file, line and column.
//! 2. [`ScenarioFile::resolve`]: applies a variant's overrides and builds the typed scenario,
//!    rejecting impossible values (0 partitions, more replicas than brokers, a crash aimed at a
//!    member that does not exist) with the same precision.
//!
//! Kafka's config names are kept verbatim as quoted keys (`"session.timeout.ms"`), and checked
//! by the producer and consumer config parsers when the scenario is built into a world.
//! `scenarios/README.md` documents the format.

pub mod error;
pub mod raw;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::Spanned;

pub use crate::client::consumer::app::{OnFailure, ProcessingTime as Processing};
pub use crate::client::producer::{KeySpec, Pacing};
use crate::faults::{Direction, Fault, FaultKind};
use crate::rng::Ratio;
use crate::trace::Detail;
use crate::units::{BrokerId, Millis, PartitionId, SimTime, TopicName};

pub use self::error::{ScenarioError, SourceMap};
use self::raw::*;

/// A parsed scenario file, before a variant is chosen.
#[derive(Debug)]
pub struct ScenarioFile {
    path: PathBuf,
    text: String,
    raw: RawScenario,
}

/// One runnable scenario: the file with one variant's overrides applied.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file it came from.
    pub path: PathBuf,
    /// Its text, so that later errors (a bad Kafka config) can point at a line.
    pub source: Arc<str>,
    /// `[scenario] name`.
    pub name: String,
    /// The course exercise.
    pub course: Option<String>,
    /// Notes for the reader.
    pub notes: Option<String>,
    /// The master seed (the file's, unless overridden on the command line).
    pub seed: u64,
    /// Virtual time to simulate.
    pub duration: Millis,
    /// The variant, if the file has variants.
    pub variant: Option<String>,
    /// What the variant changes.
    pub variant_description: Option<String>,
    /// Trace detail.
    pub detail: Detail,
    /// Event limit.
    pub max_events: u64,
    /// Brokers and network.
    pub cluster: ClusterSpec,
    /// Topics, in file order.
    pub topics: Vec<TopicSpec>,
    /// Producers, in file order.
    pub producers: Vec<ProducerSpec>,
    /// Consumer groups, in file order.
    pub groups: Vec<GroupSpec>,
    /// Operator actions, by time.
    pub actions: Vec<ActionSpec>,
    /// Faults, by start time.
    pub faults: Vec<Fault>,
    /// Claims checked at the end.
    pub expectations: Vec<Expectation>,
    /// What the report shows.
    pub report: ReportSpec,
}

/// Kafka configs as written: name -> value (as Kafka's own string form) and where it was.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Configs {
    entries: BTreeMap<String, (String, Range<usize>)>,
}

impl Configs {
    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries.get(name).map(|(v, _)| v.as_str())
    }

    /// Every setting, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|(k, (v, _))| (k.as_str(), v.as_str()))
    }

    /// Where `name` was set in the file.
    pub fn span(&self, name: &str) -> Option<Range<usize>> {
        self.entries.get(name).map(|(_, s)| s.clone())
    }

    /// Sets `name` (used by the runner for derived settings).
    pub fn set(&mut self, name: &str, value: &str) {
        self.entries
            .insert(name.to_string(), (value.to_string(), 0..0));
    }

    /// True if nothing is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Which client library a producer or consumer models; decides its defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Client {
    /// The Java client of Kafka 4.0 (`linger.ms` 5).
    Java4,
    /// The Java client of Kafka 3.x (`linger.ms` 0).
    Java3,
    /// librdkafka: Python `confluent_kafka`, .NET `Confluent.Kafka`, Go.
    Librdkafka,
}

impl Client {
    fn parse(s: &str) -> Option<Client> {
        match s {
            "java" | "java-4" | "java-4.0" => Some(Client::Java4),
            "java-3" | "java-3.x" => Some(Client::Java3),
            "librdkafka" | "python" | "confluent_kafka" | "dotnet" | ".net" => {
                Some(Client::Librdkafka)
            }
            _ => None,
        }
    }

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Client::Java4 => "Java client 4.0",
            Client::Java3 => "Java client 3.x",
            Client::Librdkafka => "librdkafka (Python confluent_kafka, .NET Confluent.Kafka)",
        }
    }
}

const CLIENTS: &str = "java (Kafka 4.0), java-3 (Kafka 3.x), librdkafka (also: python, dotnet)";

/// `[cluster]`.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    /// Broker ids, from 1.
    pub brokers: Vec<BrokerId>,
    /// One-way latency.
    pub network_latency: Millis,
    /// Broker configs.
    pub config: Configs,
}

/// `[[topic]]`.
#[derive(Clone, Debug)]
pub struct TopicSpec {
    /// Name.
    pub name: TopicName,
    /// Partitions.
    pub partitions: u32,
    /// Replicas per partition.
    pub replication_factor: u32,
    /// Topic configs.
    pub config: Configs,
}

/// Sync or async sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendMode {
    /// `send()` and carry on; delivery reports arrive later.
    Async,
    /// `send().get()`: wait for each record's delivery report before the next send.
    Sync,
}

/// Record values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueSpec {
    /// Text with `{n}` and `{key}`.
    pub template: String,
    /// Bytes on the wire, if not the text's length.
    pub size: Option<u32>,
    /// Share of malformed values.
    pub malformed_ratio: Ratio,
    /// Record numbers whose values are malformed.
    pub malformed: BTreeSet<u64>,
    /// Null values (tombstones) instead of the template.
    pub tombstone: bool,
}

/// `[[producer]]`.
#[derive(Clone, Debug)]
pub struct ProducerSpec {
    /// Name (`producer/<name>`).
    pub name: String,
    /// Topic.
    pub topic: TopicName,
    /// Client library.
    pub client: Client,
    /// Records to send.
    pub records: u64,
    /// First send.
    pub start: SimTime,
    /// Spacing.
    pub pacing: Pacing,
    /// Sync or async.
    pub send: SendMode,
    /// Keys.
    pub keys: KeySpec,
    /// Values.
    pub value: ValueSpec,
    /// Explicit partition.
    pub partition: Option<PartitionId>,
    /// Producer configs.
    pub config: Configs,
}

/// When a member commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitMode {
    /// As `enable.auto.commit` says (default true: auto-commit in the client's flavour).
    Auto,
    /// `commitSync` after each record.
    PerRecord,
    /// `commitSync` after each poll batch.
    PerBatch,
}

/// A service's output: one record to `topic` per processed record.
#[derive(Clone, Debug)]
pub struct OutputSpec {
    /// Topic.
    pub topic: TopicName,
    /// Value template; `None` copies the input value.
    pub value: Option<String>,
    /// The service producer's configs.
    pub config: Configs,
}

/// `[[consumer_group]]`.
#[derive(Clone, Debug)]
pub struct GroupSpec {
    /// `group.id`.
    pub group_id: String,
    /// Subscribed topics.
    pub topics: Vec<TopicName>,
    /// Start time of each member (member n is index n - 1).
    pub member_starts: Vec<SimTime>,
    /// Client library.
    pub client: Client,
    /// Processing time.
    pub processing: Processing,
    /// Commit mode.
    pub commit: CommitMode,
    /// Static membership.
    pub static_members: bool,
    /// Poison pill handling.
    pub on_failure: OnFailure,
    /// Service output.
    pub output: Option<OutputSpec>,
    /// Consumer configs.
    pub config: Configs,
}

impl GroupSpec {
    /// Member count.
    pub fn members(&self) -> u32 {
        self.member_starts.len() as u32
    }
}

/// A component a timeline action or fault targets.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// `consumer/<group>/<n>`.
    Consumer {
        /// Group id.
        group: String,
        /// Member number from 1.
        member: u32,
    },
    /// `producer/<name>`.
    Producer(String),
    /// `broker/<id>`.
    Broker(BrokerId),
}

impl Target {
    /// The component name, as in traces.
    pub fn component(&self) -> String {
        match self {
            Target::Consumer { group, member } => format!("consumer/{group}/{member}"),
            Target::Producer(name) => format!("producer/{name}"),
            Target::Broker(id) => format!("broker/{id}"),
        }
    }
}

/// An operator action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Kill the process (no LeaveGroup).
    Crash,
    /// Close cleanly.
    Close,
    /// Freeze the process.
    Pause(Millis),
    /// Start a new process for a member slot that crashed or closed.
    Restart,
}

/// `[[timeline]]`.
#[derive(Clone, Debug)]
pub struct ActionSpec {
    /// When.
    pub at: SimTime,
    /// What.
    pub action: Action,
    /// To whom.
    pub target: Target,
}

/// Comparison of an expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// Within `tolerance` of the value.
    About,
    /// Within `[low, high]`.
    Between,
}

impl Op {
    /// As written.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::About => "about",
            Op::Between => "between",
        }
    }
}

/// An expected value.
#[derive(Clone, Debug, PartialEq)]
pub enum ExpectValue {
    /// A number (integers stay exact).
    Number(f64),
    /// A string (a partition list, a member, a state).
    Text(String),
    /// A boolean.
    Bool(bool),
    /// `[low, high]`.
    Range(f64, f64),
    /// The metric is absent (`null` is written as the string `"none"`).
    None,
}

/// `[[expect]]`.
#[derive(Clone, Debug)]
pub struct Expectation {
    /// Readable name.
    pub name: String,
    /// Metric.
    pub metric: String,
    /// Comparison.
    pub op: Op,
    /// Value.
    pub value: ExpectValue,
    /// Tolerance for `about`.
    pub tolerance: f64,
    /// Where it is written, for error messages.
    pub line: usize,
}

/// `[report]`.
#[derive(Clone, Debug)]
pub struct ReportSpec {
    /// Times at which to print lag tables.
    pub lag_at: Vec<SimTime>,
    /// Lag sampling interval.
    pub lag_sample: Millis,
    /// Print a delivery line per record.
    pub delivery_reports: bool,
}

impl ScenarioFile {
    /// Parses `text`, the contents of `path`.
    pub fn parse(path: &Path, text: String) -> Result<ScenarioFile, ScenarioError> {
        let map = SourceMap::new(path, &text);
        let raw: RawScenario = toml::from_str(&text).map_err(|e| {
            let span = e.span();
            // A missing table or key has no text of its own: its name is in the message.
            let missing = e
                .message()
                .strip_prefix("missing field `")
                .and_then(|m| m.split_once('`'))
                .map(|(name, _)| name.to_string());
            let field = match (missing, span.clone()) {
                (Some(name), _) => name,
                (None, Some(s)) => map.key_near(s.start),
                (None, None) => String::new(),
            };
            map.error(span, field, e.message().trim().to_string())
        })?;
        let mut seen = BTreeSet::new();
        for v in &raw.variant {
            if !seen.insert(v.name.get_ref().clone()) {
                return Err(map.error(
                    Some(v.name.span()),
                    "variant.name",
                    "duplicate variant name",
                ));
            }
        }
        Ok(ScenarioFile {
            path: path.to_path_buf(),
            text,
            raw,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `[scenario] name`.
    pub fn name(&self) -> &str {
        &self.raw.scenario.name
    }

    /// Variant names in file order (empty if the file has none).
    pub fn variants(&self) -> Vec<String> {
        self.raw
            .variant
            .iter()
            .map(|v| v.name.get_ref().clone())
            .collect()
    }

    /// Builds the scenario for `variant` (`None` when the file has no variants).
    pub fn resolve(&self, variant: Option<&str>) -> Result<Scenario, ScenarioError> {
        let map = SourceMap::new(&self.path, &self.text);
        let chosen = match variant {
            None if !self.raw.variant.is_empty() => {
                return Err(map.file_error(format!(
                    "this scenario has variants; choose one of: {}",
                    self.variants().join(", ")
                )));
            }
            None => None,
            Some(name) => Some(
                self.raw
                    .variant
                    .iter()
                    .find(|v| v.name.get_ref() == name)
                    .ok_or_else(|| {
                        map.file_error(format!(
                            "no variant {name:?}; the variants are: {}",
                            self.variants().join(", ")
                        ))
                    })?,
            ),
        };
        Builder {
            map,
            text: &self.text,
            raw: &self.raw,
            variant: chosen,
        }
        .build()
    }
}

struct Builder<'a> {
    map: SourceMap<'a>,
    text: &'a str,
    raw: &'a RawScenario,
    variant: Option<&'a RawVariant>,
}

type Res<T> = Result<T, ScenarioError>;

impl Builder<'_> {
    fn build(&self) -> Res<Scenario> {
        let meta = &self.raw.scenario;
        let client = self.client(meta.client.as_ref(), Client::Java4)?;
        let cluster = self.cluster()?;
        let topics = self.topics(&cluster)?;
        let producers = self.producers(client, &topics)?;
        let groups = self.groups(client, &topics)?;
        let actions = self.actions(&producers, &groups, &cluster)?;
        let faults = self.faults(&producers, &groups, &cluster)?;
        let expectations = self.expectations()?;
        let duration = *meta.duration_ms.get_ref();
        if duration == 0 {
            return Err(self.err(
                meta.duration_ms.span(),
                "scenario.duration_ms",
                "must be > 0",
            ));
        }
        let detail = match meta
            .trace_detail
            .as_ref()
            .map(|s| (s.get_ref().as_str(), s.span()))
        {
            None | Some(("records", _)) => Detail::Records,
            Some(("batches", _)) => Detail::Batches,
            Some((_, span)) => {
                return Err(self.err(span, "scenario.trace_detail", "use records or batches"));
            }
        };
        Ok(Scenario {
            path: self.map.path().to_path_buf(),
            source: Arc::from(self.text),
            name: meta.name.clone(),
            course: meta.course.clone(),
            notes: meta.notes.clone(),
            seed: meta.seed.unwrap_or(42),
            duration: Millis(duration),
            variant: self.variant.map(|v| v.name.get_ref().clone()),
            variant_description: self.variant.and_then(|v| v.description.clone()),
            detail,
            max_events: meta.max_events.unwrap_or(50_000_000),
            cluster,
            topics,
            producers,
            groups,
            actions,
            faults,
            expectations,
            report: self.report()?,
        })
    }

    /// A variant may only override entities the scenario declares (`[variant.topic.<name>]`).
    fn check_overrides<'n>(
        &self,
        kind: &str,
        overridden: Option<impl Iterator<Item = &'n String>>,
        declared: impl Iterator<Item = &'n String> + Clone,
    ) -> Res<()> {
        let (Some(v), Some(overridden)) = (self.variant, overridden) else {
            return Ok(());
        };
        for name in overridden {
            if !declared.clone().any(|d| d == name) {
                return Err(self.err(
                    v.name.span(),
                    &format!("variant.{kind}.{name}"),
                    format!("the variant overrides a {kind} the scenario does not declare"),
                ));
            }
        }
        Ok(())
    }

    fn err(&self, span: Range<usize>, field: &str, message: impl Into<String>) -> ScenarioError {
        self.map.error(Some(span), field, message)
    }

    fn client(&self, s: Option<&Spanned<String>>, default: Client) -> Res<Client> {
        match s {
            None => Ok(default),
            Some(s) => Client::parse(s.get_ref()).ok_or_else(|| {
                self.err(
                    s.span(),
                    "client",
                    format!("unknown client {:?}; use {CLIENTS}", s.get_ref()),
                )
            }),
        }
    }

    fn configs(&self, raw: &RawConfig, overrides: Option<&RawConfig>) -> Res<Configs> {
        let mut entries = BTreeMap::new();
        for (name, value) in raw.iter().chain(overrides.into_iter().flatten()) {
            let text = match value.get_ref() {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Array(items) => {
                    let mut parts = Vec::new();
                    for item in items {
                        let Some(s) = item.as_str() else {
                            return Err(self.err(value.span(), name, "a list must hold strings"));
                        };
                        parts.push(s.to_string());
                    }
                    parts.join(",")
                }
                other => {
                    return Err(self.err(
                        value.span(),
                        name,
                        format!(
                            "a Kafka config is a string, an integer, a boolean or a list of \
                             strings, not a {}",
                            other.type_str()
                        ),
                    ));
                }
            };
            entries.insert(name.clone(), (text, value.span()));
        }
        Ok(Configs { entries })
    }

    fn cluster(&self) -> Res<ClusterSpec> {
        let raw = self.raw.cluster.as_ref();
        let brokers = match raw.and_then(|c| c.brokers.as_ref()) {
            None => 1,
            Some(b) if *b.get_ref() == 0 => {
                return Err(self.err(
                    b.span(),
                    "cluster.brokers",
                    "a cluster needs at least 1 broker",
                ));
            }
            Some(b) => *b.get_ref(),
        };
        let empty = RawConfig::new();
        Ok(ClusterSpec {
            brokers: (1..=brokers).map(BrokerId).collect(),
            network_latency: Millis(raw.and_then(|c| c.network_latency_ms).unwrap_or(1)),
            config: self.configs(raw.map_or(&empty, |c| &c.config), None)?,
        })
    }

    fn topics(&self, cluster: &ClusterSpec) -> Res<Vec<TopicSpec>> {
        let mut out: Vec<TopicSpec> = Vec::new();
        self.check_overrides(
            "topic",
            self.variant.map(|v| v.topic.keys()),
            self.raw.topic.iter().map(|t| t.name.get_ref()),
        )?;
        for t in &self.raw.topic {
            let name = TopicName::new(t.name.get_ref())
                .map_err(|e| self.err(t.name.span(), "topic.name", e.to_string()))?;
            if out.iter().any(|o| o.name == name) {
                return Err(self.err(t.name.span(), "topic.name", "topic declared twice"));
            }
            let over = self.variant.and_then(|v| v.topic.get(name.as_str()));
            let partitions = over
                .and_then(|o| o.partitions.as_ref())
                .unwrap_or(&t.partitions);
            if *partitions.get_ref() == 0 {
                return Err(self.err(
                    partitions.span(),
                    "topic.partitions",
                    "a topic needs at least 1 partition",
                ));
            }
            let rf = over
                .and_then(|o| o.replication_factor.as_ref())
                .or(t.replication_factor.as_ref());
            let replication_factor = match rf {
                None => 1,
                Some(r) if *r.get_ref() == 0 || *r.get_ref() as usize > cluster.brokers.len() => {
                    return Err(self.err(
                        r.span(),
                        "topic.replication_factor",
                        format!(
                            "replication factor {} is impossible with {} broker(s): it must be \
                             between 1 and the broker count (set [cluster] brokers)",
                            r.get_ref(),
                            cluster.brokers.len()
                        ),
                    ));
                }
                Some(r) => *r.get_ref(),
            };
            out.push(TopicSpec {
                name,
                partitions: *partitions.get_ref(),
                replication_factor,
                config: self.configs(&t.config, over.map(|o| &o.config))?,
            });
        }
        Ok(out)
    }

    fn topic_ref(
        &self,
        topics: &[TopicSpec],
        name: &Spanned<String>,
        field: &str,
    ) -> Res<TopicName> {
        topics
            .iter()
            .find(|t| t.name.as_str() == name.get_ref())
            .map(|t| t.name.clone())
            .ok_or_else(|| {
                let known: Vec<_> = topics.iter().map(|t| t.name.to_string()).collect();
                self.err(
                    name.span(),
                    field,
                    format!(
                        "no topic {:?} is declared; declared topics: {}",
                        name.get_ref(),
                        known.join(", ")
                    ),
                )
            })
    }

    fn producers(&self, default: Client, topics: &[TopicSpec]) -> Res<Vec<ProducerSpec>> {
        let mut out: Vec<ProducerSpec> = Vec::new();
        self.check_overrides(
            "producer",
            self.variant.map(|v| v.producer.keys()),
            self.raw.producer.iter().map(|p| p.name.get_ref()),
        )?;
        for p in &self.raw.producer {
            let name = self.component_name(&p.name, "producer.name")?;
            if out.iter().any(|o| o.name == name) {
                return Err(self.err(p.name.span(), "producer.name", "producer declared twice"));
            }
            let over = self.variant.and_then(|v| v.producer.get(&name));
            let topic = self.topic_ref(topics, &p.topic, "producer.topic")?;
            let partitions = topics
                .iter()
                .find(|t| t.name == topic)
                .map_or(1, |t| t.partitions);
            let records = over.and_then(|o| o.records.as_ref()).unwrap_or(&p.records);
            if *records.get_ref() == 0 {
                return Err(self.err(records.span(), "producer.records", "must be at least 1"));
            }
            // A variant that sets a pacing replaces the scenario's, whichever kind it was.
            let over_pacing = over.filter(|o| o.rate_per_s.is_some() || o.interval_ms.is_some());
            let (rate, interval) = match over_pacing {
                Some(o) => (o.rate_per_s.as_ref(), o.interval_ms.as_ref()),
                None => (p.rate_per_s.as_ref(), p.interval_ms.as_ref()),
            };
            let pacing = match (rate, interval) {
                (Some(r), Some(_)) => {
                    return Err(self.err(
                        r.span(),
                        "producer.rate_per_s",
                        "give either rate_per_s or interval_ms, not both",
                    ));
                }
                (Some(r), None) if *r.get_ref() == 0 => {
                    return Err(self.err(r.span(), "producer.rate_per_s", "must be at least 1"));
                }
                (Some(r), None) => Pacing::Rate(*r.get_ref()),
                (None, Some(i)) => Pacing::Interval(Millis(*i.get_ref())),
                (None, None) => Pacing::Burst,
            };
            let send = over.and_then(|o| o.send.as_ref()).or(p.send.as_ref());
            let send = match send.map(|s| (s.get_ref().as_str(), s.span())) {
                None | Some(("async", _)) => SendMode::Async,
                Some(("sync", _)) => SendMode::Sync,
                Some((_, span)) => {
                    return Err(self.err(span, "producer.send", "use async or sync"));
                }
            };
            let partition = match &p.partition {
                Some(x) if *x.get_ref() >= partitions => {
                    return Err(self.err(
                        x.span(),
                        "producer.partition",
                        format!("topic {topic} has partitions 0 to {}", partitions - 1),
                    ));
                }
                Some(x) => Some(PartitionId(*x.get_ref())),
                None => None,
            };
            let key = over.and_then(|o| o.key.as_ref()).or(p.key.as_ref());
            out.push(ProducerSpec {
                client: self.client(
                    over.and_then(|o| o.client.as_ref()).or(p.client.as_ref()),
                    default,
                )?,
                topic,
                records: *records.get_ref(),
                start: SimTime(over.and_then(|o| o.start_ms).or(p.start_ms).unwrap_or(0)),
                pacing,
                send,
                keys: self.keys(key)?,
                value: self.value(p.value.as_ref(), &name)?,
                partition,
                config: self.configs(&p.config, over.map(|o| &o.config))?,
                name,
            });
        }
        Ok(out)
    }

    fn component_name(&self, name: &Spanned<String>, field: &str) -> Res<String> {
        let n = name.get_ref();
        if n.is_empty()
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(self.err(
                name.span(),
                field,
                "use ASCII letters, digits, '.', '_' and '-' (the name is part of component names)",
            ));
        }
        Ok(n.clone())
    }

    fn ratio(&self, s: &Spanned<String>, field: &str) -> Res<Ratio> {
        Ratio::parse(s.get_ref()).map_err(|e| self.err(s.span(), field, e.to_string()))
    }

    fn keys(&self, raw: Option<&RawKey>) -> Res<KeySpec> {
        let Some(k) = raw else {
            return Ok(KeySpec::Null);
        };
        match (k.null, &k.pattern, &k.values) {
            (Some(true), None, None) => Ok(KeySpec::Null),
            (None | Some(false), Some(pattern), None) => {
                let distinct = k.distinct.as_ref().map_or(u64::MAX, |d| *d.get_ref());
                if distinct == 0 {
                    let span = k
                        .distinct
                        .as_ref()
                        .map(Spanned::span)
                        .unwrap_or(pattern.span());
                    return Err(self.err(span, "key.distinct", "must be at least 1"));
                }
                if !pattern.get_ref().contains("{n}") && k.distinct.is_none() {
                    return Err(self.err(
                        pattern.span(),
                        "key.pattern",
                        "a pattern needs {n}; for one fixed key use values = [\"...\"]",
                    ));
                }
                let random = match k.order.as_ref().map(|o| (o.get_ref().as_str(), o.span())) {
                    None | Some(("cycle", _)) => false,
                    Some(("random", _)) => true,
                    Some((_, span)) => {
                        return Err(self.err(span, "key.order", "use cycle or random"));
                    }
                };
                let hot = match (&k.hot, &k.hot_ratio) {
                    (Some(h), Some(r)) => Some((h.clone(), self.ratio(r, "key.hot_ratio")?)),
                    (None, None) => None,
                    _ => {
                        return Err(self.err(
                            pattern.span(),
                            "key.hot",
                            "give both hot and hot_ratio",
                        ));
                    }
                };
                Ok(KeySpec::Pattern {
                    pattern: pattern.get_ref().clone(),
                    first: k.first.unwrap_or(0),
                    distinct,
                    random,
                    hot,
                })
            }
            (None | Some(false), None, Some(values)) if !values.get_ref().is_empty() => {
                Ok(KeySpec::Values(values.get_ref().clone()))
            }
            _ => Err(self.map.error(
                k.pattern
                    .as_ref()
                    .map(Spanned::span)
                    .or(k.values.as_ref().map(Spanned::span)),
                "key",
                "give exactly one of: null = true, pattern = \"user-{n}\", values = [..]",
            )),
        }
    }

    fn value(&self, raw: Option<&RawValue>, producer: &str) -> Res<ValueSpec> {
        let default = format!("{producer}-{{n}}");
        let Some(v) = raw else {
            return Ok(ValueSpec {
                template: default,
                size: None,
                malformed_ratio: Ratio::ZERO,
                malformed: BTreeSet::new(),
                tombstone: false,
            });
        };
        Ok(ValueSpec {
            template: v.template.clone().unwrap_or(default),
            size: v.size,
            malformed_ratio: match &v.malformed_ratio {
                Some(r) => self.ratio(r, "value.malformed_ratio")?,
                None => Ratio::ZERO,
            },
            malformed: v.malformed.iter().copied().collect(),
            tombstone: v.tombstone,
        })
    }

    fn groups(&self, default: Client, topics: &[TopicSpec]) -> Res<Vec<GroupSpec>> {
        let mut out: Vec<GroupSpec> = Vec::new();
        self.check_overrides(
            "consumer_group",
            self.variant.map(|v| v.consumer_group.keys()),
            self.raw.consumer_group.iter().map(|g| g.group_id.get_ref()),
        )?;
        for g in &self.raw.consumer_group {
            let group_id = self.component_name(&g.group_id, "consumer_group.group_id")?;
            if out.iter().any(|o| o.group_id == group_id) {
                return Err(self.err(
                    g.group_id.span(),
                    "consumer_group.group_id",
                    "declared twice",
                ));
            }
            let over = self.variant.and_then(|v| v.consumer_group.get(&group_id));
            let mut subscribed = Vec::new();
            for t in g.topics.get_ref() {
                let spanned = Spanned::new(g.topics.span(), t.clone());
                subscribed.push(self.topic_ref(topics, &spanned, "consumer_group.topics")?);
            }
            if subscribed.is_empty() {
                return Err(self.err(
                    g.topics.span(),
                    "consumer_group.topics",
                    "subscribe to a topic",
                ));
            }
            let members = over.and_then(|o| o.members.as_ref()).unwrap_or(&g.members);
            let count = *members.get_ref() as usize;
            let start = SimTime(over.and_then(|o| o.start_ms).or(g.start_ms).unwrap_or(0));
            let member_starts = match &g.member_start_ms {
                Some(list) if list.get_ref().len() != count => {
                    return Err(self.err(
                        list.span(),
                        "consumer_group.member_start_ms",
                        format!("give one start time per member ({count})"),
                    ));
                }
                Some(list) => list.get_ref().iter().map(|&t| SimTime(t)).collect(),
                None => vec![start; count],
            };
            let processing = match (
                over.and_then(|o| o.processing_ms).or(g.processing_ms),
                &g.processing,
            ) {
                (Some(ms), None) => Processing::Constant(Millis(ms)),
                (None, None) => Processing::Constant(Millis(0)),
                (None, Some(p)) if p.min_ms <= *p.max_ms.get_ref() => Processing::Uniform {
                    min: Millis(p.min_ms),
                    max: Millis(*p.max_ms.get_ref()),
                },
                (None, Some(p)) => {
                    return Err(self.err(
                        p.max_ms.span(),
                        "processing.max_ms",
                        "must be >= min_ms",
                    ));
                }
                (Some(_), Some(p)) => {
                    return Err(self.err(
                        p.max_ms.span(),
                        "processing",
                        "give processing_ms or processing, not both",
                    ));
                }
            };
            let commit = over.and_then(|o| o.commit.as_ref()).or(g.commit.as_ref());
            let commit = match commit.map(|c| (c.get_ref().as_str(), c.span())) {
                None | Some(("auto", _)) => CommitMode::Auto,
                Some(("per-record", _)) => CommitMode::PerRecord,
                Some(("per-batch", _)) => CommitMode::PerBatch,
                Some((_, span)) => {
                    return Err(self.err(span, "commit", "use auto, per-record or per-batch"));
                }
            };
            let on_failure = over
                .and_then(|o| o.on_failure.as_ref())
                .or(g.on_failure.as_ref());
            let output = match &g.output {
                None => None,
                Some(o) => Some(OutputSpec {
                    topic: self.topic_ref(topics, &o.topic, "output.topic")?,
                    value: o.value.clone(),
                    config: self.configs(&o.config, None)?,
                }),
            };
            out.push(GroupSpec {
                client: self.client(
                    over.and_then(|o| o.client.as_ref()).or(g.client.as_ref()),
                    default,
                )?,
                topics: subscribed,
                member_starts,
                processing,
                commit,
                static_members: over
                    .and_then(|o| o.static_members)
                    .or(g.static_members)
                    .unwrap_or(false),
                on_failure: self.on_failure(on_failure, topics)?,
                output,
                config: self.configs(&g.config, over.map(|o| &o.config))?,
                group_id,
            });
        }
        Ok(out)
    }

    fn on_failure(&self, raw: Option<&RawOnFailure>, topics: &[TopicSpec]) -> Res<OnFailure> {
        let Some(f) = raw else {
            return Ok(OnFailure::Crash);
        };
        let retries = f.retries.unwrap_or(0);
        let backoff = Millis(f.backoff_ms.unwrap_or(1000));
        match f.action.get_ref().as_str() {
            "crash" => Ok(OnFailure::Crash),
            "skip" => Ok(OnFailure::Skip),
            "retry" => Ok(OnFailure::Retry {
                retries: f.retries.unwrap_or(3),
                backoff,
            }),
            "dead-letter" => {
                let Some(topic) = &f.topic else {
                    return Err(self.err(
                        f.action.span(),
                        "on_failure.topic",
                        "dead-letter needs topic = \"<the DLQ topic>\"",
                    ));
                };
                Ok(OnFailure::DeadLetter {
                    topic: self.topic_ref(topics, topic, "on_failure.topic")?,
                    retries,
                    backoff,
                })
            }
            other => Err(self.err(
                f.action.span(),
                "on_failure.action",
                format!("unknown action {other:?}; use crash, skip, retry or dead-letter"),
            )),
        }
    }

    fn target(
        &self,
        s: &Spanned<String>,
        field: &str,
        producers: &[ProducerSpec],
        groups: &[GroupSpec],
        cluster: &ClusterSpec,
    ) -> Res<Target> {
        let text = s.get_ref();
        let bad = |why: String| self.err(s.span(), field, why);
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            ["consumer", group, n] => {
                let g = groups
                    .iter()
                    .find(|g| g.group_id == *group)
                    .ok_or_else(|| bad(format!("no consumer group {group:?} is declared")))?;
                let member: u32 = n
                    .parse()
                    .map_err(|_| bad(format!("{n:?} is not a member number")))?;
                if member == 0 || member > g.members() {
                    return Err(bad(format!(
                        "group {group} has members 1 to {} (consumer/{group}/1 ...)",
                        g.members()
                    )));
                }
                Ok(Target::Consumer {
                    group: group.to_string(),
                    member,
                })
            }
            ["producer", group, n] => {
                // A service member's producer: `producer/<group>/<n>`.
                let g = groups
                    .iter()
                    .find(|g| g.group_id == *group)
                    .ok_or_else(|| bad(format!("no consumer group {group:?} is declared")))?;
                let member: u32 = n
                    .parse()
                    .map_err(|_| bad(format!("{n:?} is not a member number")))?;
                if g.output.is_none() && !matches!(g.on_failure, OnFailure::DeadLetter { .. }) {
                    return Err(bad(format!(
                        "group {group} produces nothing: it has no producer"
                    )));
                }
                if member == 0 || member > g.members() {
                    return Err(bad(format!(
                        "group {group} has members 1 to {}",
                        g.members()
                    )));
                }
                Ok(Target::Producer(format!("{group}/{member}")))
            }
            ["producer", name] => {
                if producers.iter().any(|p| p.name == *name) {
                    Ok(Target::Producer(name.to_string()))
                } else {
                    Err(bad(format!("no producer {name:?} is declared")))
                }
            }
            ["broker", id] => {
                let id: u32 = id
                    .parse()
                    .map_err(|_| bad(format!("{id:?} is not a broker id")))?;
                if cluster.brokers.contains(&BrokerId(id)) {
                    Ok(Target::Broker(BrokerId(id)))
                } else {
                    Err(bad(format!("brokers are 1 to {}", cluster.brokers.len())))
                }
            }
            _ => Err(bad(format!(
                "{text:?} is not a component; use consumer/<group>/<n>, producer/<name> or \
                 broker/<id>"
            ))),
        }
    }

    fn actions(
        &self,
        producers: &[ProducerSpec],
        groups: &[GroupSpec],
        cluster: &ClusterSpec,
    ) -> Res<Vec<ActionSpec>> {
        let extra = self
            .variant
            .map(|v| v.timeline.as_slice())
            .unwrap_or_default();
        let mut out = Vec::new();
        for a in self.raw.timeline.iter().chain(extra) {
            let target = self.target(&a.target, "timeline.target", producers, groups, cluster)?;
            let action = match a.action.get_ref().as_str() {
                "crash" => Action::Crash,
                "close" => Action::Close,
                "restart" => Action::Restart,
                "pause" => match a.duration_ms {
                    Some(d) if d > 0 => Action::Pause(Millis(d)),
                    _ => {
                        return Err(self.err(
                            a.action.span(),
                            "timeline.duration_ms",
                            "pause needs duration_ms > 0",
                        ));
                    }
                },
                other => {
                    return Err(self.err(
                        a.action.span(),
                        "timeline.action",
                        format!("unknown action {other:?}; use crash, close, pause or restart"),
                    ));
                }
            };
            if matches!(target, Target::Broker(_)) {
                return Err(self.err(
                    a.target.span(),
                    "timeline.target",
                    "brokers go down and up through [[fault]] kind = \"broker_down\"",
                ));
            }
            out.push(ActionSpec {
                at: SimTime(*a.at_ms.get_ref()),
                action,
                target,
            });
        }
        out.sort_by_key(|a| a.at);
        Ok(out)
    }

    fn faults(
        &self,
        producers: &[ProducerSpec],
        groups: &[GroupSpec],
        cluster: &ClusterSpec,
    ) -> Res<Vec<Fault>> {
        let extra = self.variant.map(|v| v.fault.as_slice()).unwrap_or_default();
        let mut out = Vec::new();
        for f in self.raw.fault.iter().chain(extra) {
            let target = self.target(&f.target, "fault.target", producers, groups, cluster)?;
            let start = SimTime(*f.at_ms.get_ref());
            let end = match &f.until_ms {
                Some(u) if *u.get_ref() <= start.0 => {
                    return Err(self.err(u.span(), "fault.until_ms", "must be after at_ms"));
                }
                Some(u) => Some(SimTime(*u.get_ref())),
                None => None,
            };
            let is_client = matches!(target, Target::Producer(_) | Target::Consumer { .. });
            let kind_span = f.kind.span();
            let direction = match f
                .direction
                .as_ref()
                .map(|d| (d.get_ref().as_str(), d.span()))
            {
                None | Some(("downstream", _)) => Direction::Downstream,
                Some(("upstream", _)) => Direction::Upstream,
                Some(("both", _)) => Direction::Both,
                Some((_, span)) => {
                    return Err(self.err(
                        span,
                        "fault.direction",
                        "use upstream, downstream or both",
                    ));
                }
            };
            let need = |value: Option<u64>, field: &str, what: &str| {
                value.ok_or_else(|| self.err(kind_span.clone(), field, what.to_string()))
            };
            let kind = match f.kind.get_ref().as_str() {
                "latency" => FaultKind::Latency {
                    latency: Millis(need(
                        f.latency_ms,
                        "fault.latency_ms",
                        "latency needs latency_ms",
                    )?),
                    jitter: Millis(f.jitter_ms.unwrap_or(0)),
                    direction,
                },
                "lost_ack" => FaultKind::LostAck {
                    count: f.count.unwrap_or(1),
                },
                "timeout" => FaultKind::Timeout {
                    after: Millis(f.timeout_ms.unwrap_or(0)),
                    direction,
                },
                "bandwidth" => FaultKind::Bandwidth {
                    bytes_per_s: need(
                        f.rate_bytes_per_s.filter(|&r| r > 0),
                        "fault.rate_bytes_per_s",
                        "bandwidth needs rate_bytes_per_s > 0",
                    )?,
                    direction,
                },
                "broker_down" => FaultKind::BrokerDown,
                "crash" => FaultKind::Crash,
                "pause" => FaultKind::Pause,
                "poison_pill" => FaultKind::PoisonPill {
                    ratio: match &f.ratio {
                        Some(r) => self.ratio(r, "fault.ratio")?,
                        None => Ratio::ONE,
                    },
                },
                other => {
                    return Err(self.err(
                        kind_span,
                        "fault.kind",
                        format!(
                            "unknown fault {other:?}; use latency, lost_ack, timeout, bandwidth, \
                             broker_down, crash, pause or poison_pill"
                        ),
                    ));
                }
            };
            let needs_broker = matches!(kind, FaultKind::BrokerDown);
            if needs_broker == is_client {
                let want = if needs_broker {
                    "broker/<id>"
                } else {
                    "a producer or consumer"
                };
                return Err(self.err(
                    f.target.span(),
                    "fault.target",
                    format!("this fault targets {want}"),
                ));
            }
            if matches!(kind, FaultKind::PoisonPill { .. })
                && !matches!(target, Target::Producer(_))
            {
                return Err(self.err(
                    f.target.span(),
                    "fault.target",
                    "poison_pill targets producer/<name>",
                ));
            }
            if matches!(kind, FaultKind::Pause) && end.is_none() {
                return Err(self.err(f.kind.span(), "fault.until_ms", "a pause needs until_ms"));
            }
            let end = if matches!(kind, FaultKind::Crash) {
                None
            } else {
                end
            };
            out.push(Fault {
                start,
                end,
                target: target.component(),
                kind,
            });
        }
        out.sort_by_key(|f| f.start);
        Ok(out)
    }

    fn expectations(&self) -> Res<Vec<Expectation>> {
        let chosen = self.variant.map(|v| v.name.get_ref().as_str());
        let mut out = Vec::new();
        for e in &self.raw.expect {
            if let Some(vs) = &e.variants {
                for v in vs.get_ref() {
                    if !self.raw.variant.iter().any(|x| x.name.get_ref() == v) {
                        return Err(self.err(
                            vs.span(),
                            "expect.variants",
                            format!("no variant {v:?}"),
                        ));
                    }
                }
                if !vs.get_ref().iter().any(|v| Some(v.as_str()) == chosen) {
                    continue;
                }
            }
            let op = match e.op.get_ref().as_str() {
                "==" => Op::Eq,
                "!=" => Op::Ne,
                "<" => Op::Lt,
                "<=" => Op::Le,
                ">" => Op::Gt,
                ">=" => Op::Ge,
                "about" => Op::About,
                "between" => Op::Between,
                other => {
                    return Err(self.err(
                        e.op.span(),
                        "expect.op",
                        format!(
                            "unknown operator {other:?}; use ==, !=, <, <=, >, >=, about, between"
                        ),
                    ));
                }
            };
            let value = self.expect_value(&e.value, op)?;
            let tolerance = match (&e.tolerance, op) {
                (Some(t), Op::About) => number(t.get_ref())
                    .ok_or_else(|| self.err(t.span(), "expect.tolerance", "must be a number"))?,
                (None, Op::About) => {
                    return Err(self.err(
                        e.op.span(),
                        "expect.tolerance",
                        "about needs a tolerance",
                    ));
                }
                (Some(t), _) => {
                    return Err(self.err(
                        t.span(),
                        "expect.tolerance",
                        "only about takes a tolerance",
                    ));
                }
                (None, _) => 0.0,
            };
            let metric = e.metric.get_ref().clone();
            let name = e
                .name
                .clone()
                .unwrap_or_else(|| format!("{metric} {}", op.symbol()));
            let (line, _) = self.map.line_column(e.metric.span().start);
            out.push(Expectation {
                name,
                metric,
                op,
                value,
                tolerance,
                line,
            });
        }
        Ok(out)
    }

    fn expect_value(&self, v: &Spanned<toml::Value>, op: Op) -> Res<ExpectValue> {
        let bad = |why: &str| self.err(v.span(), "expect.value", why.to_string());
        match (op, v.get_ref()) {
            (Op::Between, toml::Value::Array(a)) if a.len() == 2 => {
                match (number(&a[0]), number(&a[1])) {
                    (Some(lo), Some(hi)) if lo <= hi => Ok(ExpectValue::Range(lo, hi)),
                    _ => Err(bad("between takes [low, high] with low <= high")),
                }
            }
            (Op::Between, _) => Err(bad("between takes [low, high]")),
            (_, toml::Value::String(s)) if s == "none" => Ok(ExpectValue::None),
            (Op::Eq | Op::Ne, toml::Value::String(s)) => Ok(ExpectValue::Text(s.clone())),
            (Op::Eq | Op::Ne, toml::Value::Boolean(b)) => Ok(ExpectValue::Bool(*b)),
            (_, other) => number(other)
                .map(ExpectValue::Number)
                .ok_or_else(|| bad("expected a number (or a string/boolean with == and !=)")),
        }
    }

    fn report(&self) -> Res<ReportSpec> {
        let Some(r) = &self.raw.report else {
            return Ok(ReportSpec {
                lag_at: Vec::new(),
                lag_sample: Millis(1000),
                delivery_reports: false,
            });
        };
        let lag_sample = match &r.lag_sample_ms {
            Some(s) if *s.get_ref() == 0 => {
                return Err(self.err(s.span(), "report.lag_sample_ms", "must be > 0"));
            }
            Some(s) => Millis(*s.get_ref()),
            None => Millis(1000),
        };
        Ok(ReportSpec {
            lag_at: r.lag_at_ms.iter().map(|&t| SimTime(t)).collect(),
            lag_sample,
            delivery_reports: r.delivery_reports.unwrap_or(false),
        })
    }
}

fn number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[scenario]
name = "demo"
duration_ms = 60_000

[[topic]]
name = "orders"
partitions = 3

[[producer]]
name = "checkout"
topic = "orders"
records = 100
rate_per_s = 10
key = { pattern = "user-{n}", distinct = 5 }
config = { "acks" = "all", "linger.ms" = 5, "enable.idempotence" = true }

[[consumer_group]]
group_id = "analytics"
topics = ["orders"]
members = 3
processing_ms = 100
config = { "partition.assignment.strategy" = ["range", "cooperative-sticky"] }

[[timeline]]
at_ms = 30_000
action = "crash"
target = "consumer/analytics/2"

[[variant]]
name = "one"
consumer_group.analytics.members = 1
[variant.topic.orders]
partitions = 1

[[variant]]
name = "three"

[[expect]]
metric = "group.analytics.drained_at_ms"
op = "about"
value = 10_000
tolerance = 500
variants = ["three"]
"#;

    fn parse(text: &str) -> Result<ScenarioFile, ScenarioError> {
        ScenarioFile::parse(Path::new("demo.toml"), text.to_string())
    }

    #[test]
    fn variants_override_and_filter_expectations() {
        let file = parse(BASE).unwrap();
        assert_eq!(file.variants(), vec!["one", "three"]);
        let three = file.resolve(Some("three")).unwrap();
        assert_eq!(three.topics[0].partitions, 3);
        assert_eq!(three.groups[0].members(), 3);
        assert_eq!(three.expectations.len(), 1);
        assert_eq!(three.producers[0].config.get("linger.ms"), Some("5"));
        assert_eq!(
            three.groups[0].config.get("partition.assignment.strategy"),
            Some("range,cooperative-sticky")
        );
        // Variant "one" has 1 member, so the crash target consumer/analytics/2 does not exist.
        let err = file.resolve(Some("one")).unwrap_err();
        assert_eq!(err.field, "timeline.target");
        assert!(err.message.contains("members 1 to 1"), "{err}");
        assert!(
            file.resolve(None)
                .unwrap_err()
                .message
                .contains("choose one of: one, three")
        );
    }

    #[test]
    fn unknown_keys_name_the_line_and_field() {
        let text = BASE.replace("partitions = 3", "partitons = 3");
        let err = parse(&text).unwrap_err();
        assert_eq!(err.line, 8, "{err}");
        assert!(err.message.contains("unknown field `partitons`"), "{err}");
        assert!(err.to_string().starts_with("demo.toml:8:"), "{err}");
    }

    #[test]
    fn wrong_types_name_the_field() {
        let text = BASE.replace("records = 100", "records = \"many\"");
        let err = parse(&text).unwrap_err();
        assert_eq!(err.field, "records", "{err}");
        assert_eq!(err.line, 13);
    }

    #[test]
    fn impossible_values_are_refused() {
        let zero = BASE.replace("partitions = 3", "partitions = 0");
        let err = parse(&zero).unwrap().resolve(Some("three")).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.line),
            ("topic.partitions", 8),
            "{err}"
        );
        let rf = BASE.replace("partitions = 3", "partitions = 3\nreplication_factor = 3");
        let err = parse(&rf).unwrap().resolve(Some("three")).unwrap_err();
        assert!(err.message.contains("impossible with 1 broker(s)"), "{err}");
        let topic = BASE.replace("topics = [\"orders\"]", "topics = [\"ordres\"]");
        let err = parse(&topic).unwrap().resolve(Some("three")).unwrap_err();
        assert!(err.message.contains("no topic \"ordres\""), "{err}");
        let bad_name = BASE.replace("name = \"orders\"", "name = \"or ders\"");
        let err = parse(&bad_name)
            .unwrap()
            .resolve(Some("three"))
            .unwrap_err();
        assert_eq!(err.field, "topic.name");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for text in ["", "[[[", "scenario = 3", "[scenario]\nname = 1", "\u{0}"] {
            assert!(parse(text).is_err(), "{text:?}");
        }
    }
}
