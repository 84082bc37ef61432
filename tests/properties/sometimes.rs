//! Sometimes-properties: what a weaker configuration allows. Each test searches a bounded,
//! deterministic sequence of generated runs and fails if none shows the behaviour; the first
//! example found is written to `target/tmp/kafka-sim-properties/<name>.toml` and
//! printed (with `--nocapture`) with the `kafka-sim run` command that replays it.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::Strategy;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::always::send_number;
use super::generate::{self, GROUP, Plan, TOPIC};
use super::harness::{self, Run};

/// Runs at most `bound` plans drawn from `plans` (the same ones every time) and returns the
/// first for which `found` describes an example; panics if there is none.
fn search(
    name: &str,
    bound: usize,
    plans: impl Strategy<Value = Plan>,
    found: impl Fn(&Run) -> Option<String>,
) {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    for attempt in 1..=bound {
        let plan = plans
            .new_tree(&mut runner)
            .expect("plans generate")
            .current();
        let run = harness::run(&plan).unwrap_or_else(|e| panic!("{e}\n{}", plan.to_toml()));
        if let Some(what) = found(&run) {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
            let path = harness::save(dir, name, &plan, &what);
            println!(
                "{name}: example found in run {attempt} of {bound}: {what}\nreproduce: {}",
                harness::command(&path, plan.seed)
            );
            return;
        }
    }
    panic!("{name}: no example in {bound} runs; the behaviour is never shown");
}

#[test]
fn a_plain_producer_with_retries_can_append_a_duplicate() {
    let plans = generate::producer_plans().prop_map(|mut p| {
        p.producer.idempotence = false;
        p
    });
    search("plain-duplicate", 64, plans, |run| {
        let mut copies: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for a in run.report.appended.iter().filter(|a| a.topic == TOPIC) {
            let at = format!("{}-{}@{}", a.topic, a.partition, a.offset);
            copies.entry(a.value.as_deref()?).or_default().push(at);
        }
        let (value, at) = copies.into_iter().find(|(_, at)| at.len() > 1)?;
        Some(format!("{value} appended at {at:?}"))
    });
}

#[test]
fn a_plain_producer_with_requests_in_flight_can_reorder_a_key() {
    let plans = generate::producer_plans().prop_map(|mut p| {
        p.producer.idempotence = false;
        p.producer.max_in_flight = p.producer.max_in_flight.max(2);
        p
    });
    search("plain-reorder", 128, plans, |run| {
        // Per key, the send numbers in log order, first copies only.
        let mut per_key: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for a in run.report.appended.iter().filter(|a| a.topic == TOPIC) {
            let n = send_number(a.value.as_deref()?)?;
            let sent = per_key.entry(a.key.as_deref()?).or_default();
            if !sent.contains(&n) {
                sent.push(n);
            }
        }
        per_key.into_iter().find_map(|(key, sent)| {
            let i = sent.windows(2).position(|w| w[1] < w[0])?;
            Some(format!(
                "key {key}: record {} was appended after record {}",
                sent[i + 1],
                sent[i]
            ))
        })
    });
}

#[test]
fn librdkafka_auto_commit_and_a_crash_can_skip_records() {
    let plans = generate::group_plans().prop_map(|mut p| {
        if let Some(g) = &mut p.group {
            g.client = "librdkafka";
            g.commit = "auto";
            if g.strategy == "sticky" {
                g.strategy = "range";
            }
            // Slow records, so that a crash often comes while one is in hand.
            g.processing_ms = 100 + 20 * g.processing_ms;
            g.stops.iter_mut().for_each(|s| s.crash = true);
        }
        p
    });
    search("librdkafka-skip", 64, plans, |run| {
        let skipped = committed_but_never_processed(run);
        let (tp, offsets) = skipped.into_iter().next()?;
        Some(format!(
            "{tp}: offsets {offsets:?} committed and never processed"
        ))
    });
}

#[test]
fn java_auto_commit_and_a_crash_can_reprocess_records() {
    let plans = generate::group_plans().prop_map(|mut p| {
        if let Some(g) = &mut p.group {
            g.client = "java";
            g.commit = "auto";
            g.stops.iter_mut().for_each(|s| s.crash = true);
        }
        p
    });
    search("java-reprocess", 64, plans, |run| {
        let totals = run.report.processing_totals(GROUP);
        (totals.reprocessed > 0).then(|| format!("{} records processed twice", totals.reprocessed))
    });
}

#[test]
fn a_paused_consumer_can_be_a_zombie_owner_beside_its_successor() {
    // A GC pause longer than session.timeout.ms: the coordinator expires the member and gives
    // its partitions away; the paused process still believes it owns them until it hears so.
    // This is why "never two owners at once" assumes no such pause.
    let plans = generate::group_plans().prop_map(|mut p| {
        if let Some(g) = &mut p.group {
            g.members = g.members.max(2);
            let session = g.session_timeout_ms;
            g.stops
                .iter_mut()
                .for_each(|s| s.pause_ms = Some(session + 5_000));
        }
        p
    });
    search("zombie-owner", 64, plans, |run| {
        let (a, b) = run.report.simultaneous_owners(GROUP).into_iter().next()?;
        Some(format!(
            "{} owned {} from {} ms to {:?} ms while {} owned it from {} ms",
            a.member, a.partition, a.from_ms, a.until_ms, b.member, b.from_ms
        ))
    });
}

/// Per partition, the offsets below the group's last committed offset that no member
/// processed: records the group will never see.
fn committed_but_never_processed(run: &Run) -> BTreeMap<String, Vec<u64>> {
    let mut committed: BTreeMap<(&str, u32), u64> = BTreeMap::new();
    for c in run.report.commits.iter().filter(|c| c.group == GROUP) {
        committed.insert((&c.topic, c.partition), c.offset);
    }
    let mut out = BTreeMap::new();
    for ((topic, partition), upto) in committed {
        let done: Vec<(u64, u64)> = run
            .report
            .processed
            .iter()
            .filter(|p| p.group == GROUP && p.topic == topic && p.partition == partition)
            .map(|p| (p.first_offset, p.last_offset))
            .collect();
        let missing: Vec<u64> = (0..upto)
            .filter(|o| !done.iter().any(|&(a, b)| (a..=b).contains(o)))
            .collect();
        if !missing.is_empty() {
            out.insert(format!("{topic}-{partition}"), missing);
        }
    }
    out
}
