//! Consumer groups end to end: a broker with its group coordinator, topics with records, and
//! consumers, run in a world; every claim is checked on the trace.
//!
//! Timings below use the world's default one-way latency of 1 ms, so a request and its response
//! cost 2 ms.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use kafka_sim::broker::BrokerInput;
use kafka_sim::client::consumer::Consumer;
use kafka_sim::client::consumer::app::{Application, ManualCommit, ProcessingTime};
use kafka_sim::client::consumer::config::ConsumerConfig;
use kafka_sim::client::library::ClientLibrary;
use kafka_sim::protocol::Request;
use kafka_sim::protocol::produce::{Acks, ProduceBatch, ProduceRequest};
use kafka_sim::record::{Key, NewRecord, Value};
use kafka_sim::rng::SimRng;
use kafka_sim::trace::{Detail, TraceEvent, TraceHeader, TraceRecord, VecSink, jsonl};
use kafka_sim::units::{BrokerId, ClientId, Millis, PartitionId, SimTime, TopicName};
use kafka_sim::world::{ClientCommand, ClientMachine, World, WorldConfig};

const BROKER: BrokerId = BrokerId(1);

/// A world with one broker and topic `orders` of `partitions` partitions.
fn world(sink: &mut VecSink, seed: u64, partitions: u32) -> World<'_> {
    let config = WorldConfig {
        seed,
        check_invariants: true,
        ..WorldConfig::default()
    };
    let mut world = World::new(config, sink);
    world.add_broker(BROKER);
    world.with_broker(BROKER, |b, out| {
        b.create_topic(orders(), partitions, 1, Default::default(), out)
    });
    world
}

fn orders() -> TopicName {
    TopicName::new("orders").unwrap()
}

/// Appends `n` records `order-<i>` to `orders-<partition>` before the run (acks=0, so nobody
/// expects an answer).
fn produce(world: &mut World<'_>, partition: u32, n: u64) {
    let records = (0..n)
        .map(|i| NewRecord {
            timestamp: SimTime(0),
            key: Some(Key::utf8(&format!("key-{i}"))),
            value: Some(Value::Bytes(std::rc::Rc::from(
                format!("order-{i}").as_bytes(),
            ))),
            headers: None,
        })
        .collect();
    let request = ProduceRequest {
        acks: Acks::None,
        timeout: Millis(30_000),
        batches: vec![ProduceBatch {
            topic: orders(),
            partition: PartitionId(partition),
            idempotence: None,
            records,
            origin: None,
        }],
    };
    let mut rng = SimRng::for_component(0, "test/producer");
    world.with_broker(BROKER, |b, out| {
        let input = BrokerInput::Request {
            from: ClientId(u32::MAX),
            correlation_id: 0,
            request: Request::Produce(request),
        };
        b.handle(SimTime(0), input, &mut rng, out);
    });
}

/// Adds consumer `consumer/<group>/<name>` of `orders`, started at `start`.
fn consumer(
    world: &mut World<'_>,
    name: &str,
    library: ClientLibrary,
    settings: &[(&str, &str)],
    app: Application,
    start: u64,
) -> ClientId {
    let config = ConsumerConfig::parse(library, settings.iter().copied()).unwrap();
    let component = format!("consumer/{}/{name}", config.group_id);
    let machine = Consumer::new(config, app, vec![orders()], BROKER);
    world.add_client(
        &component,
        ClientMachine::Consumer(Box::new(machine)),
        SimTime(start),
    )
}

fn app(processing_ms: u64, commit: ManualCommit) -> Application {
    Application {
        processing: ProcessingTime::Constant(Millis(processing_ms)),
        commit,
        ..Application::default()
    }
}

/// The events named `name`, with their time and component.
fn events<'a>(sink: &'a VecSink, name: &str) -> Vec<&'a TraceRecord> {
    sink.records
        .iter()
        .filter(|r| r.event.name() == name)
        .collect()
}

/// The partitions each member owns after the last `AssignmentStored`, as counts, largest first.
fn final_assignment_counts(sink: &VecSink) -> Vec<usize> {
    let last = events(sink, "AssignmentStored")
        .into_iter()
        .last()
        .expect("the group stabilised");
    let TraceEvent::AssignmentStored { assignments, .. } = &last.event else {
        unreachable!()
    };
    let owned: Vec<&Arc<str>> = assignments.iter().flat_map(|a| &a.partitions).collect();
    let distinct: BTreeSet<&Arc<str>> = owned.iter().copied().collect();
    assert_eq!(owned.len(), distinct.len(), "each partition has one owner");
    let mut counts: Vec<usize> = assignments.iter().map(|a| a.partitions.len()).collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    counts
}

/// Which consumer processed which offsets of partition 0, in processing order.
fn processed(sink: &VecSink) -> BTreeMap<Arc<str>, Vec<u64>> {
    let mut by: BTreeMap<Arc<str>, Vec<u64>> = BTreeMap::new();
    for r in events(sink, "RecordProcessed") {
        if let TraceEvent::RecordProcessed { offset, .. } = &r.event {
            by.entry(r.component.clone()).or_default().push(*offset);
        }
    }
    by
}

fn times(sink: &VecSink, name: &str) -> Vec<u64> {
    events(sink, name).iter().map(|r| r.t_ms).collect()
}

/// Runs `consumers` Java consumers (client ids `c0`, `c1`, ...) of `partitions` partitions from
/// time 0 and returns the trace.
fn scale(partitions: u32, consumers: usize) -> VecSink {
    let mut sink = VecSink::new(Detail::Batches);
    {
        let mut w = world(&mut sink, 42, partitions);
        for i in 0..consumers {
            let id = format!("c{i}");
            let settings = [("group.id", "inventory"), ("client.id", id.as_str())];
            consumer(
                &mut w,
                &id,
                ClientLibrary::Java4,
                &settings,
                Application::default(),
                0,
            );
        }
        w.run_until(SimTime(30_000)).unwrap();
    }
    sink
}

/// KIP-134: the first rebalance of a new group waits `group.initial.rebalance.delay.ms` (3000)
/// after the first member is added, and once more (up to the rebalance timeout) each time more
/// members arrived during the wait.
#[test]
fn the_first_join_waits_for_the_initial_rebalance_delay() {
    // JoinGroup at 0 -> MEMBER_ID_REQUIRED at 2 -> JoinGroup with the id, added at 3.
    let one = scale(6, 1);
    assert_eq!(times(&one, "MemberJoined"), vec![3]);
    assert_eq!(times(&one, "GenerationStarted"), vec![3 + 3_000]);
    // JoinGroup response at 3004, the leader's SyncGroup at 3005, its response at 3006.
    assert_eq!(times(&one, "AssignmentStored"), vec![3_005]);
    assert_eq!(times(&one, "PartitionsAssigned"), vec![3_006]);
    // Three consumers started together: the others joined during the first delay, so the
    // coordinator waits a second delay.
    let three = scale(6, 3);
    assert_eq!(times(&three, "MemberJoined"), vec![3, 3, 3]);
    assert_eq!(times(&three, "GenerationStarted"), vec![6_003]);
    assert_eq!(times(&three, "PartitionsAssigned"), vec![6_006; 3]);
}

/// Course 002 (.NET, day 1): a 6-partition topic scaled to 1, 2, 3, 6 and 8 consumers; course 000
/// (Python): 3 partitions with 5 consumers. Range gives contiguous ranges; consumers beyond the
/// partition count stay idle.
#[test]
fn course_scaling_claims_with_the_range_assignor() {
    let cases: [(u32, usize, &[usize]); 6] = [
        (6, 1, &[6]),
        (6, 2, &[3, 3]),
        (6, 3, &[2, 2, 2]),
        (6, 6, &[1, 1, 1, 1, 1, 1]),
        (6, 8, &[1, 1, 1, 1, 1, 1, 0, 0]),
        (3, 5, &[1, 1, 1, 0, 0]),
    ];
    for (partitions, consumers, expected) in cases {
        let sink = scale(partitions, consumers);
        assert_eq!(
            final_assignment_counts(&sink),
            expected,
            "{partitions} partitions, {consumers} consumers"
        );
        let assigned = events(&sink, "PartitionsAssigned");
        assert_eq!(
            assigned.len(),
            consumers,
            "every consumer, idle or not, is told"
        );
    }
    // Range hands c0 the first range: orders-0 and orders-1 with 2 consumers of 6 is [0, 1, 2].
    let sink = scale(6, 2);
    let c0 = events(&sink, "PartitionsAssigned")
        .into_iter()
        .find(|r| &*r.component == "consumer/inventory/c0")
        .unwrap();
    let TraceEvent::PartitionsAssigned { partitions, .. } = &c0.event else {
        unreachable!()
    };
    assert_eq!(partitions.join(","), "orders-0,orders-1,orders-2");
}

/// Course 000: "3 partitions and 3 consumers, then one is stopped": the two others share its
/// partition (2 + 1), right after it leaves.
#[test]
fn course_three_consumers_then_one_stopped() {
    let mut sink = VecSink::new(Detail::Batches);
    {
        let mut w = world(&mut sink, 42, 3);
        let mut ids = Vec::new();
        for i in 0..3 {
            let id = format!("c{i}");
            let settings = [("group.id", "g"), ("client.id", id.as_str())];
            ids.push(consumer(
                &mut w,
                &id,
                ClientLibrary::Java4,
                &settings,
                Application::default(),
                0,
            ));
        }
        w.schedule_command(SimTime(20_000), ids[1], ClientCommand::Close);
        w.run_until(SimTime(40_000)).unwrap();
    }
    assert_eq!(final_assignment_counts(&sink), vec![2, 1]);
    assert_eq!(times(&sink, "MemberLeft"), vec![20_003]);
    assert_eq!(times(&sink, "GenerationStarted"), vec![6_003, 21_009]);
}

/// The settings of consumer `id` of group `g` with `session.timeout.ms` = 10000 (course 002):
/// dynamic with `client.id` = `id`, or static with `group.instance.id` = `worker-<id>`.
fn pair_settings(id: &str, static_member: bool) -> Vec<(&'static str, String)> {
    let mut s = vec![
        ("group.id", "g".to_string()),
        ("session.timeout.ms", "10000".to_string()),
    ];
    if static_member {
        s.push(("group.instance.id", format!("worker-{id}")));
    } else {
        s.push(("client.id", id.to_string()));
    }
    s
}

/// Adds consumer `consumer/g/<name>` with the [`pair_settings`] of `id`, started at `start`.
fn pair_member(w: &mut World<'_>, name: &str, id: &str, is_static: bool, start: u64) -> ClientId {
    let settings = pair_settings(id, is_static);
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    consumer(
        w,
        name,
        ClientLibrary::Java4,
        &settings,
        Application::default(),
        start,
    )
}

/// Runs consumers `a` and `b` on two partitions from time 0, gives `a` `command` at 20000, and
/// returns the trace at 40000.
fn two_members_then(static_members: bool, command: ClientCommand) -> VecSink {
    let mut sink = VecSink::new(Detail::Batches);
    {
        let mut w = world(&mut sink, 42, 2);
        let a = pair_member(&mut w, "a", "a", static_members, 0);
        pair_member(&mut w, "b", "b", static_members, 0);
        w.schedule_command(SimTime(20_000), a, command);
        w.run_until(SimTime(40_000)).unwrap();
    }
    sink
}

/// The time `b` was given `orders-0`, which `a` owned.
fn when_b_got_partition_0(sink: &VecSink) -> u64 {
    events(sink, "PartitionsAssigned")
        .into_iter()
        .find(|r| {
            &*r.component == "consumer/g/b"
                && matches!(&r.event, TraceEvent::PartitionsAssigned { partitions, .. }
                    if partitions.iter().any(|p| &**p == "orders-0"))
        })
        .expect("b takes orders-0 over")
        .t_ms
}

/// Issue 3, done-when (a): a crashed member's partitions move `session.timeout.ms` after its last
/// heartbeat reached the coordinator, plus the rebalance; a closed member's at once.
#[test]
fn a_crashed_members_partitions_move_after_the_session_timeout_a_closed_ones_at_once() {
    // Both members got their JoinGroup response at 6004 and heartbeat every 3000 ms from then:
    // 9004, ..., 18004 (arriving at 18005); a crashes at 20000, before its 21004 heartbeat.
    let crash = two_members_then(false, ClientCommand::Crash);
    assert_eq!(times(&crash, "ClientCrashed"), vec![20_000]);
    assert_eq!(times(&crash, "MemberExpired"), vec![18_005 + 10_000]);
    let expired = 28_005;
    assert!(20_000 + 10_000 - 3_000 < expired && expired <= 20_000 + 10_000);
    // b learns of the rebalance from its next heartbeat (30004, answered REBALANCE_IN_PROGRESS
    // at 30006), commits (auto-commit before rejoining) until 30008, rejoins: the join phase
    // completes at 30009 (every member is back), the SyncGroup answers at 30012.
    assert_eq!(times(&crash, "GenerationStarted"), vec![6_003, 30_009]);
    assert_eq!(when_b_got_partition_0(&crash), 30_012);

    // close(): commit (answered at 20002), LeaveGroup (arrives 20003): the group rebalances at
    // once; b learns it at its next heartbeat (21004) and has orders-0 at 21012.
    let close = two_members_then(false, ClientCommand::Close);
    assert_eq!(times(&close, "ConsumerClosed"), vec![20_002]);
    assert_eq!(times(&close, "MemberLeft"), vec![20_003]);
    assert!(times(&close, "MemberExpired").is_empty());
    assert_eq!(times(&close, "GenerationStarted"), vec![6_003, 21_009]);
    assert_eq!(when_b_got_partition_0(&close), 21_012);
}

/// KIP-345: a static member that restarts within `session.timeout.ms` gets its partitions back
/// without any rebalance.
#[test]
fn a_static_member_restarting_within_the_session_timeout_causes_no_rebalance() {
    let mut sink = VecSink::new(Detail::Batches);
    {
        let mut w = world(&mut sink, 42, 2);
        let a = pair_member(&mut w, "a", "a", true, 0);
        pair_member(&mut w, "b", "b", true, 0);
        w.schedule_command(SimTime(20_000), a, ClientCommand::Crash);
        // The same instance (worker-a) restarted as a new process 5 s later.
        pair_member(&mut w, "a2", "a", true, 25_000);
        w.run_until(SimTime(60_000)).unwrap();
    }
    assert!(times(&sink, "MemberExpired").is_empty());
    assert_eq!(times(&sink, "StaticMemberReplaced"), vec![25_001]);
    assert_eq!(
        times(&sink, "GenerationStarted"),
        vec![6_001],
        "one generation only"
    );
    let stable_changes = times(&sink, "GroupStateChanged");
    assert!(
        stable_changes.iter().all(|&t| t <= 6_003),
        "{stable_changes:?}"
    );
    let assigned: Vec<(String, String)> = events(&sink, "PartitionsAssigned")
        .iter()
        .map(|r| {
            let TraceEvent::PartitionsAssigned { partitions, .. } = &r.event else {
                unreachable!()
            };
            (r.component.to_string(), partitions.join(","))
        })
        .collect();
    assert_eq!(
        assigned,
        vec![
            ("consumer/g/a".into(), "orders-0".into()),
            ("consumer/g/b".into(), "orders-1".into()),
            ("consumer/g/a2".into(), "orders-0".into()),
        ]
    );
}

/// A response belongs to the connection of its request: when a static member's process is
/// closed while its JoinGroup waits out `group.initial.rebalance.delay.ms`, and a new process
/// with the same `group.instance.id` joins, the coordinator fences the old JoinGroup with
/// `FENCED_INSTANCE_ID`. That answer went to the new process, which reuses the correlation ids
/// of the old one, and failed it; the group then stayed empty. Found by the property
/// `after_every_rebalance_each_partition_has_exactly_one_owner` (issue 7).
#[test]
fn a_fenced_predecessors_join_response_never_reaches_the_restarted_process() {
    let mut sink = VecSink::new(Detail::Batches);
    {
        let mut w = world(&mut sink, 0, 1);
        let a = pair_member(&mut w, "a", "a", true, 0);
        w.schedule_command(SimTime(1_000), a, ClientCommand::Close);
        let settings = pair_settings("a", true);
        let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let config = ConsumerConfig::parse(ClientLibrary::Java4, settings).unwrap();
        let machine = Consumer::new(config, Application::default(), vec![orders()], BROKER);
        w.restart_client(
            SimTime(2_000),
            a,
            ClientMachine::Consumer(Box::new(machine)),
        );
        w.run_until(SimTime(20_000)).unwrap();
    }
    assert_eq!(times(&sink, "StaticMemberReplaced"), vec![2_001]);
    assert!(
        events(&sink, "ConsumerFailed").is_empty(),
        "the new process is not fenced"
    );
    assert_eq!(times(&sink, "ConsumerClosed"), vec![1_000]);
    assert_eq!(final_assignment_counts(&sink), vec![1]);
    let assigned = events(&sink, "PartitionsAssigned");
    assert!(
        matches!(assigned[..], [r] if r.t_ms > 2_000),
        "{assigned:?}"
    );
}

/// KIP-345: a closed static member sends no LeaveGroup; it is removed when its session expires.
#[test]
fn a_closed_static_member_sends_no_leave_group_and_expires() {
    let sink = two_members_then(true, ClientCommand::Close);
    let closed = events(&sink, "ConsumerClosed");
    assert!(matches!(closed[..], [r] if matches!(r.event,
        TraceEvent::ConsumerClosed { left_group: false, .. })));
    assert!(times(&sink, "MemberLeft").is_empty());
    // Static members join in one JoinGroup (at 1 ms): heartbeats from 6002, last at 18002.
    assert_eq!(times(&sink, "MemberExpired"), vec![18_003 + 10_000]);
    assert_eq!(final_assignment_counts(&sink), vec![2]);
}

/// A batch that keeps the application away from `poll()` longer than `max.poll.interval.ms` makes
/// the client leave on its own; the batch still finishes, its commit fails, its partitions are
/// lost, and the member rejoins as a new one: the records are processed again.
#[test]
fn exceeding_max_poll_interval_makes_the_member_leave() {
    let mut sink = VecSink::new(Detail::Records);
    {
        let mut w = world(&mut sink, 42, 1);
        produce(&mut w, 0, 200);
        let settings = [
            ("group.id", "g"),
            ("client.id", "slow"),
            ("auto.offset.reset", "earliest"),
            ("max.poll.interval.ms", "10000"),
        ];
        consumer(
            &mut w,
            "slow",
            ClientLibrary::Java4,
            &settings,
            app(100, ManualCommit::None),
            0,
        );
        w.run_until(SimTime(50_000)).unwrap();
    }
    // The 200-record batch is handed out at 3012 and takes 20 s; the limit runs out at 13012.
    // The same happens to the next assignment's first batch (handed out at 26024): a consumer
    // too slow for its max.poll.interval.ms loops like this for ever.
    assert_eq!(
        times(&sink, "MaxPollIntervalExceeded"),
        vec![13_012, 36_024]
    );
    let left = events(&sink, "MemberLeft");
    assert!(
        matches!(&left[..], [r, _] if r.t_ms == 13_013 && matches!(&r.event,
        TraceEvent::MemberLeft { reason, .. } if reason == "consumer poll timeout has expired."))
    );
    // The batch ends at 23012: the auto-commit in the next poll() fails (no generation), the
    // partition is reported lost, and the consumer joins again with a new member id.
    assert_eq!(times(&sink, "CommitFailed"), vec![23_012, 46_024]);
    assert_eq!(times(&sink, "PartitionsLost"), vec![23_012, 46_024]);
    let joined: Vec<u64> = times(&sink, "MemberJoined");
    assert_eq!(joined, vec![3, 23_015, 46_027]);
    let members: BTreeSet<String> = events(&sink, "MemberJoined")
        .iter()
        .map(|r| match &r.event {
            TraceEvent::MemberJoined { member_id, .. } => member_id.to_string(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(members.len(), 3, "a new member id each time");
    let by = processed(&sink);
    let slow = &by["consumer/g/slow"];
    assert_eq!(&slow[..200], &(0..200).collect::<Vec<_>>()[..]);
    assert_eq!(
        slow[200..],
        (0..200).collect::<Vec<_>>()[..],
        "nothing committed: all again"
    );
}

/// Runs consumer `a` on a 1-partition topic of 100 records (100 ms each, earliest) with `b`
/// idle beside it, crashes `a` 7 s into its work, and returns (processed by a, by b).
fn crash_outcome(library: ClientLibrary, extra: &[(&str, &str)], commit: ManualCommit) -> Outcome {
    let mut sink = VecSink::new(Detail::Records);
    let drained;
    {
        let mut w = world(&mut sink, 42, 1);
        produce(&mut w, 0, 100);
        let settings = |id: &'static str| {
            let mut s = vec![
                ("group.id", "g"),
                ("client.id", id),
                ("auto.offset.reset", "earliest"),
                ("session.timeout.ms", "10000"),
            ];
            s.extend_from_slice(extra);
            if commit != ManualCommit::None {
                s.push(("enable.auto.commit", "false"));
            }
            s
        };
        let a = consumer(&mut w, "a", library, &settings("a"), app(100, commit), 0);
        if let ClientMachine::Consumer(c) = w.client_mut(a) {
            c.keep_processed();
        }
        consumer(&mut w, "b", library, &settings("b"), app(100, commit), 0);
        // a gets orders-0 (range: "a-..." sorts first) and its first batch at 6012.
        w.schedule_command(SimTime(6_012 + 7_050), a, ClientCommand::Crash);
        w.run_until(SimTime(60_000)).unwrap();
        drained = w.drain_processed(a);
    }
    let by = processed(&sink);
    // What the world drains from the consumer is what the trace shows, with processing times.
    let from_trace: Vec<(u64, u64)> = events(&sink, "RecordProcessed")
        .iter()
        .filter(|r| &*r.component == "consumer/g/a")
        .map(|r| match &r.event {
            TraceEvent::RecordProcessed {
                offset,
                processed_at_ms,
                ..
            } => (*offset, *processed_at_ms),
            _ => unreachable!(),
        })
        .collect();
    let drained: Vec<(u64, u64)> = drained
        .iter()
        .map(|p| (p.offset.0, p.processed_at.0))
        .collect();
    assert_eq!(drained, from_trace);
    Outcome {
        a: by.get("consumer/g/a").cloned().unwrap_or_default(),
        b: by.get("consumer/g/b").cloned().unwrap_or_default(),
    }
}

struct Outcome {
    a: Vec<u64>,
    b: Vec<u64>,
}

impl Outcome {
    fn duplicates(&self) -> Vec<u64> {
        self.b
            .iter()
            .copied()
            .filter(|o| self.a.contains(o))
            .collect()
    }

    fn skipped(&self) -> Vec<u64> {
        (0..100)
            .filter(|o| !self.a.contains(o) && !self.b.contains(o))
            .collect()
    }
}

/// Course 002's auto-commit quiz, with both client libraries: what the next owner does after a
/// crash 7 s into a batch, with `auto.commit.interval.ms` = 5000.
#[test]
fn auto_commit_crash_outcomes_java_reprocesses_librdkafka_can_skip() {
    let range = |r: std::ops::Range<u64>| r.collect::<Vec<_>>();
    // Java: the auto-commit due at 11006 waits for the next poll(), which never comes: nothing is
    // committed, b starts from the beginning and redoes the 70 records a finished.
    let java = crash_outcome(ClientLibrary::Java4, &[], ManualCommit::None);
    assert_eq!(java.a, range(0..70));
    assert_eq!(java.duplicates(), range(0..70));
    assert!(java.skipped().is_empty());
    // librdkafka with consume(num_messages=100): the batch's offsets are stored when it is handed
    // out, the timer commits 100 at 10000, a dies at 13062: records 70..99 are never processed.
    let batch = crash_outcome(
        ClientLibrary::Librdkafka,
        &[("max.poll.records", "100")],
        ManualCommit::None,
    );
    assert_eq!(batch.a, range(0..70));
    assert!(batch.b.is_empty());
    assert_eq!(batch.skipped(), range(70..100));
    // librdkafka with poll() (one message at a time): at 10000 the stored offset is 40 (record 39
    // is being processed); b redoes 40..69, nothing is skipped.
    let single = crash_outcome(ClientLibrary::Librdkafka, &[], ManualCommit::None);
    assert_eq!(single.a, range(0..70));
    assert_eq!(single.duplicates(), range(40..70));
    assert!(single.skipped().is_empty());
}

/// Manual commits: after each record, the next owner resumes right after the last record
/// committed; after each batch, it redoes the batch in progress.
#[test]
fn manual_commit_crash_outcomes() {
    // Each record costs 100 ms plus a 2 ms commitSync: record 68 ends at 13048 and its commit
    // lands at 13049; a dies during record 69.
    let per_record = crash_outcome(ClientLibrary::Java4, &[], ManualCommit::PerRecord);
    assert_eq!(per_record.a, (0..69).collect::<Vec<_>>());
    assert!(per_record.skipped().is_empty());
    assert!(per_record.duplicates().is_empty());
    let per_batch = crash_outcome(
        ClientLibrary::Java4,
        &[("max.poll.records", "30")],
        ManualCommit::PerBatch,
    );
    assert!(per_batch.skipped().is_empty());
    // Batches of 30: 0..29 and 30..59 were committed, a died inside 60..89.
    assert_eq!(
        per_batch.duplicates(),
        (60..per_batch.a.len() as u64).collect::<Vec<_>>()
    );
}

/// Issue 3, item 4: lag per partition is the high watermark minus the committed offset, as
/// `kafka-consumer-groups --describe` computes it; before any commit the whole log counts (and
/// `committed_offset` is null, which the tool prints as `-`).
#[test]
fn lag_is_sampled_as_kafka_consumer_groups_computes_it() {
    let mut sink = VecSink::new(Detail::Batches);
    {
        let mut w = world(&mut sink, 42, 2);
        produce(&mut w, 0, 100);
        produce(&mut w, 1, 40);
        w.with_broker(BROKER, |b, out| {
            b.sample_lag_every(Millis(1_000), SimTime(0), out)
        });
        let settings = [("group.id", "g"), ("auto.offset.reset", "earliest")];
        consumer(
            &mut w,
            "a",
            ClientLibrary::Java4,
            &settings,
            app(10, ManualCommit::None),
            0,
        );
        w.run_until(SimTime(10_000)).unwrap();
    }
    let samples: Vec<(u64, u32, u64, Option<u64>, u64)> = events(&sink, "LagSampled")
        .iter()
        .map(|r| match &r.event {
            TraceEvent::LagSampled {
                partition,
                log_end_offset,
                committed_offset,
                lag,
                ..
            } => (r.t_ms, *partition, *log_end_offset, *committed_offset, *lag),
            _ => unreachable!(),
        })
        .collect();
    // The group exists from 3 ms; its first auto-commit (positions 100 and 40, everything
    // processed by then) lands at 8007.
    let at = |t| {
        samples
            .iter()
            .filter(|s| s.0 == t)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        at(1_000),
        vec![(1_000, 0, 100, None, 100), (1_000, 1, 40, None, 40)]
    );
    assert_eq!(
        at(8_000),
        vec![(8_000, 0, 100, None, 100), (8_000, 1, 40, None, 40)]
    );
    assert_eq!(
        at(9_000),
        vec![(9_000, 0, 100, Some(100), 0), (9_000, 1, 40, Some(40), 0)]
    );
    assert_eq!(samples.len(), 2 * 10, "every second, both partitions");
}

/// The same seed gives the same trace bytes; another seed draws other member ids (and so, with
/// default client ids, possibly another assignment order).
#[test]
fn group_runs_are_deterministic() {
    let run = |seed| {
        let mut sink = VecSink::new(Detail::Records);
        {
            let mut w = world(&mut sink, seed, 3);
            produce(&mut w, 0, 50);
            produce(&mut w, 2, 50);
            let settings = [("group.id", "g"), ("auto.offset.reset", "earliest")];
            let processing = Application {
                processing: ProcessingTime::Uniform {
                    min: Millis(5),
                    max: Millis(50),
                },
                commit: ManualCommit::None,
                ..Application::default()
            };
            let a = consumer(
                &mut w,
                "a",
                ClientLibrary::Java4,
                &settings,
                processing.clone(),
                0,
            );
            consumer(
                &mut w,
                "b",
                ClientLibrary::Librdkafka,
                &settings,
                processing,
                100,
            );
            w.schedule_command(SimTime(7_000), a, ClientCommand::Crash);
            w.run_until(SimTime(120_000)).unwrap();
        }
        jsonl::to_string(&TraceHeader::new("groups", None, seed), &sink.records)
    };
    let first = run(42);
    assert_eq!(first, run(42));
    assert!(first.contains("\"event\":\"MemberExpired\""));
    assert_ne!(first, run(43));
}

/// A pause (a long GC pause) longer than `session.timeout.ms` looks like a crash to the group;
/// the consumer then finds out (`UNKNOWN_MEMBER_ID`) and comes back as a new member.
#[test]
fn a_pause_longer_than_the_session_timeout_costs_the_membership() {
    let mut sink = VecSink::new(Detail::Batches);
    {
        let mut w = world(&mut sink, 42, 2);
        let s = |id| {
            [
                ("group.id", "g"),
                ("client.id", id),
                ("session.timeout.ms", "10000"),
            ]
        };
        let a = consumer(
            &mut w,
            "a",
            ClientLibrary::Java4,
            &s("a"),
            Application::default(),
            0,
        );
        consumer(
            &mut w,
            "b",
            ClientLibrary::Java4,
            &s("b"),
            Application::default(),
            0,
        );
        let pause = ClientCommand::Pause {
            duration: Millis(15_000),
        };
        w.schedule_command(SimTime(20_000), a, pause);
        w.run_until(SimTime(60_000)).unwrap();
    }
    // Last heartbeat before the pause arrived at 18005.
    assert_eq!(times(&sink, "MemberExpired"), vec![28_005]);
    assert_eq!(times(&sink, "ClientResumed"), vec![35_000]);
    // Its held heartbeat goes out at resume and is answered UNKNOWN_MEMBER_ID: a rejoins anew.
    let lost = events(&sink, "PartitionsLost");
    assert!(matches!(&lost[..], [r] if &*r.component == "consumer/g/a" && r.t_ms == 35_002));
    assert_eq!(times(&sink, "MemberJoined"), vec![3, 3, 35_005]);
    assert_eq!(final_assignment_counts(&sink), vec![1, 1]);
}

/// `auto.offset.reset=none` with no committed offset: `poll()` throws
/// `NoOffsetForPartitionException`; the application closes the consumer.
#[test]
fn no_offset_reset_fails_the_consumer() {
    let mut sink = VecSink::new(Detail::Batches);
    {
        let mut w = world(&mut sink, 42, 1);
        let settings = [("group.id", "g"), ("auto.offset.reset", "none")];
        consumer(
            &mut w,
            "a",
            ClientLibrary::Java4,
            &settings,
            Application::default(),
            0,
        );
        w.run_until(SimTime(10_000)).unwrap();
    }
    let failed = events(&sink, "ConsumerFailed");
    assert!(
        matches!(&failed[..], [r] if r.t_ms == 3_008 && matches!(&r.event,
        TraceEvent::ConsumerFailed { error, .. }
            if error == "NoOffsetForPartitionException: orders-0"))
    );
    assert_eq!(times(&sink, "ConsumerClosed"), vec![3_008]);
    assert_eq!(times(&sink, "MemberLeft"), vec![3_009]);
}

/// Consumers work in batches: the scheduler's events grow with poll batches, not with records
/// (600000 records cost about 2500 events in release measurements).
#[test]
fn consumers_cost_events_per_batch_not_per_record() {
    for library in [ClientLibrary::Java4, ClientLibrary::Librdkafka] {
        let mut sink = VecSink::new(Detail::Batches);
        let outcome = {
            let mut w = world(&mut sink, 42, 6);
            for p in 0..6 {
                produce(&mut w, p, 20_000);
            }
            for id in ["a", "b", "c"] {
                let settings = [
                    ("group.id", "g"),
                    ("client.id", id),
                    ("auto.offset.reset", "earliest"),
                ];
                consumer(
                    &mut w,
                    id,
                    library,
                    &settings,
                    app(0, ManualCommit::None),
                    0,
                );
            }
            w.run_until(SimTime(20_000)).unwrap()
        };
        let processed: u64 = events(&sink, "RecordsProcessed")
            .iter()
            .map(|r| match &r.event {
                TraceEvent::RecordsProcessed { records, .. } => u64::from(*records),
                _ => 0,
            })
            .sum();
        assert_eq!(processed, 120_000, "{library:?}");
        assert!(
            outcome.events < 1_000,
            "{library:?}: {} events",
            outcome.events
        );
    }
}

/// Runs `scenarios/<file>.toml` at `variant` and seed: its trace and report.
fn scenario_run(file: &str, variant: &str) -> (Vec<TraceRecord>, kafka_sim::report::Report) {
    use kafka_sim::scenario::ScenarioFile;
    let path = crate::support::root()
        .join("scenarios")
        .join(format!("{file}.toml"));
    let text = std::fs::read_to_string(&path).unwrap();
    let parsed = ScenarioFile::parse(&path, text).unwrap();
    let scenario = parsed.resolve(Some(variant)).unwrap();
    let mut sink = VecSink::new(scenario.detail);
    kafka_sim::runner::run(&scenario, scenario.seed, &mut sink, |_| {}).unwrap();
    let report = kafka_sim::report::Report::from_trace(None, &sink.records);
    (sink.records, report)
}

/// The (partition, CONSUMER-ID) rows of `kafka-consumer-groups --describe` at `t`.
fn describe_owners(report: &kafka_sim::report::Report, group: &str, t: u64) -> Vec<(u32, String)> {
    kafka_sim::report::describe::rows(report, group, t)
        .into_iter()
        .map(|r| (r.partition, r.consumer.map_or("-".into(), |c| c.0)))
        .collect()
}

/// The only member id of `event` in the trace (`MemberExpired`, `MemberLeft`), and when.
fn member_event(trace: &[TraceRecord], event: &str) -> (u64, String) {
    let found: Vec<(u64, String)> = trace
        .iter()
        .filter_map(|r| match &r.event {
            TraceEvent::MemberExpired { member_id, .. } if event == "MemberExpired" => {
                Some((r.t_ms, member_id.to_string()))
            }
            TraceEvent::MemberLeft { member_id, .. } if event == "MemberLeft" => {
                Some((r.t_ms, member_id.to_string()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(found.len(), 1, "{event}: {found:?}");
    found[0].clone()
}

/// `kafka-consumer-groups --describe` shows the group as its coordinator holds it: a member
/// killed without LeaveGroup stays listed on its partitions until its session expires, as Kafka's
/// DescribeGroups answers from the group's metadata; one closed with LeaveGroup is gone as soon
/// as the coordinator has the LeaveGroup.
#[test]
fn describe_lists_a_crashed_member_until_its_session_expires() {
    const GROUP: &str = "order-service-group";
    // black_friday 3p3c-crash: consumer 2 (payment-successful-2) is killed at 15 s, expired at
    // 57005 ms (session.timeout.ms 45 s), and the rebalance of generation 2 ends at 57009 ms.
    let (trace, report) = scenario_run("black_friday", "3p3c-crash");
    let (expired_at, dead) = member_event(&trace, "MemberExpired");
    assert_eq!(expired_at, 57_005);
    let before_crash = describe_owners(&report, GROUP, 14_000);
    assert!(
        before_crash.contains(&(2, dead.clone())),
        "{before_crash:?}"
    );
    let at_30s = describe_owners(&report, GROUP, 30_000);
    assert_eq!(at_30s.len(), 3, "{at_30s:?}");
    assert!(at_30s.contains(&(2, dead.clone())), "{at_30s:?}");
    assert!(at_30s.iter().all(|(_, c)| c != "-"), "{at_30s:?}");
    let table = kafka_sim::report::describe::consumer_group(&report, GROUP, 30_000);
    assert_eq!(table.warning, None);
    assert!(table.table.contains(&dead), "{}", table.table);
    let at_expiry = describe_owners(&report, GROUP, expired_at);
    assert!(at_expiry.iter().all(|(_, c)| *c != dead), "{at_expiry:?}");
    let at_60s = describe_owners(&report, GROUP, 60_000);
    assert_eq!(at_60s.len(), 3, "{at_60s:?}");
    assert!(
        at_60s.iter().all(|(_, c)| *c != dead && c != "-"),
        "{at_60s:?}"
    );

    // crash_vs_close: librdkafka, cooperative-sticky, session.timeout.ms 10 s; pod 2 is killed
    // or closed at 60 s. Killed: listed until it expires; closed: gone with its LeaveGroup.
    const INVENTORY: &str = "inventory-service";
    let (trace, report) = scenario_run("crash_vs_close", "kill");
    let (expired_at, dead) = member_event(&trace, "MemberExpired");
    assert!((67_000..=70_000).contains(&expired_at), "{expired_at}");
    for t in [60_000, expired_at - 1] {
        let rows = describe_owners(&report, INVENTORY, t);
        assert_eq!(
            rows.iter().filter(|(_, c)| *c == dead).count(),
            3,
            "{t}: {rows:?}"
        );
    }
    let rows = describe_owners(&report, INVENTORY, expired_at);
    assert!(rows.iter().all(|(_, c)| *c != dead), "{rows:?}");
    let (trace, report) = scenario_run("crash_vs_close", "close");
    let (left_at, gone) = member_event(&trace, "MemberLeft");
    assert!((60_000..60_010).contains(&left_at), "{left_at}");
    let rows = describe_owners(&report, INVENTORY, left_at);
    assert!(rows.iter().all(|(_, c)| *c != gone), "{rows:?}");
}
