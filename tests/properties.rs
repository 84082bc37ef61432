//! Kafka's guarantees as properties of every run (issue 7), in the spirit of Kafka's own
//! `@ForAll int seed` simulation tests and stateright's always/sometimes properties.
//!
//! - **Always** properties ([`always`]) hold in every run: proptest generates small scenarios
//!   (seed, partitions, consumers, assignor, producer settings, fault plan; see [`generate`]),
//!   each is run through the real engine from its TOML, and the property is checked on the
//!   trace and the report computed from it, never on simulator internals. The pure assignor
//!   properties are also checked directly on `client::assignor`, on many more groups
//!   ([`assignors`]).
//! - **Sometimes** properties ([`sometimes`]) say what a weaker configuration allows: a bounded,
//!   deterministic search over generated runs must find an example, and writes the scenario
//!   that shows it under `target/tmp/kafka-sim-properties/`.
//!
//! CI runs [`harness::CI_CASES`] cases per engine property; `KAFKA_SIM_PROPTEST_CASES=10000`
//! runs more (and `KAFKA_SIM_PROPTEST_SEED=<n>` other ones). A failure says what was violated,
//! prints the (shrunk) scenario and a `kafka-sim run <file> --seed <n>` command that replays it;
//! the file is under the system's temporary directory.

mod always;
mod assignors;
mod generate;
mod harness;
mod kip848;
mod sometimes;
