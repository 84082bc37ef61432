//! The engine: the edge's side of the world, single-threaded and free of I/O. It turns what
//! happened on the sockets ([`Inbound`]: a connection opened, a frame arrived, a connection
//! closed) into inputs of the world's edge clients at a virtual time, and what those clients
//! handed back into frames to write ([`Outbound`]). The same engine serves live connections
//! (`serve`, times from the wall clock) and a recorded session (`replay`, times from its
//! trace), so both reach the same decisions.
//!
//! Each connection is muted while a request of it is with the broker, as Kafka's `SocketServer`
//! mutes a channel until the response to its request is sent: requests of one connection are
//! answered one at a time, in order (the Java client checks that order), the others wait in
//! the session's queue.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::ApiKey;

use crate::scheduler::EventLimitExceeded;
use crate::trace::{EdgeConnected, EdgeDisconnected, EdgeRequest, TraceEvent};
use crate::units::{BrokerId, ClientId, SimTime};
use crate::world::{ClientCommand, EdgeOutput, World};

use super::admin::{self, Edge, TopicDefaults};
use super::codec::{self, Frame, Parsed};
use super::groups::GroupBytes;
use super::requests::{self, Context, Decoded, Pending};
use super::responses::{self, Cluster};

/// Something that happened on the sockets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound {
    /// A client connected to `broker`'s listener.
    Opened {
        /// The connection's number.
        conn: u32,
        /// The broker whose listener it reached.
        broker: BrokerId,
        /// The client's address, for the trace.
        peer: String,
    },
    /// A whole request frame (without its size prefix).
    Frame {
        /// The connection.
        conn: u32,
        /// The frame.
        frame: Bytes,
    },
    /// The client closed the connection (or it broke).
    Closed {
        /// The connection.
        conn: u32,
    },
}

/// Something to do on the sockets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outbound {
    /// Write this response frame (without its size prefix).
    Frame {
        /// The connection.
        conn: u32,
        /// The frame.
        bytes: Bytes,
    },
    /// Close the connection.
    Close {
        /// The connection.
        conn: u32,
    },
    /// A line for the server's log.
    Log(String),
}

#[derive(Debug)]
struct Session {
    client: ClientId,
    component: Arc<str>,
    queue: VecDeque<Bytes>,
    in_flight: Option<Pending>,
    open: bool,
}

/// The edge's state: the sessions, the cluster's addresses, the group bytes kept.
#[derive(Debug)]
pub struct Engine {
    cluster: Cluster,
    defaults: TopicDefaults,
    sessions: BTreeMap<u32, Session>,
    by_client: BTreeMap<ClientId, u32>,
    groups: GroupBytes,
    out: Vec<Outbound>,
}

impl Engine {
    /// An engine for `cluster`.
    pub fn new(cluster: Cluster, defaults: TopicDefaults) -> Engine {
        Engine {
            cluster,
            defaults,
            sessions: BTreeMap::new(),
            by_client: BTreeMap::new(),
            groups: GroupBytes::default(),
            out: Vec::new(),
        }
    }

    /// The served cluster.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// Runs the world up to `to`, one event at a time, answering what each hands the edge.
    pub fn run_to(
        &mut self,
        world: &mut World<'_>,
        to: SimTime,
    ) -> Result<Vec<Outbound>, EventLimitExceeded> {
        while world.step(to)? {
            self.collect(world);
        }
        Ok(std::mem::take(&mut self.out))
    }

    /// Handles `inbound` at virtual time `at` (not before the world's last event), after
    /// everything due by then; records it in the trace first.
    pub fn input(
        &mut self,
        world: &mut World<'_>,
        at: SimTime,
        inbound: Inbound,
    ) -> Result<Vec<Outbound>, EventLimitExceeded> {
        let at = at.max(world.now());
        while world.step(at)? {
            self.collect(world);
        }
        if !self.accepts(&inbound) {
            // Traffic on a connection already closed: nothing more happens and nothing is
            // recorded, so that a replay, which never sees it, does exactly the same.
            return Ok(std::mem::take(&mut self.out));
        }
        world.clock_to(at)?;
        match inbound {
            Inbound::Opened { conn, broker, peer } => self.open(world, at, conn, broker, peer),
            Inbound::Frame { conn, frame } => {
                let Some(session) = self.sessions.get_mut(&conn).filter(|s| s.open) else {
                    return Ok(std::mem::take(&mut self.out));
                };
                let event = TraceEvent::EdgeRequest(EdgeRequest {
                    connection: conn,
                    frame: hex(&frame),
                });
                let component = session.component.clone();
                session.queue.push_back(frame);
                world.record_edge(at, &component, event);
                self.pump(world, conn);
            }
            Inbound::Closed { conn } => {
                if let Some(session) = self.sessions.get(&conn).filter(|s| s.open) {
                    let component = session.component.clone();
                    world.record_edge(
                        at,
                        &component,
                        TraceEvent::EdgeDisconnected(EdgeDisconnected { connection: conn }),
                    );
                    self.close(world, conn, false);
                }
            }
        }
        Ok(std::mem::take(&mut self.out))
    }

    fn accepts(&self, inbound: &Inbound) -> bool {
        match inbound {
            Inbound::Opened { .. } => true,
            Inbound::Frame { conn, .. } | Inbound::Closed { conn } => {
                self.sessions.get(conn).is_some_and(|s| s.open)
            }
        }
    }

    fn open(
        &mut self,
        world: &mut World<'_>,
        at: SimTime,
        conn: u32,
        broker: BrokerId,
        peer: String,
    ) {
        let component: Arc<str> = Arc::from(format!("edge/{conn}"));
        let event = TraceEvent::EdgeConnected(EdgeConnected {
            connection: conn,
            broker: broker.0,
            peer,
        });
        world.record_edge(at, &component, event);
        let client = world.add_edge_client(&component, broker);
        self.by_client.insert(client, conn);
        let session = Session {
            client,
            component,
            queue: VecDeque::new(),
            in_flight: None,
            open: true,
        };
        self.sessions.insert(conn, session);
    }

    /// Closes connection `conn`: the edge client disconnects from its broker; `tell` also
    /// closes the socket (the broker's side closed it, or the client sent garbage).
    fn close(&mut self, world: &mut World<'_>, conn: u32, tell: bool) {
        let Some(session) = self.sessions.get_mut(&conn) else {
            return;
        };
        session.open = false;
        session.queue.clear();
        session.in_flight = None;
        let now = world.now();
        world.schedule_command(now, session.client, ClientCommand::Close);
        if tell {
            self.out.push(Outbound::Close { conn });
        }
    }

    /// Answers what the edge clients handed over.
    fn collect(&mut self, world: &mut World<'_>) {
        for (client, output) in world.drain_edge() {
            let Some(&conn) = self.by_client.get(&client) else {
                continue;
            };
            match output {
                EdgeOutput::Response { response, .. } => {
                    let Some(pending) = self
                        .sessions
                        .get_mut(&conn)
                        .and_then(|s| s.in_flight.take())
                    else {
                        continue;
                    };
                    match responses::encode(pending, response, &self.cluster, &mut self.groups) {
                        Ok(bytes) => self.out.push(Outbound::Frame { conn, bytes }),
                        Err(e) => self
                            .out
                            .push(Outbound::Log(format!("connection {conn}: {e}"))),
                    }
                    self.pump(world, conn);
                }
                EdgeOutput::Closed => {
                    self.out.push(Outbound::Log(format!(
                        "connection {conn}: the broker closed it"
                    )));
                    self.close(world, conn, true);
                }
            }
        }
    }

    /// Handles the queued requests of `conn` until one waits for the broker.
    fn pump(&mut self, world: &mut World<'_>, conn: u32) {
        loop {
            let Some(session) = self
                .sessions
                .get_mut(&conn)
                .filter(|s| s.open && s.in_flight.is_none())
            else {
                return;
            };
            let Some(frame) = session.queue.pop_front() else {
                return;
            };
            let client = session.client;
            match codec::parse(frame) {
                Parsed::Close(reason) => self.refuse(world, conn, reason),
                Parsed::UnsupportedApiVersions { correlation_id } => {
                    let bytes = codec::unsupported_api_versions(correlation_id);
                    self.out.push(Outbound::Frame { conn, bytes });
                }
                Parsed::Request(frame) => self.request(world, conn, client, frame),
            }
        }
    }

    fn refuse(&mut self, world: &mut World<'_>, conn: u32, reason: String) {
        self.out.push(Outbound::Log(format!(
            "connection {conn}: {reason}; closing it"
        )));
        self.close(world, conn, true);
    }

    fn request(&mut self, world: &mut World<'_>, conn: u32, client: ClientId, frame: Frame) {
        let (request, context) = match admin::handle(&frame, world, &self.cluster, &self.defaults) {
            Some(Edge::Answer(bytes)) => return self.out.push(Outbound::Frame { conn, bytes }),
            Some(Edge::Bad(reason)) => return self.refuse(world, conn, reason),
            Some(Edge::Model(request)) => (request, Context::None),
            None if super::txn::is_coordinator_api(frame.api) => match super::txn::decode(&frame) {
                Ok((request, context)) => (request, context),
                Err(reason) => return self.refuse(world, conn, reason),
            },
            None if frame.api == ApiKey::TxnOffsetCommit => {
                match super::txn::txn_offset_commit(&frame) {
                    Ok(request) => (request, Context::None),
                    Err(reason) => return self.refuse(world, conn, reason),
                }
            }
            None => match requests::decode(&frame, client.0, world.now()) {
                Decoded::Model(request, context) => (request, context),
                Decoded::Bad(reason) => return self.refuse(world, conn, reason),
            },
        };
        if let Context::Sync {
            group, assignments, ..
        } = &context
        {
            for (member, raw) in assignments {
                self.groups.keep_assignment(group, member, raw.clone());
            }
        }
        let correlation_id = frame.header.correlation_id;
        if request.expects_response() {
            let pending = Pending {
                api: frame.api,
                version: frame.header.request_api_version,
                correlation_id,
                context,
            };
            self.sessions.get_mut(&conn).expect("open").in_flight = Some(pending);
        }
        let command = ClientCommand::Request {
            correlation_id: correlation_id as u32 as u64,
            request,
        };
        world.schedule_command(world.now(), client, command);
    }
}

/// Bytes as lowercase hex, as the trace keeps frames.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex back to bytes.
pub fn unhex(text: &str) -> Option<Bytes> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()
        .map(Bytes::from)
}
