//! The fault plan: what goes wrong, where and when, as data.
//!
//! A [`FaultPlan`] lists [`Fault`]s, each with a start and (for most kinds) an end in virtual time
//! and a target named like a trace component (`producer/checkout`, `broker/1`,
//! `consumer/analytics/1`). [`FaultPlan::schedule`] validates it and turns it into the
//! time-ordered start and end events the world schedules (FoundationDB's fault workloads;
//! librdkafka's mock cluster injects the same kinds per broker and per request).
//!
//! - `latency` (Toxiproxy `latency`): each message on the target's links waits
//!   `latency ± jitter` more;
//! - `timeout` (Toxiproxy `timeout`): data is swallowed; the proxy closes the connection
//!   `after` ms later (never if 0);
//! - `bandwidth` (Toxiproxy `bandwidth`): the links carry `bytes_per_s`;
//! - `lost_ack`: the next `count` Produce responses vanish on their way back, each breaking its
//!   connection: what follows it on that connection is lost too, until the client closes it;
//! - `broker_down` (a broker): the process stops, connections close, requests are refused; it
//!   restarts at the fault's end;
//! - `crash` (a client): the process dies, no LeaveGroup, no flush (`kill -9`);
//! - `pause` (a client): the process freezes for the fault's duration (a long GC pause,
//!   `SIGSTOP`);
//! - `poison_pill` (a producer): a share of the records it sends are malformed.
//!
//! A fault on a client applies to its links to every broker; a link fault on a broker applies to
//! every client's link to it. `stream` is Toxiproxy's: `upstream` is client to broker (requests),
//! `downstream` broker to client (responses).
//!
//! Each fault is traced when it starts and when it ends (`FaultStarted`, `FaultEnded`); its
//! effects are traced where they happen (`MessageLost`, `ConnectionClosed`, `ClientPaused`...).

use std::fmt;

use crate::rng::Ratio;
use crate::units::{BrokerId, Millis, SimTime};

/// A list of faults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultPlan {
    faults: Vec<Fault>,
}

/// One fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// When it starts.
    pub start: SimTime,
    /// When it ends; `None` for a crash, and for faults that last until the run ends.
    pub end: Option<SimTime>,
    /// The component it hits, named as in traces.
    pub target: String,
    /// What it does.
    pub kind: FaultKind,
}

/// Which way a link fault applies (Toxiproxy's `stream`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Client to broker: requests.
    Upstream,
    /// Broker to client: responses.
    Downstream,
    /// Both ways.
    Both,
}

impl Direction {
    /// True if client-to-broker messages are affected.
    pub fn upstream(self) -> bool {
        matches!(self, Direction::Upstream | Direction::Both)
    }

    /// True if broker-to-client messages are affected.
    pub fn downstream(self) -> bool {
        matches!(self, Direction::Downstream | Direction::Both)
    }

    /// Toxiproxy's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Upstream => "upstream",
            Direction::Downstream => "downstream",
            Direction::Both => "both",
        }
    }
}

/// What a fault does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Toxiproxy `latency`.
    Latency {
        /// Added to every message.
        latency: Millis,
        /// Plus or minus up to this much, per message.
        jitter: Millis,
        /// Which way.
        direction: Direction,
    },
    /// Toxiproxy `timeout`: nothing gets through, and the proxy closes each connection `after`
    /// ms after the toxic meets it (when added, or when the client reconnects); 0 never closes.
    Timeout {
        /// Time before the close; 0 for never.
        after: Millis,
        /// Which way data is swallowed.
        direction: Direction,
    },
    /// Toxiproxy `bandwidth`.
    Bandwidth {
        /// Bytes per second (Toxiproxy's `rate` is in KB/s: multiply by 1000).
        bytes_per_s: u64,
        /// Which way.
        direction: Direction,
    },
    /// The next `count` Produce responses on the target's links are lost: the broker wrote the
    /// records, the producer never hears so.
    LostAck {
        /// How many acknowledgements vanish.
        count: u32,
    },
    /// The broker process is down: its connections close, new ones are refused, it handles
    /// nothing. It comes back at the fault's end with its logs intact.
    BrokerDown,
    /// The client process dies at the start (no LeaveGroup, no flush). Never ends.
    Crash,
    /// The client process freezes from start to end.
    Pause,
    /// The producer's application sends malformed values: each record it sends while the fault
    /// lasts is a poison pill with probability `ratio` (drawn from the producer's stream).
    PoisonPill {
        /// The share of records made malformed.
        ratio: Ratio,
    },
}

impl FaultKind {
    /// The kind's name in traces and scenarios.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Latency { .. } => "latency",
            FaultKind::Timeout { .. } => "timeout",
            FaultKind::Bandwidth { .. } => "bandwidth",
            FaultKind::LostAck { .. } => "lost_ack",
            FaultKind::BrokerDown => "broker_down",
            FaultKind::Crash => "crash",
            FaultKind::Pause => "pause",
            FaultKind::PoisonPill { .. } => "poison_pill",
        }
    }

    /// The parameters, in Toxiproxy's and Kafka's words, for the trace.
    pub fn detail(&self) -> String {
        match self {
            FaultKind::Latency {
                latency,
                jitter,
                direction,
            } => format!(
                "latency={}ms jitter={}ms stream={}",
                latency.0,
                jitter.0,
                direction.name()
            ),
            FaultKind::Timeout { after, direction } => {
                format!("timeout={}ms stream={}", after.0, direction.name())
            }
            FaultKind::Bandwidth {
                bytes_per_s,
                direction,
            } => format!("rate={bytes_per_s}B/s stream={}", direction.name()),
            FaultKind::LostAck { count } => format!("count={count}"),
            FaultKind::BrokerDown | FaultKind::Crash | FaultKind::Pause => String::new(),
            FaultKind::PoisonPill { ratio } => format!("ratio={ratio}"),
        }
    }

    /// True for the Toxiproxy-style faults that change links.
    pub fn is_link_fault(&self) -> bool {
        matches!(
            self,
            FaultKind::Latency { .. }
                | FaultKind::Timeout { .. }
                | FaultKind::Bandwidth { .. }
                | FaultKind::LostAck { .. }
        )
    }
}

/// A fault's target, from its component name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// `broker/<id>`.
    Broker(BrokerId),
    /// Any other component: a client (`producer/<name>`, `consumer/<group>/<n>`).
    Client(String),
}

impl Target {
    /// Reads a component name: `broker/<id>` is a broker, anything else a client.
    pub fn parse(component: &str) -> Target {
        match component
            .strip_prefix("broker/")
            .and_then(|id| id.parse().ok())
        {
            Some(id) => Target::Broker(BrokerId(id)),
            None => Target::Client(component.to_string()),
        }
    }
}

/// Whether an event starts or ends its fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// The fault begins.
    Start,
    /// The fault ends.
    End,
}

/// One scheduled change: fault number `index` of the plan starts or ends at `at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultEvent {
    /// When.
    pub at: SimTime,
    /// Which fault, by position in the plan.
    pub index: usize,
    /// Start or end.
    pub phase: Phase,
}

/// A fault plan that cannot run, saying what to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    /// The end is not after the start.
    #[error(
        "fault {index} ({kind} on {target}) ends at {end} ms, not after its start at {start} ms"
    )]
    EndNotAfterStart {
        /// Position in the plan.
        index: usize,
        /// Kind name.
        kind: &'static str,
        /// Target.
        target: String,
        /// Start.
        start: u64,
        /// End.
        end: u64,
    },
    /// A pause needs an end: that is its duration.
    #[error("fault {index} (pause on {target}) needs an end time: the pause lasts until then")]
    PauseNeedsEnd {
        /// Position in the plan.
        index: usize,
        /// Target.
        target: String,
    },
    /// A crash is forever.
    #[error(
        "fault {index} (crash on {target}) has an end time, but a crashed process never comes \
         back: remove the end"
    )]
    CrashHasEnd {
        /// Position in the plan.
        index: usize,
        /// Target.
        target: String,
    },
    /// The kind does not apply to this target.
    #[error("fault {index} ({kind}) cannot target {target}: it targets {expected}")]
    WrongTarget {
        /// Position in the plan.
        index: usize,
        /// Kind name.
        kind: &'static str,
        /// Target.
        target: String,
        /// What it can target.
        expected: &'static str,
    },
    /// A parameter is out of range.
    #[error("fault {index} ({kind} on {target}): {problem}")]
    BadParameter {
        /// Position in the plan.
        index: usize,
        /// Kind name.
        kind: &'static str,
        /// Target.
        target: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// No component of the world has this name.
    #[error("fault {index} ({kind}) targets {target}, which is not a component of this run")]
    UnknownTarget {
        /// Position in the plan.
        index: usize,
        /// Kind name.
        kind: &'static str,
        /// Target.
        target: String,
    },
}

impl FaultPlan {
    /// An empty plan.
    pub fn new() -> FaultPlan {
        FaultPlan::default()
    }

    /// Adds a fault from `start` to `end` (builder style).
    pub fn with(
        mut self,
        start: SimTime,
        end: Option<SimTime>,
        target: &str,
        kind: FaultKind,
    ) -> FaultPlan {
        self.faults.push(Fault {
            start,
            end,
            target: target.to_string(),
            kind,
        });
        self
    }

    /// Adds a fault.
    pub fn push(&mut self, fault: Fault) {
        self.faults.push(fault);
    }

    /// The faults, in the order given.
    pub fn faults(&self) -> &[Fault] {
        &self.faults
    }

    /// Checks every fault and returns their starts and ends in time order (a start before an end
    /// at the same time, then plan order), which is the order the world applies them in.
    pub fn schedule(&self) -> Result<Vec<FaultEvent>, FaultError> {
        let mut events = Vec::with_capacity(2 * self.faults.len());
        for (index, fault) in self.faults.iter().enumerate() {
            fault.validate(index)?;
            events.push(FaultEvent {
                at: fault.start,
                index,
                phase: Phase::Start,
            });
            if let Some(end) = fault.end {
                events.push(FaultEvent {
                    at: end,
                    index,
                    phase: Phase::End,
                });
            }
        }
        events.sort_by_key(|event| (event.at, event.phase, event.index));
        Ok(events)
    }
}

impl Fault {
    fn validate(&self, index: usize) -> Result<(), FaultError> {
        let kind = self.kind.name();
        let target = || self.target.clone();
        if let Some(end) = self.end
            && end <= self.start
        {
            return Err(FaultError::EndNotAfterStart {
                index,
                kind,
                target: target(),
                start: self.start.0,
                end: end.0,
            });
        }
        let on_broker = matches!(Target::parse(&self.target), Target::Broker(_));
        let wrong = |expected| FaultError::WrongTarget {
            index,
            kind,
            target: target(),
            expected,
        };
        let bad = |problem| FaultError::BadParameter {
            index,
            kind,
            target: target(),
            problem,
        };
        match &self.kind {
            FaultKind::BrokerDown if !on_broker => return Err(wrong("a broker (broker/<id>)")),
            FaultKind::Crash | FaultKind::Pause | FaultKind::PoisonPill { .. } if on_broker => {
                return Err(wrong("a client (producer/<name>, consumer/<group>/<n>)"));
            }
            FaultKind::Crash if self.end.is_some() => {
                return Err(FaultError::CrashHasEnd {
                    index,
                    target: target(),
                });
            }
            FaultKind::Pause if self.end.is_none() => {
                return Err(FaultError::PauseNeedsEnd {
                    index,
                    target: target(),
                });
            }
            FaultKind::Bandwidth { bytes_per_s: 0, .. } => {
                return Err(bad(
                    "a bandwidth of 0 B/s carries nothing: use a timeout fault",
                ));
            }
            FaultKind::LostAck { count: 0 } => return Err(bad("count must be at least 1")),
            _ => {}
        }
        Ok(())
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on {} at {}",
            self.kind.name(),
            self.target,
            self.start
        )?;
        if let Some(end) = self.end {
            write!(f, " until {end}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_in_time_order() {
        let plan = FaultPlan::new()
            .with(
                SimTime(50),
                Some(SimTime(60)),
                "broker/1",
                FaultKind::BrokerDown,
            )
            .with(
                SimTime(10),
                Some(SimTime(50)),
                "producer/p",
                FaultKind::LostAck { count: 1 },
            )
            .with(SimTime(70), None, "consumer/g/1", FaultKind::Crash);
        let order: Vec<_> = plan
            .schedule()
            .unwrap()
            .iter()
            .map(|event| (event.at.0, event.index, event.phase))
            .collect();
        assert_eq!(
            order,
            vec![
                (10, 1, Phase::Start),
                (50, 0, Phase::Start),
                (50, 1, Phase::End),
                (60, 0, Phase::End),
                (70, 2, Phase::Start),
            ]
        );
        assert_eq!(Target::parse("broker/3"), Target::Broker(BrokerId(3)));
        assert_eq!(
            Target::parse("producer/p"),
            Target::Client("producer/p".into())
        );
    }

    #[test]
    fn bad_plans_say_what_to_fix() {
        let one = |end, target: &str, kind| {
            FaultPlan::new()
                .with(SimTime(10), end, target, kind)
                .schedule()
                .unwrap_err()
                .to_string()
        };
        let error = one(Some(SimTime(10)), "broker/1", FaultKind::BrokerDown);
        assert!(error.contains("not after its start"), "{error}");
        let error = one(None, "producer/p", FaultKind::BrokerDown);
        assert!(error.contains("targets a broker"), "{error}");
        let error = one(Some(SimTime(20)), "consumer/g/1", FaultKind::Crash);
        assert!(error.contains("never comes back"), "{error}");
        let error = one(None, "consumer/g/1", FaultKind::Pause);
        assert!(error.contains("needs an end"), "{error}");
        let error = one(None, "broker/1", FaultKind::Pause);
        assert!(error.contains("cannot target broker/1"), "{error}");
    }
}
