//! Always-properties of the KIP-848 consumer group protocol (`group.protocol=consumer`),
//! through the engine, on the same generated groups as the classic ones (crashes, closes,
//! restarts, producer faults), with the uniform or the range server-side assignor.
//!
//! - At every instant the coordinator's own record (`MemberEpochUpdated`) gives each partition
//!   to at most one member, counting the partitions a member still has to revoke: a partition
//!   moves only once its old owner acknowledged the revocation.
//! - The consumers' view agrees: no partition is ever owned by two consumers at once.
//! - Once the group is Stable, every subscribed partition is assigned to exactly one member, and
//!   when the run ends (settled) the consumers own every partition once.

use std::collections::{BTreeMap, BTreeSet};

use kafka_sim::trace::TraceEvent;
use proptest::prelude::Strategy;
use proptest::proptest;

use super::generate::{self, GROUP, Plan};
use super::harness::{CI_CASES, Run, check, config};

proptest! {
    #![proptest_config(config(CI_CASES))]

    #[test]
    fn kip848_never_gives_a_partition_to_two_members_and_assigns_each_once_when_stable(
        plan in generate::group_plans().prop_map(kip848),
    ) {
        check("kip848-ownership", &plan, |run| {
            let speaks_kip848 = run.trace.iter().any(|r| {
                matches!(r.event, TraceEvent::ConsumerGroupHeartbeatAnswered(_))
            });
            if !speaks_kip848 {
                return Err("no ConsumerGroupHeartbeat was answered".to_string());
            }
            coordinator_never_holds_a_partition_twice(run)?;
            consumers_never_own_a_partition_twice(run)?;
            every_partition_once_when_stable(&plan, run)
        })?;
    }
}

/// The plan with its group on the consumer protocol (static membership is not modelled).
fn kip848(mut plan: Plan) -> Plan {
    if let Some(g) = plan.group.as_mut() {
        g.strategy = if plan.seed.is_multiple_of(2) {
            "consumer-uniform"
        } else {
            "consumer-range"
        };
        g.static_members = false;
    }
    plan
}

/// Replays `MemberEpochUpdated`: per member its assigned and pending partitions; members that
/// leave or expire hold nothing.
fn coordinator_never_holds_a_partition_twice(run: &Run) -> Result<(), String> {
    let mut held: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &run.trace {
        match &r.event {
            TraceEvent::MemberEpochUpdated(m) => {
                let parts = m.assigned.iter().chain(&m.pending_revocation);
                let parts = parts.map(ToString::to_string).collect();
                held.insert(m.member_id.to_string(), parts);
            }
            TraceEvent::MemberLeft { member_id, .. }
            | TraceEvent::MemberExpired { member_id, .. } => {
                held.remove(&member_id[..]);
            }
            _ => continue,
        }
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (member, parts) in &held {
            for p in parts {
                if let Some(other) = seen.insert(p, member) {
                    return Err(format!("at {} ms {p} held by {other} and {member}", r.t_ms));
                }
            }
        }
    }
    Ok(())
}

fn consumers_never_own_a_partition_twice(run: &Run) -> Result<(), String> {
    match run.report.simultaneous_owners(GROUP).first() {
        Some((a, b)) => Err(format!(
            "{} owned {} from {} ms to {:?} ms, {} from {} ms to {:?} ms",
            a.member, a.partition, a.from_ms, a.until_ms, b.member, b.from_ms, b.until_ms
        )),
        None => Ok(()),
    }
}

/// At each `Stable`, the coordinator's record covers every partition once; at the end, so do
/// the consumers.
fn every_partition_once_when_stable(plan: &Plan, run: &Run) -> Result<(), String> {
    let all: BTreeSet<String> = plan.subscribed_partitions().into_iter().collect();
    let mut held: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &run.trace {
        match &r.event {
            TraceEvent::MemberEpochUpdated(m) => {
                let parts = m.assigned.iter().map(ToString::to_string).collect();
                held.insert(m.member_id.to_string(), parts);
            }
            TraceEvent::MemberLeft { member_id, .. }
            | TraceEvent::MemberExpired { member_id, .. } => {
                held.remove(&member_id[..]);
            }
            TraceEvent::GroupStateChanged { to, .. } if &to[..] == "Stable" => {
                let mut owned: Vec<&String> = held.values().flatten().collect();
                owned.sort();
                let distinct: BTreeSet<String> = owned.iter().map(|p| p.to_string()).collect();
                if owned.len() != distinct.len() || distinct != all {
                    return Err(format!("Stable at {} ms with {held:?}", r.t_ms));
                }
            }
            _ => {}
        }
    }
    let mut owned: Vec<String> = run
        .report
        .final_assignment(GROUP)
        .into_values()
        .flatten()
        .collect();
    owned.sort();
    let distinct: BTreeSet<String> = owned.iter().cloned().collect();
    if owned.len() != distinct.len() || distinct != all {
        return Err(format!("at the end the members own {owned:?}"));
    }
    Ok(())
}
