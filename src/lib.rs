//! kafka-sim: a deterministic, in-process Apache Kafka simulator for teaching.
//!
//! # Layout
//!
//! The core is sans-IO: Kafka's pieces are plain state machines that take an input and the current
//! virtual time and return effects; one scheduler owns time; I/O lives at the edges.
//!
//! | module | holds |
//! |---|---|
//! | [`units`] | newtypes with Kafka's units: `SimTime`, `Millis`, `Offset`, `PartitionId`, ... |
//! | [`rng`] | `SimRng`: one seeded ChaCha8 stream per component, integer-only |
//! | [`scheduler`] | the event queue ordered by (time, insertion seq), keyed timers, limit |
//! | [`record`] | records as stored: keys, values (real or synthetic), headers |
//! | [`protocol`] | the messages on the network, named after Kafka's API keys; `ErrorCode` |
//! | [`effects`] | what a state machine asks of the world; the "handle in, effects out" contract |
//! | [`broker`] | the broker: partition logs and segments, replication, the controller, groups |
//! | [`client`] | the client side: partitioners, assignors, producer, consumer, load clients |
//! | [`network`] | client-broker links: latency, in-order delivery, Toxiproxy-style toxics |
//! | [`faults`] | the fault plan: link toxics, broker down, crash, pause, poison pills |
//! | [`world`] | owns every component; applies effects; the run loop (`world/`, one file a job) |
//! | [`service`] | services: a member's consumer feeding its producer (outputs, dead letters) |
//! | [`scenario`] | scenario files: TOML parsed into a typed `Scenario`, errors with file:line |
//! | [`runner`] | builds a `World` from a `Scenario` and runs it (`runner/service.rs`: services) |
//! | [`report`] | a `Report` computed from a trace only: partitions, duplicates, groups, lag |
//! | [`expect`] | metrics named `name[arg]` and the `[[expect]]` claims checked against them |
//! | [`compare`] | two reports (simulated, real broker) compared fact by fact, with tolerances |
//! | [`plot`] | charts as PNG (lag, partitions, assignments, throughput) from plain series |
//! | [`page`] | the interactive HTML page: a time slider over a run's describe tables and feed |
//! | [`trace`] | the trace: `TraceEvent`, sinks, the JSONL format |
//! | [`i18n`] | the output's languages (en, fr): Fluent messages embedded from `locales/` |
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

pub mod broker;
pub mod client;
pub mod compare;
pub mod effects;
pub mod expect;
pub mod faults;
pub mod i18n;
pub mod network;
pub mod page;
pub mod plot;
pub mod protocol;
pub mod record;
pub mod report;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod scheduler;
pub mod service;
pub mod trace;
pub mod units;
pub mod world;
