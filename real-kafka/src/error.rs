//! The errors of a real run. Kafka's own errors during a run (a failed delivery, a rebalance)
//! are not errors here: they are recorded in the trace. These are the failures that stop a run.

use std::io;
use std::path::PathBuf;

/// Why a run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A broker could not be installed or started.
    #[error("broker {broker}: {message}")]
    Broker {
        /// Which broker (`mock`, `tansu`, the bootstrap address).
        broker: String,
        /// What went wrong, with the log tail when there is one.
        message: String,
    },
    /// librdkafka refused a configuration or an operation.
    #[error("{context}: {source}")]
    Kafka {
        /// What was being done.
        context: String,
        /// librdkafka's error.
        source: rdkafka::error::KafkaError,
    },
    /// The scenario asks for something this recorder cannot do against this broker.
    #[error("not supported against a real broker: {0}")]
    Unsupported(String),
    /// A member process misbehaved.
    #[error("member {member}: {message}")]
    Member {
        /// Its component name.
        member: String,
        /// What happened.
        message: String,
    },
    /// A file or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: io::Error,
    },
    /// The scenario file is wrong.
    #[error(transparent)]
    Scenario(#[from] kafka_sim::scenario::ScenarioError),
    /// A path that should exist does not.
    #[error("{0}: not found")]
    NotFound(PathBuf),
}

impl Error {
    /// Wraps a librdkafka error with what was being done.
    pub fn kafka(context: impl Into<String>) -> impl FnOnce(rdkafka::error::KafkaError) -> Error {
        let context = context.into();
        move |source| Error::Kafka { context, source }
    }

    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;
