//! Always-properties through the engine: each holds in every generated run.

use std::collections::{BTreeMap, BTreeSet};

use kafka_sim::report::{Rebalance, Report};
use kafka_sim::trace::TraceEvent;
use proptest::prelude::Strategy;
use proptest::proptest;

use super::generate::{self, GROUP, PRODUCER, Plan, TOPIC};
use super::harness::{CI_CASES, Run, check, config};

proptest! {
    #![proptest_config(config(CI_CASES))]

    #[test]
    fn offsets_within_a_partition_are_contiguous_and_strictly_increasing(
        plan in generate::producer_plans(),
    ) {
        check("offsets-contiguous", &plan, offsets_are_contiguous)?;
    }

    #[test]
    fn an_idempotent_producer_appends_each_keys_records_once_in_send_order(
        plan in generate::producer_plans().prop_map(idempotent),
    ) {
        check("idempotent-order", &plan, idempotent_appends_once_in_order)?;
    }

    #[test]
    fn a_key_always_lands_on_the_same_partition(plan in generate::producer_plans()) {
        check("key-partition", &plan, |run| {
            for (key, partitions) in run.report.key_partitions(TOPIC) {
                if partitions.len() > 1 {
                    return Err(format!("key {key} was appended to partitions {partitions:?}"));
                }
            }
            Ok(())
        })?;
    }

    #[test]
    fn after_every_rebalance_each_partition_has_exactly_one_owner(
        plan in generate::group_plans(),
    ) {
        check("one-owner", &plan, |run| one_owner_after_rebalances(&plan, run))?;
    }

    #[test]
    fn no_partition_ever_has_two_owners_at_the_same_instant(plan in generate::group_plans()) {
        check("no-two-owners", &plan, |run| {
            match run.report.simultaneous_owners(GROUP).first() {
                Some((a, b)) => Err(format!(
                    "{} owned {} from {} ms to {:?} ms, {} from {} ms to {:?} ms",
                    a.member, a.partition, a.from_ms, a.until_ms, b.member, b.from_ms,
                    b.until_ms
                )),
                None => Ok(()),
            }
        })?;
    }

    #[test]
    fn cooperative_sticky_never_revokes_a_partition_the_member_keeps(
        plan in generate::group_plans().prop_map(|p| with_strategy(p, "cooperative-sticky")),
    ) {
        check("cooperative-keeps", &plan, cooperative_revokes_only_what_moves)?;
    }

    #[test]
    fn range_and_roundrobin_are_balanced_with_identical_subscriptions(
        plan in generate::group_plans().prop_map(|p| {
            let strategy = if p.seed % 2 == 0 { "range" } else { "roundrobin" };
            with_strategy(p, strategy)
        }),
    ) {
        check("balanced", &plan, assignments_are_balanced)?;
    }

    #[test]
    fn at_least_once_every_acknowledged_record_is_processed(
        plan in generate::group_plans().prop_map(at_least_once),
    ) {
        check("at-least-once", &plan, every_acked_record_is_processed)?;
    }

    #[test]
    fn a_committed_offset_never_exceeds_the_high_watermark(plan in generate::group_plans()) {
        check("commit-below-hw", &plan, |run| {
            match run.report.commits.iter().find(|c| c.offset > c.high_watermark) {
                Some(c) => Err(format!(
                    "{} committed {} on {}-{} at {} ms, beyond the high watermark {}",
                    c.group, c.offset, c.topic, c.partition, c.t_ms, c.high_watermark
                )),
                None => Ok(()),
            }
        })?;
    }
}

// ---------------------------------------------------------------------------------------------
// Plans shaped for one property
// ---------------------------------------------------------------------------------------------

/// The same plan with an idempotent producer (`acks=all`, retries, up to 5 in flight).
fn idempotent(mut plan: Plan) -> Plan {
    plan.producer.idempotence = true;
    plan.producer.acks = "all";
    plan
}

fn with_strategy(mut plan: Plan, strategy: &'static str) -> Plan {
    if let Some(g) = &mut plan.group {
        g.strategy = strategy;
    }
    plan
}

/// `acks=all` with retries, and commits only of processed records: manual commits, or the
/// Java client's auto-commit (it commits, inside `poll()`, what earlier polls returned).
/// librdkafka's auto-commit commits what it handed out, processed or not: manual there.
fn at_least_once(mut plan: Plan) -> Plan {
    plan.producer.acks = "all";
    if let Some(g) = &mut plan.group
        && g.client == "librdkafka"
        && g.commit == "auto"
    {
        g.commit = "per-batch";
    }
    plan
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

fn offsets_are_contiguous(run: &Run) -> Result<(), String> {
    let mut next: BTreeMap<(&str, u32), u64> = BTreeMap::new();
    for a in &run.report.appended {
        let expected = next.entry((&a.topic, a.partition)).or_insert(0);
        if a.offset != *expected {
            return Err(format!(
                "{}-{}: offset {} appended at {} ms where {} was next",
                a.topic, a.partition, a.offset, a.t_ms, expected
            ));
        }
        *expected += 1;
    }
    Ok(())
}

/// The send number `n` of a value `checkout-<n>`.
pub fn send_number(value: &str) -> Option<u64> {
    value.strip_prefix(&format!("{PRODUCER}-"))?.parse().ok()
}

fn idempotent_appends_once_in_order(run: &Run) -> Result<(), String> {
    // Per key, the send numbers in log order; per value, where it was appended.
    let mut per_key: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut at: BTreeMap<&str, Vec<(u32, u64)>> = BTreeMap::new();
    for a in run.report.appended.iter().filter(|a| a.topic == TOPIC) {
        let (Some(key), Some(value)) = (a.key.as_deref(), a.value.as_deref()) else {
            continue;
        };
        let n = send_number(value).ok_or_else(|| format!("unexpected value {value}"))?;
        let sent = per_key.entry(key).or_default();
        if let Some(&last) = sent.last()
            && n <= last
        {
            return Err(format!(
                "key {key}: {value} appended at {}-{}@{} after {PRODUCER}-{last}",
                a.topic, a.partition, a.offset
            ));
        }
        sent.push(n);
        at.entry(value).or_default().push((a.partition, a.offset));
    }
    for d in run.report.deliveries.iter().filter(|d| d.error.is_none()) {
        let Some(value) = d.value.as_deref() else {
            continue;
        };
        let copies = at.get(value).map(Vec::as_slice).unwrap_or_default();
        let reported = d.offset.map(|o| (d.partition, o));
        if copies.len() != 1 || reported.is_some_and(|r| r != copies[0]) {
            return Err(format!(
                "{value} was acknowledged at {reported:?} and appended at {copies:?}"
            ));
        }
    }
    Ok(())
}

/// The completed rebalances of the group that produced an assignment.
fn stored_rebalances(report: &Report) -> Vec<&Rebalance> {
    report
        .rebalances
        .iter()
        .filter(|r| r.group == GROUP && r.completed_at_ms.is_some() && !r.assignment.is_empty())
        .collect()
}

fn one_owner_after_rebalances(plan: &Plan, run: &Run) -> Result<(), String> {
    let all: BTreeSet<String> = plan.subscribed_partitions().into_iter().collect();
    let rebalances = stored_rebalances(&run.report);
    for (i, rb) in rebalances.iter().enumerate() {
        let generation = rb.generation.unwrap_or(-1);
        let mut owners: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (member, parts) in &rb.assignment {
            for p in parts {
                owners.entry(p).or_default().push(member);
            }
        }
        if let Some((p, who)) = owners.iter().find(|(_, who)| who.len() > 1) {
            return Err(format!("generation {generation}: {p} assigned to {who:?}"));
        }
        let missing: Vec<&String> = all
            .iter()
            .filter(|p| !owners.contains_key(p.as_str()))
            .collect();
        let cooperative = rb.protocol.as_deref() == Some("cooperative-sticky");
        let followed = run.report.rebalances.iter().any(|later| {
            later.group == GROUP && later.started_at_ms >= rb.completed_at_ms.unwrap_or(0)
        });
        let last = i + 1 == rebalances.len();
        if !missing.is_empty() && (!cooperative || last || !followed) {
            return Err(format!(
                "generation {generation} ({:?}) completed at {:?} ms leaves {missing:?} \
                 without an owner",
                rb.protocol, rb.completed_at_ms
            ));
        }
    }
    // When the run ends the group has settled: the consumers' own view agrees.
    let mut owned: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (member, parts) in run.report.final_assignment(GROUP) {
        for p in parts {
            owned.entry(p).or_default().push(member.clone());
        }
    }
    let owned_once: BTreeSet<String> = owned
        .iter()
        .filter(|(_, who)| who.len() == 1)
        .map(|(p, _)| p.clone())
        .collect();
    if owned_once != all {
        return Err(format!("at the end the members own {owned:?}"));
    }
    Ok(())
}

fn cooperative_revokes_only_what_moves(run: &Run) -> Result<(), String> {
    // member id -> its partitions, per generation; the members of each generation.
    let mut stored: BTreeMap<i32, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    let mut members: BTreeMap<i32, BTreeSet<String>> = BTreeMap::new();
    for r in &run.trace {
        match &r.event {
            TraceEvent::AssignmentStored {
                generation,
                assignments,
                ..
            } => {
                let a = assignments.iter().map(|m| {
                    let parts = m.partitions.iter().map(ToString::to_string).collect();
                    (m.member_id.to_string(), parts)
                });
                stored.insert(*generation, a.collect());
            }
            TraceEvent::GenerationStarted {
                generation,
                members: list,
                ..
            } => {
                members.insert(*generation, list.iter().map(ToString::to_string).collect());
            }
            _ => {}
        }
    }
    for (i, r) in run.trace.iter().enumerate() {
        let TraceEvent::PartitionsRevoked {
            member_id,
            generation,
            partitions,
            ..
        } = &r.event
        else {
            continue;
        };
        // A member that closes revokes everything it owns: it is leaving, not rebalancing.
        let closing = run.trace[i + 1..]
            .iter()
            .find(|n| n.component == r.component)
            .is_some_and(|n| matches!(n.event, TraceEvent::ConsumerClosed { .. }));
        if closing {
            continue;
        }
        let revoked: BTreeSet<String> = partitions.iter().map(ToString::to_string).collect();
        let mut keeps = vec![*generation];
        // The follow-up round, if nobody joined or left in between, must not give them back.
        if members.get(generation) == members.get(&(generation + 1)) {
            keeps.push(generation + 1);
        }
        for g in keeps {
            let kept = stored.get(&g).and_then(|a| a.get(&**member_id));
            let both: Vec<&String> = kept
                .into_iter()
                .flat_map(|k| k.intersection(&revoked))
                .collect();
            if !both.is_empty() {
                return Err(format!(
                    "{} revoked {both:?} at {} ms (generation {generation}), which generation {g} \
                     assigns to it",
                    r.component, r.t_ms
                ));
            }
        }
    }
    Ok(())
}

fn assignments_are_balanced(run: &Run) -> Result<(), String> {
    for rb in stored_rebalances(&run.report) {
        let per_topic = rb.protocol.as_deref() == Some("range");
        // member -> topic (or "" overall) -> partitions.
        let mut counts: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
        for (member, parts) in &rb.assignment {
            let mine = counts.entry(member).or_default();
            for p in parts {
                let topic = p.rsplit_once('-').map_or("", |(t, _)| t);
                *mine.entry(if per_topic { topic } else { "" }).or_default() += 1;
            }
        }
        let buckets: BTreeSet<&str> = counts.values().flat_map(|m| m.keys().copied()).collect();
        for bucket in buckets {
            let n: Vec<usize> = counts
                .values()
                .map(|m| m.get(bucket).copied().unwrap_or(0))
                .collect();
            let (min, max) = (n.iter().min().unwrap_or(&0), n.iter().max().unwrap_or(&0));
            if max - min > 1 {
                return Err(format!(
                    "generation {:?} ({:?}) is unbalanced on {bucket:?}: {:?}",
                    rb.generation, rb.protocol, rb.assignment
                ));
            }
        }
    }
    Ok(())
}

fn every_acked_record_is_processed(run: &Run) -> Result<(), String> {
    let mut ranges: BTreeMap<(&str, u32), Vec<(u64, u64)>> = BTreeMap::new();
    for p in run.report.processed.iter().filter(|p| p.group == GROUP) {
        let list = ranges.entry((&p.topic, p.partition)).or_default();
        list.push((p.first_offset, p.last_offset));
    }
    for d in run.report.deliveries.iter().filter(|d| d.error.is_none()) {
        let Some(offset) = d.offset else { continue };
        let covered = ranges
            .get(&(d.topic.as_str(), d.partition))
            .is_some_and(|l| l.iter().any(|&(a, b)| (a..=b).contains(&offset)));
        if !covered {
            return Err(format!(
                "{:?} acknowledged at {}-{}@{offset} ({} ms) was never processed",
                d.value, d.topic, d.partition, d.t_ms
            ));
        }
    }
    Ok(())
}

/// The generators reach what the properties are about: a property that holds because no run
/// ever retried, crashed or rebalanced would prove nothing.
#[test]
fn generated_runs_reach_retries_crashes_and_rebalances() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[11; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    let producers = generate::producer_plans().prop_map(idempotent);
    for _ in 0..32 {
        let plan = producers.new_tree(&mut runner).unwrap().current();
        let run = super::harness::run(&plan).unwrap();
        for r in &run.trace {
            let name = match r.event {
                TraceEvent::BatchRetried { .. } => "batch retried",
                TraceEvent::DuplicateBatchIgnored { .. } => "duplicate batch ignored",
                TraceEvent::ProducerEpochBumped { .. } => "epoch bumped",
                TraceEvent::BatchFailed { .. } => "batch failed",
                _ => continue,
            };
            *seen.entry(name).or_default() += 1;
        }
    }
    let groups = generate::group_plans();
    for _ in 0..32 {
        let plan = groups.new_tree(&mut runner).unwrap().current();
        let run = super::harness::run(&plan).unwrap();
        let rebalances = stored_rebalances(&run.report).len();
        let totals = run.report.processing_totals(GROUP);
        let facts = [
            ("run with a crash", !run.report.crashes.is_empty()),
            ("run with a restart", !run.report.restarts.is_empty()),
            ("run with 3+ rebalances", rebalances >= 3),
            ("run with reprocessing", totals.reprocessed > 0),
            (
                "run with a revocation",
                run.trace
                    .iter()
                    .any(|r| matches!(r.event, TraceEvent::PartitionsRevoked { .. })),
            ),
        ];
        for (name, happened) in facts {
            *seen.entry(name).or_default() += u32::from(happened);
        }
    }
    println!("{seen:#?}");
    for (name, n) in &seen {
        assert!(*n > 0, "no generated run has a {name}: {seen:?}");
    }
}
