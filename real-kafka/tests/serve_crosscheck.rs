//! `kafka-sim serve` as a third broker beside the mock cluster and tansu: a cross-check
//! scenario's clients (librdkafka, as `kafka-sim-real run` starts them, members as child
//! processes) against a served cluster, compared with the simulation. The served cluster is
//! the simulator itself, so this checks the wire: what a real client sees through `serve`
//! must be what the simulated client saw.

use std::path::PathBuf;

use kafka_sim::compare::Tolerances;
use kafka_sim::scenario::Scenario;
use kafka_sim::serve::ServeConfig;
use kafka_sim::serve::inprocess;
use kafka_sim_real::broker::Broker;
use kafka_sim_real::run::{self, Recorded, RunOptions};

use crate::support::{assert_agrees, compare, course_scenario, scenario, simulate, work_dir};

/// Runs `s` against a fresh served cluster of one broker with Kafka's defaults (the scenarios
/// here set no broker config), topics created by the run through the admin API.
fn run_on_serve(s: &Scenario) -> Recorded {
    assert_eq!(s.cluster.brokers.len(), 1, "served here: one broker");
    assert!(
        s.cluster.config.iter().next().is_none(),
        "served here: default broker configs"
    );
    let served = inprocess::spawn(None, ServeConfig::loopback(1.0)).expect("serving");
    let broker = Broker::External(served.bootstrap().to_string());
    let name = format!(
        "{}-{}-serve",
        s.name,
        s.variant.as_deref().unwrap_or("default")
    );
    let options = RunOptions {
        member_exe: PathBuf::from(env!("CARGO_BIN_EXE_kafka-sim-real")),
        suffix: String::new(),
        log_dir: work_dir().join("logs").join(&name),
    };
    let recorded = run::run(s, &broker, &options);
    served.stop().expect("stopped");
    recorded.unwrap_or_else(|e| panic!("{name}: the run failed: {e}"))
}

/// Course 000, Exercise 3 (keyed partitioning, the Java producer's murmur2): every key, offset
/// and value as simulated.
#[test]
fn keyed_partitioning_on_serve_agrees_with_the_simulation() {
    let s = course_scenario("keyed_partitioning", "java");
    let real = run_on_serve(&s).report();
    let c = compare(
        "keyed_partitioning java, serve",
        &simulate(&s),
        &real,
        &Tolerances::default(),
    );
    assert_agrees("keyed_partitioning java, serve", &c);
}

/// A member SIGKILLed: the served coordinator expires its session and reassigns its partition
/// as the simulation does (first assignment and reassignment within the default tolerances).
#[test]
fn group_crash_on_serve_agrees_with_the_simulation() {
    let s = scenario("group-crash", "range");
    let real = run_on_serve(&s).report();
    let c = compare(
        "group-crash range, serve",
        &simulate(&s),
        &real,
        &Tolerances::default(),
    );
    assert_agrees("group-crash range, serve", &c);
}
