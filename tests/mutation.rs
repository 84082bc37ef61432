//! Mutation tests of every input reader: the real inputs (every scenario of `scenarios/`, the
//! assignor cases of `tests/data/assignors.json`, golden traces of `sim-traces/`), each broken
//! at random the ways hands and editors break files (a line deleted or duplicated, a character
//! changed, the file cut short, a value of the wrong type, a `]` lost). Whatever the damage,
//! a reader never panics, and an error names the file, a line and, where the input is
//! structured, the field; through the CLI it exits 2.
//!
//! CI runs [`CASES`] cases per reader; `KAFKA_SIM_PROPTEST_CASES=2000` runs more (and
//! `KAFKA_SIM_PROPTEST_SEED=<n>` other ones), as the properties do.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;

use kafka_sim::runner;
use kafka_sim::scenario::{ScenarioError, ScenarioFile};
use kafka_sim::trace::{VecSink, jsonl};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngSeed, TestRunner};

use crate::support::root;

/// Cases per reader when `KAFKA_SIM_PROPTEST_CASES` is not set.
const CASES: u32 = 64;

/// The golden traces mutated (small ones of different shapes: producers only, a group, a
/// cluster with faults).
const TRACES: &[&str] = &[
    "sim-traces/explicit_partitions.trace.jsonl",
    "sim-traces/consumer_group_scaling.3-consumers.trace.jsonl",
    "sim-traces/idempotence_lost_ack.java-plain.trace.jsonl",
    "sim-traces/log_compaction.tombstone.trace.jsonl",
];

/// One way to break a file, with the numbers that say where.
#[derive(Clone, Debug)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    /// Replace the character at a position with one of [`CHARS`].
    Flip(usize, usize),
    Truncate(usize),
    /// Replace the value after the n-th `=` or `:` with one of [`VALUES`].
    WrongType(usize, usize),
    /// Delete the n-th `]`.
    DropBracket(usize),
}

const CHARS: &[char] = &[
    '"', '{', '}', '[', ']', '=', ':', ',', 'x', '0', '-', '\n', ' ', 'é',
];
const VALUES: &[&str] = &[
    "\"text\"", "7", "-1", "true", "[]", "{}", "1.5", "null", "\"\"",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let n = 0..100_000usize;
    prop_oneof![
        n.clone().prop_map(Mutation::DeleteLine),
        n.clone().prop_map(Mutation::DuplicateLine),
        (n.clone(), 0..CHARS.len()).prop_map(|(a, b)| Mutation::Flip(a, b)),
        n.clone().prop_map(Mutation::Truncate),
        (n.clone(), 0..VALUES.len()).prop_map(|(a, b)| Mutation::WrongType(a, b)),
        n.prop_map(Mutation::DropBracket),
    ]
}

/// `text` broken by `m` (positions taken modulo what the text has).
fn apply(text: &str, m: &Mutation) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
    match *m {
        Mutation::DeleteLine(i) => {
            let i = at(i, lines.len());
            lines
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, l)| *l)
                .collect()
        }
        Mutation::DuplicateLine(i) => {
            let i = at(i, lines.len());
            let mut out: Vec<&str> = lines.clone();
            if let Some(l) = lines.get(i) {
                out.insert(i, l);
            }
            out.concat()
        }
        Mutation::Flip(i, c) => {
            let mut chars = chars;
            let i = at(i, chars.len());
            if let Some(x) = chars.get_mut(i) {
                *x = CHARS[c];
            }
            chars.into_iter().collect()
        }
        Mutation::Truncate(i) => chars[..at(i, chars.len())].iter().collect(),
        Mutation::WrongType(i, v) => {
            let seps: Vec<usize> = text
                .char_indices()
                .filter(|&(_, c)| c == '=' || c == ':')
                .map(|(i, _)| i)
                .collect();
            let Some(&sep) = seps.get(at(i, seps.len())) else {
                return text.to_owned();
            };
            let rest = &text[sep + 1..];
            let end = rest.find([',', '}', '\n']).unwrap_or(rest.len());
            format!("{}{}{}", &text[..=sep], VALUES[v], &rest[end..])
        }
        Mutation::DropBracket(i) => {
            let brackets: Vec<usize> = text.match_indices(']').map(|(i, _)| i).collect();
            match brackets.get(at(i, brackets.len())) {
                Some(&b) => format!("{}{}", &text[..b], &text[b + 1..]),
                None => text.to_owned(),
            }
        }
    }
}

/// proptest's runner with the suite's settings: [`CASES`] or `KAFKA_SIM_PROPTEST_CASES`, a
/// fixed seed or `KAFKA_SIM_PROPTEST_SEED`, no regression files.
fn runner() -> TestRunner {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    TestRunner::new(Config {
        cases: env("KAFKA_SIM_PROPTEST_CASES").map_or(CASES, |n| n as u32),
        rng_seed: RngSeed::Fixed(env("KAFKA_SIM_PROPTEST_SEED").unwrap_or(0x6d75_7461_7465)),
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    })
}

/// Runs `check` on every generated (input index, mutation); a panic inside it is a failure
/// that names the mutation.
fn mutate_each(
    inputs: &[(PathBuf, String)],
    check: impl Fn(&Path, &str, &str) -> Result<(), String>,
) {
    let strategy = (0..inputs.len(), mutation());
    runner()
        .run(&strategy, |(i, m)| {
            let (path, text) = &inputs[i];
            let broken = apply(text, &m);
            let outcome = catch_unwind(AssertUnwindSafe(|| check(path, text, &broken)));
            match outcome {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(TestCaseError::fail(format!(
                    "{}, {m:?}: {e}",
                    path.display()
                ))),
                Err(_) => Err(TestCaseError::fail(format!(
                    "{}, {m:?}: panicked",
                    path.display()
                ))),
            }
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

fn read(paths: impl IntoIterator<Item = PathBuf>) -> Vec<(PathBuf, String)> {
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(root().join(&p)).unwrap();
            (p, text)
        })
        .collect()
}

fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.strip_prefix(root()).unwrap().to_path_buf())
        .collect();
    files.sort();
    files
}

/// A scenario error names the file, a line and the field, except a broken `[table]` header
/// with no key above it, whose name is what broke.
fn check_scenario_error(path: &Path, broken: &str, e: &ScenarioError) -> Result<(), String> {
    if e.path != path {
        return Err(format!("names {} not the file: {e}", e.path.display()));
    }
    let header = broken
        .lines()
        .nth(e.line.saturating_sub(1))
        .is_some_and(|l| l.trim_start().starts_with('['));
    if e.line == 0 || (e.field.is_empty() && !header) {
        return Err(format!("no line or no field: {e}"));
    }
    Ok(())
}

/// Parses, resolves every variant and builds the world of a scenario (an event limit of 0
/// stops each run before its first event, after the config checks).
fn load_scenario(path: &Path, text: &str) -> Result<(), ScenarioError> {
    let file = ScenarioFile::parse(path, text.to_owned())?;
    let variants: Vec<Option<String>> = match file.variants() {
        v if v.is_empty() => vec![None],
        v => v.into_iter().map(Some).collect(),
    };
    for v in variants {
        let mut scenario = file.resolve(v.as_deref())?;
        scenario.max_events = 0;
        let mut sink = VecSink::new(scenario.detail);
        match runner::run(&scenario, scenario.seed, &mut sink, |_| {}) {
            Err(runner::RunError::Scenario(e)) => return Err(e),
            Ok(_) | Err(runner::RunError::EventLimit(_)) => {}
        }
    }
    Ok(())
}

#[test]
fn every_scenario_mutated_loads_or_names_file_line_and_field() {
    mutate_each(
        &read(scenario_files()),
        |path, _, broken| match load_scenario(path, broken) {
            Ok(()) => Ok(()),
            Err(e) => check_scenario_error(path, broken, &e),
        },
    );
}

/// The assignor cases, one per file as a user would write them (indented, a field a line).
fn assign_cases() -> Vec<(PathBuf, String)> {
    let vectors = crate::support::data_json("assignors.json");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mutation-assign");
    std::fs::create_dir_all(&dir).unwrap();
    ["cases", "derived_cases"]
        .iter()
        .flat_map(|s| vectors[s].as_array().unwrap().clone())
        .map(|case| {
            let id = case["id"].as_str().unwrap().to_owned();
            (
                dir.join(format!("{id}.json")),
                serde_json::to_string_pretty(&case).unwrap(),
            )
        })
        .collect()
}

/// Runs `kafka-sim` on `broken` written to `path`; an error must exit 2 and name the file
/// and a line, without a panic. Returns the standard error.
fn cli_on(path: &Path, broken: &str, args: &[&str]) -> Result<String, String> {
    std::fs::write(path, broken).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kafka-sim"))
        .args(args)
        .arg(path)
        .current_dir(root())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    if err.contains("panicked") {
        return Err(format!("panicked: {err}"));
    }
    match out.status.code() {
        Some(0) => Ok(err),
        Some(2) if err.contains(&path.display().to_string()) && err.contains("line") => Ok(err),
        code => Err(format!("exit {code:?}, no file or line named: {err}")),
    }
}

#[test]
fn every_assignor_case_mutated_is_assigned_or_named_with_line_and_field() {
    let cases = assign_cases();
    mutate_each(&cases, |path, _, broken| {
        // `--strategy` so that a lost `assignor` field is not the only error ever found.
        let err = cli_on(path, broken, &["assign", "--strategy", "range", "--input"])?;
        // A renamed topic in a subscription is not an error: the assignor skips it, as Kafka's
        // do, and says so on standard error.
        let only_warnings = err.lines().all(|l| l.starts_with("warning: topic "));
        if !only_warnings && !err.contains("field") && !err.contains("malformed JSON") {
            return Err(format!("no field named: {err}"));
        }
        Ok(())
    });
}

/// A trace error names a line; one about a record line names its field, or the column where
/// it stops being JSON.
#[test]
fn golden_traces_mutated_read_or_name_line_and_field() {
    let traces = read(TRACES.iter().map(PathBuf::from));
    mutate_each(&traces, |_, _, broken| {
        match jsonl::read_trace(broken.as_bytes()) {
            Ok(_) => Ok(()),
            Err(jsonl::ReadError::Line { line, message }) => {
                let structured = message.contains("field") || message.contains("event ");
                let syntax = message.contains("not valid JSON")
                    || message.contains("not a trace header")
                    || message.contains("marker")
                    || message.contains("format is");
                if line == 0 || !(structured || syntax) {
                    return Err(format!("line {line}: {message}"));
                }
                Ok(())
            }
            Err(e) => Err(format!("not located: {e}")),
        }
    });
}

/// A sample through the CLI: `describe` on broken traces exits 2 naming the file and line.
#[test]
fn describe_on_broken_traces_exits_2_naming_file_and_line() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mutation-describe");
    std::fs::create_dir_all(&dir).unwrap();
    let traces: Vec<(PathBuf, String)> = read(TRACES.iter().map(PathBuf::from))
        .into_iter()
        .map(|(p, text)| (dir.join(p.file_name().unwrap()), text))
        .collect();
    let mut sample = runner();
    let strategy = (0..traces.len(), mutation());
    for _ in 0..16 {
        let (i, m) = strategy.new_tree(&mut sample).unwrap().current();
        let (path, text) = &traces[i];
        if let Err(e) = cli_on(path, &apply(text, &m), &["describe"]) {
            panic!("{m:?}: {e}");
        }
    }
}
