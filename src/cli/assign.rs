//! `kafka-sim assign --input CASE.json [--strategy NAME] [--json]`: runs one assignor on one
//! group and prints who gets which partition.
//!
//! A case file holds one object in the format of the cases of `tests/data/assignors.json`:
//!
//! ```json
//! {
//!   "topics": {"orders": 6},
//!   "members": [
//!     {"member_id": "consumer-g-1-4f1c", "subscription": ["orders"]},
//!     {"member_id": "consumer-g-2-9a0e", "group_instance_id": "pod-2",
//!      "subscription": ["orders"], "owned_partitions": ["orders-0"], "generation": 3}
//!   ],
//!   "assignor": "range"
//! }
//! ```
//!
//! `group_instance_id`, `owned_partitions` and `generation` are optional (`generation` -1 means
//! none); other fields such as `expected_assignment` or `notes` are ignored. `assignor` may be
//! left out when `--strategy` is given. The assignor names are Kafka's (see [`AssignorMode`]).
//!
//! A member may subscribe to a topic that `topics` lacks, as a real member may subscribe to a
//! topic that does not exist: the assignor skips it, as Kafka's do, and a `warning:` line on
//! standard error names the topic and its subscribers (see [`missing_topic_warnings`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use anyhow::Context;
use kafka_sim::client::assignor::cooperative_sticky::{self, CooperativeAssignment};
use kafka_sim::client::assignor::{
    self, Assignment, GroupSubscription, GroupSubscriptionError, MemberAssignment,
    MemberSubscription, Strategy, StrategyError, member_info_cmp, server_range,
};
use kafka_sim::units::{Generation, MemberId, TopicName, TopicPartition};
use serde_json::Value;

/// Limits on a case, so a typo cannot make the command run for hours: the sticky general
/// path, like Kafka's, re-checks the balance of every member over every partition after each
/// move. Course exercises use a few dozen partitions.
const MAX_PARTITIONS: u64 = 10_000;
/// See [`MAX_PARTITIONS`].
const MAX_MEMBERS: usize = 1_000;

/// Arguments of `kafka-sim assign`.
#[derive(Debug, clap::Args)]
pub struct AssignArgs {
    /// The case file (JSON; `-` reads standard input).
    #[arg(long, value_name = "CASE.json")]
    pub input: PathBuf,
    /// The assignor, overriding the case's `assignor`: range, roundrobin, sticky,
    /// cooperative-sticky, a Java class name such as
    /// org.apache.kafka.clients.consumer.RangeAssignor, cooperative-sticky-two-phase, or
    /// server-range (KIP-848).
    #[arg(long, value_name = "NAME")]
    pub strategy: Option<String>,
    /// Print `{"assignment": {member: [partitions]}}` instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What an `assignor` value (or `--strategy`) asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignorMode {
    /// One run of a client assignor. For `cooperative-sticky` this is the first round, with the
    /// partitions that change owner withheld (also spelled `cooperative-sticky-first-round`).
    Client(Strategy),
    /// `cooperative-sticky` run round after round until nothing is revoked
    /// (`cooperative-sticky (two-phase)` or `cooperative-sticky-two-phase`).
    CooperativeRounds,
    /// The KIP-848 broker-side range assignor (`server-range`, optionally followed by a
    /// parenthesised note, as in the vectors).
    ServerRange,
}

/// What is wrong with a case file; errors name the field, as `members[1].subscription[0]`.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    /// Not JSON.
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// A required field is absent.
    #[error("line {line}: missing field `{field}`")]
    Missing {
        /// 1-based line of the object that lacks it.
        line: usize,
        /// The path of the field.
        field: String,
    },
    /// A field is present but wrong.
    #[error("line {line}: field `{field}`: {problem}")]
    Invalid {
        /// 1-based line of its value.
        line: usize,
        /// The path of the field.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// Neither `assignor` nor `--strategy`.
    #[error("no assignor: the case has no `assignor` field and --strategy was not given")]
    NoAssignor,
}

/// A parsed case file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The group to assign.
    pub group: GroupSubscription,
    /// The case's own `assignor`, if it has one.
    pub assignor: Option<AssignorMode>,
}

/// The result of running a case: one or more rounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The mode that ran.
    pub mode: AssignorMode,
    /// Each round's assignment and withheld partitions (empty except for cooperative-sticky).
    /// There is one round except in [`AssignorMode::CooperativeRounds`].
    pub rounds: Vec<(Assignment, BTreeMap<TopicPartition, MemberId>)>,
}

impl FromStr for AssignorMode {
    type Err = StrategyError;

    fn from_str(s: &str) -> Result<AssignorMode, StrategyError> {
        match s {
            "cooperative-sticky-first-round" => {
                Ok(AssignorMode::Client(Strategy::CooperativeSticky))
            }
            // The vectors' "final" state: what the eager StickyAssignor returns, and what the
            // cooperative rounds settle on.
            "sticky-and-cooperative-final" => Ok(AssignorMode::Client(Strategy::Sticky)),
            "cooperative-sticky (two-phase)" | "cooperative-sticky-two-phase" => {
                Ok(AssignorMode::CooperativeRounds)
            }
            "server-range" | "org.apache.kafka.coordinator.group.assignor.RangeAssignor" => {
                Ok(AssignorMode::ServerRange)
            }
            _ if s.starts_with("server-range (") => Ok(AssignorMode::ServerRange),
            _ => s.parse().map(AssignorMode::Client),
        }
    }
}

impl AssignorMode {
    /// How the mode is described in the table's header.
    fn describe(self) -> String {
        match self {
            AssignorMode::Client(s) => {
                let class = s.class_name().rsplit('.').next().unwrap_or_default();
                let protocol = if s == Strategy::CooperativeSticky {
                    "cooperative"
                } else {
                    "eager"
                };
                format!("{} ({class}, {protocol})", s.name())
            }
            AssignorMode::CooperativeRounds => {
                "cooperative-sticky (CooperativeStickyAssignor), every round".to_owned()
            }
            AssignorMode::ServerRange => "range (KIP-848 broker-side RangeAssignor)".to_owned(),
        }
    }
}

/// Runs `kafka-sim assign`: reads the case, runs the assignor, prints the result.
pub fn run(args: &AssignArgs) -> anyhow::Result<ExitCode> {
    let text =
        read_input(&args.input).with_context(|| format!("cannot read {}", args.input.display()))?;
    let invalid_case = || format!("invalid case {}", args.input.display());
    let case = parse_case(&text).with_context(invalid_case)?;
    let mode = match &args.strategy {
        Some(name) => name.parse().context("invalid --strategy")?,
        None => case
            .assignor
            .ok_or(CaseError::NoAssignor)
            .with_context(invalid_case)?,
    };
    let warnings = missing_topic_warnings(&case.group);
    if !warnings.is_empty() {
        std::io::stderr()
            .lock()
            .write_all(warnings.as_bytes())
            .context("cannot write the warnings")?;
    }
    let outcome = run_case(mode, &case.group);
    let text = if args.json {
        render_json(&outcome)
    } else {
        render_table(&outcome, &case.group)
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("cannot write the output")?;
    Ok(ExitCode::SUCCESS)
}

/// One `warning:` line per subscribed topic that is not in the case's `topics`, naming the
/// members that subscribe to it; empty when there is none.
///
/// Such a topic is not an error: a real group leader meets it whenever a member subscribes to a
/// topic that does not exist (yet), and Kafka's assignors skip it (see
/// [`GroupSubscription::topics_without_metadata`]); `ConsumerCoordinatorTest`'s
/// `testRebalanceAfterTopicUnavailableWithSubscribe` shows the group completing its rebalance
/// with nothing to assign. Kafka logs the skip at debug level only, so a student would not see
/// it; here it goes to standard error, which leaves the table and the `--json` output as they
/// are (and the JSON valid).
pub fn missing_topic_warnings(group: &GroupSubscription) -> String {
    let mut out = String::new();
    for (topic, members) in group.topics_without_metadata() {
        let members: Vec<String> = members.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "warning: topic {topic} is not in `topics` (no metadata): the assignor skips it, as \
             Kafka's do; subscribed by {}",
            members.join(", ")
        );
    }
    out
}

/// Runs `mode` on `group`.
pub fn run_case(mode: AssignorMode, group: &GroupSubscription) -> Outcome {
    let cooperative = |round: CooperativeAssignment| (round.assignment, round.withheld);
    let rounds = match mode {
        AssignorMode::Client(Strategy::CooperativeSticky) => {
            vec![cooperative(cooperative_sticky::assign_detailed(group))]
        }
        AssignorMode::Client(strategy) => {
            vec![(assignor::assign(strategy, group), BTreeMap::new())]
        }
        AssignorMode::CooperativeRounds => cooperative_sticky::rebalance(group)
            .into_iter()
            .map(cooperative)
            .collect(),
        AssignorMode::ServerRange => vec![(server_range::assign(group), BTreeMap::new())],
    };
    Outcome { mode, rounds }
}

/// Parses a case file's text.
pub fn parse_case(text: &str) -> Result<Case, CaseError> {
    parse_value(text).map_err(|mut e| {
        if let CaseError::Missing { line, field } | CaseError::Invalid { line, field, .. } = &mut e
        {
            *line = line_of(text, field);
        }
        e
    })
}

/// [`parse_case`], its errors not yet located.
fn parse_value(text: &str) -> Result<Case, CaseError> {
    let value: Value = serde_json::from_str(text).map_err(|e| CaseError::Syntax {
        line: e.line(),
        column: e.column(),
        message: e
            .to_string()
            .rsplit_once(" at line ")
            .map_or(e.to_string(), |(m, _)| m.into()),
    })?;
    let root = value
        .as_object()
        .ok_or_else(|| invalid("(top level)", "expected an object"))?;
    let topics = parse_topics(root.get("topics").ok_or_else(|| missing("topics"))?)?;
    let members_value = root.get("members").ok_or_else(|| missing("members"))?;
    let members_array = members_value
        .as_array()
        .ok_or_else(|| invalid("members", "expected a list"))?;
    if members_array.len() > MAX_MEMBERS {
        let problem = format!("at most {MAX_MEMBERS} members are accepted");
        return Err(invalid("members", &problem));
    }
    let members = members_array
        .iter()
        .enumerate()
        .map(|(i, m)| parse_member(&format!("members[{i}]"), m))
        .collect::<Result<Vec<_>, _>>()?;
    let assignor = match root.get("assignor") {
        None | Some(Value::Null) => None,
        Some(value) => {
            let name = value
                .as_str()
                .ok_or_else(|| invalid("assignor", "expected a string"))?;
            Some(
                name.parse()
                    .map_err(|e: StrategyError| invalid("assignor", &e.to_string()))?,
            )
        }
    };
    let group = GroupSubscription::new(topics, members).map_err(|e| group_error(&e))?;
    Ok(Case { group, assignor })
}

fn parse_topics(value: &Value) -> Result<BTreeMap<TopicName, u32>, CaseError> {
    let object = value.as_object().ok_or_else(|| {
        invalid(
            "topics",
            "expected an object of topic name to partition count",
        )
    })?;
    let mut topics = BTreeMap::new();
    for (name, count) in object {
        let field = format!("topics.{name}");
        let topic = TopicName::new(name).map_err(|e| invalid(&field, &e.to_string()))?;
        let count = count
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| invalid(&field, "expected a partition count of at least 1"))?;
        topics.insert(topic, count);
    }
    let total: u64 = topics.values().map(|&n| u64::from(n)).sum();
    if total > MAX_PARTITIONS {
        let problem = format!("{total} partitions in all; at most {MAX_PARTITIONS} are accepted");
        return Err(invalid("topics", &problem));
    }
    Ok(topics)
}

fn parse_member(field: &str, value: &Value) -> Result<MemberSubscription, CaseError> {
    let object = value
        .as_object()
        .ok_or_else(|| invalid(field, "expected an object"))?;
    let get = |name: &str| object.get(name).filter(|v| !v.is_null());
    let string = |name: &str| -> Result<Option<&str>, CaseError> {
        get(name)
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| invalid(&format!("{field}.{name}"), "expected a string"))
            })
            .transpose()
    };
    let member_id = string("member_id")?.ok_or_else(|| missing(&format!("{field}.member_id")))?;
    let subscription_field = format!("{field}.subscription");
    let subscription = get("subscription").ok_or_else(|| missing(&subscription_field))?;
    let subscription = strings(&subscription_field, subscription)?
        .into_iter()
        .map(|(f, name)| TopicName::new(name).map_err(|e| invalid(&f, &e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let owned_field = format!("{field}.owned_partitions");
    let owned = match get("owned_partitions") {
        None => Vec::new(),
        Some(v) => strings(&owned_field, v)?
            .into_iter()
            .map(|(f, s)| {
                TopicPartition::parse(s)
                    .ok_or_else(|| invalid(&f, &format!("{s:?} is not <topic>-<partition>")))
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let generation = match get("generation") {
        None => None,
        Some(v) => {
            let g = v
                .as_i64()
                .and_then(|g| i32::try_from(g).ok())
                .filter(|&g| g >= -1);
            let g = g.ok_or_else(|| {
                invalid(
                    &format!("{field}.generation"),
                    "expected an integer, -1 or more",
                )
            })?;
            (g >= 0).then_some(Generation(g))
        }
    };
    let mut member = MemberSubscription::new(member_id, subscription);
    if let Some(instance_id) = string("group_instance_id")? {
        member = member.with_instance_id(instance_id);
    }
    member.owned_partitions = owned;
    member.generation = generation;
    Ok(member)
}

/// A list of strings, each with its field path.
fn strings<'v>(field: &str, value: &'v Value) -> Result<Vec<(String, &'v str)>, CaseError> {
    let list = value
        .as_array()
        .ok_or_else(|| invalid(field, "expected a list of strings"))?;
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let f = format!("{field}[{i}]");
            v.as_str()
                .map(|s| (f.clone(), s))
                .ok_or_else(|| invalid(&f, "expected a string"))
        })
        .collect()
}

fn missing(field: &str) -> CaseError {
    CaseError::Missing {
        line: 0,
        field: field.to_owned(),
    }
}

fn invalid(field: &str, problem: &str) -> CaseError {
    CaseError::Invalid {
        line: 0,
        field: field.to_owned(),
        problem: problem.to_owned(),
    }
}

fn group_error(error: &GroupSubscriptionError) -> CaseError {
    invalid("members", &error.to_string())
}

/// One level of the JSON being walked by [`line_of`]: an object (with the key last read) or an
/// array (with the index of the element being read).
enum Level {
    Object(String),
    Array(usize),
}

/// The 1-based line where the value at `field` (`members[1].subscription[0]`, `topics.t`)
/// starts in `text`, valid JSON; for an absent field, the line of the nearest enclosing value
/// that is present (the object lacking it). serde_json's `Value` keeps no positions, so the
/// text is walked again, which only an error costs.
fn line_of(text: &str, field: &str) -> usize {
    let mut levels: Vec<Level> = Vec::new();
    let mut expect_key = false;
    let mut line = 1;
    let mut best: (usize, usize) = (0, 1);
    let mut note = |levels: &[Level], line: usize| {
        let path = field_path(levels);
        let within = field == path
            || path.is_empty()
            || (field.starts_with(&path) && field[path.len()..].starts_with(['.', '[']));
        if within && path.len() >= best.0 {
            best = (path.len(), line);
        }
    };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '"' => {
                let mut string = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        c => string.push(c),
                    }
                }
                match levels.last_mut() {
                    Some(Level::Object(key)) if expect_key => {
                        *key = string;
                        expect_key = false;
                    }
                    _ => note(&levels, line),
                }
            }
            '{' | '[' => {
                note(&levels, line);
                levels.push(if c == '{' {
                    Level::Object(String::new())
                } else {
                    Level::Array(0)
                });
                expect_key = c == '{';
            }
            '}' | ']' => {
                levels.pop();
            }
            ',' => match levels.last_mut() {
                Some(Level::Array(i)) => *i += 1,
                Some(Level::Object(_)) => expect_key = true,
                None => {}
            },
            c if c.is_ascii_alphanumeric() || c == '-' => {
                note(&levels, line);
                while chars
                    .next_if(|c| c.is_ascii_alphanumeric() || "+-.".contains(*c))
                    .is_some()
                {}
            }
            _ => {}
        }
    }
    best.1
}

/// `members[1].subscription` for the levels of that value.
fn field_path(levels: &[Level]) -> String {
    let mut path = String::new();
    for level in levels {
        match level {
            Level::Object(key) if path.is_empty() => path.push_str(key),
            Level::Object(key) => path = format!("{path}.{key}"),
            Level::Array(i) => path = format!("{path}[{i}]"),
        }
    }
    path
}

fn read_input(path: &Path) -> std::io::Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(path)
    }
}

/// `{"assignment": {...}}`, members in the assignor's order. Cooperative modes add the
/// `withheld` partitions; the every-round mode adds `rounds`.
pub fn render_json(outcome: &Outcome) -> String {
    let (last, withheld) = outcome.rounds.last().expect("at least one round");
    let mut out = String::from("{\n  \"assignment\": ");
    out.push_str(&json_assignment(last, "  "));
    let cooperative = matches!(
        outcome.mode,
        AssignorMode::Client(Strategy::CooperativeSticky) | AssignorMode::CooperativeRounds
    );
    if cooperative {
        out.push_str(",\n  \"withheld\": ");
        out.push_str(&json_withheld(withheld));
    }
    if outcome.mode == AssignorMode::CooperativeRounds {
        out.push_str(",\n  \"rounds\": [");
        for (i, (assignment, withheld)) in outcome.rounds.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(out, "{sep}\n    {{\n      \"assignment\": ");
            out.push_str(&json_assignment(assignment, "      "));
            out.push_str(",\n      \"withheld\": ");
            out.push_str(&json_withheld(withheld));
            out.push_str("\n    }");
        }
        out.push_str("\n  ]");
    }
    out.push_str("\n}\n");
    out
}

fn json_assignment(assignment: &Assignment, indent: &str) -> String {
    if assignment.members.is_empty() {
        return "{}".to_owned();
    }
    let lines: Vec<String> = assignment
        .members
        .iter()
        .map(|m| {
            let partitions: Vec<String> = m
                .partitions
                .iter()
                .map(|p| json_string(&p.to_string()))
                .collect();
            format!(
                "{indent}  {}: [{}]",
                json_string(&m.member_id.0),
                partitions.join(", ")
            )
        })
        .collect();
    format!("{{\n{}\n{indent}}}", lines.join(",\n"))
}

fn json_withheld(withheld: &BTreeMap<TopicPartition, MemberId>) -> String {
    let pairs: Vec<String> = withheld
        .iter()
        .map(|(tp, m)| format!("{}: {}", json_string(&tp.to_string()), json_string(&m.0)))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// A table a student can read: member, partitions, count; then the imbalance.
///
/// Rows are in Kafka's `MemberInfo` order (static members by `group.instance.id`, then member
/// ids compared as strings), the order range and round robin hand out partitions in, so
/// surprises such as `consumer-g-10-…` coming before `consumer-g-2-…` show. The JSON output
/// keeps the assignor's own (hash map) order instead.
pub fn render_table(outcome: &Outcome, group: &GroupSubscription) -> String {
    let mut out = format!("assignor: {}\n", outcome.mode.describe());
    out.push_str("members in Kafka's sort order: group.instance.id, then member id as a string\n");
    let several = outcome.rounds.len() > 1;
    for (i, (assignment, withheld)) in outcome.rounds.iter().enumerate() {
        if several {
            let _ = writeln!(out, "\nround {}:", i + 1);
        }
        out.push_str(&table(assignment, group));
        if !withheld.is_empty() {
            out.push_str("withheld until the next rebalance (changing owner; revoked first):\n");
            for (tp, member) in withheld {
                let _ = writeln!(out, "  {tp} -> {member}");
            }
        }
    }
    let (last, _) = outcome.rounds.last().expect("at least one round");
    let _ = writeln!(
        out,
        "imbalance (max - min partitions per member): {}",
        last.imbalance()
    );
    out
}

fn table(assignment: &Assignment, group: &GroupSubscription) -> String {
    let mut members: Vec<&MemberAssignment> = assignment.members.iter().collect();
    let info = |m: &MemberAssignment| group.member(&m.member_id.0).expect("a group member");
    members.sort_by(|a, b| member_info_cmp(info(a), info(b)));
    let rows: Vec<(String, String, String)> = members
        .into_iter()
        .map(|m| {
            let parts: Vec<String> = m.partitions.iter().map(ToString::to_string).collect();
            let parts = if parts.is_empty() {
                "-".to_owned()
            } else {
                parts.join(", ")
            };
            (
                m.member_id.to_string(),
                parts,
                m.partitions.len().to_string(),
            )
        })
        .collect();
    let width = |header: &str, col: fn(&(String, String, String)) -> &String| {
        rows.iter()
            .map(|r| col(r).chars().count())
            .chain([header.len()])
            .max()
            .unwrap_or(0)
    };
    let member_width = width("member", |r| &r.0);
    let parts_width = width("partitions", |r| &r.1);
    let mut out = format!(
        "{:member_width$}  {:parts_width$}  count\n",
        "member", "partitions"
    );
    for (member, parts, count) in &rows {
        let _ = writeln!(
            out,
            "{member:member_width$}  {parts:parts_width$}  {count:>5}"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(text: &str) -> String {
        parse_case(text).unwrap_err().to_string()
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let err = parse_err("{\n  \"topics\": {\"t\": 1},\n  \"members\": [,]\n}");
        assert_eq!(err, "malformed JSON at line 3, column 15: expected value");
    }

    #[test]
    fn errors_name_the_field() {
        let members =
            r#""members": [{"member_id": "a", "subscription": ["t"]}, {"member_id": "b"}]"#;
        let err = parse_err(&format!(r#"{{"topics": {{"t": 1}}, {members}}}"#));
        assert_eq!(err, "line 1: missing field `members[1].subscription`");

        let err = parse_err(
            r#"{"topics": {"t": 1}, "members": [{"member_id": "a", "subscription": ["t", ""]}]}"#,
        );
        assert!(
            err.starts_with("line 1: field `members[0].subscription[1]`: "),
            "{err}"
        );

        let err = parse_err(r#"{"topics": {"t": 0}, "members": []}"#);
        assert_eq!(
            err,
            "line 1: field `topics.t`: expected a partition count of at least 1"
        );

        let err = parse_err(r#"{"topics": {"a": 6000, "b": 4001}, "members": []}"#);
        assert_eq!(
            err,
            "line 1: field `topics`: 10001 partitions in all; at most 10000 are accepted"
        );

        let err = parse_err(r#"{"members": []}"#);
        assert_eq!(err, "line 1: missing field `topics`");

        let err = parse_err(r#"{"topics": {}, "members": [], "assignor": "fair"}"#);
        assert!(
            err.starts_with("line 1: field `assignor`: unknown assignor \"fair\""),
            "{err}"
        );

        let text = r#"{"topics": {"t": 2}, "members": [
            {"member_id": "a", "subscription": ["t"], "owned_partitions": ["t-x"]}]}"#;
        assert_eq!(
            parse_err(text),
            "line 2: field `members[0].owned_partitions[0]`: \"t-x\" is not <topic>-<partition>"
        );
    }

    #[test]
    fn errors_name_the_line_of_the_field_or_of_the_object_lacking_it() {
        let text = concat!(
            "{\n",
            "  \"topics\": {\"t\": 2, \"u\": 0},\n",
            "  \"members\": [\n",
            "    {\"member_id\": \"a\", \"subscription\": [\"t\"]},\n",
            "    {\"member_id\": \"b\",\n",
            "     \"subscription\": [\"t\",\n",
            "      \"v\"]},\n",
            "    {\"member_id\": \"c\"}\n",
            "  ]\n",
            "}"
        );
        assert_eq!(line_of(text, "topics.u"), 2);
        assert_eq!(line_of(text, "members[1].subscription[1]"), 7);
        assert_eq!(line_of(text, "members[1].subscription[0]"), 6);
        assert_eq!(
            line_of(text, "members[2].subscription"),
            8,
            "the object lacking it"
        );
        assert_eq!(line_of(text, "nowhere"), 1);
        assert!(parse_err(text).starts_with("line 2: field `topics.u`"));
    }

    #[test]
    fn unknown_fields_are_ignored_and_generation_minus_one_is_none() {
        let text = r#"{"id": "x", "notes": "n", "expected_assignment": {}, "topics": {"t": 2},
            "assignor": "cooperative-sticky-first-round",
            "members": [{"member_id": "a", "subscription": ["t"], "generation": -1,
                         "group_instance_id": null, "owned_partitions": ["t-1"]}]}"#;
        let case = parse_case(text).unwrap();
        assert_eq!(
            case.assignor,
            Some(AssignorMode::Client(Strategy::CooperativeSticky))
        );
        assert_eq!(case.group.members()[0].generation, None);
        assert_eq!(
            case.group.members()[0].owned_partitions,
            [TopicPartition::parse("t-1").unwrap()]
        );
    }

    #[test]
    fn a_subscribed_topic_missing_from_topics_is_skipped_with_a_warning() {
        // RangeAssignorTest.testOneConsumerNonexistentTopic, with a second member and topic.
        let case = parse_case(
            r#"{"topics": {"t": 3}, "assignor": "range", "members": [
                {"member_id": "consumer1", "subscription": ["t", "u"]},
                {"member_id": "consumer2", "subscription": ["u", "t"]},
                {"member_id": "consumer3", "subscription": ["v"]}]}"#,
        )
        .unwrap();
        assert_eq!(
            missing_topic_warnings(&case.group),
            "warning: topic u is not in `topics` (no metadata): the assignor skips it, as \
             Kafka's do; subscribed by consumer1, consumer2\n\
             warning: topic v is not in `topics` (no metadata): the assignor skips it, as \
             Kafka's do; subscribed by consumer3\n"
        );
        let outcome = run_case(case.assignor.unwrap(), &case.group);
        let table = render_table(&outcome, &case.group);
        assert!(table.contains("consumer1  t-0, t-1        2\n"), "{table}");
        assert!(table.contains("consumer3  -               0\n"), "{table}");
        let complete = parse_case(r#"{"topics": {"t": 1}, "members": []}"#).unwrap();
        assert_eq!(missing_topic_warnings(&complete.group), "");
    }

    #[test]
    fn every_vector_assignor_name_is_accepted() {
        for name in [
            "range",
            "roundrobin",
            "sticky",
            "cooperative-sticky",
            "sticky-and-cooperative-final",
            "cooperative-sticky-first-round",
            "cooperative-sticky (two-phase)",
            "server-range (KIP-848 group.consumer.assignors: range)",
            "org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
        ] {
            assert!(name.parse::<AssignorMode>().is_ok(), "{name}");
        }
        assert!("server-rangex".parse::<AssignorMode>().is_err());
    }

    #[test]
    fn the_table_sorts_members_and_json_keeps_the_assignor_order() {
        let case = parse_case(
            r#"{"topics": {"t": 3}, "assignor": "range", "members": [
                {"member_id": "consumer2", "subscription": ["t"]},
                {"member_id": "consumer1", "subscription": ["t"]}]}"#,
        )
        .unwrap();
        let outcome = run_case(case.assignor.unwrap(), &case.group);
        assert_eq!(
            render_table(&outcome, &case.group),
            "assignor: range (RangeAssignor, eager)\n\
             members in Kafka's sort order: group.instance.id, then member id as a string\n\
             member     partitions  count\n\
             consumer1  t-0, t-1        2\n\
             consumer2  t-2             1\n\
             imbalance (max - min partitions per member): 1\n"
        );
        assert_eq!(
            render_json(&outcome),
            "{\n  \"assignment\": {\n    \"consumer2\": [\"t-2\"],\n    \
             \"consumer1\": [\"t-0\", \"t-1\"]\n  }\n}\n"
        );
    }
}
