//! Exactly-once in whole-world runs (issue 18): `scenarios/exactly_once.toml` on 20 seeds, and a
//! consume-transform-produce service crashed at random points, checked on its trace.
//!
//! - every expectation of every variant holds on seeds 0 to 19;
//! - whatever the crash and restart times, a `read_committed` reader sees each order exactly
//!   once, and no payment is lost;
//! - every transaction ends with a marker on each partition it added (all or none): a
//!   committed transaction's records become visible on all its partitions together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use kafka_sim::expect;
use kafka_sim::report::Report;
use kafka_sim::rng::SimRng;
use kafka_sim::runner;
use kafka_sim::scenario::ScenarioFile;
use kafka_sim::trace::{TraceEvent, TraceRecord, VecSink};

use crate::support::root;

const SEEDS: u64 = 20;

fn scenario_text() -> String {
    std::fs::read_to_string(root().join("scenarios/exactly_once.toml")).unwrap()
}

fn run(text: &str, variant: &str, seed: u64) -> (Vec<TraceRecord>, Report, Vec<expect::Outcome>) {
    let path = Path::new("exactly_once.toml");
    let parsed = ScenarioFile::parse(path, text.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let scenario = parsed
        .resolve(Some(variant))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut sink = VecSink::new(scenario.detail);
    runner::run(&scenario, seed, &mut sink, |_| {}).unwrap();
    let report = Report::from_trace(None, &sink.records);
    let outcomes = expect::evaluate(&report, &scenario.expectations).unwrap();
    (sink.records, report, outcomes)
}

#[test]
fn the_exactly_once_scenario_holds_on_20_seeds() {
    let text = scenario_text();
    let parsed = ScenarioFile::parse(Path::new("exactly_once.toml"), text.clone()).unwrap();
    let mut failures = Vec::new();
    for variant in parsed.variants() {
        for seed in 0..SEEDS {
            let (_, _, outcomes) = run(&text, &variant, seed);
            for o in outcomes.iter().filter(|o| !o.passed) {
                failures.push(format!("{variant} seed {seed}: {}: {}", o.name, o.detail));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The values `group` processed, with how many times each.
fn processed_values(trace: &[TraceRecord], group: &str) -> BTreeMap<String, u32> {
    let mut seen = BTreeMap::new();
    for r in trace {
        if let TraceEvent::RecordProcessed {
            group: g, value, ..
        } = &r.event
            && &**g == group
        {
            *seen.entry(format!("{value:?}")).or_insert(0) += 1;
        }
    }
    seen
}

/// Every transaction that completed wrote a marker on each data partition it added.
fn markers_on_all_partitions(trace: &[TraceRecord]) -> Result<u32, String> {
    let mut added: BTreeSet<String> = BTreeSet::new();
    let mut marked: BTreeSet<String> = BTreeSet::new();
    let mut completed = 0;
    for r in trace {
        match &r.event {
            TraceEvent::TxnPartitionsAdded(a) if a.error == "NONE" => {
                added.extend(
                    a.partitions
                        .iter()
                        .filter(|p| !p.starts_with("__consumer_offsets"))
                        .cloned(),
                );
            }
            TraceEvent::TxnMarkerWritten(m) => {
                marked.insert(format!("{}-{}", m.topic, m.partition));
            }
            TraceEvent::TxnStateChanged(t) if t.to.starts_with("Complete") => {
                if added != marked {
                    return Err(format!(
                        "at {} ms ({}): partitions added {added:?}, markers on {marked:?}",
                        r.t_ms, t.to
                    ));
                }
                completed += 1;
                added.clear();
                marked.clear();
            }
            _ => {}
        }
    }
    Ok(completed)
}

#[test]
fn a_service_crashed_at_random_points_yields_each_order_once_to_read_committed() {
    // Orders over three partitions, so that a transaction spans several.
    let base = scenario_text().replace(
        "name = \"orders\"\npartitions = 1",
        "name = \"orders\"\npartitions = 3",
    );
    assert!(base.contains("name = \"orders\"\npartitions = 3"));
    let mut rng = SimRng::for_component(18, "exactly-once-property");
    let mut aborted_somewhere = false;
    for case in 0..SEEDS {
        let crash = 2_500 + rng.below(10_000);
        let restart = crash + 100 + rng.below(5_000);
        let text = base
            .replacen("at_ms = 5_000", &format!("at_ms = {crash}"), 1)
            .replacen("at_ms = 6_000", &format!("at_ms = {restart}"), 1);
        let label = format!("case {case}: crash at {crash} ms, restart at {restart} ms");
        let (trace, report, _) = run(&text, "crash", case);
        let orders = processed_values(&trace, "shipping");
        assert_eq!(
            orders.len(),
            40,
            "{label}: every payment's order, none lost"
        );
        let twice: Vec<_> = orders.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "{label}: orders read twice: {twice:?}");
        let skipped = expect::metric(&report, "skipped[order-service]").unwrap();
        assert!(
            matches!(skipped, Some(expect::MetricValue::Number(n)) if n == 0.0),
            "{label}: payments skipped: {skipped:?}"
        );
        let completed =
            markers_on_all_partitions(&trace).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert!(completed > 0, "{label}: transactions completed");
        aborted_somewhere |= trace
            .iter()
            .any(|r| matches!(&r.event, TraceEvent::TxnMarkerWritten(m) if m.result == "ABORT"));
    }
    assert!(aborted_somewhere, "some crash fell inside a transaction");
}

/// `scenarios/exactly_once_coordinator_failover.toml` on 20 seeds: its expectations hold, and
/// once the transactional id's coordinator moved, only the new coordinator answers EndTxn and
/// writes the transaction's markers.
#[test]
fn the_coordinator_failover_scenario_holds_on_20_seeds() {
    let name = "exactly_once_coordinator_failover.toml";
    let text = std::fs::read_to_string(root().join("scenarios").join(name)).unwrap();
    let parsed = ScenarioFile::parse(Path::new(name), text).unwrap_or_else(|e| panic!("{e}"));
    let scenario = parsed.resolve(None).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    for seed in 0..SEEDS {
        let mut sink = VecSink::new(scenario.detail);
        runner::run(&scenario, seed, &mut sink, |_| {}).unwrap();
        let report = Report::from_trace(None, &sink.records);
        let outcomes = expect::evaluate(&report, &scenario.expectations).unwrap();
        for o in outcomes.iter().filter(|o| !o.passed) {
            failures.push(format!("seed {seed}: {}: {}", o.name, o.detail));
        }
        let moved = sink.records.iter().find_map(|r| match &r.event {
            TraceEvent::TxnCoordinatorMoved(m) => Some((r.seq, format!("broker/{}", m.to))),
            _ => None,
        });
        let Some((moved_at, new)) = moved else {
            failures.push(format!("seed {seed}: the coordinator never moved"));
            continue;
        };
        let late = sink.records.iter().filter(|r| r.seq > moved_at);
        for r in late {
            let answered = match &r.event {
                TraceEvent::TxnEnded(_) => true,
                TraceEvent::TxnStateChanged(t) => &*t.transactional_id == "order-service",
                _ => false,
            };
            if answered && *r.component != *new {
                failures.push(format!("seed {seed}: {} acted after the move", r.component));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The run report says what the transactions did (who aborted, the markers) and how many
/// offsets are control records, in both languages; `kafka-consumer-groups` shows shipping
/// drained (its commit stepped over the last marker), with no lag line under the tool's table.
#[test]
fn the_report_tells_the_transactions_and_their_control_records() {
    let dir = std::env::temp_dir().join(format!("kafka-sim-txn-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("t.jsonl");
    let args = |lang: &'static str| {
        let trace = trace.to_str().unwrap().to_string();
        let argv = [
            "run",
            "scenarios/exactly_once.toml",
            "--variant",
            "crash",
            "--lang",
            lang,
        ];
        let mut v: Vec<String> = argv.iter().map(ToString::to_string).collect();
        v.extend(["--trace".to_string(), trace]);
        v
    };
    let run = |lang| {
        let argv = args(lang);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let out = crate::support::kafka_sim(&argv);
        assert!(out.status.success(), "{}", crate::support::stderr(&out));
        crate::support::stdout(&out)
    };
    let en = run("en");
    for line in [
        "    + 2 control records (transaction markers: p0: 2): each takes an offset, so the \
         offsets have holes\n",
        "transactions:\n  order-service: producer id 1500, epochs 0, 1, 2; 1 committed, 1 aborted \
         (1 by a new instance's InitProducerId)\n",
        "        17023 ms  COMMIT  EndTxn(commit) by the application, markers on orders-0\n",
        "    markers: orders-0: 1 COMMIT, 1 ABORT\n",
        // shipping's commit stepped over the last COMMIT marker (librdkafka stores a passed
        // marker's offset + 1): no lag, so no line explaining one.
        "shipping        orders          0          61              61              0          \
         \x20    rdkafka-4eaabc07-92f0-49be-96dd-d9e1d9c1ef71 /127.0.0.1      rdkafka\n\
         group shipping-at-least-once",
    ] {
        assert!(en.contains(line), "missing {line:?} in:\n{en}");
    }
    assert!(!en.contains("LAG 1 ="), "{en}");
    let fr = run("fr");
    assert!(fr.contains("1 validée, 1 annulée (1 par l'InitProducerId d'une nouvelle instance)"));
    std::fs::remove_dir_all(&dir).unwrap();
}
