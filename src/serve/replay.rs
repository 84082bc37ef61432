//! `kafka-sim replay`: a served session's trace handed to the same world again, in virtual
//! time. The trace holds every input the edge gave the world (`EdgeConnected`, `EdgeRequest`,
//! `EdgeDisconnected`, each at the virtual time it was handed over); the world is built again
//! from the same scenario and seed, and the same [`Engine`] hands it the same inputs at the same
//! times. Everything downstream is deterministic, so the brokers and coordinators reach the same
//! decisions (same offsets, same members, same assignments, same commits): a student's session
//! becomes a reproducible run.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::scheduler::EventLimitExceeded;
use crate::trace::{ServeStarted, TraceEvent, TraceRecord};
use crate::units::{BrokerId, SimTime};
use crate::world::World;

use super::admin::TopicDefaults;
use super::engine::{Engine, Inbound, unhex};
use super::responses::Cluster;

/// What a served session's trace says about its inputs.
#[derive(Clone, Debug)]
pub struct Session {
    /// How it started.
    pub started: ServeStarted,
    /// The inputs, in order, each at its virtual time.
    pub inputs: Vec<(SimTime, Inbound)>,
    /// Where the session ended.
    pub ended_at: SimTime,
}

/// Reads a served session's inputs from its trace records.
pub fn read(records: &[TraceRecord]) -> Result<Session, String> {
    let mut started = None;
    let mut inputs = Vec::new();
    let mut ended_at = SimTime::ZERO;
    for r in records {
        let at = SimTime(r.t_ms);
        ended_at = ended_at.max(at);
        let inbound = match &r.event {
            TraceEvent::ServeStarted(s) => {
                started = Some(s.clone());
                continue;
            }
            TraceEvent::EdgeConnected(c) => Inbound::Opened {
                conn: c.connection,
                broker: BrokerId(c.broker),
                peer: c.peer.clone(),
            },
            TraceEvent::EdgeRequest(q) => {
                let frame = unhex(&q.frame)
                    .ok_or_else(|| format!("line seq {}: a frame that is not hex", r.seq))?;
                Inbound::Frame {
                    conn: q.connection,
                    frame,
                }
            }
            TraceEvent::EdgeDisconnected(d) => Inbound::Closed { conn: d.connection },
            _ => continue,
        };
        inputs.push((at, inbound));
    }
    let started = started.ok_or("not the trace of a served session (no ServeStarted event)")?;
    Ok(Session {
        started,
        inputs,
        ended_at,
    })
}

/// Replays `session` on `world` (built as the session's was), up to where it ended.
pub fn replay(
    world: &mut World<'_>,
    session: &Session,
    defaults: TopicDefaults,
) -> Result<SimTime, EventLimitExceeded> {
    let mut listeners = BTreeMap::new();
    for (id, addr) in world
        .broker_ids()
        .into_iter()
        .zip(&session.started.listeners)
    {
        let addr: SocketAddr = addr
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 9092)));
        listeners.insert(id, addr);
    }
    let event = TraceEvent::ServeStarted(session.started.clone());
    world.record_edge(SimTime::ZERO, &"serve".into(), event);
    let cluster = Cluster {
        listeners,
        cluster_id: "kafka-sim".into(),
        epoch_ms: session.started.epoch_ms,
    };
    let mut engine = Engine::new(cluster, defaults);
    for (at, inbound) in &session.inputs {
        engine.input(world, *at, inbound.clone())?;
    }
    engine.run_to(world, session.ended_at)?;
    Ok(session.ended_at)
}
