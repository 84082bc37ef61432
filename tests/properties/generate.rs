//! Generated scenarios: a [`Plan`] is a small scenario (one or two topics, a producer, maybe a
//! consumer group with crashes and restarts, a fault plan) that renders as the TOML a student
//! would write, so that any run can be replayed with `kafka-sim run`.
//!
//! Every run stays small: at most 120 records from the main producer, at most four consumers, a
//! minute or two of virtual time, so that a case costs tens of milliseconds.

use std::fmt::Write as _;

use proptest::prelude::{Just, Strategy, any, prop_oneof};
use proptest::sample::select;

/// The main topic, written by [`PRODUCER`].
pub const TOPIC: &str = "orders";
/// The second topic, written by `producer/auditor` when a plan has one.
pub const SECOND_TOPIC: &str = "audit";
/// The main producer's name (`producer/checkout`).
pub const PRODUCER: &str = "checkout";
/// The group's id; members are `consumer/analytics/<n>`.
pub const GROUP: &str = "analytics";

/// One generated scenario.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The master seed (`[scenario] seed` and `--seed`).
    pub seed: u64,
    /// Partitions of [`TOPIC`].
    pub partitions: u32,
    /// Partitions of [`SECOND_TOPIC`], if the plan has it.
    pub second_topic: Option<u32>,
    /// The main producer.
    pub producer: ProducerPlan,
    /// The consumer group, if any.
    pub group: Option<GroupPlan>,
    /// Faults on the main producer's links or the broker.
    pub faults: Vec<FaultPlan>,
    /// `group.initial.rebalance.delay.ms` (the broker's default is 3000).
    pub initial_rebalance_delay_ms: u64,
}

/// The main producer: Kafka configs that matter for ordering and duplicates.
#[derive(Clone, Debug)]
pub struct ProducerPlan {
    /// `java`, `java-3` or `librdkafka`.
    pub client: &'static str,
    /// Records it sends, values `checkout-<n>`, `n` counting sends from 0.
    pub records: u64,
    /// Pacing; `None` sends everything at once.
    pub rate_per_s: Option<u64>,
    /// Distinct keys `user-<k>`.
    pub keys: u64,
    /// Keys in turn (`cycle`) or drawn at random.
    pub random_keys: bool,
    /// `acks`.
    pub acks: &'static str,
    /// `enable.idempotence`.
    pub idempotence: bool,
    /// `max.in.flight.requests.per.connection`.
    pub max_in_flight: u32,
    /// `linger.ms`.
    pub linger_ms: u64,
    /// `request.timeout.ms`: short, so that a lost response is retried within the run.
    pub request_timeout_ms: u64,
    /// `delivery.timeout.ms`: short too, so that a batch that cannot be delivered fails (and
    /// an idempotent producer bumps its epoch, KIP-360) within the run.
    pub delivery_timeout_ms: u64,
    /// librdkafka's `partitioner` (only partitioners that hash keys), or the default.
    pub partitioner: Option<&'static str>,
}

/// A consumer group subscribed to the plan's topics.
#[derive(Clone, Debug)]
pub struct GroupPlan {
    /// Members at the start.
    pub members: u32,
    /// `java` or `librdkafka`.
    pub client: &'static str,
    /// `partition.assignment.strategy`.
    pub strategy: &'static str,
    /// `auto` (follows `enable.auto.commit`), `per-record` or `per-batch`.
    pub commit: &'static str,
    /// Processing time per record.
    pub processing_ms: u64,
    /// `session.timeout.ms`.
    pub session_timeout_ms: u64,
    /// `auto.commit.interval.ms`.
    pub auto_commit_interval_ms: u64,
    /// `max.poll.records` (librdkafka: the `consume(num_messages)` batch).
    pub max_poll_records: Option<u32>,
    /// `group.instance.id` per member.
    pub static_members: bool,
    /// Crashes, closes and restarts of members, at most one stop per member.
    pub stops: Vec<Stop>,
}

impl GroupPlan {
    /// Whether the group uses the KIP-848 protocol: a `strategy` of `consumer-uniform` or
    /// `consumer-range` stands for `group.protocol=consumer` with that `group.remote.assignor`.
    pub fn is_kip848(&self) -> bool {
        self.strategy.starts_with("consumer-")
    }
}

/// A member stops (crash or close) and maybe comes back as a new process.
#[derive(Clone, Debug)]
pub struct Stop {
    /// Member number, from 1.
    pub member: u32,
    /// When.
    pub at_ms: u64,
    /// `crash` (no LeaveGroup) rather than `close`.
    pub crash: bool,
    /// A new process takes the slot this long after the stop.
    pub restart_after_ms: Option<u64>,
    /// Instead of stopping, the process freezes this long (a GC pause) and carries on. The
    /// always-properties never pause a member: a member paused beyond `session.timeout.ms` is
    /// a zombie that still believes it owns its partitions, which Kafka's classic group protocol
    /// cannot prevent (see `sometimes.rs`).
    pub pause_ms: Option<u64>,
}

/// A fault of the fault plan.
#[derive(Clone, Debug)]
pub enum FaultPlan {
    /// The next `count` Produce responses to the producer vanish.
    LostAck {
        /// When.
        at_ms: u64,
        /// How many.
        count: u32,
    },
    /// Toxiproxy `latency` on the producer's links, both ways.
    Latency {
        /// From.
        at_ms: u64,
        /// Until.
        until_ms: u64,
        /// Added latency.
        latency_ms: u64,
        /// Jitter.
        jitter_ms: u64,
    },
    /// Toxiproxy `timeout` on the producer's links: data swallowed, the connection closed
    /// `timeout_ms` later (0: never).
    Timeout {
        /// From.
        at_ms: u64,
        /// Until.
        until_ms: u64,
        /// The toxic's timeout.
        timeout_ms: u64,
        /// Toxiproxy's `stream`: `upstream` swallows requests, `downstream` responses.
        direction: &'static str,
    },
    /// The broker is down (connections closed, requests refused).
    BrokerDown {
        /// From.
        at_ms: u64,
        /// Until.
        until_ms: u64,
    },
}

impl FaultPlan {
    fn until_ms(&self) -> u64 {
        match *self {
            FaultPlan::LostAck { at_ms, .. } => at_ms,
            FaultPlan::Latency { until_ms, .. }
            | FaultPlan::Timeout { until_ms, .. }
            | FaultPlan::BrokerDown { until_ms, .. } => until_ms,
        }
    }
}

impl Plan {
    /// The virtual time a run needs: every action and fault over, a batch stuck behind them
    /// delivered or timed out, then time for a crashed member's session to expire twice, the
    /// group to settle and the backlog to drain.
    pub fn duration_ms(&self) -> u64 {
        let sending = match self.producer.rate_per_s {
            Some(rate) => self.producer.records * 1000 / rate,
            None => 0,
        };
        let faults = self
            .faults
            .iter()
            .map(FaultPlan::until_ms)
            .max()
            .unwrap_or(0);
        let (stops, session) = match &self.group {
            Some(g) => {
                let last = g
                    .stops
                    .iter()
                    .map(|s| s.at_ms + s.restart_after_ms.or(s.pause_ms).unwrap_or(0));
                (last.max().unwrap_or(0), g.session_timeout_ms)
            }
            None => (0, 0),
        };
        // Time to process everything twice over, on one member.
        let processing = self.group.as_ref().map_or(0, |g| {
            let records = self.producer.records + self.second_topic.map_or(0, |_| 30);
            2 * records * g.processing_ms
        });
        let delivery = self.producer.delivery_timeout_ms;
        sending.max(faults).max(stops) + delivery + 2 * session + processing + 30_000
    }

    /// The partitions the group subscribes to, as `topic-partition`.
    pub fn subscribed_partitions(&self) -> Vec<String> {
        let mut out: Vec<String> = (0..self.partitions)
            .map(|p| format!("{TOPIC}-{p}"))
            .collect();
        if let Some(n) = self.second_topic {
            out.extend((0..n).map(|p| format!("{SECOND_TOPIC}-{p}")));
        }
        out
    }

    /// The scenario file.
    pub fn to_toml(&self) -> String {
        let mut t = String::new();
        let w = &mut t;
        line(w, "[scenario]");
        line(w, "name = \"generated\"");
        line(w, "notes = \"Generated by tests/properties.rs.\"");
        line(w, &format!("seed = {}", self.seed));
        line(w, &format!("duration_ms = {}", self.duration_ms()));
        line(w, &format!("client = \"{}\"", self.producer.client));
        line(w, "");
        line(w, "[cluster]");
        let delay = self.initial_rebalance_delay_ms;
        let mut cluster = format!("\"group.initial.rebalance.delay.ms\" = {delay}");
        if let Some(g) = self.group.as_ref().filter(|g| g.is_kip848()) {
            // KIP-848: the broker owns the session and the heartbeat interval.
            let session = g.session_timeout_ms;
            write!(
                cluster,
                ", \"group.consumer.session.timeout.ms\" = {session}, \
                 \"group.consumer.heartbeat.interval.ms\" = {}",
                session / 3
            )
            .unwrap();
        }
        line(w, &format!("config = {{ {cluster} }}"));
        line(w, "");
        topic(w, TOPIC, self.partitions);
        if let Some(n) = self.second_topic {
            topic(w, SECOND_TOPIC, n);
        }
        self.producer.write(w);
        if self.second_topic.is_some() {
            line(w, "[[producer]]");
            line(w, "name = \"auditor\"");
            line(w, &format!("topic = \"{SECOND_TOPIC}\""));
            line(w, "records = 30");
            line(w, "rate_per_s = 20");
            line(w, "key = { pattern = \"item-{n}\", distinct = 7 }");
            line(w, "");
        }
        if let Some(g) = &self.group {
            g.write(w, self.second_topic.is_some());
        }
        for f in &self.faults {
            f.write(w);
        }
        t
    }
}

impl ProducerPlan {
    fn write(&self, w: &mut String) {
        line(w, "[[producer]]");
        line(w, &format!("name = \"{PRODUCER}\""));
        line(w, &format!("topic = \"{TOPIC}\""));
        line(w, &format!("records = {}", self.records));
        if let Some(rate) = self.rate_per_s {
            line(w, &format!("rate_per_s = {rate}"));
        }
        let order = if self.random_keys { "random" } else { "cycle" };
        line(
            w,
            &format!(
                "key = {{ pattern = \"user-{{n}}\", distinct = {}, order = \"{order}\" }}",
                self.keys
            ),
        );
        line(w, &format!("value = {{ template = \"{PRODUCER}-{{n}}\" }}"));
        let mut config = format!(
            "\"acks\" = \"{}\", \"enable.idempotence\" = {}, \
             \"max.in.flight.requests.per.connection\" = {}, \"linger.ms\" = {}, \
             \"request.timeout.ms\" = {}, \"delivery.timeout.ms\" = {}",
            self.acks,
            self.idempotence,
            self.max_in_flight,
            self.linger_ms,
            self.request_timeout_ms,
            self.delivery_timeout_ms,
        );
        if let Some(p) = self.partitioner {
            write!(config, ", \"partitioner\" = \"{p}\"").unwrap();
        }
        line(w, &format!("config = {{ {config} }}"));
        line(w, "");
    }
}

impl GroupPlan {
    fn write(&self, w: &mut String, both_topics: bool) {
        line(w, "[[consumer_group]]");
        line(w, &format!("group_id = \"{GROUP}\""));
        let topics = if both_topics {
            format!("[\"{TOPIC}\", \"{SECOND_TOPIC}\"]")
        } else {
            format!("[\"{TOPIC}\"]")
        };
        line(w, &format!("topics = {topics}"));
        line(w, &format!("members = {}", self.members));
        line(w, &format!("client = \"{}\"", self.client));
        line(w, &format!("processing_ms = {}", self.processing_ms));
        line(w, &format!("commit = \"{}\"", self.commit));
        line(w, &format!("static_members = {}", self.static_members));
        let mut config = match self.strategy.strip_prefix("consumer-") {
            Some(assignor) => format!(
                "\"group.protocol\" = \"consumer\", \"group.remote.assignor\" = \"{assignor}\", \
                 \"auto.offset.reset\" = \"earliest\", \"auto.commit.interval.ms\" = {}",
                self.auto_commit_interval_ms
            ),
            None => format!(
                "\"partition.assignment.strategy\" = \"{}\", \"auto.offset.reset\" = \
                 \"earliest\", \"session.timeout.ms\" = {}, \"auto.commit.interval.ms\" = {}",
                self.strategy, self.session_timeout_ms, self.auto_commit_interval_ms
            ),
        };
        if let Some(n) = self.max_poll_records {
            write!(config, ", \"max.poll.records\" = {n}").unwrap();
        }
        line(w, &format!("config = {{ {config} }}"));
        line(w, "");
        for s in &self.stops {
            let target = format!("consumer/{GROUP}/{}", s.member);
            if let Some(d) = s.pause_ms {
                timeline(w, s.at_ms, "pause", &target);
                line(w, &format!("duration_ms = {d}"));
                line(w, "");
                continue;
            }
            let action = if s.crash { "crash" } else { "close" };
            timeline(w, s.at_ms, action, &target);
            if let Some(after) = s.restart_after_ms {
                timeline(w, s.at_ms + after, "restart", &target);
            }
        }
    }
}

impl FaultPlan {
    fn write(&self, w: &mut String) {
        let producer = format!("producer/{PRODUCER}");
        line(w, "[[fault]]");
        match *self {
            FaultPlan::LostAck { at_ms, count } => {
                line(w, &format!("at_ms = {at_ms}"));
                line(w, "kind = \"lost_ack\"");
                line(w, &format!("count = {count}"));
                line(w, &format!("target = \"{producer}\""));
            }
            FaultPlan::Latency {
                at_ms,
                until_ms,
                latency_ms,
                jitter_ms,
            } => {
                line(w, &format!("at_ms = {at_ms}"));
                line(w, &format!("until_ms = {until_ms}"));
                line(w, "kind = \"latency\"");
                line(w, &format!("latency_ms = {latency_ms}"));
                line(w, &format!("jitter_ms = {jitter_ms}"));
                line(w, "direction = \"both\"");
                line(w, &format!("target = \"{producer}\""));
            }
            FaultPlan::Timeout {
                at_ms,
                until_ms,
                timeout_ms,
                direction,
            } => {
                line(w, &format!("at_ms = {at_ms}"));
                line(w, &format!("until_ms = {until_ms}"));
                line(w, "kind = \"timeout\"");
                line(w, &format!("timeout_ms = {timeout_ms}"));
                line(w, &format!("direction = \"{direction}\""));
                line(w, &format!("target = \"{producer}\""));
            }
            FaultPlan::BrokerDown { at_ms, until_ms } => {
                line(w, &format!("at_ms = {at_ms}"));
                line(w, &format!("until_ms = {until_ms}"));
                line(w, "kind = \"broker_down\"");
                line(w, "target = \"broker/1\"");
            }
        }
        line(w, "");
    }
}

fn line(w: &mut String, text: &str) {
    w.push_str(text);
    w.push('\n');
}

fn topic(w: &mut String, name: &str, partitions: u32) {
    line(w, "[[topic]]");
    line(w, &format!("name = \"{name}\""));
    line(w, &format!("partitions = {partitions}"));
    line(w, "");
}

fn timeline(w: &mut String, at_ms: u64, action: &str, target: &str) {
    line(w, "[[timeline]]");
    line(w, &format!("at_ms = {at_ms}"));
    line(w, &format!("action = \"{action}\""));
    line(w, &format!("target = \"{target}\""));
    if action != "pause" {
        line(w, "");
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// Which faults a plan may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Faults {
    /// Producer link faults and broker outages.
    All,
    /// Producer link faults only: nothing that touches the group coordinator.
    ProducerLinks,
}

/// Producer-only plans: one topic of 1-6 partitions, any producer, up to three faults.
pub fn producer_plans() -> impl Strategy<Value = Plan> {
    (any::<u64>(), 1u32..=6, producers(), faults(Faults::All)).prop_map(
        |(seed, partitions, producer, faults)| Plan {
            seed,
            partitions,
            second_topic: None,
            producer,
            group: None,
            faults,
            initial_rebalance_delay_ms: 3_000,
        },
    )
}

/// Plans with a consumer group: one or two topics, 1-4 members with crashes, closes and
/// restarts, producer link faults. The producer sends 3-15 records a second, so that records
/// keep coming while members stop and rebalances run.
pub fn group_plans() -> impl Strategy<Value = Plan> {
    let topics = (
        1u32..=6,
        prop_oneof![3 => Just(None), 1 => (1u32..=4).prop_map(Some)],
    );
    let producer = (producers(), 3u64..=15);
    let cluster = (any::<u64>(), select(vec![0u64, 3_000]));
    (
        cluster,
        topics,
        producer,
        groups(),
        faults(Faults::ProducerLinks),
    )
        .prop_map(
            |((seed, delay), (partitions, second_topic), (mut producer, rate), group, faults)| {
                producer.rate_per_s = Some(rate);
                Plan {
                    seed,
                    partitions,
                    second_topic,
                    producer,
                    group: Some(group),
                    faults,
                    initial_rebalance_delay_ms: delay,
                }
            },
        )
}

/// Any producer the clients accept: idempotent ones with `acks=all` and at most 5 in flight.
pub fn producers() -> impl Strategy<Value = ProducerPlan> {
    let client = select(vec!["java", "java-3", "librdkafka"]);
    let pacing = prop_oneof![1 => Just(None), 4 => (5u64..=30).prop_map(Some)];
    let shape = (10u64..=120, pacing, 1u64..=12, any::<bool>());
    let delivery = (
        any::<bool>(),
        select(vec!["all", "1"]),
        1u32..=5,
        select(vec![0u64, 0, 1, 5, 20]),
        500u64..=5_000,
        6_000u64..=30_000,
    );
    let partitioner = select(vec![
        None,
        Some("consistent_random"),
        Some("murmur2_random"),
        Some("consistent"),
        Some("fnv1a_random"),
    ]);
    (client, shape, delivery, partitioner).prop_map(
        |(client, (records, rate_per_s, keys, random_keys), delivery, partitioner)| {
            let (idempotence, acks, max_in_flight, linger_ms, request_timeout_ms, delivery_ms) =
                delivery;
            ProducerPlan {
                client,
                records,
                rate_per_s,
                keys,
                random_keys,
                acks: if idempotence { "all" } else { acks },
                idempotence,
                max_in_flight,
                linger_ms,
                request_timeout_ms,
                delivery_timeout_ms: delivery_ms,
                partitioner: partitioner.filter(|_| client == "librdkafka"),
            }
        },
    )
}

/// Any consumer group of 1-4 members and its stops.
pub fn groups() -> impl Strategy<Value = GroupPlan> {
    let client = select(vec!["java", "librdkafka"]);
    let strategy = select(vec!["range", "roundrobin", "sticky", "cooperative-sticky"]);
    let commit = select(vec!["auto", "per-record", "per-batch"]);
    // Mostly quick records; one group in four is slow enough to build a backlog, so that
    // members stop in the middle of long batches.
    let timing = (
        prop_oneof![3 => 0u64..=40, 1 => 100u64..=400],
        6_000u64..=10_000,
        500u64..=5_000,
        prop_oneof![Just(None), (1u32..=20).prop_map(Some)],
        any::<bool>(),
    );
    let stop = (
        4_000u64..=16_000,
        any::<bool>(),
        prop_oneof![Just(None), (500u64..=12_000).prop_map(Some)],
    );
    let stops = proptest::collection::vec(proptest::option::of(stop), 4);
    (1u32..=4, client, strategy, commit, timing, stops).prop_map(
        |(members, client, strategy, commit, timing, stops)| {
            let (processing_ms, session_timeout_ms, auto_commit_interval_ms, max_poll, statics) =
                timing;
            let strategy = match (client, strategy) {
                // librdkafka has no eager sticky assignor.
                ("librdkafka", "sticky") => "range",
                _ => strategy,
            };
            let mut stops: Vec<Stop> = stops
                .into_iter()
                .zip(1..=members)
                .filter_map(|(s, member)| {
                    s.map(|(at_ms, crash, restart_after_ms)| Stop {
                        member,
                        at_ms,
                        crash,
                        restart_after_ms,
                        pause_ms: None,
                    })
                })
                .collect();
            keep_someone_alive(&mut stops, members);
            GroupPlan {
                members,
                client,
                strategy,
                commit,
                processing_ms,
                session_timeout_ms,
                auto_commit_interval_ms,
                max_poll_records: max_poll,
                static_members: statics,
                stops,
            }
        },
    )
}

/// If every member stops for good, the last to stop comes back, so that someone drains the
/// backlog.
fn keep_someone_alive(stops: &mut [Stop], members: u32) {
    let for_good = stops
        .iter()
        .filter(|s| s.restart_after_ms.is_none())
        .count();
    if for_good as u32 == members
        && let Some(last) = stops.iter_mut().max_by_key(|s| (s.at_ms, s.member))
    {
        last.restart_after_ms = Some(1_000);
    }
}

/// Up to three faults, starting within the first 4 s.
pub fn faults(which: Faults) -> impl Strategy<Value = Vec<FaultPlan>> {
    let lost_ack =
        (0u64..=4_000, 1u32..=3).prop_map(|(at_ms, count)| FaultPlan::LostAck { at_ms, count });
    let latency = (0u64..=4_000, 200u64..=4_000, 0u64..=3_000, 0u64..=500).prop_map(
        |(at_ms, length, latency_ms, jitter_ms)| FaultPlan::Latency {
            at_ms,
            until_ms: at_ms + length,
            latency_ms,
            jitter_ms,
        },
    );
    let timeout = (
        (0u64..=4_000, 200u64..=3_000),
        select(vec![0u64, 100, 1_000]),
        select(vec!["upstream", "downstream", "both"]),
    )
        .prop_map(
            |((at_ms, length), timeout_ms, direction)| FaultPlan::Timeout {
                at_ms,
                until_ms: at_ms + length,
                timeout_ms,
                direction,
            },
        );
    let down = (0u64..=4_000, 100u64..=2_000).prop_map(|(at_ms, length)| FaultPlan::BrokerDown {
        at_ms,
        until_ms: at_ms + length,
    });
    let one = match which {
        Faults::All => prop_oneof![3 => lost_ack, 2 => latency, 2 => timeout, 1 => down].boxed(),
        Faults::ProducerLinks => prop_oneof![3 => lost_ack, 2 => latency, 2 => timeout].boxed(),
    };
    proptest::collection::vec(one, 0..=3)
}
