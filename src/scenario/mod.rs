//! Scenario files: a course exercise as TOML, parsed (not merely validated) into a typed
//! [`Scenario`].
//!
//! Two steps, as ripgrep splits low-level and high-level arguments:
//! 1. [`raw`]: serde structs that mirror the file; unknown keys and wrong types are rejected with
//!    the file, line and column.
//! 2. [`ScenarioFile::resolve`]: applies a variant's overrides and builds the typed scenario,
//!    rejecting impossible values (0 partitions, more replicas than brokers, a crash aimed at a
//!    member that does not exist) with the same precision.
//!
//! Kafka's config names are kept verbatim as quoted keys (`"session.timeout.ms"`), and checked
//! by the producer and consumer config parsers when the scenario is built into a world.
//! `scenarios/README.md` documents the format.
//!
//! | File | Holds |
//! |------|-------|
//! | `raw.rs` | The serde mirror of the file |
//! | `error.rs` | `ScenarioError` (file, line, column, field) and the `SourceMap` that finds them |
//! | `file.rs` | `ScenarioFile`: a parsed file, its variants, choosing one |
//! | `model.rs` | The typed `Scenario` and its parts |
//! | `resolve/` | Raw to typed: `mod.rs` orders the sections, one sibling resolves each |

pub mod error;
mod file;
mod lang;
mod model;
pub mod raw;
mod resolve;

pub use crate::client::consumer::app::{OnFailure, ProcessingTime};
pub use crate::client::producer::{KeySpec, Pacing};

pub use self::error::{ScenarioError, SourceMap};
pub use self::file::ScenarioFile;
pub use self::model::{
    Action, ActionSpec, ClusterSpec, CommitMode, Configs, ExpectValue, Expectation, GroupSpec, Op,
    OutputSpec, ProducerSpec, ReportSpec, Scenario, SendMode, Target, TopicSpec, ValueSpec,
};
