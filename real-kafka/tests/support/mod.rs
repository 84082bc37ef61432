//! Helpers of the cross-check: fresh brokers, runs, the simulation, traces kept for reading,
//! comparisons.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::thread;

use kafka_sim::compare::{self, Comparison, Tolerances};
use kafka_sim::report::Report;
use kafka_sim::runner;
use kafka_sim::scenario::{Scenario, ScenarioFile};
use kafka_sim::trace::{TraceHeader, VecSink, jsonl};
use kafka_sim_real::broker::mock::MockBroker;
use kafka_sim_real::broker::tansu::{self, TansuBroker};
use kafka_sim_real::broker::{Broker, BrokerKind};
use kafka_sim_real::run::{self, Recorded, RunOptions};

/// `target/real-kafka`: the tansu cache, member logs and the traces of the last run.
pub fn work_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp has a parent")
        .join("real-kafka")
}

/// Loads `real-kafka/scenarios/<name>.toml` with `variant` ("" for a file without variants).
pub fn scenario(name: &str, variant: &str) -> Scenario {
    load(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.toml")),
        variant,
    )
}

/// Loads the course scenario `scenarios/<name>.toml` of the repository with `variant`.
pub fn course_scenario(name: &str, variant: &str) -> Scenario {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    load(&root.join(format!("scenarios/{name}.toml")), variant)
}

fn load(path: &std::path::Path, variant: &str) -> Scenario {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ScenarioFile::parse(path, text)
        .and_then(|f| f.resolve(Some(variant).filter(|v| !v.is_empty())))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The tansu binary, installed once per test process (a failure is a test failure).
fn tansu_binary() -> PathBuf {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BINARY
        .get_or_init(|| tansu::install(&work_dir()).map_err(|e| e.to_string()))
        .clone()
        .unwrap_or_else(|e| panic!("tansu could not be installed: {e}"))
}

/// Starts a fresh broker of `kind` for `scenario`.
pub fn start(kind: BrokerKind, scenario: &Scenario) -> Broker {
    match kind {
        BrokerKind::Mock => Broker::Mock(
            MockBroker::start(scenario.cluster.brokers.len() as u32)
                .unwrap_or_else(|e| panic!("the mock cluster did not start: {e}")),
        ),
        BrokerKind::Tansu => Broker::Tansu(
            TansuBroker::start(
                &tansu_binary(),
                &work_dir().join("logs"),
                run::needs_ack_proxy(scenario),
            )
            .unwrap_or_else(|e| panic!("tansu did not start: {e}")),
        ),
        BrokerKind::External => unreachable!("the cross-check starts its own brokers"),
    }
}

/// Short name for files.
pub fn short(kind: BrokerKind) -> &'static str {
    match kind {
        BrokerKind::Mock => "mock",
        BrokerKind::Tansu => "tansu",
        BrokerKind::External => "external",
    }
}

/// Runs `scenario` on a fresh broker of `kind` and keeps the trace in `target/real-kafka`.
pub fn run_on(kind: BrokerKind, scenario: &Scenario) -> Recorded {
    let broker = start(kind, scenario);
    let name = format!(
        "{}-{}-{}",
        scenario.name,
        scenario.variant.as_deref().unwrap_or("default"),
        short(kind)
    );
    let options = RunOptions {
        member_exe: PathBuf::from(env!("CARGO_BIN_EXE_kafka-sim-real")),
        suffix: String::new(),
        log_dir: work_dir().join("logs").join(&name),
    };
    let recorded = run::run(scenario, &broker, &options)
        .unwrap_or_else(|e| panic!("{name}: the run failed: {e}"));
    save(&name, &recorded.to_jsonl());
    recorded
}

/// Runs `scenario` on the mock cluster and on tansu at the same time (each on its own fresh
/// broker): the cross-check's wall time is then the longest scenario, not the sum.
pub fn run_on_both(scenario: &Scenario) -> (Recorded, Recorded) {
    thread::scope(|s| {
        let mock = s.spawn(|| run_on(BrokerKind::Mock, scenario));
        let tansu = s.spawn(|| run_on(BrokerKind::Tansu, scenario));
        (
            mock.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
            tansu
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e)),
        )
    })
}

/// The simulated side: `kafka-sim run SCENARIO --variant V --trace FILE`, through the library
/// (`kafka_sim::runner::run`), the trace kept in `target/real-kafka/traces` too.
pub fn simulate(scenario: &Scenario) -> Report {
    let header = TraceHeader::new(&scenario.name, scenario.variant.as_deref(), scenario.seed);
    let mut sink = VecSink::new(scenario.detail);
    runner::run(scenario, scenario.seed, &mut sink, |_| {})
        .unwrap_or_else(|e| panic!("{}: the simulation failed: {e}", scenario.name));
    let name = format!(
        "{}-{}-sim",
        scenario.name,
        scenario.variant.as_deref().unwrap_or("default")
    );
    save(&name, &jsonl::to_string(&header, &sink.records));
    Report::from_trace(Some(&header), &sink.records)
}

fn save(name: &str, text: &str) {
    let dir = work_dir().join("traces");
    std::fs::create_dir_all(&dir).expect("creating target/real-kafka/traces");
    std::fs::write(dir.join(format!("{name}.trace.jsonl")), text).expect("writing a trace");
}

/// Compares and prints the table (shown by `cargo test -- --nocapture`, and on failure).
pub fn compare(label: &str, sim: &Report, real: &Report, tolerances: &Tolerances) -> Comparison {
    let c = compare::compare(sim, real, tolerances);
    let mut text = format!("== {label}\n");
    for r in &c.rows {
        text.push_str(&format!(
            "{:<58} {:<24} {:<24} {:<7} {}\n",
            r.fact,
            r.sim,
            r.real,
            r.status.name(),
            r.note
        ));
    }
    println!("{text}");
    c
}

/// Asserts that `c` agrees, naming the rows that do not.
pub fn assert_agrees(label: &str, c: &Comparison) {
    let bad: Vec<String> = c
        .disagreements()
        .map(|r| format!("{}: sim {}, real {} ({})", r.fact, r.sim, r.real, r.note))
        .collect();
    assert!(bad.is_empty(), "{label} disagrees:\n{}", bad.join("\n"));
}

/// Asserts that exactly the rows named in `known` differ: documented broker deviations (the
/// README's table). A known row that starts to agree fails too, so the table stays true.
pub fn assert_agrees_except(label: &str, c: &Comparison, known: &[&str]) {
    let differing: Vec<&str> = c.disagreements().map(|r| r.fact.as_str()).collect();
    let unexpected: Vec<String> = c
        .disagreements()
        .filter(|r| !known.contains(&r.fact.as_str()))
        .map(|r| format!("{}: sim {}, real {} ({})", r.fact, r.sim, r.real, r.note))
        .collect();
    assert!(
        unexpected.is_empty(),
        "{label} disagrees:\n{}",
        unexpected.join("\n")
    );
    let gone: Vec<&&str> = known.iter().filter(|k| !differing.contains(k)).collect();
    assert!(
        gone.is_empty(),
        "{label}: known deviations no longer seen (update real-kafka/README.md): {gone:?}"
    );
}

/// Runs one cross-check, again (at most twice more) if it fails: the brokers run in real time, on
/// a machine shared with other builds and tests, and a late heartbeat or timeout can move a timing
/// past its tolerance. Every failed attempt is printed, so a rerun is never silent; a real
/// disagreement fails all three attempts.
pub fn with_reruns(name: &str, check: impl Fn() + std::panic::RefUnwindSafe) {
    const ATTEMPTS: u32 = 3;
    for attempt in 1..=ATTEMPTS {
        match std::panic::catch_unwind(&check) {
            Ok(()) => return,
            Err(e) if attempt == ATTEMPTS => std::panic::resume_unwind(e),
            Err(_) => eprintln!(
                "{name}: attempt {attempt} of {ATTEMPTS} failed (above); running it again"
            ),
        }
    }
}
