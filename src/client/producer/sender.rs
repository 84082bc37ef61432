//! The sender: connections, Produce requests in flight, responses, retries and timeouts (Kafka's
//! `Sender` and the parts of `NetworkClient` a producer's behaviour depends on).
//! - **Connections.** A connection is ready once its first request, `ApiVersions`, is answered.
//!   When it closes, every request in flight on it fails; the next attempt waits
//!   `reconnect.backoff.ms`, doubling up to `reconnect.backoff.max.ms` while attempts fail.
//! - **In flight.** At most `max.in.flight.requests.per.connection` requests wait for a response
//!   on a connection. With 1, a partition with a batch in flight sends nothing more (it is
//!   muted), which keeps order; with more, a retried batch can land after a later one unless the
//!   producer is idempotent.
//! - **`acks=0`.** No response comes; a batch counts as delivered once written to the
//!   connection, with no offset. If the broker then drops it, nobody knows.
//! - **`request.timeout.ms`** (librdkafka: `socket.timeout.ms`). A request without a response by
//!   then makes the Java client close the whole connection (`NetworkClient.handleTimedOutRequests`;
//!   librdkafka too, with its default `socket.max.fails=1`): every request in flight on it fails
//!   with `REQUEST_TIMED_OUT`. librdkafka's own `request.timeout.ms` only tells the broker how long
//!   to wait for `acks`. A connection closed by the other side (a broker going down, a
//!   proxy's timeout) fails them with `NETWORK_EXCEPTION`. Both are retriable.
//! - **Metadata.** A partition's leader is learned from Metadata responses. A batch failing
//!   with an error that means the leader may have moved (`NOT_LEADER_OR_FOLLOWER`,
//!   `LEADER_NOT_AVAILABLE`, `UNKNOWN_TOPIC_OR_PARTITION`, a closed connection, a timeout:
//!   Java's `InvalidMetadataException`s and `handleServerDisconnect`), or a batch for a partition
//!   without a known leader, asks for a refresh; it goes to the least loaded broker with a ready
//!   connection (fewest requests in flight, then lowest id; a connection is opened if none is
//!   ready), at most once per `retry.backoff.ms`. Retried batches then drain to the new leader.
//!   Not modelled: `metadata.max.age.ms` refreshes and the new leader carried in the error
//!   response (KIP-951).
//! - **Retries.** A retriable error is retried while `retries` allows and `delivery.timeout.ms`
//!   (counted from the batch's creation, so it includes linger, retries and backoffs) has not run
//!   out; the batch waits an exponential backoff with seeded jitter. Otherwise the batch fails and
//!   its records' delivery reports carry the error.

use std::collections::BTreeSet;
use std::mem;

use crate::client::producer::backoff;
use crate::client::producer::batch::{ProducerBatch, Sequencer};
use crate::client::producer::idempotence::{Bump, PidState};
use crate::client::producer::{Producer, ProducerEffects, ProducerTimer};
use crate::protocol::metadata::{MetadataRequest, MetadataResponse, TopicMetadata};
use crate::protocol::produce::{
    Acks, InitProducerIdRequest, PartitionProduceResponse, ProduceBatch, ProduceRequest,
};
use crate::protocol::{ErrorCode, Message, Request, Response};
use crate::rng::SimRng;
use crate::trace::{TraceEvent, TraceSeq};
use crate::units::{BrokerId, NodeId, Offset, SimTime};

/// What `delivery.timeout.ms` running out is reported as (Java: `TimeoutException: Expiring N
/// record(s)`; librdkafka: `_MSG_TIMED_OUT`).
pub(crate) const DELIVERY_TIMEOUT: &str = "DELIVERY_TIMEOUT";

/// One connection to a broker.
#[derive(Debug, Default)]
pub(crate) struct Connection {
    pub(super) state: ConnState,
    /// Failed attempts since the last ready connection (for the reconnection backoff).
    failed_attempts: u32,
    /// No new attempt before this.
    pub(super) next_attempt: SimTime,
    in_flight: Vec<InFlight>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum ConnState {
    #[default]
    Disconnected,
    /// `ApiVersions` sent at `since`.
    Connecting { since: SimTime },
    /// Usable; opened at `since`.
    Ready { since: SimTime },
}

/// The producer's view of the cluster's metadata: whether a refresh is wanted, the one in
/// flight, and the brokers it knows.
#[derive(Debug, Default)]
pub(crate) struct MetadataRefresh {
    needed: bool,
    in_flight: Option<u64>,
    next_attempt: SimTime,
    pub(crate) brokers: BTreeSet<BrokerId>,
}

impl MetadataRefresh {
    /// The brokers named by `metadata` as leaders or replicas.
    pub(crate) fn new(metadata: &[TopicMetadata]) -> MetadataRefresh {
        let brokers = metadata
            .iter()
            .flat_map(|m| {
                m.leaders
                    .iter()
                    .flatten()
                    .chain(m.replicas.iter().flatten())
            })
            .copied()
            .collect();
        MetadataRefresh {
            brokers,
            ..MetadataRefresh::default()
        }
    }
}

/// Errors after which Java asks for a metadata refresh (`InvalidMetadataException`, plus a
/// broken or timed-out connection).
fn stale_metadata(error: ErrorCode) -> bool {
    matches!(
        error,
        ErrorCode::NotLeaderOrFollower
            | ErrorCode::LeaderNotAvailable
            | ErrorCode::UnknownTopicOrPartition
            | ErrorCode::NetworkException
            | ErrorCode::RequestTimedOut
    )
}

#[derive(Debug)]
struct InFlight {
    correlation_id: u64,
    kind: RequestKind,
}

#[derive(Debug)]
enum RequestKind {
    ApiVersions,
    InitProducerId,
    Metadata,
    Produce(Vec<ProducerBatch>),
}

impl Producer {
    /// Opens a connection to `broker`: the first request on it is `ApiVersions`.
    pub(super) fn connect(&mut self, now: SimTime, broker: BrokerId, out: &mut ProducerEffects) {
        if self
            .connections
            .get(&broker)
            .is_some_and(|c| c.state != ConnState::Disconnected)
        {
            return;
        }
        let id = self.correlation();
        let conn = self.connections.entry(broker).or_default();
        conn.state = ConnState::Connecting { since: now };
        conn.in_flight.push(InFlight {
            correlation_id: id,
            kind: RequestKind::ApiVersions,
        });
        out.send(
            NodeId::Broker(broker),
            Message::Request {
                correlation_id: id,
                request: Request::ApiVersions,
            },
        );
        out.set_timer(
            ProducerTimer::RequestTimeout(id),
            now + self.config.response_timeout(),
        );
    }

    pub(super) fn correlation(&mut self) -> u64 {
        let id = self.next_correlation;
        self.next_correlation += 1;
        id
    }

    /// One pass of the sender thread (`Sender.sendProducerData`): idempotence housekeeping,
    /// expiry, then as many requests to each broker as it can take.
    pub(super) fn run_sender(&mut self, now: SimTime, out: &mut ProducerEffects) {
        if let Some(idempotence) = self.idempotence.as_mut() {
            idempotence.resolve_sequences();
            if let Some(bump) = idempotence.take_bump() {
                self.apply_bump(bump, out);
            }
        }
        self.expire(now, out);
        if self.acc.has_leaderless_batches() {
            self.metadata.needed = true;
        }
        self.maybe_refresh_metadata(now, out);
        let mut brokers: Vec<BrokerId> = self.acc.brokers().collect();
        let wants_id = self
            .idempotence
            .as_ref()
            .is_some_and(|i| matches!(i.state, PidState::Uninitialized { .. }));
        if wants_id && !brokers.contains(&self.init_broker) {
            brokers.push(self.init_broker);
            brokers.sort();
        }
        for broker in brokers {
            self.send_to(now, broker, out);
        }
    }

    /// Sends a Metadata request to the least loaded broker if a refresh is wanted (Java's
    /// `DefaultMetadataUpdater.maybeUpdate` and `leastLoadedNode`).
    fn maybe_refresh_metadata(&mut self, now: SimTime, out: &mut ProducerEffects) {
        let m = &self.metadata;
        if !m.needed || m.in_flight.is_some() || now < m.next_attempt {
            return;
        }
        let max = self.config.max_in_flight as usize;
        let ready = m
            .brokers
            .iter()
            .filter_map(|b| {
                let c = self.connections.get(b)?;
                let usable = matches!(c.state, ConnState::Ready { .. }) && c.in_flight.len() < max;
                usable.then_some((c.in_flight.len(), *b))
            })
            .min();
        let Some((_, broker)) = ready else {
            let connectable = m.brokers.iter().copied().find(|b| {
                self.connections
                    .get(b)
                    .is_none_or(|c| c.state == ConnState::Disconnected && c.next_attempt <= now)
            });
            let connecting = m.brokers.iter().any(|b| {
                self.connections
                    .get(b)
                    .is_some_and(|c| matches!(c.state, ConnState::Connecting { .. }))
            });
            if let Some(b) = connectable.filter(|_| !connecting) {
                self.connect(now, b, out);
            }
            return;
        };
        let id = self.correlation();
        let topics = (0..self.topics.len() as u32)
            .map(|t| self.acc.topic(t).topic.clone())
            .collect();
        self.metadata.in_flight = Some(id);
        self.metadata.next_attempt = now + self.config.retry_backoff;
        let conn = self.connections.get_mut(&broker).expect("ready");
        conn.in_flight.push(InFlight {
            correlation_id: id,
            kind: RequestKind::Metadata,
        });
        out.send(
            NodeId::Broker(broker),
            Message::Request {
                correlation_id: id,
                request: Request::Metadata(MetadataRequest { topics }),
            },
        );
        out.set_timer(
            ProducerTimer::RequestTimeout(id),
            now + self.config.request_timeout,
        );
    }

    /// A metadata refresh arrived: new leaders, and the brokers named.
    fn on_metadata(&mut self, r: MetadataResponse) {
        self.metadata.in_flight = None;
        self.metadata.needed = false;
        for (topic, partitions) in r.topics {
            let (Some(&index), Ok(partitions)) = (self.topics.get(&topic), partitions) else {
                continue;
            };
            let meta = TopicMetadata::from_partitions(topic, &partitions);
            self.metadata
                .brokers
                .extend(meta.replicas.iter().flatten().copied());
            if meta.leaders.iter().any(Option::is_none) {
                self.metadata.needed = true;
            }
            self.acc.set_leaders(index, &meta.leaders);
        }
    }

    fn wants_producer_id(&self, now: SimTime, broker: BrokerId) -> bool {
        broker == self.init_broker
            && self.idempotence.as_ref().is_some_and(
                |i| matches!(i.state, PidState::Uninitialized { retry_at } if retry_at <= now),
            )
    }

    fn send_to(&mut self, now: SimTime, broker: BrokerId, out: &mut ProducerEffects) {
        let wants_id = self.wants_producer_id(now, broker);
        let conn = self.connections.entry(broker).or_default();
        match conn.state {
            ConnState::Disconnected => {
                if (wants_id || self.acc.has_queued(broker)) && now >= conn.next_attempt {
                    self.connect(now, broker, out);
                }
                return;
            }
            ConnState::Connecting { .. } => return,
            ConnState::Ready { .. } => {}
        }
        let max = self.config.max_in_flight as usize;
        if wants_id && conn.in_flight.len() < max {
            let id = self.correlation();
            self.init_producer_id(now, broker, id, out);
        }
        loop {
            let in_flight = self.connections[&broker].in_flight.len();
            if in_flight >= max || !self.acc.ready(now, broker, self.flushing()) {
                break;
            }
            let batches = self.acc.drain(
                now,
                broker,
                self.config.max_request_size,
                self.idempotence
                    .as_mut()
                    .map(|idempotence| idempotence as &mut dyn Sequencer),
            );
            if batches.is_empty() {
                break;
            }
            self.send_produce(now, broker, batches, out);
        }
    }

    fn init_producer_id(
        &mut self,
        now: SimTime,
        broker: BrokerId,
        id: u64,
        out: &mut ProducerEffects,
    ) {
        let idempotence = self.idempotence.as_mut().expect("idempotent");
        idempotence.state = PidState::Initializing;
        self.connections
            .get_mut(&broker)
            .expect("connected")
            .in_flight
            .push(InFlight {
                correlation_id: id,
                kind: RequestKind::InitProducerId,
            });
        let request = Request::InitProducerId(InitProducerIdRequest {
            current: None,
            transactional: None,
        });
        out.send(
            NodeId::Broker(broker),
            Message::Request {
                correlation_id: id,
                request,
            },
        );
        out.set_timer(
            ProducerTimer::RequestTimeout(id),
            now + self.config.response_timeout(),
        );
    }

    /// Sends `batches` in one Produce request (`Sender.sendProduceRequest`).
    fn send_produce(
        &mut self,
        now: SimTime,
        broker: BrokerId,
        mut batches: Vec<ProducerBatch>,
        out: &mut ProducerEffects,
    ) {
        let id = self.correlation();
        let mut wire = Vec::with_capacity(batches.len());
        // The envelope names the first `BatchSent`; the broker cites `first + i` for batch `i`.
        let first_sent = out.next_seq();
        for b in &mut batches {
            let topic = self.acc.topic(b.tp.topic).topic.clone();
            let event = TraceEvent::BatchSent {
                topic: topic.as_arc().clone(),
                partition: b.tp.partition.0,
                batch: b.id,
                records: b.count,
                broker: broker.0,
                correlation_id: id,
                attempt: b.attempts + 1,
                producer_id: b.sequence.map(|s| s.producer_id.0),
                producer_epoch: b.sequence.map(|s| s.epoch.0),
                base_sequence: b.sequence.map(|s| s.base_sequence.0),
            };
            b.sent = Some(out.trace_because(b.retried, event));
            wire.push(ProduceBatch {
                topic,
                partition: b.tp.partition,
                idempotence: b.sequence,
                records: b.seal(),
                origin: None,
            });
        }
        let request = Request::Produce(ProduceRequest {
            acks: self.config.acks,
            timeout: self.config.request_timeout,
            batches: wire,
        });
        out.send_because(
            Some(first_sent),
            NodeId::Broker(broker),
            Message::Request {
                correlation_id: id,
                request,
            },
        );
        if self.config.acks == Acks::None {
            // Done once written: no response will come (`handleCompletedSends`).
            for b in &batches {
                self.succeed(b, None, out);
            }
            return;
        }
        if self.config.max_in_flight == 1 {
            for b in &batches {
                self.acc.set_muted(b.tp, true);
            }
        }
        let conn = self.connections.get_mut(&broker).expect("connected");
        conn.in_flight.push(InFlight {
            correlation_id: id,
            kind: RequestKind::Produce(batches),
        });
        out.set_timer(
            ProducerTimer::RequestTimeout(id),
            now + self.config.response_timeout(),
        );
    }

    /// Finds and removes the in-flight request `id`.
    fn take_in_flight(&mut self, id: u64) -> Option<(BrokerId, InFlight)> {
        self.connections.iter_mut().find_map(|(b, conn)| {
            let i = conn.in_flight.iter().position(|r| r.correlation_id == id)?;
            Some((*b, conn.in_flight.remove(i)))
        })
    }

    pub(super) fn on_response(
        &mut self,
        now: SimTime,
        id: u64,
        response: Response,
        rng: &mut SimRng,
        out: &mut ProducerEffects,
    ) {
        // A response to a request of a closed connection is ignored: it was already failed.
        let Some((broker, request)) = self.take_in_flight(id) else {
            return self.on_txn_response(now, id, response, out);
        };
        out.cancel_timer(ProducerTimer::RequestTimeout(id));
        match (request.kind, response) {
            (RequestKind::ApiVersions, Response::ApiVersions) => {
                let conn = self.connections.get_mut(&broker).expect("known");
                if let ConnState::Connecting { since } = conn.state {
                    conn.state = ConnState::Ready { since };
                    conn.failed_attempts = 0;
                    out.trace(TraceEvent::ConnectionEstablished { broker: broker.0 });
                }
            }
            (RequestKind::InitProducerId, Response::InitProducerId(r)) => {
                let idempotence = self.idempotence.as_mut().expect("idempotent");
                idempotence.state = if r.error == ErrorCode::None {
                    PidState::Ready {
                        id: r.producer_id,
                        epoch: r.epoch,
                    }
                } else {
                    PidState::Uninitialized {
                        retry_at: now + self.config.retry_backoff,
                    }
                };
            }
            (RequestKind::Metadata, Response::Metadata(r)) => self.on_metadata(r),
            (RequestKind::Produce(batches), Response::Produce(r)) => {
                assert_eq!(batches.len(), r.partitions.len(), "one answer per batch");
                for (batch, answer) in batches.into_iter().zip(r.partitions) {
                    let PartitionProduceResponse {
                        error, base_offset, ..
                    } = answer;
                    self.complete(now, batch, error, base_offset, rng, out);
                }
            }
            (kind, response) => panic!("response {response:?} to request {kind:?}"),
        }
    }

    /// Completes or retries one batch after an attempt (`Sender.completeBatch`).
    fn complete(
        &mut self,
        now: SimTime,
        batch: ProducerBatch,
        error: ErrorCode,
        base_offset: Option<Offset>,
        rng: &mut SimRng,
        out: &mut ProducerEffects,
    ) {
        if self.config.max_in_flight == 1 {
            self.acc.set_muted(batch.tp, false);
        }
        if stale_metadata(error) {
            self.metadata.needed = true;
        }
        if batch.done {
            // Already expired by delivery.timeout.ms while its request was in flight.
            return;
        }
        if error == ErrorCode::None {
            self.succeed(&batch, base_offset, out);
        } else if self.can_retry(now, &batch, error) {
            self.retry(now, batch, error, rng, out);
        } else if error == ErrorCode::DuplicateSequenceNumber {
            // Legacy brokers: written before, offset unknown.
            self.succeed(&batch, None, out);
        } else {
            let adjust = batch.attempts < self.config.retries;
            if let Some(idempotence) = self.idempotence.as_mut() {
                idempotence.failed(&batch, Some(error), adjust);
            }
            self.fail(&batch, error.name(), out);
        }
    }

    fn can_retry(&mut self, now: SimTime, batch: &ProducerBatch, error: ErrorCode) -> bool {
        let in_time = now.saturating_since(batch.created) < self.config.delivery_timeout;
        in_time
            && batch.attempts < self.config.retries
            && match self.idempotence.as_mut() {
                Some(idempotence) => idempotence.can_retry(batch, error),
                None => error.is_retriable(),
            }
    }

    fn retry(
        &mut self,
        now: SimTime,
        mut batch: ProducerBatch,
        error: ErrorCode,
        rng: &mut SimRng,
        out: &mut ProducerEffects,
    ) {
        let c = &self.config;
        let wait = backoff::exponential(c.retry_backoff, c.retry_backoff_max, batch.attempts, rng);
        let event = TraceEvent::BatchRetried {
            topic: self.acc.topic(batch.tp.topic).topic.as_arc().clone(),
            partition: batch.tp.partition.0,
            batch: batch.id,
            records: batch.count,
            error: error.name().to_string(),
            attempt: batch.attempts + 1,
            backoff_ms: wait.0,
        };
        batch.retried = Some(out.trace_because(batch.sent, event));
        self.acc.reenqueue(now, batch, wait);
    }

    fn succeed(
        &mut self,
        batch: &ProducerBatch,
        base_offset: Option<Offset>,
        out: &mut ProducerEffects,
    ) {
        if let Some(idempotence) = self.idempotence.as_mut() {
            idempotence.completed(batch);
        }
        let event = TraceEvent::BatchAcked {
            topic: self.acc.topic(batch.tp.topic).topic.as_arc().clone(),
            partition: batch.tp.partition.0,
            batch: batch.id,
            records: batch.count,
            base_offset: base_offset.map(|o| o.0),
            attempts: batch.attempts + 1,
        };
        out.trace_because(batch.sent, event);
        self.report(batch, base_offset, None, out);
    }

    fn fail(&mut self, batch: &ProducerBatch, error: &str, out: &mut ProducerEffects) {
        let event = TraceEvent::BatchFailed {
            topic: self.acc.topic(batch.tp.topic).topic.as_arc().clone(),
            partition: batch.tp.partition.0,
            batch: batch.id,
            records: batch.count,
            error: error.to_string(),
            attempts: batch.attempts + 1,
        };
        out.trace_because(batch.sent, event);
        self.report(batch, None, Some(error), out);
    }

    /// Fails what `delivery.timeout.ms` has caught: queued batches, and batches whose request is
    /// still in flight (their late answer is then ignored).
    fn expire(&mut self, now: SimTime, out: &mut ProducerEffects) {
        let timeout = self.config.delivery_timeout;
        for batch in self.acc.expire(now, timeout) {
            if let Some(idempotence) = self.idempotence.as_mut() {
                idempotence.expired(&batch);
            }
            self.fail(&batch, DELIVERY_TIMEOUT, out);
        }
        let brokers: Vec<BrokerId> = self.connections.keys().copied().collect();
        for broker in brokers {
            let mut requests =
                mem::take(&mut self.connections.get_mut(&broker).expect("known").in_flight);
            for request in &mut requests {
                let RequestKind::Produce(batches) = &mut request.kind else {
                    continue;
                };
                for batch in batches.iter_mut() {
                    if !batch.done && batch.created + timeout <= now {
                        batch.done = true;
                        if let Some(idempotence) = self.idempotence.as_mut() {
                            idempotence.expired(batch);
                        }
                        self.fail(batch, DELIVERY_TIMEOUT, out);
                    }
                }
            }
            self.connections.get_mut(&broker).expect("known").in_flight = requests;
        }
    }

    pub(super) fn request_timed_out(
        &mut self,
        now: SimTime,
        id: u64,
        rng: &mut SimRng,
        out: &mut ProducerEffects,
    ) {
        let broker = self
            .connections
            .iter()
            .find(|(_, c)| c.in_flight.iter().any(|r| r.correlation_id == id))
            .map(|(b, _)| *b)
            .or_else(|| self.txn_request_broker(id));
        if let Some(broker) = broker {
            // The answer never came: if the network lost it, that loss is why.
            let lost = out.lost_reply(id);
            self.close(now, broker, ErrorCode::RequestTimedOut, lost, rng, out);
        }
    }

    pub(super) fn on_connection_closed(
        &mut self,
        now: SimTime,
        broker: BrokerId,
        at: SimTime,
        rng: &mut SimRng,
        out: &mut ProducerEffects,
    ) {
        let Some(conn) = self.connections.get(&broker) else {
            return;
        };
        let current = match conn.state {
            ConnState::Disconnected => return,
            ConnState::Connecting { since } | ConnState::Ready { since } => since <= at,
        };
        if current {
            let cause = out.cause_in();
            self.close(now, broker, ErrorCode::NetworkException, cause, rng, out);
        }
    }

    /// Closes the connection to `broker`, failing everything in flight on it with `error`, after
    /// `cause` (the lost answer, the broker's close).
    fn close(
        &mut self,
        now: SimTime,
        broker: BrokerId,
        error: ErrorCode,
        cause: Option<TraceSeq>,
        rng: &mut SimRng,
        out: &mut ProducerEffects,
    ) {
        let c = &self.config;
        let conn = self.connections.get_mut(&broker).expect("known");
        let wait = backoff::exponential(
            c.reconnect_backoff,
            c.reconnect_backoff_max,
            conn.failed_attempts,
            rng,
        );
        conn.failed_attempts += 1;
        conn.next_attempt = now + wait;
        conn.state = ConnState::Disconnected;
        out.disconnect(NodeId::Broker(broker));
        let requests = mem::take(&mut conn.in_flight);
        let event = TraceEvent::ConnectionClosed {
            broker: broker.0,
            reason: match error {
                ErrorCode::RequestTimedOut => "request timeout",
                _ => "disconnected",
            }
            .to_string(),
            requests_failed: requests.len() as u32,
        };
        let closed = out.trace_because(cause, event);
        // A broken connection may mean a moved leader (`handleServerDisconnect`).
        self.metadata.needed = true;
        self.txn_connection_closed(now, broker);
        if broker == self.init_broker
            && let Some(next) = self
                .metadata
                .brokers
                .iter()
                .copied()
                .find(|b| *b > broker)
                .or_else(|| self.metadata.brokers.first().copied())
        {
            // InitProducerId goes to the least loaded node: not to this one next time.
            self.init_broker = next;
        }
        for request in requests {
            out.cancel_timer(ProducerTimer::RequestTimeout(request.correlation_id));
            match request.kind {
                RequestKind::ApiVersions => {}
                RequestKind::Metadata => self.metadata.in_flight = None,
                RequestKind::InitProducerId => {
                    let idempotence = self.idempotence.as_mut().expect("idempotent");
                    idempotence.state = PidState::Uninitialized {
                        retry_at: now + self.config.retry_backoff,
                    };
                }
                RequestKind::Produce(batches) => {
                    for mut batch in batches {
                        batch.sent = Some(closed);
                        self.complete(now, batch, error, None, rng, out);
                    }
                }
            }
        }
    }

    /// Applies an epoch bump: the partitions with a gap restart their in-flight batches'
    /// sequences at 0 under the new epoch.
    fn apply_bump(&mut self, bump: Bump, out: &mut ProducerEffects) {
        let names = bump
            .partitions
            .iter()
            .map(|tp| format!("{}-{}", self.acc.topic(tp.topic).topic, tp.partition))
            .collect();
        out.trace(TraceEvent::ProducerEpochBumped {
            producer_id: bump.id.0,
            producer_epoch: bump.epoch.0,
            partitions: names,
        });
        let idempotence = self.idempotence.as_mut().expect("idempotent");
        for tp in bump.partitions {
            let mut batches: Vec<&mut ProducerBatch> = self.acc.queued_mut(tp).collect();
            for conn in self.connections.values_mut() {
                for request in &mut conn.in_flight {
                    if let RequestKind::Produce(list) = &mut request.kind {
                        batches.extend(list.iter_mut().filter(|b| b.tp == tp && !b.done));
                    }
                }
            }
            idempotence.restart_sequences(tp, batches);
        }
    }

    /// The earliest time the sender has something to do without an input: a batch's linger or
    /// backoff ends, a batch reaches its delivery timeout, a reconnection or an `InitProducerId`
    /// retry is due.
    pub(super) fn next_sender_deadline(&self, now: SimTime) -> Option<SimTime> {
        let timeout = self.config.delivery_timeout;
        let mut next = self.acc.next_deadline(now, timeout);
        let mut consider = |t: SimTime| {
            if t > now && next.is_none_or(|n| t < n) {
                next = Some(t);
            }
        };
        for (broker, conn) in &self.connections {
            let wants_id = *broker == self.init_broker
                && self
                    .idempotence
                    .as_ref()
                    .is_some_and(|i| matches!(i.state, PidState::Uninitialized { .. }));
            if conn.state == ConnState::Disconnected && (self.acc.has_queued(*broker) || wants_id) {
                consider(conn.next_attempt);
            }
            for request in &conn.in_flight {
                if let RequestKind::Produce(batches) = &request.kind {
                    for b in batches.iter().filter(|b| !b.done) {
                        consider(b.created + timeout);
                    }
                }
            }
        }
        if let Some(PidState::Uninitialized { retry_at }) =
            self.idempotence.as_ref().map(|i| i.state)
        {
            consider(retry_at);
        }
        let m = &self.metadata;
        if m.needed && m.in_flight.is_none() {
            consider(m.next_attempt);
            for b in &m.brokers {
                if let Some(c) = self.connections.get(b)
                    && c.state == ConnState::Disconnected
                {
                    consider(c.next_attempt);
                }
            }
        }
        next
    }
}
