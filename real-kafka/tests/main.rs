//! The cross-check: each scenario of `real-kafka/scenarios/` on the simulator and on both
//! brokers that run here (librdkafka's mock cluster and tansu), compared fact by fact with
//! `kafka_sim::compare`. A broker that cannot start fails the test with the reason; nothing is
//! skipped.

/// The `kafka-sim-real` binary.
mod cli;
/// The scenarios, compared.
mod crosscheck;
/// `kafka-sim serve` with real clients: rdkafka.
mod serve;
/// `kafka-sim serve` as a third broker of the cross-check.
mod serve_crosscheck;
/// `kafka-sim serve` with a Python `confluent_kafka` program.
mod serve_python;
/// Transactions through `kafka-sim serve` with rdkafka.
mod serve_txn;
/// Brokers, runs, the simulated side.
mod support;
