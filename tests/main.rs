//! kafka-sim's integration tests: one binary, one module per area.

/// Consumer-group assignors: Kafka's test vectors (through the library and the CLI) and the
/// course's claims about range, roundrobin, sticky and cooperative-sticky.
mod assignors;
/// The interactive HTML page, opened in headless Chromium (installed if missing).
mod browser;
/// Causes in the trace: every cause is an earlier event, and the chains a student follows.
mod causes;
/// The command line, as a user runs it.
mod cli;
/// The same seed gives the same bytes; another seed changes what is seeded.
mod determinism;
/// Exactly-once in whole-world runs: the scenario on 20 seeds, a transactional service crashed
/// at random points (each order once to `read_committed`, markers on all partitions or none).
mod exactly_once;
/// `kafka-sim explain`: decisions with their causes and numbers, filters, French, JSON.
mod explain;
/// The fault plan: each fault kind and its effect in the trace.
mod faults;
/// Consumer groups: joins, rebalances, crashes, commits and lag, checked on the trace.
mod groups;
/// French output (`--lang fr`) and every scenario's French notes.
mod i18n;
/// Broker-side idempotence (KIP-98) against the shared vectors from Kafka's own tests.
mod idempotence;
/// Key hashing and partitioners against the shared murmur2 / FNV-1a / CRC32 vectors.
mod partitioners;
/// Plots: the series behind each chart, and PNGs that decode at the size asked for.
mod plots;
/// The producer-reliability lab: batching, acks, retries, idempotence, asserted on traces.
mod producer;
/// Kafka's guarantees over generated runs (proptest): always-properties on every run,
/// sometimes-properties found by a bounded search.
mod properties;
/// Runs that stop early: the trace so far, marked incomplete; runs refused up front.
mod reliability;
/// Replication, broker failure and leader election (issue 9), asserted on traces.
mod replication;
/// The durability property: acks=all, min.insync.replicas >= 2, clean elections, any single
/// broker failure: no acknowledged record lost.
mod replication_properties;
/// Retention and compaction (issue 9): segments, the cleaner, tombstones, gaps, log start.
mod retention;
/// Services (a member's consumer feeding its producer), poison pills under each `on_failure`
/// policy, dead-letter topics, and the analytics metrics, asserted on traces.
mod services;
/// Transactions (issue 18): the coordinator, markers, LSO and `read_committed` wired together;
/// no aborted record read, all partitions or none, exactly-once consume-transform-produce.
mod transactions;
/// The transaction coordinator on a broker: requests, markers, LSO, aborted transactions.
mod txn_broker;
/// Producer state around transactions: `producer.id.expiration.ms` and KIP-890 verification,
/// against vectors ported from Kafka's `ProducerStateManagerTest`.
mod txn_producer_state;

/// Every input reader fed randomly broken real inputs: no panic, errors name file, line and
/// field, exit 2.
mod mutation;
/// Malformed scenarios: errors that name the file, line, column and field.
mod scenario_errors;
/// Every scenario: deterministic, expectations met, golden files; the run command.
mod scenarios;
/// `serve`'s engine without sockets, and `replay`.
mod serve;

/// The shape of the tree: no import circles, file and function sizes (issue 15).
mod structure;
/// House rules checked mechanically.
mod tidy;

/// Helpers shared by the test modules.
mod support;
