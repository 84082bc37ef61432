//! kafka-sim-real: runs a kafka-sim scenario against a real Kafka-protocol broker with librdkafka
//! (the client library under Python `confluent_kafka` and .NET `Confluent.Kafka`), and records
//! what it observes as a trace in the simulator's format, so that `kafka-sim compare` can say
//! where the simulation and the broker agree.
//!
//! This crate is the simulator's one edge with real time, real sockets and a C library. The core
//! crate never depends on it (`style.md` 3.1): its traces are read back by the core's
//! `report` and `compare`, exactly as simulated ones are.
//!
//! # Layout
//!
//! | module | holds |
//! |---|---|
//! | [`bench`] | the broker side of `kafka-sim bench`: a produce-then-consume workload, timed |
//! | [`broker`] | librdkafka's in-process mock cluster, tansu as a child process, a cluster |
//! | [`workload`] | a scenario's keys, values and client configs as librdkafka wants them |
//! | [`recorder`] | the wall clock of a run and the events it collects, written as a trace |
//! | [`producer`] | a scenario producer: paced sends, delivery reports |
//! | [`member`] | a consumer group member, run as a child process so that it can be killed |
//! | `native` | a consumer's member id and generation, through librdkafka's C API |
//! | [`monitor`] | the group's committed offsets and high watermarks: lag samples |
//! | [`readback`] | reads every topic back after the run: what the logs really hold |
//! | [`proxy`] | a Kafka-protocol proxy that drops produce acknowledgements (a lost ack) |
//! | [`python`] | Python's `confluent_kafka`, installed by pip into a virtual environment |
//! | [`python_bench`] | `kafka-sim bench`'s Python row: a producer via `serve` and the mock |
//! | [`run`] | one run: topics, producers, members, timeline, read-back, trace |
//! | [`service`] | a service member's output: one record per input, in transactions |
//!
//! # Time
//!
//! A run is real time at scale 1: the scenario's `at_ms` and `start_ms` are milliseconds of wall
//! time from the start of the run, because the broker's own timers (`session.timeout.ms`, the
//! initial rebalance delay) cannot be scaled from a client. Events are stamped by the parent
//! process when it learns of them (a member reports over a pipe, within a millisecond).
#![deny(unsafe_code)] // allowed in `broker::mock` and `native` alone, each call explained
#![warn(missing_docs, unreachable_pub)]
#![deny(clippy::all)]

pub mod bench;
pub mod broker;
pub mod error;
pub mod member;
pub mod monitor;
mod native;
pub mod producer;
pub mod proxy;
pub mod python;
pub mod python_bench;
pub mod readback;
pub mod recorder;
pub mod run;
pub mod service;
pub mod workload;

pub use error::Error;
