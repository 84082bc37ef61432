//! Each broker's known timing shift, as a model of its group coordinator fed with the
//! scenario's configs: what a consumer group's first assignment and its reassignment after a
//! crash or a close should take on Apache Kafka (the simulator), on librdkafka 2.12.1's mock
//! cluster and on tansu (main at 50e5666, which reports 0.6.0), with librdkafka members.
//!
//! The shift is not typed per scenario: [`tolerances`] derives it from `session.timeout.ms`
//! (S), `heartbeat.interval.ms` (H), `group.initial.rebalance.delay.ms` (D), the member count
//! and the departure's time, using the mechanics read in each broker's source (the real-kafka
//! README, "Why the timings differ, from the brokers' source"):
//!
//! - **Kafka** (`GroupCoordinator`, KIP-134): the first rebalance of an empty group waits D, and
//!   D once more when a member joined meanwhile; a member's session expires exactly S after its
//!   last heartbeat, the survivors learn of the rebalance at their next heartbeat, and the join
//!   completes as soon as every remaining member has rejoined.
//! - **Mock cluster** (`rdkafka_mock_cgrp.c`): sessions are checked by a 1 s timer
//!   (`rd_kafka_mock_cgrp_classic_session_tmr_cb`), so an expiry is seen b late, b in
//!   [0, 1000); every join window is a flat timer (`rd_kafka_mock_cgrp_classic_rebalance`): D
//!   for an empty group (no KIP-134 extension), S − 1000 after an expiry or a LeaveGroup, and
//!   nothing ends it early.
//! - **tansu** (`administrator.rs`): no expiry timer; a member silent for more than S is removed
//!   at the next group request of another member (`missed_heartbeat`), here a survivor's
//!   heartbeat; every JoinGroup is held until S/2 has passed, in 1 s steps; a follower that syncs
//!   before its leader is retried after 1 s, which starts its heartbeats 1 s later.
//!
//! The model predicts a window of real values; the shift is its middle minus Kafka's value, and
//! the tolerance is its half-width plus [`NOISE_MS`]. A timing outside that fails the comparison
//! and the row says by how much (`compare`'s timing rows).

use std::fmt;
use std::str::FromStr;

use super::{Metric, Tolerances};
use crate::client::consumer::config::ConsumerConfig;
use crate::scenario::{Action, Scenario, Target};

/// Real-time noise allowed on top of a window: the research saw at most 130 ms of round trips,
/// process start and heartbeat drift (librdkafka reschedules its timers from "now", a few ms
/// per heartbeat interval: about 100 ms over the minute before these scenarios' crashes); 300
/// leaves room for a 2-core machine shared with builds. A broker change of its own timing (a
/// join window, the session tick, the S/2 hold) moves a figure by a second or more.
pub const NOISE_MS: u64 = 300;

/// From the start of a librdkafka member to its first JoinGroup at the broker (bootstrap,
/// Metadata, FindCoordinator): about 55 ms in the runs (README rows 6 and 7: 3.06 s).
const CLIENT_START_MS: u64 = 55;

/// A join's end to the assignment: the JoinGroup response, the leader's Metadata, SyncGroup.
const SYNC_ROUND_MS: u64 = 7;

/// librdkafka's close (the final commit, then LeaveGroup) reaches the broker 50 to 150 ms after
/// the close command (the mock's 5.07 to 5.09 s in `group-crash.toml`, S − 1000 = 5000).
const CLOSE_LATENCY_MS: [u64; 2] = [50, 150];

/// Kafka's (the simulator's) join and sync round trips and its close: the first complete
/// assignment comes 6 ms after the JoinGroups' arrival plus the delays (6006 with D = 3000 run
/// twice), the heartbeat grid 1 ms before it, a LeaveGroup 8 ms after the close command.
const SIM_ROUND_MS: u64 = 6;
const SIM_CLOSE_MS: u64 = 8;

/// A broker `kafka-sim-real` runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokerModel {
    /// Apache Kafka: the simulator's own model, no shift.
    Kafka,
    /// librdkafka 2.12.1's mock cluster.
    Mock,
    /// tansu main at 50e5666.
    Tansu,
}

/// An unknown broker name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown broker {0:?}; use kafka, mock or tansu")]
pub struct UnknownBroker(pub String);

impl FromStr for BrokerModel {
    type Err = UnknownBroker;

    fn from_str(s: &str) -> Result<BrokerModel, UnknownBroker> {
        match s {
            "kafka" => Ok(BrokerModel::Kafka),
            "mock" => Ok(BrokerModel::Mock),
            "tansu" => Ok(BrokerModel::Tansu),
            other => Err(UnknownBroker(other.to_string())),
        }
    }
}

impl fmt::Display for BrokerModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BrokerModel::Kafka => "kafka",
            BrokerModel::Mock => "mock",
            BrokerModel::Tansu => "tansu",
        })
    }
}

/// How a member leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leaving {
    /// Killed: no LeaveGroup, the session expires.
    Crash,
    /// `close()`: a final commit, then LeaveGroup.
    Close,
}

/// The configs a group's timing depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupTiming {
    /// `session.timeout.ms` (S).
    pub session_timeout_ms: u64,
    /// `heartbeat.interval.ms` (H).
    pub heartbeat_interval_ms: u64,
    /// The broker's `group.initial.rebalance.delay.ms` (D).
    pub initial_delay_ms: u64,
    /// Members, all started at 0.
    pub members: u32,
    /// One member's departure and its time, if any.
    pub departure: Option<(Leaving, u64)>,
}

/// Why a scenario's group is outside the model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotModelled {
    /// No `[[consumer_group]]`.
    #[error("the scenario has no consumer group")]
    NoGroup,
    /// Members start at different times.
    #[error("group {0}: the timing model covers members that start together at 0")]
    StaggeredStart(String),
    /// More than one crash or close, or another action on a member.
    #[error("group {0}: the timing model covers at most one crash or close and no other action")]
    Timeline(String),
    /// The group's configs do not parse.
    #[error("group {0}: {1}")]
    Config(String, String),
}

impl GroupTiming {
    /// The timing inputs of the scenario's first consumer group (the one a timed scenario has).
    pub fn from_scenario(s: &Scenario) -> Result<GroupTiming, NotModelled> {
        let g = s.groups.first().ok_or(NotModelled::NoGroup)?;
        let id = g.group_id.clone();
        if g.member_starts.iter().any(|t| t.0 != 0) {
            return Err(NotModelled::StaggeredStart(id));
        }
        let settings = g.config.iter().chain([("group.id", id.as_str())]);
        let config = ConsumerConfig::parse(g.client, settings)
            .map_err(|e| NotModelled::Config(id.clone(), e.to_string()))?;
        let mine: Vec<_> = s
            .actions
            .iter()
            .filter(|a| matches!(&a.target, Target::Consumer { group, .. } if *group == id))
            .collect();
        let departure = match mine.as_slice() {
            [] => None,
            [a] => match a.action {
                Action::Crash => Some((Leaving::Crash, a.at.0)),
                Action::Close => Some((Leaving::Close, a.at.0)),
                _ => return Err(NotModelled::Timeline(id)),
            },
            _ => return Err(NotModelled::Timeline(id)),
        };
        let initial_delay_ms = s
            .cluster
            .config
            .get("group.initial.rebalance.delay.ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(3_000);
        Ok(GroupTiming {
            session_timeout_ms: config.session_timeout.0,
            heartbeat_interval_ms: config.heartbeat_interval.0,
            initial_delay_ms,
            members: g.members(),
            departure,
        })
    }
}

/// A predicted range of real values, in ms, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Earliest.
    pub low_ms: u64,
    /// Latest.
    pub high_ms: u64,
}

impl Window {
    fn at(ms: u64) -> Window {
        Window {
            low_ms: ms,
            high_ms: ms,
        }
    }

    fn over(values: impl IntoIterator<Item = u64>) -> Option<Window> {
        values.into_iter().fold(None, |w: Option<Window>, v| {
            Some(match w {
                None => Window::at(v),
                Some(w) => Window {
                    low_ms: w.low_ms.min(v),
                    high_ms: w.high_ms.max(v),
                },
            })
        })
    }

    /// True if `ms` lies in the window widened by `noise` on each side.
    pub fn holds(self, ms: u64, noise: u64) -> bool {
        ms + noise >= self.low_ms && ms <= self.high_ms + noise
    }
}

/// The first complete assignment, from the start of the run.
pub fn first_assignment(broker: BrokerModel, g: &GroupTiming) -> Window {
    let d = g.initial_delay_ms;
    match broker {
        // KIP-134: members joining during the delay make it run once more.
        BrokerModel::Kafka => {
            let delays = if g.members > 1 { 2 } else { 1 };
            Window::at(d * delays + SIM_ROUND_MS)
        }
        BrokerModel::Mock => Window {
            low_ms: CLIENT_START_MS + d,
            high_ms: CLIENT_START_MS + d + 2 * SYNC_ROUND_MS,
        },
        // The leader at the hold's end, a follower that synced first one 1 s retry later.
        BrokerModel::Tansu => {
            let first = CLIENT_START_MS + tansu_hold(g.session_timeout_ms);
            let retried = if g.members > 1 { 1_000 } else { 0 };
            Window {
                low_ms: first,
                high_ms: first + retried + SYNC_ROUND_MS,
            }
        }
    }
}

/// On the mock, the first assignment when a follower's SyncGroup came after the leader's
/// (README row 8): refused INVALID_REQUEST, the follower rejoins, and a JoinGroup into a stable
/// group opens another S − 1000 window. A figure this late is the race, not a shift.
pub fn mock_first_assignment_after_sync_race(g: &GroupTiming) -> u64 {
    CLIENT_START_MS + g.initial_delay_ms + 5 + (g.session_timeout_ms - 1_000) + 8
}

/// From the departure to the next complete assignment without the member; `None` without a
/// departure, or when the broker would not have assigned the group before it (tansu holds the
/// first JoinGroup S/2: a departure before that is not comparable).
pub fn reassignment(broker: BrokerModel, g: &GroupTiming) -> Option<Window> {
    let (leaving, at) = g.departure?;
    let (s, h) = (g.session_timeout_ms, g.heartbeat_interval_ms);
    let first = first_assignment(broker, g);
    // A departure before the broker's first assignment is not comparable; and the mock's
    // flat window only gathers the survivors if their next heartbeat comes before it closes.
    let window_misses_survivors =
        broker == BrokerModel::Mock && h + 1_000 > s.saturating_sub(1_000);
    if at <= first.high_ms || window_misses_survivors {
        return None;
    }
    match (broker, leaving) {
        (BrokerModel::Kafka, Leaving::Crash) => {
            let grid = first.low_ms - 1;
            let expiry = last_point_before(grid, h, at) + s;
            Some(Window::at(
                next_point_from(grid, h, expiry) + SIM_ROUND_MS + 1 - at,
            ))
        }
        (BrokerModel::Kafka, Leaving::Close) => {
            let grid = first.low_ms - 1;
            let seen = next_point_from(grid, h, at + SIM_CLOSE_MS);
            Some(Window::at(seen - at))
        }
        // S − a + b + (S − 1000) + ε, b in [0, 1000): the 1 s session tick, then the flat
        // window; the survivors' rejoins fall inside it. Heartbeats start at the assignment.
        (BrokerModel::Mock, Leaving::Crash) => {
            let expiry = last_point_before(first.low_ms + 5, h, at) + s;
            let low = expiry + (s - 1_000) + SYNC_ROUND_MS - at;
            Some(Window {
                low_ms: low,
                high_ms: low + 999,
            })
        }
        (BrokerModel::Mock, Leaving::Close) => {
            Window::over(CLOSE_LATENCY_MS.map(|l| l + (s - 1_000) + SYNC_ROUND_MS))
        }
        (BrokerModel::Tansu, Leaving::Crash) => tansu_crash(g, first.low_ms, at),
        (BrokerModel::Tansu, Leaving::Close) => tansu_close(g, first.low_ms, at),
    }
}

/// tansu's hold of a JoinGroup: 1 s sleeps while less than S/2 has passed, each about 1 ms
/// late (5005 ms for S = 10000).
fn tansu_hold(session_timeout_ms: u64) -> u64 {
    let steps = (session_timeout_ms / 2).div_ceil(1_000);
    steps * 1_001
}

/// tansu after a crash: each member's heartbeats start at its first assignment, `first` or one
/// second later (the sync retry), depending on the first join's race. The dead member is
/// removed at the first survivor heartbeat that finds it silent for more than S (a tie, within
/// a few ms of drift, may go either way), then the survivor's rejoin is held S/2.
fn tansu_crash(g: &GroupTiming, first: u64, at: u64) -> Option<Window> {
    let (s, h) = (g.session_timeout_ms, g.heartbeat_interval_ms);
    let hold = tansu_hold(s);
    let grids = [first, first + 1_000];
    let mut outcomes = Vec::new();
    for dead in grids {
        let last = last_point_before(dead, h, at);
        for survivor in grids {
            for strict in [true, false] {
                let from = if strict { last + s + 1 } else { last + s };
                let seen = next_point_from(survivor, h, from);
                outcomes.push(seen + hold + 1 - at);
            }
        }
    }
    // With more than one survivor, those on the other grid learn of the rebalance at their own
    // next heartbeat, 1 or 2 s after the detecting one, and each JoinGroup is held S/2 from
    // its arrival: the last one's decides.
    let spread = if g.members > 2 { 2_000 } else { 0 };
    Window::over(outcomes).map(|w| Window {
        high_ms: w.high_ms + spread,
        ..w
    })
}

/// tansu after a close: the LeaveGroup re-forms the group; the survivors learn at their next
/// heartbeat and are held S/2.
fn tansu_close(g: &GroupTiming, first: u64, at: u64) -> Option<Window> {
    let h = g.heartbeat_interval_ms;
    let hold = tansu_hold(g.session_timeout_ms);
    let mut outcomes = Vec::new();
    for survivor in [first, first + 1_000] {
        for latency in CLOSE_LATENCY_MS {
            outcomes.push(next_point_from(survivor, h, at + latency) + hold + 1 - at);
        }
    }
    Window::over(outcomes)
}

/// The last heartbeat of the grid `start + k·h` strictly before `t` (`t` > `start`).
fn last_point_before(start: u64, h: u64, t: u64) -> u64 {
    start + (t - 1 - start) / h * h
}

/// The first heartbeat of the grid `start + k·h` at or after `t`.
fn next_point_from(start: u64, h: u64, t: u64) -> u64 {
    if t <= start {
        return start;
    }
    start + (t - start).div_ceil(h) * h
}

/// The allowances for comparing a simulated run of `g` with a run on `broker`: for each timing
/// metric, the shift is the middle of the broker's window minus Kafka's value, and the tolerance
/// half the window's width plus [`NOISE_MS`]. A metric the model cannot predict (no departure,
/// a departure before the first assignment) keeps the defaults. Kafka gets the defaults.
pub fn tolerances(broker: BrokerModel, g: &GroupTiming) -> Tolerances {
    let mut t = Tolerances::default();
    if broker == BrokerModel::Kafka {
        return t;
    }
    let mut set = |metric, window: Window, kafka: Window| {
        let middle = (window.low_ms + window.high_ms).div_ceil(2);
        t.set_shift(metric, middle as i64 - kafka.low_ms as i64);
        t.set_within(
            metric,
            (window.high_ms - window.low_ms).div_ceil(2) + NOISE_MS,
        );
    };
    let kafka_first = first_assignment(BrokerModel::Kafka, g);
    set(
        Metric::FirstAssignment,
        first_assignment(broker, g),
        kafka_first,
    );
    if let (Some(real), Some(kafka)) =
        (reassignment(broker, g), reassignment(BrokerModel::Kafka, g))
    {
        set(Metric::Reassignment, real, kafka);
    }
    t
}

#[cfg(test)]
mod tests;
