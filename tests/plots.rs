//! Plots: the series behind each kind of chart, and PNGs that decode with the size asked for and
//! show the curves' colours. PNG bytes are never compared.
//!
//! Set `KAFKA_SIM_KEEP_PLOTS=DIR` to keep the PNGs in DIR and look at them.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use kafka_sim::i18n::Lang;
use kafka_sim::plot::{self, Chart, DEFAULT_SIZE, Kind, Size};
use kafka_sim::report::Report;
use kafka_sim::report::series::{
    Flow, LagSample, Mark, MarkKind, Ownership, OwnershipChange, RunSeries,
};
use kafka_sim::trace::{Detail, jsonl};

use crate::support::{engine_trace, kafka_sim, stderr, stdout};

/// The first two colours of the plot palette (Okabe-Ito blue and vermillion).
const BLUE: [u8; 3] = [0, 114, 178];
const VERMILLION: [u8; 3] = [213, 94, 0];

/// A file for one test: in the temp directory under a name no other test or process uses, and
/// removed when the test ends (or kept in `KAFKA_SIM_KEEP_PLOTS`).
struct OutFile {
    path: PathBuf,
    keep: bool,
}

impl OutFile {
    fn new(name: &str) -> OutFile {
        let keep_dir = std::env::var_os("KAFKA_SIM_KEEP_PLOTS").map(PathBuf::from);
        let dir = keep_dir.clone().unwrap_or_else(std::env::temp_dir);
        let file = match keep_dir {
            Some(_) => name.to_string(),
            None => format!("kafka-sim-{}-{name}", std::process::id()),
        };
        OutFile {
            path: dir.join(file),
            keep: std::env::var_os("KAFKA_SIM_KEEP_PLOTS").is_some(),
        }
    }

    fn arg(&self) -> &str {
        self.path.to_str().expect("temp paths are UTF-8 here")
    }
}

impl Drop for OutFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Decodes the PNG at `path`: its size and RGB pixels.
fn decode(path: &Path) -> (Size, Vec<[u8; 3]>) {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buf).unwrap();
    assert_eq!(
        (frame.color_type, frame.bit_depth),
        (png::ColorType::Rgb, png::BitDepth::Eight)
    );
    let pixels = buf[..frame.buffer_size()]
        .chunks_exact(3)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    let size = Size {
        width: frame.width,
        height: frame.height,
    };
    (size, pixels)
}

/// Writes `chart` to a PNG named `name` at `size` and checks it with [`assert_drawn`].
fn assert_writes(chart: Chart, name: &str, size: Size, colours: &[[u8; 3]]) {
    let out = OutFile::new(name);
    chart.write_png(&out.path, size).unwrap();
    assert_drawn(&out.path, size, colours);
}

/// The PNG at `path` has `size`, is not blank, and shows each of `colours` (curves, bars).
fn assert_drawn(path: &Path, size: Size, colours: &[[u8; 3]]) {
    let (got, pixels) = decode(path);
    assert_eq!(got, size, "{}", path.display());
    let inked = pixels.iter().filter(|p| **p != [255, 255, 255]).count();
    assert!(
        inked > pixels.len() / 100,
        "{}: only {inked} pixels drawn",
        path.display()
    );
    for c in colours {
        let n = pixels.iter().filter(|p| *p == c).count();
        assert!(n > 200, "{}: colour {c:?} on {n} pixels", path.display());
    }
}

/// The course's Black Friday flood, as series: 1000 payments at 100/s from t=0, spread over
/// `consumers` partitions; the group joins at 3 s and each consumer processes one record per
/// 100 ms. Lag is sampled every second for two minutes.
fn black_friday(variant: &str, consumers: u64) -> RunSeries {
    let produced = |t_s: u64| (100 * t_s).min(1_000) / consumers;
    let processed = |t_s: u64| (10 * t_s.saturating_sub(3)).min(produced(t_s));
    let mut run = RunSeries {
        label: variant.to_string(),
        source: format!("black_friday variant {variant}"),
        scenario: Some("black_friday".into()),
        variant: Some(variant.into()),
        seed: Some(42),
        ended_at_ms: 120_000,
        ..RunSeries::default()
    };
    for t_s in 0..=120 {
        for p in 0..consumers as u32 {
            run.lag.push(LagSample {
                t_ms: t_s * 1_000,
                group: "analytics".into(),
                topic: "payments".into(),
                partition: p,
                lag: produced(t_s) - processed(t_s),
            });
        }
        let flow = |name: &str, records: u64| Flow {
            t_ms: t_s * 1_000,
            name: name.into(),
            records,
        };
        if t_s < 10 {
            run.produced.push(flow("payments", 100));
        }
        let done = processed(t_s + 1) - processed(t_s);
        run.processed.push(flow("analytics", done * consumers));
    }
    for p in 0..consumers as u32 {
        run.partitions
            .insert(("payments".into(), p), 1_000 / consumers);
    }
    run.marks = vec![
        Mark {
            t_ms: 0,
            what: MarkKind::Rebalance {
                group: "analytics".into(),
            },
        },
        Mark {
            t_ms: 3_000,
            what: MarkKind::Generation {
                generation: 1,
                group: "analytics".into(),
            },
        },
    ];
    run
}

/// Three members own six partitions from 3 s; member 3 crashes at 30 s and its partitions move
/// when `session.timeout.ms` (10 s) runs out: eagerly (everyone revokes everything at 40 s and
/// gets a range assignment at 43 s) or cooperatively (survivors keep theirs and only gain).
fn crash_and_rebalance(cooperative: bool) -> RunSeries {
    let variant = if cooperative {
        "cooperative-sticky"
    } else {
        "range"
    };
    let parts = |ps: &[u32]| ps.iter().map(|&p| ("orders".to_string(), p)).collect();
    let change = |t_ms: u64, member: u32, change: Ownership| OwnershipChange {
        t_ms,
        group: "analytics".into(),
        member: format!("consumer/analytics/{member}"),
        change,
    };
    let mut ownership = vec![
        change(3_000, 1, Ownership::Assigned(parts(&[0, 1]))),
        change(3_000, 2, Ownership::Assigned(parts(&[2, 3]))),
        change(3_000, 3, Ownership::Assigned(parts(&[4, 5]))),
        change(30_000, 3, Ownership::Lost),
    ];
    if cooperative {
        ownership.push(change(43_000, 1, Ownership::Assigned(parts(&[4]))));
        ownership.push(change(43_000, 2, Ownership::Assigned(parts(&[5]))));
    } else {
        ownership.push(change(40_000, 1, Ownership::Revoked(parts(&[0, 1]))));
        ownership.push(change(40_000, 2, Ownership::Revoked(parts(&[2, 3]))));
        ownership.push(change(43_000, 1, Ownership::Assigned(parts(&[0, 1, 2]))));
        ownership.push(change(43_000, 2, Ownership::Assigned(parts(&[3, 4, 5]))));
    }
    let mark = |t_ms: u64, what: MarkKind| Mark { t_ms, what };
    let group = || "analytics".to_string();
    RunSeries {
        label: variant.into(),
        source: format!("crash variant {variant}"),
        scenario: Some("crash-during-flood".into()),
        variant: Some(variant.into()),
        seed: Some(7),
        ended_at_ms: 60_000,
        ownership,
        marks: vec![
            mark(
                30_000,
                MarkKind::Crash {
                    component: "consumer/analytics/3".into(),
                },
            ),
            mark(40_000, MarkKind::Rebalance { group: group() }),
            mark(
                43_000,
                MarkKind::Generation {
                    generation: 2,
                    group: group(),
                },
            ),
        ],
        ..RunSeries::default()
    }
}

/// The picture: lag of 1/1 against 3/3 on shared axes, one curve per variant.
#[test]
fn lag_plot_has_one_curve_per_variant() {
    let runs = [black_friday("1p1c", 1), black_friday("3p3c", 3)];
    let Chart::Lag(lag) = plot::chart(Kind::Lag, &runs).unwrap() else {
        unreachable!()
    };
    assert_eq!(
        lag.title.text(Lang::En),
        "black_friday · consumer lag · 1p1c vs 3p3c · seed 42"
    );
    let labels: Vec<_> = lag.curves.iter().map(|c| c.label.text(Lang::En)).collect();
    assert_eq!(labels, ["1p1c", "3p3c"]);
    let peak = |i: usize| {
        lag.curves[i]
            .points
            .iter()
            .copied()
            .max_by_key(|p| p.1)
            .unwrap()
    };
    assert_eq!(peak(0), (10_000, 930));
    assert_eq!(peak(1), (10_000, 789));
    let drained = |i: usize| {
        lag.curves[i]
            .points
            .iter()
            .find(|p| p.0 > 10_000 && p.1 == 0)
    };
    assert_eq!(drained(0).unwrap().0, 103_000);
    assert_eq!(
        drained(1).unwrap().0,
        37_000,
        "3 consumers drain it 3 times faster"
    );
    assert_eq!(lag.markers.len(), 4);
    assert_eq!(
        lag.markers[3].label.text(Lang::En),
        "generation 1 analytics (3p3c)"
    );
    assert_writes(
        Chart::Lag(lag),
        "lag.png",
        DEFAULT_SIZE,
        &[BLUE, VERMILLION],
    );
}

#[test]
fn assignment_gantt_shows_eager_gaps_and_cooperative_moves() {
    let runs = [crash_and_rebalance(false), crash_and_rebalance(true)];
    let Chart::Assignments(gantt) = plot::chart(Kind::Assignments, &runs).unwrap() else {
        unreachable!()
    };
    assert_eq!(gantt.rows.len(), 12);
    assert_eq!(gantt.rows[0].label, "range orders-0");
    assert_eq!(gantt.rows[6].label, "cooperative-sticky orders-0");
    let spans = |row: usize| {
        (gantt.rows[row].spans.iter())
            .map(|s| (s.from_ms, s.to_ms, s.member.rsplit('/').next().unwrap()))
            .collect::<Vec<_>>()
    };
    // Eager: partition 0 stays with member 1 but is revoked for the whole rebalance.
    assert_eq!(spans(0), [(3_000, 40_000, "1"), (43_000, 60_000, "1")]);
    assert_eq!(spans(2), [(3_000, 40_000, "2"), (43_000, 60_000, "1")]);
    // Cooperative: partition 0 is never interrupted; the crashed member's partition 4 waits
    // from the crash to the end of the rebalance.
    assert_eq!(spans(6), [(3_000, 60_000, "1")]);
    assert_eq!(spans(10), [(3_000, 30_000, "3"), (43_000, 60_000, "1")]);
    let members = gantt.members();
    assert_eq!(members.len(), 3, "{members:?}");
    let size = Size {
        width: 1280,
        height: 720,
    };
    assert_writes(
        Chart::Assignments(gantt),
        "assignments.png",
        size,
        &[BLUE, VERMILLION],
    );
}

#[test]
fn throughput_plot_shows_produced_and_processed() {
    let runs = [black_friday("1p1c", 1)];
    let Chart::Throughput(chart) = plot::chart(Kind::Throughput, &runs).unwrap() else {
        unreachable!()
    };
    assert_eq!(chart.bucket_ms, 1_000);
    let labels: Vec<_> = chart
        .curves
        .iter()
        .map(|c| c.label.text(Lang::En))
        .collect();
    assert_eq!(labels, ["produced to payments", "processed by analytics"]);
    assert_eq!(
        chart.curves[0].counts[..11],
        [100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 0]
    );
    assert_eq!(chart.curves[1].counts[3..6], [10, 10, 10]);
    assert_eq!(chart.curves[1].counts.iter().sum::<u64>(), 1_000);
    let colours = [BLUE, VERMILLION];
    assert_writes(
        Chart::Throughput(chart),
        "throughput.png",
        DEFAULT_SIZE,
        &colours,
    );
}

/// The partitions and throughput of a trace the engine wrote, read back as a user would.
#[test]
fn partitions_and_throughput_from_an_engine_trace() {
    for detail in [Detail::Records, Detail::Batches] {
        let text = engine_trace(42, detail);
        let (header, records) = jsonl::read(text.as_bytes()).unwrap();
        let report = Report::from_trace(Some(&header), &records);
        let run = RunSeries::from_report("engine", "engine.jsonl", &report);
        let Chart::Partitions(bars) =
            plot::chart(Kind::Partitions, std::slice::from_ref(&run)).unwrap()
        else {
            unreachable!()
        };
        assert_eq!(bars.partitions, ["orders-0", "orders-1", "orders-2"]);
        let expected: Vec<u64> = report.partitions.values().map(|s| s.records).collect();
        assert_eq!(bars.series[0].records, expected, "{detail:?}");
        assert_eq!(expected.iter().sum::<u64>(), 200);
        assert_eq!(
            bars.title.text(Lang::En),
            "engine-load · records per partition · seed 42"
        );
        let Chart::Throughput(rates) = plot::chart(Kind::Throughput, &[run]).unwrap() else {
            unreachable!()
        };
        assert_eq!(
            rates.curves.len(),
            1,
            "produced only: the load reader is no group"
        );
        assert_eq!(
            rates.curves[0].counts.iter().sum::<u64>(),
            200,
            "{detail:?}"
        );
    }
}

/// `kafka-sim plot` on committed-style traces: one curve (bar series) per trace file.
#[test]
fn plot_command_draws_every_trace_kind_it_can() {
    let a = OutFile::new("engine-seed-42.jsonl");
    let b = OutFile::new("engine-seed-43.jsonl");
    fs::write(&a.path, engine_trace(42, Detail::Records)).unwrap();
    fs::write(&b.path, engine_trace(43, Detail::Batches)).unwrap();
    for kind in ["partitions", "throughput"] {
        let png = OutFile::new(&format!("cli-{kind}.png"));
        let out = kafka_sim(&["plot", a.arg(), b.arg(), "--kind", kind, "-o", png.arg()]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains(&format!("({kind} plot, 1600x900, 2 traces)")));
        assert_drawn(&png.path, DEFAULT_SIZE, &[BLUE, VERMILLION]);
    }
    let png = OutFile::new("cli-small.png");
    let out = kafka_sim(&[
        "plot",
        a.arg(),
        "-k",
        "partitions",
        "-o",
        png.arg(),
        "--width",
        "800",
        "--height",
        "450",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let small = Size {
        width: 800,
        height: 450,
    };
    assert_drawn(&png.path, small, &[BLUE]);
}

#[test]
fn plot_command_errors_name_the_trace_and_what_it_lacks() {
    let trace = OutFile::new("no-group.jsonl");
    fs::write(&trace.path, engine_trace(42, Detail::Batches)).unwrap();
    let png = OutFile::new("never-written.png");
    for (kind, lacks) in [
        ("lag", "has no consumer-group lag (no LagSampled events)"),
        (
            "assignments",
            "has no partition assignments (no PartitionsAssigned events)",
        ),
    ] {
        let out = kafka_sim(&["plot", trace.arg(), "--kind", kind, "-o", png.arg()]);
        assert_eq!(out.status.code(), Some(2), "{kind}");
        let err = stderr(&out);
        assert!(err.contains(&format!("{} {lacks}", trace.arg())), "{err}");
        assert!(!png.path.exists());
    }
    let missing = OutFile::new("missing.jsonl");
    let out = kafka_sim(&["plot", missing.arg(), "-k", "lag", "-o", png.arg()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(&format!("cannot open the trace {}", missing.arg())));
    let garbage = OutFile::new("garbage.jsonl");
    fs::write(&garbage.path, "{\"not\": \"a trace\"}\n").unwrap();
    let out = kafka_sim(&["plot", garbage.arg(), "-k", "partitions", "-o", png.arg()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("garbage.jsonl is not a readable kafka-sim trace: line 1"),
        "{err}"
    );
    let jpg = OutFile::new("lag.jpg");
    let out = kafka_sim(&["plot", trace.arg(), "-k", "partitions", "-o", jpg.arg()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("give a file name ending in .png"),
        "{}",
        stderr(&out)
    );
    let nowhere = "/nonexistent-kafka-sim-dir/plot.png";
    let out = kafka_sim(&["plot", trace.arg(), "-k", "partitions", "-o", nowhere]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("writing the plot {nowhere}")),
        "{}",
        stderr(&out)
    );
    let out = kafka_sim(&["plot", trace.arg(), "-k", "latency", "-o", png.arg()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("expected one of: lag, partitions, assignments, throughput"));
}
