//! kafka-sim: a deterministic, in-process Apache Kafka simulator for teaching.
//!
//! # Layout
//!
//! The core is sans-IO: Kafka's pieces are plain state machines that take an input and the current
//! virtual time and return effects; one scheduler owns time; I/O lives at the edges.
//!
//! Three layers, each importing only from its own and the ones below it (`tests/structure.rs`
//! fails on an import circle, between files or between these modules).
//!
//! **Model**: Kafka's vocabulary and the facts a run records.
//!
//! | module | holds |
//! |---|---|
//! | [`units`] | newtypes with Kafka's units: `SimTime`, `Millis`, `Offset`, `PartitionId`, ... |
//! | [`rng`] | `SimRng`: one seeded ChaCha8 stream per component, integer-only |
//! | [`record`] | records as stored: keys, values (real or synthetic), headers |
//! | [`protocol`] | the messages on the network, named after Kafka's API keys; `ErrorCode` |
//! | [`trace`] | the trace: `TraceEvent`, sinks, the JSONL format |
//! | [`i18n`] | the output's languages (en, fr): Fluent messages embedded from `locales/` |
//!
//! **Simulation**: the sans-IO state machines, the world that routes their effects, and the
//! scenario files that set them up.
//!
//! | module | holds |
//! |---|---|
//! | [`scheduler`] | the event queue ordered by (time, insertion seq), keyed timers, limit |
//! | [`effects`] | what a state machine asks of the world; the "handle in, effects out" contract |
//! | [`broker`] | the broker: logs, segments, replication, the controller, groups, transactions |
//! | [`client`] | the client side: partitioners, assignors, producer, consumer, load clients |
//! | [`network`] | client-broker links: latency, in-order delivery, Toxiproxy-style toxics |
//! | [`faults`] | the fault plan: link toxics, broker down, crash, pause, poison pills |
//! | [`service`] | services: a member's consumer feeding its producer (outputs, dead letters) |
//! | [`world`] | owns every component; applies effects; the run loop (`world/`, one file a job) |
//! | [`scenario`] | scenario files: TOML parsed into a typed `Scenario`, errors with file:line |
//! | [`runner`] | builds a `World` from a `Scenario` and runs it (`runner/service.rs`: services) |
//!
//! **Edge**: I/O beside the command line.
//!
//! | module | holds |
//! |---|---|
//! | [`serve`] | `kafka-sim serve` and `replay`: the Kafka wire protocol over the world (tokio) |
//!
//! **Analysis**: everything computed from a trace, never from the simulator's internals.
//!
//! | module | holds |
//! |---|---|
//! | [`report`] | a `Report` computed from a trace only: partitions, duplicates, groups, lag |
//! | [`expect`] | metrics named `name[arg]`, the `[[expect]]` claims, the summary JSON |
//! | [`compare`] | two reports (simulated, real broker) compared fact by fact, with tolerances |
//! | [`plot`] | charts as PNG (lag, partitions, assignments, throughput) from plain series |
//! | [`explain`] | each decision of a run with its chain of causes and its numbers (en, fr, JSON) |
//! | [`page`] | the interactive HTML page: a time slider over a run's describe tables and feed |
//!
//! # Architecture invariants
//!
//! - Nothing under `broker/`, `client/`, `network`, `faults` or `scheduler` does I/O, reads a
//!   clock or touches a global RNG: time comes in as `now: SimTime`, randomness as `&mut SimRng`.
//! - A state machine never calls another one: it emits effects and the world routes them.
//! - Reports are computed from traces, never from simulator internals.
//! - Kafka protocol errors are data carried in responses; Rust errors are for the simulator's own
//!   failures (a bad scenario, I/O); a broken invariant is a panic.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]
#![deny(clippy::all)]

// Model.
pub mod i18n;
pub mod protocol;
pub mod record;
pub mod rng;
pub mod trace;
pub mod units;

// Simulation.
pub mod broker;
pub mod client;
pub mod effects;
pub mod faults;
pub mod network;
pub mod runner;
pub mod scenario;
pub mod scheduler;
pub mod service;
pub mod world;

// Edges.
pub mod serve;

// Analysis.
pub mod compare;
pub mod expect;
pub mod explain;
pub mod page;
pub mod plot;
pub mod report;
