//! `kafka-sim serve`: the Kafka wire protocol over the simulator, so that unmodified clients
//! (a student's `confluent_kafka` program, a Java or .NET service) run against the simulated
//! cluster, with its faults, and every tool of kafka-sim reads what they did from the trace.
//!
//! An edge of the simulator, beside the command line: the sans-IO core is unchanged; the world
//! gets a new client kind whose inputs come from here ([`crate::world::EdgeClient`]). The
//! engine stays single-threaded on the caller's thread (the world is not `Send`); tokio serves
//! the sockets on another thread and hands frames over a channel; virtual time follows the
//! wall clock times `--speed`.
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | [`ServeConfig`], building the served world, the live loop |
//! | `clock.rs` | virtual time from the wall clock (the only reader of it) |
//! | `listener.rs` | tokio: listeners, per-connection reader and writer |
//! | `engine.rs` | sessions: frames in, frames out, muted while a request is out |
//! | `codec.rs` | frame headers, response encoding, bad input handled as Kafka does |
//! | `versions.rs` | the API versions served (ApiVersions) |
//! | `requests.rs` | wire requests to the model's requests |
//! | `responses.rs`, `group_responses.rs` | the model's responses to the wire |
//! | `admin.rs` | the APIs answered at the edge (CreateTopics, DescribeGroups, ...) |
//! | `list_offsets.rs` | ListOffsets: an end of the log or a record by its timestamp |
//! | `groups.rs` | the consumer protocol's subscription and assignment bytes |
//! | `consumer_heartbeat.rs` | ConsumerGroupHeartbeat (KIP-848) to and from the model |
//! | `topic_ids.rs` | topic ids (KIP-516) for Metadata v10+ and KIP-848 assignments |
//! | `records.rs` | record batches v2 to and from the model's records |
//! | `txn.rs` | the transactional APIs (`TxnOffsetCommit` goes to the group coordinator) |
//! | `inprocess.rs` | serving on a thread of one's own program, stopped by a call (tests) |
//! | `replay.rs` | a served session's trace handed to the same world again |

pub mod admin;
pub mod clock;
pub mod codec;
pub mod consumer_heartbeat;
pub mod engine;
pub mod group_responses;
pub mod groups;
pub mod inprocess;
pub mod list_offsets;
pub mod listener;
pub mod records;
pub mod replay;
pub mod requests;
pub mod responses;
pub mod topic_ids;
pub mod txn;
pub mod versions;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use crate::runner;
use crate::scenario::{Scenario, ScenarioError, SourceMap};
use crate::scheduler::EventLimitExceeded;
use crate::trace::{ServeStarted, TraceEvent};
use crate::units::{BrokerId, Millis, SimTime};
use crate::world::World;

use self::admin::TopicDefaults;
use self::clock::{Clock, epoch_ms};
use self::engine::{Engine, Inbound, Outbound};
use self::listener::{Event, Write};
use self::responses::Cluster;

/// Kafka's `socket.request.max.bytes` default: a larger size prefix closes the connection.
pub const SOCKET_REQUEST_MAX_BYTES: usize = 104_857_600;

/// Why serving failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A listener could not be bound, or the sockets' thread failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The scenario asks for something the simulator refuses.
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// The run did not settle within its event limit.
    #[error("{0}")]
    EventLimit(#[from] EventLimitExceeded),
    /// A non-loopback address without `--allow-remote`.
    #[error("{0} is not a loopback address: pass --allow-remote to listen on it")]
    NotLoopback(SocketAddr),
}

/// How a session is served.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The first broker's listener; broker `i` listens on the port `i` above it (or on an
    /// ephemeral port of the same address when it is 0).
    pub listen: SocketAddr,
    /// Virtual ms per wall ms.
    pub speed: f64,
    /// `socket.request.max.bytes`.
    pub max_request_bytes: usize,
    /// Listen on a non-loopback address too.
    pub allow_remote: bool,
    /// Set to stop serving, as SIGINT does (a program serving in-process: tests).
    pub stop: Arc<AtomicBool>,
}

impl ServeConfig {
    /// 127.0.0.1 on ephemeral ports, at `speed`, Kafka's request limit.
    pub fn loopback(speed: f64) -> ServeConfig {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            speed,
            max_request_bytes: SOCKET_REQUEST_MAX_BYTES,
            allow_remote: false,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// The topic defaults of a served cluster without a scenario (Kafka's: auto-creation on, one
/// partition, one replica).
pub fn default_topics() -> TopicDefaults {
    TopicDefaults {
        auto_create: true,
        num_partitions: 1,
        replication_factor: 1,
    }
}

/// Builds the served cluster: the scenario's (brokers, topics, clients, faults), or one broker
/// `1` with lag sampled every second.
pub fn build(world: &mut World<'_>, scenario: Option<&Scenario>) -> Result<(), ScenarioError> {
    match scenario {
        Some(s) => runner::build(world, s, &SourceMap::new(&s.path, &s.source)),
        None => {
            world.add_broker(BrokerId(1));
            world.with_broker(BrokerId(1), |b, out| {
                b.sample_lag_every(Millis(1000), SimTime::ZERO, out)
            });
            Ok(())
        }
    }
}

/// Binds one listener per broker of `world`.
pub fn bind(
    config: &ServeConfig,
    brokers: &[BrokerId],
) -> Result<Vec<(BrokerId, TcpListener)>, ServeError> {
    if !config.listen.ip().is_loopback() && !config.allow_remote {
        return Err(ServeError::NotLoopback(config.listen));
    }
    let mut out = Vec::new();
    for (i, &id) in brokers.iter().enumerate() {
        let mut addr = config.listen;
        if addr.port() != 0 {
            addr.set_port(addr.port() + i as u16);
        }
        out.push((id, TcpListener::bind(addr)?));
    }
    Ok(out)
}

/// Serves `world` on `listeners` until SIGINT; `log` gets the server's log lines. Returns the
/// virtual time reached. The world must have been built (from `scenario`: its file and variant,
/// if any); the trace gets `ServeStarted` first.
pub fn run(
    world: &mut World<'_>,
    listeners: Vec<(BrokerId, TcpListener)>,
    config: &ServeConfig,
    scenario: Option<(String, Option<String>)>,
    defaults: TopicDefaults,
    mut log: impl FnMut(&str),
) -> Result<SimTime, ServeError> {
    let mut addrs = BTreeMap::new();
    for (id, l) in &listeners {
        addrs.insert(*id, l.local_addr()?);
    }
    let epoch = epoch_ms();
    let (scenario, variant) = scenario.unzip();
    let started = ServeStarted {
        scenario,
        variant: variant.flatten(),
        listeners: addrs.values().map(|a| a.to_string()).collect(),
        epoch_ms: epoch,
        speed: config.speed.to_string(),
    };
    world.record_edge(
        SimTime::ZERO,
        &"serve".into(),
        TraceEvent::ServeStarted(started),
    );
    let cluster = Cluster {
        listeners: addrs,
        cluster_id: "kafka-sim".into(),
        epoch_ms: epoch,
    };
    let mut engine = Engine::new(cluster, defaults);
    let (tx, rx) = mpsc::channel();
    let max = config.max_request_bytes;
    let clock = Arc::new(Clock::start(config.speed));
    let stamps = clock.clone();
    // Dropped when serving ends: the sockets' thread then closes the listeners and stops.
    let (_serving, done) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        if let Err(e) = listener::run(listeners, max, stamps, done, tx.clone()) {
            let _ = tx.send(Event::Log(format!("the listeners stopped: {e}")));
            let _ = tx.send(Event::Stop);
        }
    });
    serve_loop(world, &mut engine, &clock, &rx, &config.stop, &mut log)
}

/// Runs the world with the wall clock, handing it what the sockets report, until SIGINT.
fn serve_loop(
    world: &mut World<'_>,
    engine: &mut Engine,
    clock: &Clock,
    rx: &mpsc::Receiver<Event>,
    stop: &AtomicBool,
    log: &mut impl FnMut(&str),
) -> Result<SimTime, ServeError> {
    let mut writers: BTreeMap<u32, UnboundedSender<Write>> = BTreeMap::new();
    while !stop.load(Ordering::Relaxed) {
        let outs = engine.run_to(world, clock.now())?;
        dispatch(outs, &mut writers, log);
        let wait = world
            .next_event_at()
            .map_or(Duration::from_millis(100), |t| clock.until(t));
        match rx.recv_timeout(wait.min(Duration::from_millis(100))) {
            Ok(Event::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            Ok(Event::Log(line)) => log(&line),
            Ok(Event::Socket {
                inbound,
                at,
                writer,
            }) => {
                if let (Inbound::Opened { conn, .. }, Some(w)) = (&inbound, writer) {
                    writers.insert(*conn, w);
                }
                if let Inbound::Closed { conn } = &inbound {
                    writers.remove(conn);
                }
                let outs = engine.input(world, at, inbound)?;
                dispatch(outs, &mut writers, log);
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
    let end = clock.now().max(world.now());
    let outs = engine.run_to(world, end)?;
    dispatch(outs, &mut writers, log);
    for (_, writer) in writers {
        let _ = writer.send(Write::Close);
    }
    Ok(end)
}

fn dispatch(
    outs: Vec<Outbound>,
    writers: &mut BTreeMap<u32, UnboundedSender<Write>>,
    log: &mut impl FnMut(&str),
) {
    for out in outs {
        match out {
            Outbound::Frame { conn, bytes } => {
                if let Some(w) = writers.get(&conn) {
                    let _ = w.send(Write::Frame(bytes));
                }
            }
            Outbound::Close { conn } => {
                if let Some(w) = writers.remove(&conn) {
                    let _ = w.send(Write::Close);
                }
            }
            Outbound::Log(line) => log(&line),
        }
    }
}
