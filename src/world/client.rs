//! The client machines as the world sees them: one enum over every kind, one timer key type, and
//! what the world hands a client ([`ClientEvent`], commands included), which each kind converts
//! into its own input type ([`LoadInput`], [`ConsumerInput`], [`ProducerInput`]), dropping what
//! it does not understand.

use crate::client::consumer::{Consumer, ConsumerInput, ConsumerTimer};
use crate::client::load::{LoadGenerator, LoadInput, LoadReader, LoadTimer};
use crate::client::producer::{Producer, ProducerInput, ProducerTimer, SendRequest};
use crate::protocol::{Request, Response};
use crate::rng::Ratio;
use crate::units::{BrokerId, Millis, SimTime};

use super::EdgeClient;

/// A client machine of any kind.
#[derive(Debug)]
pub enum ClientMachine {
    /// A load generator.
    LoadGenerator(LoadGenerator),
    /// A load reader.
    LoadReader(LoadReader),
    /// A consumer in a consumer group.
    Consumer(Box<Consumer>),
    /// A Kafka producer (boxed: it is much larger than the load clients).
    Producer(Box<Producer>),
    /// A connection of a program outside the simulator (`kafka-sim serve`).
    Edge(EdgeClient),
}

/// Every client timer key, tagged by machine kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClientTimer {
    /// A load client's timer.
    Load(LoadTimer),
    /// A consumer's timer.
    Consumer(ConsumerTimer),
    /// A producer's timer.
    Producer(ProducerTimer),
}

/// What the world hands a client machine of any kind; each machine kind converts it to its own
/// input type ([`ConsumerInput`], [`ProducerInput`], [`LoadInput`]) and never sees the rest.
#[derive(Clone, Debug)]
pub enum ClientEvent {
    /// The client process starts (its configured start time).
    Start,
    /// One of its timers fired.
    Timer(ClientTimer),
    /// A response arrived.
    Response {
        /// The correlation id of the request it answers.
        correlation_id: u64,
        /// The response.
        response: Response,
    },
    /// A command from the scenario's timeline or fault plan.
    Command(ClientCommand),
    /// The other end (a broker, its host, or a proxy) closed the connection to `broker` at `at`.
    ConnectionClosed {
        /// The broker the connection led to.
        broker: BrokerId,
        /// When the close happened.
        at: SimTime,
    },
}

/// Commands a scenario's timeline or fault plan gives a client: one kind of [`ClientEvent`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientCommand {
    /// Shut down cleanly: `close()` (a consumer finishes its batch, commits if auto-commit is
    /// on, and sends LeaveGroup unless it is a static member; a producer flushes).
    Close,
    /// The process dies: no more requests, no LeaveGroup, its timers are dropped.
    Crash,
    /// The process stops doing anything (a long GC pause, `SIGSTOP`) for `duration`, then
    /// carries on where it was.
    Pause {
        /// How long.
        duration: Millis,
    },
    /// Sent by the world itself when a pause ends.
    Resume,
    /// A producer's application sends these records (`producer.send()` each, in order).
    Produce {
        /// The records.
        records: Vec<SendRequest>,
    },
    /// A transactional producer's application sends these offsets to its transaction and
    /// commits it (a consumer of its process finished a batch).
    CommitTransaction(crate::protocol::consumer_group::OffsetCommitRequest),
    /// A consumer's application learns how its process's transaction ended.
    TransactionEnded(crate::client::producer::TxnOutcome),
    /// A producer's application starts (`Some(share)`) or stops (`None`) sending a share of
    /// malformed records: the poison-pill fault.
    Poison {
        /// The share of records made malformed.
        ratio: Option<Ratio>,
    },
    /// An edge client's program sent this request on its connection (`kafka-sim serve`).
    Request {
        /// The correlation id the answer must carry back to the edge.
        correlation_id: u64,
        /// The request.
        request: Request,
    },
}

impl From<LoadTimer> for ClientTimer {
    fn from(key: LoadTimer) -> ClientTimer {
        ClientTimer::Load(key)
    }
}

impl From<ConsumerTimer> for ClientTimer {
    fn from(key: ConsumerTimer) -> ClientTimer {
        ClientTimer::Consumer(key)
    }
}

impl From<ProducerTimer> for ClientTimer {
    fn from(key: ProducerTimer) -> ClientTimer {
        ClientTimer::Producer(key)
    }
}

/// A producer's input for a world event; the world handles crash and pause itself.
pub(super) fn producer_input(event: ClientEvent) -> Option<ProducerInput> {
    Some(match event {
        ClientEvent::Start => ProducerInput::Start,
        ClientEvent::Timer(ClientTimer::Producer(t)) => ProducerInput::Timer(t),
        ClientEvent::Timer(_) => return None,
        ClientEvent::Response {
            correlation_id,
            response,
        } => ProducerInput::Response {
            correlation_id,
            response,
        },
        ClientEvent::ConnectionClosed { broker, at } => {
            ProducerInput::ConnectionClosed { broker, at }
        }
        ClientEvent::Command(ClientCommand::Close) => ProducerInput::Close,
        ClientEvent::Command(ClientCommand::Produce { records }) => ProducerInput::Send(records),
        ClientEvent::Command(ClientCommand::Poison { ratio }) => ProducerInput::Poison(ratio),
        ClientEvent::Command(ClientCommand::CommitTransaction(offsets)) => {
            ProducerInput::CommitTransaction(Some(offsets))
        }
        ClientEvent::Command(_) => return None,
    })
}

/// The load clients ignore commands.
pub(super) fn load_input(event: ClientEvent) -> Option<LoadInput> {
    match event {
        ClientEvent::Start => Some(LoadInput::Start),
        ClientEvent::Timer(ClientTimer::Load(t)) => Some(LoadInput::Timer(t)),
        ClientEvent::Timer(_) => None,
        ClientEvent::Response { response, .. } => Some(LoadInput::Response(response)),
        ClientEvent::Command(_) | ClientEvent::ConnectionClosed { .. } => None,
    }
}

/// A consumer understands `Close`; crash and pause are the world's business.
pub(super) fn consumer_input(event: ClientEvent) -> Option<ConsumerInput> {
    match event {
        ClientEvent::Start => Some(ConsumerInput::Start),
        ClientEvent::Timer(ClientTimer::Consumer(t)) => Some(ConsumerInput::Timer(t)),
        ClientEvent::Response {
            correlation_id,
            response,
        } => Some(ConsumerInput::Response {
            correlation_id,
            response,
        }),
        ClientEvent::Command(ClientCommand::Close) => Some(ConsumerInput::Close),
        ClientEvent::Command(ClientCommand::TransactionEnded(outcome)) => {
            Some(ConsumerInput::TransactionEnded(outcome))
        }
        ClientEvent::ConnectionClosed { broker, at } => {
            Some(ConsumerInput::ConnectionClosed { broker, at })
        }
        ClientEvent::Timer(_) | ClientEvent::Command(_) => None,
    }
}
