//! How many events a scenario will need, estimated before it runs, so that one whose
//! `duration_ms` or record counts cannot fit its event limit is refused at once, with the
//! estimate, instead of after a minute of work.
//!
//! The estimate is a sum of two parts, each an upper-ish bound measured on every scenario of
//! `scenarios/` (the tests check it stays above what each one really processes):
//!
//! - **per record**: each record a producer sends, and each record a service group writes to
//!   its output (at most one per record it reads), costs up to [`PER_RECORD`] events (the
//!   send, its network hops, the append and the acknowledgement, the linger timer), times the
//!   topic's `replication_factor` (followers fetch it), times one plus the groups reading the
//!   topic (each fetches and processes it);
//! - **per second of virtual time**: each consumer group member costs [`PER_MEMBER_S`] events
//!   (a fetch long poll every `fetch.max.wait.ms` = 500 ms, a heartbeat every
//!   `heartbeat.interval.ms` = 3 s, an auto-commit every `auto.commit.interval.ms` = 5 s, each
//!   a request, its hops and its response), each producer [`PER_PRODUCER_S`] (metadata and
//!   idle timers), each broker [`PER_BROKER_S`] (replica fetches and, in a cluster, broker
//!   heartbeats to the controller), plus one lag sample per broker every `lag_sample_ms`.
//!
//! Faults and actions add [`PER_FAULT`] each (a crash or a broker going down sets off a
//! rebalance or an election). A quiescent run stops early and needs fewer.

use crate::scenario::Scenario;
use crate::units::TopicName;

/// A scenario refused before it runs: it would need more events than its limit allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{path}: refused before running: {scenario} needs about {estimate} events ({records} \
     records over {duration_ms} ms; an upper estimate), more than its event limit of {limit}. \
     Raise the limit (`max_events` in [scenario], or `kafka-sim run --max-events N`), or \
     shorten `duration_ms` or send fewer records; `--force` runs it anyway up to the limit"
)]
pub struct TooLarge {
    /// The scenario file.
    pub path: String,
    /// The scenario (and variant) refused.
    pub scenario: String,
    /// [`events`] of it.
    pub estimate: u64,
    /// Its event limit.
    pub limit: u64,
    /// Records its producers send.
    pub records: u64,
    /// Its `duration_ms`.
    pub duration_ms: u64,
}

/// Refuses `scenario` if [`events`] says it cannot fit its event limit; else the estimate.
pub fn check(scenario: &Scenario) -> Result<u64, TooLarge> {
    let estimate = events(scenario);
    if estimate <= scenario.max_events {
        return Ok(estimate);
    }
    let name = match &scenario.variant {
        Some(v) => format!("{} (variant {v})", scenario.name),
        None => scenario.name.clone(),
    };
    Err(TooLarge {
        path: scenario.path.display().to_string(),
        scenario: name,
        estimate,
        limit: scenario.max_events,
        records: scenario.producers.iter().map(|p| p.records).sum(),
        duration_ms: scenario.duration.0,
    })
}

/// Events per record sent, per replica and per reader (see the module doc).
pub const PER_RECORD: u64 = 12;
/// Events per consumer group member and second of virtual time.
pub const PER_MEMBER_S: u64 = 24;
/// Events per producer and second of virtual time.
pub const PER_PRODUCER_S: u64 = 4;
/// Events per broker and second of virtual time.
pub const PER_BROKER_S: u64 = 8;
/// Events per fault or operator action.
pub const PER_FAULT: u64 = 2_000;

/// The estimated number of events `scenario` needs to run to its `duration_ms`.
pub fn events(scenario: &Scenario) -> u64 {
    let seconds = scenario.duration.0.div_ceil(1000);
    let mut total = 0u64;
    for (topic, records) in records_per_topic(scenario) {
        let rf = scenario
            .topics
            .iter()
            .find(|t| t.name == topic)
            .map_or(1, |t| u64::from(t.replication_factor.max(1)));
        let readers = scenario
            .groups
            .iter()
            .filter(|g| g.topics.contains(&topic))
            .count() as u64;
        let per = PER_RECORD.saturating_mul(rf).saturating_mul(1 + readers);
        total = total.saturating_add(records.saturating_mul(per));
    }
    let members: u64 = scenario.groups.iter().map(|g| u64::from(g.members())).sum();
    let producers = scenario.producers.len() as u64 + members;
    let brokers = scenario.cluster.brokers.len() as u64;
    let per_second = members * PER_MEMBER_S + producers * PER_PRODUCER_S + brokers * PER_BROKER_S;
    let samples = scenario.duration.0 / scenario.report.lag_sample.0.max(1) + 1;
    let faults = (scenario.faults.len() + scenario.actions.len()) as u64;
    total
        .saturating_add(seconds.saturating_mul(per_second))
        .saturating_add(samples.saturating_mul(brokers))
        .saturating_add(faults * PER_FAULT)
}

/// Records written to each topic: by the producers, then by service groups (one output record
/// per record read, an upper bound), a chain of services passing records down in file order.
fn records_per_topic(scenario: &Scenario) -> Vec<(TopicName, u64)> {
    let mut records: Vec<(TopicName, u64)> = Vec::new();
    let add = |records: &mut Vec<(TopicName, u64)>, topic: &TopicName, n: u64| match records
        .iter_mut()
        .find(|(t, _)| t == topic)
    {
        Some((_, total)) => *total = total.saturating_add(n),
        None => records.push((topic.clone(), n)),
    };
    for p in &scenario.producers {
        add(&mut records, &p.topic, p.records);
    }
    for g in &scenario.groups {
        let Some(output) = &g.output else { continue };
        let read: u64 = records
            .iter()
            .filter(|(t, _)| g.topics.contains(t))
            .map(|&(_, n)| n)
            .sum();
        add(&mut records, &output.topic, read);
    }
    records
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::ScenarioFile;

    fn scenario(body: &str) -> Scenario {
        let text = format!("[scenario]\nname = \"x\"\nseed = 1\n{body}");
        ScenarioFile::parse(Path::new("x.toml"), text)
            .unwrap()
            .resolve(None)
            .unwrap()
    }

    const TOPIC: &str = "[[topic]]\nname = \"t\"\npartitions = 3\n";

    #[test]
    fn records_time_and_readers_add_up() {
        let idle = scenario(&format!("duration_ms = 10_000\n{TOPIC}"));
        let brokers = idle.cluster.brokers.len() as u64;
        let samples = 10_000 / idle.report.lag_sample.0 + 1;
        assert_eq!(
            events(&idle),
            10 * PER_BROKER_S * brokers + samples * brokers
        );
        let sending = scenario(&format!(
            "duration_ms = 10_000\n{TOPIC}[[producer]]\nname = \"p\"\ntopic = \"t\"\n\
             records = 1000\n"
        ));
        let extra = events(&sending) - events(&idle);
        assert_eq!(extra, 1000 * PER_RECORD + 10 * PER_PRODUCER_S);
    }

    #[test]
    fn too_many_records_for_the_limit_is_refused_with_the_estimate() {
        let s = scenario(&format!(
            "duration_ms = 10_000\nmax_events = 5000\n{TOPIC}[[producer]]\nname = \"p\"\n\
             topic = \"t\"\nrecords = 1000\n"
        ));
        let err = check(&s).unwrap_err();
        assert_eq!(err.estimate, events(&s));
        assert_eq!((err.limit, err.records), (5000, 1000));
        let text = err.to_string();
        assert!(text.starts_with("x.toml: refused before running"), "{text}");
        assert!(text.contains("--max-events"), "{text}");
    }
}
