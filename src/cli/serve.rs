//! `kafka-sim serve` and `kafka-sim replay`: the simulated cluster behind real Kafka listeners,
//! and a served session's trace run again in virtual time.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kafka_sim::report::{Report, describe};
use kafka_sim::scenario::{Scenario, ScenarioFile};
use kafka_sim::serve::inprocess::world_config;
use kafka_sim::serve::{self, SOCKET_REQUEST_MAX_BYTES, ServeConfig, replay};
use kafka_sim::trace::{Detail, TraceHeader, TraceRecord, VecSink, jsonl};
use kafka_sim::world::World;

/// Arguments of `kafka-sim serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The scenario whose cluster to serve (brokers, topics, faults, its own clients); without
    /// one: a single broker, topics auto-created with one partition.
    #[arg(value_name = "SCENARIO")]
    scenario: Option<PathBuf>,
    /// The scenario's variant, when it has several.
    #[arg(long, requires = "scenario")]
    variant: Option<String>,
    /// The first broker's listener; the next brokers listen on the following ports (port 0:
    /// ephemeral ports).
    #[arg(long, default_value = "127.0.0.1:9092")]
    listen: SocketAddr,
    /// Virtual time runs this many times faster than the wall clock.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Where the trace is written when the server stops (SIGINT).
    #[arg(long, default_value = "serve-trace.jsonl")]
    trace: PathBuf,
    /// Also write the session's interactive page here when the server stops (the page
    /// `kafka-sim run --html` writes: the groups' tables over time, the lag, the decisions).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Allow a listener on an address other than loopback.
    #[arg(long)]
    allow_remote: bool,
}

/// Arguments of `kafka-sim replay`.
#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// The trace a `kafka-sim serve` session wrote.
    #[arg(value_name = "SESSION")]
    session: PathBuf,
    /// Where the replayed trace goes.
    #[arg(long, default_value = "replay-trace.jsonl")]
    trace: PathBuf,
}

fn load(path: Option<&Path>, variant: Option<&str>) -> anyhow::Result<Option<Scenario>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Some(ScenarioFile::parse(path, text)?.resolve(variant)?))
}

fn header(scenario: Option<&Scenario>) -> TraceHeader {
    match scenario {
        Some(s) => TraceHeader::new(&s.name, None, s.seed),
        None => TraceHeader::new("serve", None, 0),
    }
}

pub(crate) fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let scenario = load(args.scenario.as_deref(), args.variant.as_deref())?;
    let detail = scenario.as_ref().map_or(Detail::Records, |s| s.detail);
    let mut sink = VecSink::new(detail);
    let mut world = World::new(world_config(scenario.as_ref()), &mut sink);
    serve::build(&mut world, scenario.as_ref())?;
    let config = ServeConfig {
        listen: args.listen,
        speed: args.speed,
        max_request_bytes: SOCKET_REQUEST_MAX_BYTES,
        allow_remote: args.allow_remote,
        stop: Default::default(),
    };
    let listeners = serve::bind(&config, &world.broker_ids())?;
    let mut bootstrap = Vec::new();
    for (id, l) in &listeners {
        let addr = l.local_addr()?;
        println!("kafka-sim serve: broker {id} listens on {addr}");
        bootstrap.push(addr.to_string());
    }
    println!("bootstrap.servers={}", bootstrap.join(","));
    use std::io::Write as _;
    std::io::stdout().flush()?;
    let name = args
        .scenario
        .as_ref()
        .map(|p| (p.display().to_string(), args.variant.clone()));
    let end = serve::run(
        &mut world,
        listeners,
        &config,
        name,
        serve::default_topics(),
        |line| eprintln!("kafka-sim serve: {line}"),
    )?;
    world.finish(end, false);
    drop(world);
    finish(
        &header(scenario.as_ref()),
        &sink.records,
        &args.trace,
        args.html.as_deref(),
    )
}

/// Writes the trace (and the page, if asked) and prints every group's
/// `kafka-consumer-groups --describe` table.
fn finish(
    header: &TraceHeader,
    records: &[TraceRecord],
    path: &Path,
    html: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    fs::write(path, jsonl::to_string(header, records))
        .with_context(|| format!("writing {}", path.display()))?;
    if let Some(page) = html {
        // From the file just written, as `kafka-sim report` reads it: the page of a session is
        // the page of its trace, whichever command wrote it.
        println!(
            "{}",
            super::report::write_page(&[path.to_path_buf()], &[None], page)?
        );
    }
    let report = Report::from_trace(Some(header), records);
    for group in report.groups() {
        println!();
        print!(
            "{}",
            describe::consumer_group(&report, &group, report.ended_at_ms).table
        );
    }
    println!("trace: {}", path.display());
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn replay(args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let shown = args.session.display();
    let file = fs::File::open(&args.session).with_context(|| format!("cannot open {shown}"))?;
    let trace = jsonl::read_trace(std::io::BufReader::new(file))
        .with_context(|| format!("{shown} is not a readable kafka-sim trace"))?;
    let session = replay::read(&trace.records).map_err(anyhow::Error::msg)?;
    let started = &session.started;
    let scenario = load(
        started.scenario.as_deref().map(Path::new),
        started.variant.as_deref(),
    )?;
    let detail = scenario.as_ref().map_or(Detail::Records, |s| s.detail);
    let mut sink = VecSink::new(detail);
    let mut world = World::new(world_config(scenario.as_ref()), &mut sink);
    serve::build(&mut world, scenario.as_ref())?;
    let end = replay::replay(&mut world, &session, serve::default_topics())?;
    world.finish(end, false);
    drop(world);
    finish(&trace.header, &sink.records, &args.trace, None)
}
