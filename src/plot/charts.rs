//! The charts built from [`RunSeries`]: one curve, bar series or block of rows per run, so the
//! variants of a scenario share one picture. A kind whose facts a run lacks is a
//! [`MissingData`] error naming the run.
//!
//! This is where the report's plain series become this module's chart types: `plot` reads
//! [`crate::report::series`], and the report never imports `plot`.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    AssignmentGantt, BarSeries, Chart, Curve, FlowKind, GanttRow, Kind, Label, LagChart, Marker,
    PartitionBars, RateCurve, Span, ThroughputChart, Title,
};
use crate::i18n::Lang;
use crate::report::series::{Flow, LagSample, MarkKind, Ownership, OwnershipChange, RunSeries};

/// A plot asked of a run that lacks the facts it draws.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{trace} has no {lacks}: a {kind} plot needs {needs}")]
pub struct MissingData {
    /// The plot.
    pub kind: Kind,
    /// The run's [`RunSeries::source`].
    pub trace: String,
    /// What the trace lacks.
    pub lacks: &'static str,
    /// What would provide it.
    pub needs: &'static str,
}

/// Builds the chart of `kind` for `runs`, one curve (bars, rows) per run.
pub fn chart(kind: Kind, runs: &[RunSeries]) -> Result<Chart, MissingData> {
    if runs.is_empty() {
        return Err(missing(kind, "the plot", "trace", "at least one trace"));
    }
    Ok(match kind {
        Kind::Lag => Chart::Lag(lag_chart(runs)?),
        Kind::Partitions => Chart::Partitions(partitions_chart(runs)?),
        Kind::Assignments => Chart::Assignments(assignments_chart(runs)?),
        Kind::Throughput => Chart::Throughput(throughput_chart(runs)?),
    })
}

/// Lag over time: per run, one curve per consumer group (its total lag over all partitions),
/// with the run's rebalances and crashes marked in its curve's colour.
pub fn lag_chart(runs: &[RunSeries]) -> Result<LagChart, MissingData> {
    let mut chart = LagChart {
        title: title(Kind::Lag, runs),
        ..LagChart::default()
    };
    for run in runs {
        let per_group = group_lag(&run.lag);
        if per_group.is_empty() {
            return Err(missing(
                Kind::Lag,
                &run.source,
                "consumer-group lag (no LagSampled events)",
                "a scenario with a [[consumer_group]]: the run samples its lag as it goes",
            ));
        }
        let first = chart.curves.len();
        let several = per_group.len() > 1;
        for (group, points) in per_group {
            let label = match (runs.len() > 1, several) {
                (true, false) => Label::Name(run.label.clone()),
                (true, true) => Label::Run(run.label.clone(), Box::new(Label::Group(group))),
                (false, _) => Label::Group(group),
            };
            chart.curves.push(Curve { label, points });
        }
        chart.markers.extend(markers(run, runs.len(), Some(first)));
    }
    Ok(chart)
}

/// Records per partition: the union of every run's partitions along x, one bar series per run.
pub fn partitions_chart(runs: &[RunSeries]) -> Result<PartitionBars, MissingData> {
    if let Some(run) = runs.iter().find(|r| r.partitions.is_empty()) {
        return Err(missing(
            Kind::Partitions,
            &run.source,
            "partitions (no TopicCreated, RecordAppended or BatchAppended events)",
            "a topic and records appended to it",
        ));
    }
    let keys: BTreeSet<&(String, u32)> = runs.iter().flat_map(|r| r.partitions.keys()).collect();
    let series = runs.iter().map(|run| BarSeries {
        label: if runs.len() > 1 {
            Label::Name(run.label.clone())
        } else {
            Label::RecordsAppended
        },
        records: keys
            .iter()
            .map(|k| run.partitions.get(*k).copied().unwrap_or(0))
            .collect(),
    });
    Ok(PartitionBars {
        title: title(Kind::Partitions, runs),
        partitions: keys.iter().map(|(t, p)| format!("{t}-{p}")).collect(),
        series: series.collect(),
    })
}

/// Partition ownership over time: per run, one row per (group, partition) that ever had an
/// owner; marks in grey (colours belong to members), one per moment and label.
pub fn assignments_chart(runs: &[RunSeries]) -> Result<AssignmentGantt, MissingData> {
    let mut chart = AssignmentGantt {
        title: title(Kind::Assignments, runs),
        end_ms: runs.iter().map(|r| r.ended_at_ms).max().unwrap_or(0),
        ..AssignmentGantt::default()
    };
    for run in runs {
        let spans = ownership_spans(&run.ownership, run.ended_at_ms);
        if spans.is_empty() {
            return Err(missing(
                Kind::Assignments,
                &run.source,
                "partition assignments (no PartitionsAssigned events)",
                "a scenario with a [[consumer_group]]",
            ));
        }
        let groups: BTreeSet<&str> = spans.keys().map(|(g, _, _)| g.as_str()).collect();
        for ((group, topic, partition), spans) in &spans {
            let mut label = format!("{topic}-{partition}");
            if groups.len() > 1 {
                label = format!("{group} {label}");
            }
            if runs.len() > 1 {
                label = format!("{} {label}", run.label);
            }
            let spans = spans.clone();
            chart.rows.push(GanttRow { label, spans });
        }
    }
    chart.markers = merged_markers(runs);
    Ok(chart)
}

/// Records per second over time: per run, one solid curve per topic produced to and one dashed
/// curve per group processing, all counted in the same buckets (see [`bucket_ms`]).
pub fn throughput_chart(runs: &[RunSeries]) -> Result<ThroughputChart, MissingData> {
    let end_ms = runs.iter().map(|r| r.ended_at_ms).max().unwrap_or(0);
    let bucket = bucket_ms(end_ms);
    let buckets = (end_ms / bucket + 1) as usize;
    let mut chart = ThroughputChart {
        title: title(Kind::Throughput, runs),
        bucket_ms: bucket,
        ..ThroughputChart::default()
    };
    for run in runs {
        if run.produced.is_empty() && run.processed.is_empty() {
            return Err(missing(
                Kind::Throughput,
                &run.source,
                "records (no RecordAppended, BatchAppended or RecordsProcessed events)",
                "records produced to a topic",
            ));
        }
        let first = chart.curves.len();
        let sides = [
            (FlowKind::Produced, &run.produced),
            (FlowKind::Processed, &run.processed),
        ];
        for (kind, flows) in sides {
            let names: BTreeSet<&str> = flows.iter().map(|f| f.name.as_str()).collect();
            for name in names {
                let mut label = match kind {
                    FlowKind::Produced => Label::ProducedTo(name.to_string()),
                    FlowKind::Processed => Label::ProcessedBy(name.to_string()),
                };
                if runs.len() > 1 {
                    label = Label::Run(run.label.clone(), Box::new(label));
                }
                let counts = per_bucket(flows, name, bucket, buckets);
                chart.curves.push(RateCurve {
                    label,
                    kind,
                    counts,
                });
            }
        }
        chart.markers.extend(markers(run, runs.len(), Some(first)));
    }
    Ok(chart)
}

/// Each group's total lag over time: at every sample time, the sum over the group's partitions
/// of each partition's latest sample (so partitions sampled at different moments still add up).
pub fn group_lag(samples: &[LagSample]) -> BTreeMap<String, Vec<(u64, u64)>> {
    let mut by_group: BTreeMap<&str, Vec<&LagSample>> = BTreeMap::new();
    for s in samples {
        by_group.entry(&s.group).or_default().push(s);
    }
    let mut out = BTreeMap::new();
    for (group, mut samples) in by_group {
        samples.sort_by_key(|s| s.t_ms);
        let mut latest: BTreeMap<(&str, u32), u64> = BTreeMap::new();
        let mut points: Vec<(u64, u64)> = Vec::new();
        for s in samples {
            latest.insert((&s.topic, s.partition), s.lag);
            let total = latest.values().sum();
            match points.last_mut() {
                Some(last) if last.0 == s.t_ms => last.1 = total,
                _ => points.push((s.t_ms, total)),
            }
        }
        out.insert(group.to_string(), points);
    }
    out
}

/// Who owned each (group, topic, partition) when: a span opens when a member is assigned the
/// partition and closes when it revokes it, is lost, or another member is assigned it; spans
/// still open close at `end_ms`. Spans of zero length are left out.
pub fn ownership_spans(
    changes: &[OwnershipChange],
    end_ms: u64,
) -> BTreeMap<(String, String, u32), Vec<Span>> {
    type Key = (String, String, u32);
    let mut open: BTreeMap<Key, (u64, String)> = BTreeMap::new();
    let mut done: BTreeMap<Key, Vec<Span>> = BTreeMap::new();
    let mut close = |key: Key, (from_ms, member): (u64, String), to_ms: u64| {
        let spans = done.entry(key).or_default();
        if to_ms > from_ms {
            spans.push(Span {
                from_ms,
                to_ms,
                member,
            });
        }
    };
    for c in changes {
        let key = |(topic, partition): &(String, u32)| (c.group.clone(), topic.clone(), *partition);
        match &c.change {
            Ownership::Assigned(parts) => {
                for key in parts.iter().map(key) {
                    match open.remove(&key) {
                        Some(owner) if owner.1 == c.member => {
                            open.insert(key, owner);
                        }
                        previous => {
                            if let Some(owner) = previous {
                                close(key.clone(), owner, c.t_ms);
                            }
                            open.insert(key, (c.t_ms, c.member.clone()));
                        }
                    }
                }
            }
            Ownership::Revoked(parts) => {
                for key in parts.iter().map(key) {
                    if open.get(&key).is_some_and(|o| o.1 == c.member) {
                        let owner = open.remove(&key).expect("checked above");
                        close(key, owner, c.t_ms);
                    }
                }
            }
            Ownership::Lost => {
                let mine: Vec<Key> = (open.iter())
                    .filter(|(k, o)| k.0 == c.group && o.1 == c.member)
                    .map(|(k, _)| k.clone())
                    .collect();
                for key in mine {
                    let owner = open.remove(&key).expect("listed above");
                    close(key, owner, c.t_ms);
                }
            }
        }
    }
    for (key, owner) in open {
        let to_ms = end_ms.max(owner.0);
        close(key, owner, to_ms);
    }
    done.retain(|_, spans| !spans.is_empty());
    done
}

/// The width of the throughput buckets for a run of `span_ms`: the smallest of a fixed ladder
/// (10 ms ... 1 h) that gives at most 150 buckets, so a two-minute run is counted per second.
pub fn bucket_ms(span_ms: u64) -> u64 {
    const LADDER: [u64; 16] = [
        10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000,
        600_000, 3_600_000,
    ];
    let fits = |b: u64| span_ms / b < 150;
    LADDER
        .into_iter()
        .find(|&b| fits(b))
        .unwrap_or_else(|| (span_ms / 150 / 3_600_000 + 1) * 3_600_000)
}

/// Records of the flows named `name`, counted in `buckets` buckets of `bucket_ms` from 0.
pub fn per_bucket(flows: &[Flow], name: &str, bucket_ms: u64, buckets: usize) -> Vec<u64> {
    let mut counts = vec![0; buckets];
    for f in flows.iter().filter(|f| f.name == name) {
        let i = ((f.t_ms / bucket_ms) as usize).min(buckets.saturating_sub(1));
        counts[i] += f.records;
    }
    counts
}

/// A run's marks as chart markers, labelled with the run when there are several runs.
fn markers(run: &RunSeries, runs: usize, colour: Option<usize>) -> Vec<Marker> {
    (run.marks.iter())
        .map(|m| Marker {
            t_ms: m.t_ms,
            label: if runs > 1 {
                Label::Of(Box::new(Label::Mark(m.what.clone())), run.label.clone())
            } else {
                Label::Mark(m.what.clone())
            },
            colour,
        })
        .collect()
}

/// Every run's marks as grey markers, one per (time, mark), in the order of time and English
/// label: a mark that only some runs have names them.
fn merged_markers(runs: &[RunSeries]) -> Vec<Marker> {
    let mut by_mark: BTreeMap<(u64, String), (&MarkKind, Vec<&str>)> = BTreeMap::new();
    for run in runs {
        for m in &run.marks {
            let key = (m.t_ms, Label::Mark(m.what.clone()).text(Lang::En));
            let entry = by_mark.entry(key).or_insert((&m.what, Vec::new()));
            entry.1.push(&run.label);
        }
    }
    (by_mark.into_iter())
        .map(|((t_ms, _), (what, names))| {
            let label = Label::Mark(what.clone());
            Marker {
                t_ms,
                label: if names.len() >= runs.len() {
                    label
                } else {
                    Label::Of(Box::new(label), names.join(", "))
                },
                colour: None,
            }
        })
        .collect()
}

/// The chart title: the scenario, what is drawn, the variants compared and the seed, e.g.
/// `black_friday · consumer lag · 1p1c vs 3p3c · seed 42`.
fn title(kind: Kind, runs: &[RunSeries]) -> Title {
    let scenarios: BTreeSet<&str> = runs.iter().filter_map(|r| r.scenario.as_deref()).collect();
    let compared = runs.len() > 1 || runs.iter().any(|r| r.variant.is_some());
    let labels: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    Title {
        scenarios: (!scenarios.is_empty())
            .then(|| scenarios.into_iter().collect::<Vec<_>>().join(", ")),
        kind,
        runs: compared.then(|| labels.join(" vs ")),
        seeds: runs
            .iter()
            .filter_map(|r| r.seed)
            .collect::<BTreeSet<u64>>()
            .into_iter()
            .collect(),
    }
}

fn missing(kind: Kind, trace: &str, lacks: &'static str, needs: &'static str) -> MissingData {
    MissingData {
        kind,
        trace: trace.to_string(),
        lacks,
        needs,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::report::Report;
    use crate::report::series::Mark;
    use crate::report::test_trace::topic_created;
    use crate::trace::{TraceEvent, TraceHeader, TraceRecord};

    fn record(t_ms: u64, event: TraceEvent) -> TraceRecord {
        TraceRecord {
            t_ms,
            seq: t_ms,
            component: Arc::from("broker/1"),
            cause: None,
            event,
        }
    }

    fn batch(t_ms: u64, partition: u32, base: u64, records: u32) -> TraceRecord {
        record(
            t_ms,
            TraceEvent::BatchAppended {
                topic: Arc::from("orders"),
                partition,
                base_offset: base,
                last_offset: base + u64::from(records) - 1,
                records,
                producer: None,
            },
        )
    }

    fn topic(partitions: u32) -> TraceRecord {
        record(0, topic_created(partitions))
    }

    fn run(variant: &str, trace: &[TraceRecord]) -> RunSeries {
        let header = TraceHeader::new("black_friday", Some(variant), 42);
        let report = Report::from_trace(Some(&header), trace);
        RunSeries::from_report(variant, &format!("{variant}.jsonl"), &report)
    }

    fn lag(t_ms: u64, group: &str, partition: u32, lag: u64) -> LagSample {
        LagSample {
            t_ms,
            group: group.into(),
            topic: "orders".into(),
            partition,
            lag,
        }
    }

    fn change(t_ms: u64, member: &str, change: Ownership) -> OwnershipChange {
        OwnershipChange {
            t_ms,
            group: "analytics".into(),
            member: member.into(),
            change,
        }
    }

    fn parts(ps: &[u32]) -> Vec<(String, u32)> {
        ps.iter().map(|&p| ("orders".to_string(), p)).collect()
    }

    #[test]
    fn partition_bars_show_every_partition_of_every_run() {
        let skewed = run("keyed", &[topic(3), batch(10, 2, 0, 7), batch(20, 0, 0, 2)]);
        let even = run(
            "round-robin",
            &[topic(3), batch(10, 0, 0, 3), batch(11, 1, 0, 3)],
        );
        let chart = partitions_chart(&[skewed, even]).unwrap();
        assert_eq!(chart.partitions, ["orders-0", "orders-1", "orders-2"]);
        assert_eq!(chart.series[0].label, Label::from("keyed"));
        assert_eq!(chart.series[0].records, [2, 0, 7]);
        assert_eq!(chart.series[1].records, [3, 3, 0]);
        assert_eq!(
            chart.title.text(Lang::En),
            "black_friday · records per partition · keyed vs round-robin · seed 42"
        );
    }

    #[test]
    fn throughput_counts_produced_records_per_bucket() {
        let mut trace = vec![topic(2)];
        // 3 batches of 5 in the first second, 1 of 5 in the third; the run lasts 2.5 s.
        for (i, t) in [100, 400, 900, 2_100].into_iter().enumerate() {
            trace.push(batch(t, (i % 2) as u32, i as u64 * 5, 5));
        }
        trace.push(record(
            2_500,
            TraceEvent::RunEnded {
                reason: "duration reached".into(),
                events_processed: 9,
            },
        ));
        let one = run("1p1c", &trace);
        assert_eq!(one.produced.len(), 4);
        let chart = throughput_chart(&[one]).unwrap();
        assert_eq!(chart.bucket_ms, 20);
        let curve = &chart.curves[0];
        assert_eq!(
            (&curve.label, curve.kind),
            (&Label::ProducedTo("orders".into()), FlowKind::Produced)
        );
        assert_eq!(curve.counts.len(), 2_500 / 20 + 1);
        assert_eq!(curve.counts.iter().sum::<u64>(), 20);
        assert_eq!(curve.counts[5], 5, "the batch at 100 ms");
        assert_eq!(curve.counts[105], 5, "the batch at 2100 ms");
    }

    #[test]
    fn per_record_traces_flow_per_millisecond_and_processed_is_dashed() {
        use crate::trace::TraceBytes;
        let appended = |t_ms: u64, offset: u64| {
            record(
                t_ms,
                TraceEvent::RecordAppended {
                    topic: Arc::from("orders"),
                    partition: 0,
                    offset,
                    key: None,
                    value: Some(TraceBytes::Utf8(format!("v{offset}"))),
                    producer: None,
                    producer_id: None,
                    producer_epoch: None,
                    sequence: None,
                },
            )
        };
        let mut one = run(
            "1p1c",
            &[appended(5, 0), appended(5, 1), appended(1_500, 2)],
        );
        assert_eq!(one.produced[0].records, 2, "two records in one millisecond");
        one.processed = vec![Flow {
            t_ms: 1_200,
            name: "analytics".into(),
            records: 2,
        }];
        let chart = throughput_chart(&[one]).unwrap();
        assert_eq!(chart.bucket_ms, 20);
        let labels: Vec<_> = chart
            .curves
            .iter()
            .map(|c| (c.label.text(Lang::En), c.kind))
            .collect();
        assert_eq!(
            labels,
            [
                ("produced to orders".to_string(), FlowKind::Produced),
                ("processed by analytics".to_string(), FlowKind::Processed)
            ]
        );
        assert_eq!(chart.curves[1].counts[60], 2);
    }

    #[test]
    fn buckets_are_a_second_for_a_two_minute_run() {
        assert_eq!(bucket_ms(0), 10);
        assert_eq!(bucket_ms(120_000), 1_000);
        assert_eq!(bucket_ms(600_000), 5_000);
        assert_eq!(bucket_ms(1_000 * 3_600_000), 7 * 3_600_000);
        let flows = [Flow {
            t_ms: 99_999,
            name: "t".into(),
            records: 1,
        }];
        assert_eq!(
            per_bucket(&flows, "t", 1_000, 3),
            [0, 0, 1],
            "late flows land last"
        );
    }

    #[test]
    fn group_lag_sums_the_latest_sample_of_each_partition() {
        let samples = [
            lag(1_000, "analytics", 0, 10),
            lag(1_000, "analytics", 1, 5),
            lag(1_000, "billing", 0, 1),
            lag(2_000, "analytics", 0, 30),
            // partition 1 sampled later: partition 0's last sample still counts.
            lag(2_500, "analytics", 1, 0),
        ];
        let lag = group_lag(&samples);
        assert_eq!(lag["analytics"], [(1_000, 15), (2_000, 35), (2_500, 30)]);
        assert_eq!(lag["billing"], [(1_000, 1)]);
    }

    #[test]
    fn lag_chart_has_one_curve_per_variant_and_marks_rebalances() {
        let mut slow = run("1p1c", &[topic(1)]);
        slow.lag = vec![lag(0, "analytics", 0, 0), lag(60_000, "analytics", 0, 400)];
        let mut fast = run("3p3c", &[topic(3)]);
        fast.lag = (0..3).map(|p| lag(60_000, "analytics", p, 40)).collect();
        fast.marks = vec![Mark {
            t_ms: 30_000,
            what: MarkKind::Rebalance {
                group: "analytics".into(),
            },
        }];
        let chart = lag_chart(&[slow, fast]).unwrap();
        assert_eq!(
            chart.title.text(Lang::En),
            "black_friday · consumer lag · 1p1c vs 3p3c · seed 42"
        );
        let curves: Vec<_> = chart
            .curves
            .iter()
            .map(|c| (c.label.text(Lang::En), &c.points[..]))
            .collect();
        assert_eq!(
            curves,
            [
                ("1p1c".to_string(), &[(0, 0), (60_000, 400)][..]),
                ("3p3c".to_string(), &[(60_000, 120)][..])
            ]
        );
        let marker = &chart.markers[..];
        assert_eq!(
            (marker.len(), marker[0].t_ms, marker[0].colour),
            (1, 30_000, Some(1))
        );
        assert_eq!(marker[0].label.text(Lang::En), "rebalance analytics (3p3c)");
    }

    #[test]
    fn kinds_without_data_say_what_the_trace_lacks() {
        let plain = run("plain", &[topic(3), batch(10, 0, 0, 1)]);
        let err = chart(Kind::Lag, std::slice::from_ref(&plain)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "plain.jsonl has no consumer-group lag (no LagSampled events): a lag plot needs a \
             scenario with a [[consumer_group]]: the run samples its lag as it goes"
        );
        let err = chart(Kind::Assignments, std::slice::from_ref(&plain)).unwrap_err();
        assert!(
            err.to_string().contains("no PartitionsAssigned events"),
            "{err}"
        );
        let empty = run("empty", &[]);
        let err = chart(Kind::Partitions, &[plain.clone(), empty.clone()]).unwrap_err();
        assert!(
            err.to_string().starts_with("empty.jsonl has no partitions"),
            "{err}"
        );
        assert!(chart(Kind::Throughput, &[empty]).is_err());
        assert!(chart(Kind::Partitions, &[]).is_err());
        assert!(chart(Kind::Throughput, &[plain]).is_ok());
    }

    #[test]
    fn eager_rebalance_leaves_gaps_in_every_row() {
        // Two members, eager (range): both revoke everything at 10 s, the new assignment
        // arrives at 13 s after SyncGroup; c2 crashed at 20 s and is gone at 30 s.
        let changes = [
            change(0, "c1", Ownership::Assigned(parts(&[0, 1]))),
            change(10_000, "c1", Ownership::Revoked(parts(&[0, 1]))),
            change(13_000, "c1", Ownership::Assigned(parts(&[0]))),
            change(13_000, "c2", Ownership::Assigned(parts(&[1]))),
            change(30_000, "c2", Ownership::Lost),
            change(33_000, "c1", Ownership::Assigned(parts(&[0, 1]))),
        ];
        let spans = ownership_spans(&changes, 40_000);
        let row = |p: u32| {
            spans[&("analytics".to_string(), "orders".to_string(), p)]
                .iter()
                .map(|s| (s.from_ms, s.to_ms, s.member.as_str()))
                .collect::<Vec<_>>()
        };
        // Partition 0 is c1's before and after: a gap from 10 s to 13 s, and the span
        // reopened at 13 s is not broken by the assignment at 33 s that keeps it.
        assert_eq!(row(0), [(0, 10_000, "c1"), (13_000, 40_000, "c1")]);
        assert_eq!(
            row(1),
            [
                (0, 10_000, "c1"),
                (13_000, 30_000, "c2"),
                (33_000, 40_000, "c1")
            ]
        );
    }

    #[test]
    fn cooperative_rebalance_moves_only_what_moves() {
        // Cooperative-sticky (KIP-429): c1 keeps partition 0 throughout and hands 1 over to c2,
        // whose assignment arrives before c1's revocation is seen: the new owner closes the span.
        let changes = [
            change(0, "c1", Ownership::Assigned(parts(&[0, 1]))),
            change(5_000, "c2", Ownership::Assigned(parts(&[1]))),
            change(5_000, "c1", Ownership::Revoked(parts(&[1]))),
        ];
        let spans = ownership_spans(&changes, 9_000);
        let members = |p: u32| {
            spans[&("analytics".to_string(), "orders".to_string(), p)]
                .iter()
                .map(|s| (s.from_ms, s.to_ms, s.member.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(members(0), [(0, 9_000, "c1".to_string())]);
        assert_eq!(
            members(1),
            [
                (0, 5_000, "c1".to_string()),
                (5_000, 9_000, "c2".to_string())
            ]
        );
    }

    #[test]
    fn assignment_rows_per_partition_and_variant() {
        let mut eager = run("eager", &[topic(2)]);
        eager.ended_at_ms = 20_000;
        eager.ownership = vec![change(0, "c1", Ownership::Assigned(parts(&[0, 1])))];
        let mut coop = eager.clone();
        coop.label = "cooperative".into();
        let chart = assignments_chart(&[eager, coop.clone()]).unwrap();
        let labels: Vec<_> = chart.rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "eager orders-0",
                "eager orders-1",
                "cooperative orders-0",
                "cooperative orders-1"
            ]
        );
        assert_eq!(chart.end_ms, 20_000);
        assert_eq!(chart.rows[3].spans.len(), 1);
        let mut eager = coop.clone();
        eager.label = "eager".into();
        let crash = |t_ms: u64| Mark {
            t_ms,
            what: MarkKind::Crash {
                component: "consumer/analytics/3".into(),
            },
        };
        eager.marks = vec![crash(5_000)];
        coop.marks = vec![crash(5_000), crash(6_000)];
        let chart = assignments_chart(&[eager, coop]).unwrap();
        let marks: Vec<_> = chart
            .markers
            .iter()
            .map(|m| (m.t_ms, m.label.text(Lang::En)))
            .collect();
        assert_eq!(
            marks,
            [
                (5_000, "crash consumer/analytics/3".to_string()),
                (
                    6_000,
                    "crash consumer/analytics/3 (cooperative)".to_string()
                )
            ]
        );
    }

    #[test]
    fn crashes_are_marked() {
        let mut crash = record(7_000, TraceEvent::ClientCrashed {});
        crash.component = Arc::from("consumer/analytics/1");
        let one = run("1p1c", &[topic(1), crash]);
        assert_eq!(
            one.marks,
            [Mark {
                t_ms: 7_000,
                what: MarkKind::Crash {
                    component: "consumer/analytics/1".into()
                }
            }]
        );
        assert_eq!(
            markers(&one, 1, None)[0].label.text(Lang::En),
            "crash consumer/analytics/1"
        );
    }
}
