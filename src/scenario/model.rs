//! The typed scenario: what a resolved file says, in the simulator's types.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use crate::client::consumer::app::{OnFailure, ProcessingTime};
use crate::client::library::ClientLibrary;
use crate::client::producer::{KeySpec, Pacing};
use crate::faults::Fault;
use crate::rng::Ratio;
use crate::trace::Detail;
use crate::units::{BrokerId, Millis, PartitionId, SimTime, TopicName};

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
    /// The notes in French, shown with `--lang fr` (see [`Scenario::notes_in`]).
    pub notes_fr: Option<String>,
    /// The master seed (the file's, unless overridden on the command line).
    pub seed: u64,
    /// Virtual time to simulate.
    pub duration: Millis,
    /// The variant, if the file has variants.
    pub variant: Option<String>,
    /// What the variant changes.
    pub variant_description: Option<String>,
    /// What the variant changes, in French.
    pub variant_description_fr: Option<String>,
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
    pub(super) entries: BTreeMap<String, (String, Range<usize>)>,
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
    pub client: ClientLibrary,
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
    /// As `enable.auto.commit` says (default true: auto-commit as the client library does it).
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
    pub client: ClientLibrary,
    /// ProcessingTime time.
    pub processing: ProcessingTime,
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
