//! Mechanical checks of the house rules (TigerBeetle's `tidy`): line length, leftovers, layering,
//! and documentation that must not fall behind the code.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::root;

/// Every `.rs` file under `dir`, sorted.
pub(crate) fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn lines_fit_in_100_columns() {
    let mut long = Vec::new();
    for dir in ["src", "tests", "real-kafka/src", "real-kafka/tests"] {
        for file in rust_files(&root().join(dir)) {
            for (i, line) in fs::read_to_string(&file).unwrap().lines().enumerate() {
                if line.chars().count() > 100 {
                    long.push(format!("{}:{}", file.display(), i + 1));
                }
            }
        }
    }
    assert!(
        long.is_empty(),
        "lines over 100 columns:\n{}",
        long.join("\n")
    );
}

#[test]
fn no_leftovers_in_src() {
    let mut found = Vec::new();
    for file in rust_files(&root().join("src")) {
        for (i, line) in fs::read_to_string(&file).unwrap().lines().enumerate() {
            if line.contains("dbg!(") || line.contains("todo!(") || line.contains("unimplemented!(")
            {
                found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "leftovers:\n{}", found.join("\n"));
}

/// The sans-IO core: state machines do no I/O and know nothing of the trace format or the CLI.
#[test]
fn the_core_does_no_io() {
    let banned = [
        "std::fs",
        "std::io",
        "std::net",
        "std::time",
        "trace::jsonl",
        "std::thread",
    ];
    let mut found = Vec::new();
    for dir in ["src/broker", "src/client", "src/world"] {
        for file in rust_files(&root().join(dir)) {
            let text = fs::read_to_string(&file).unwrap();
            for b in banned {
                if text.contains(b) {
                    found.push(format!("{} uses {b}", file.display()));
                }
            }
        }
    }
    for file in ["src/scheduler.rs", "src/network.rs", "src/effects.rs"] {
        let text = fs::read_to_string(root().join(file)).unwrap();
        for b in banned {
            if text.contains(b) {
                found.push(format!("{file} uses {b}"));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The variants of `TraceEvent`, read from its source: the lines of the enum's body indented once
/// that start with a capital (`TopicCreated {`, `SegmentRolled(SegmentRolled),`).
fn trace_event_names() -> Vec<String> {
    let source = fs::read_to_string(root().join("src/trace/event.rs")).unwrap();
    let body = source
        .split_once("pub enum TraceEvent {\n")
        .and_then(|(_, rest)| rest.split_once("\n}\n"))
        .map(|(body, _)| body)
        .expect("src/trace/event.rs declares `pub enum TraceEvent {`");
    body.lines()
        .filter_map(|l| l.strip_prefix("    "))
        .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|l| {
            l.split(|c: char| !c.is_ascii_alphanumeric())
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Every trace event has a section in the format specification.
#[test]
fn every_trace_event_is_documented() {
    let spec = fs::read_to_string(root().join("sim-traces/README.md")).unwrap();
    let names = trace_event_names();
    assert!(names.len() >= 4, "found {names:?}");
    let missing: Vec<_> = names
        .iter()
        .filter(|n| !spec.contains(&format!("### {n}\n")))
        .collect();
    assert!(
        missing.is_empty(),
        "undocumented in sim-traces/README.md: {missing:?}"
    );
}

/// `TraceEvent::name` (the variant's name) is the `event` tag written in the trace, for every
/// line of every golden trace: a serde rename would break readers that match on `name()`.
#[test]
fn every_event_name_is_its_trace_tag() {
    let mut checked = 0;
    for entry in fs::read_dir(root().join("sim-traces")).unwrap() {
        let path = entry.unwrap().path();
        if !path.to_string_lossy().ends_with(".trace.jsonl") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        let (_, records) = kafka_sim::trace::jsonl::read(text.as_bytes()).unwrap();
        for (record, line) in records.iter().zip(text.lines().skip(1)) {
            let json: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(json["event"], record.event.name(), "{}", path.display());
            checked += 1;
        }
    }
    assert!(checked > 1000, "only {checked} events in the golden traces");
}

/// Every scenario file has a row in the scenario index.
#[test]
fn every_scenario_is_indexed() {
    let index = fs::read_to_string(root().join("scenarios/README.md")).unwrap();
    for entry in fs::read_dir(root().join("scenarios")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".toml") {
            assert!(
                index.contains(&format!("`{name}`")),
                "scenarios/README.md lacks {name}"
            );
        }
    }
}
