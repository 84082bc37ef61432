//! The transaction coordinator's failover as the trace shows it: when each transactional id's
//! coordinator moved (`TxnCoordinatorMoved`, with the state it was loaded in), when its producer
//! found the new one (`TxnCoordinatorFound`), and the transactions its coordinators completed
//! (`TxnStateChanged` to CompleteCommit or CompleteAbort).

use crate::trace::{TraceEvent, TraceRecord};

use super::Report;

/// One fact about a transactional id's coordinator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnCoordinatorFact {
    /// When.
    pub t_ms: u64,
    /// `transactional.id`.
    pub transactional_id: String,
    /// What happened.
    pub kind: TxnCoordinatorFactKind,
}

/// What happened to a transactional id's coordinator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnCoordinatorFactKind {
    /// Its coordinator moved to `to`, which loaded it in `state` (`Ongoing`, `PrepareCommit`...).
    Moved {
        /// The new coordinator's broker.
        to: u32,
        /// The state it was loaded in.
        state: String,
    },
    /// Its producer found the coordinator on `broker`.
    Found {
        /// The coordinator's broker.
        broker: u32,
    },
    /// Its coordinator on `broker` completed a transaction (`CompleteCommit`, `CompleteAbort`).
    Completed {
        /// The broker whose coordinator completed it.
        broker: u32,
        /// `CompleteCommit` or `CompleteAbort`.
        state: String,
    },
}

impl Report {
    /// Records a transaction coordinator event.
    pub(super) fn txn_coordinator_fact(&mut self, r: &TraceRecord) {
        let (id, kind) = match &r.event {
            TraceEvent::TxnCoordinatorMoved(m) => {
                for entry in &m.transactional_ids {
                    let (id, state) = entry.rsplit_once(':').unwrap_or((entry, ""));
                    self.txn_coordinators.push(TxnCoordinatorFact {
                        t_ms: r.t_ms,
                        transactional_id: id.to_string(),
                        kind: TxnCoordinatorFactKind::Moved {
                            to: m.to,
                            state: state.to_string(),
                        },
                    });
                }
                return;
            }
            TraceEvent::TxnCoordinatorFound(f) => (
                f.transactional_id.to_string(),
                TxnCoordinatorFactKind::Found { broker: f.broker },
            ),
            TraceEvent::TxnStateChanged(t) if t.to.starts_with("Complete") => {
                let broker = r
                    .component
                    .strip_prefix("broker/")
                    .and_then(|b| b.parse().ok());
                let Some(broker) = broker else { return };
                let state = t.to.clone();
                let kind = TxnCoordinatorFactKind::Completed { broker, state };
                (t.transactional_id.to_string(), kind)
            }
            _ => return,
        };
        self.txn_coordinators.push(TxnCoordinatorFact {
            t_ms: r.t_ms,
            transactional_id: id,
            kind,
        });
    }

    /// When `id`'s coordinator first moved, and the state it was loaded in.
    pub fn txn_coordinator_moved(&self, id: &str) -> Option<(u64, u32, &str)> {
        self.txn_coordinators
            .iter()
            .filter(|f| f.transactional_id == id)
            .find_map(|f| match &f.kind {
                TxnCoordinatorFactKind::Moved { to, state } => Some((f.t_ms, *to, &state[..])),
                _ => None,
            })
    }

    /// When `id`'s producer first found the coordinator `broker`.
    pub fn txn_coordinator_found(&self, id: &str, broker: u32) -> Option<u64> {
        self.txn_coordinators
            .iter()
            .filter(|f| f.transactional_id == id)
            .find_map(|f| match f.kind {
                TxnCoordinatorFactKind::Found { broker: b } if b == broker => Some(f.t_ms),
                _ => None,
            })
    }

    /// How many of `id`'s transactions the coordinator on `broker` completed from `from_ms` on.
    pub fn txn_completed_by(&self, id: &str, broker: u32, from_ms: u64) -> u64 {
        let by_broker = |kind: &TxnCoordinatorFactKind| match kind {
            TxnCoordinatorFactKind::Completed { broker: b, .. } => *b == broker,
            _ => false,
        };
        let completed = self
            .txn_coordinators
            .iter()
            .filter(|f| f.transactional_id == id && f.t_ms >= from_ms && by_broker(&f.kind));
        completed.count() as u64
    }
}
