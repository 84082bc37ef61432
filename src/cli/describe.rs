//! `kafka-sim describe`: `kafka-topics --describe` for every topic of a trace, or with `--group`
//! `kafka-consumer-groups --describe`, at the end of the run or at a given virtual time.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use kafka_sim::i18n::Lang;
use kafka_sim::report::{Report, describe};
use kafka_sim::trace::jsonl;

const FORMAT_HELP: &str = "\
Prints what `kafka-topics.sh --describe` prints against a Kafka 4.0 cluster, tab-separated:
a line per topic (Topic, TopicId, PartitionCount, ReplicationFactor, Configs), then a line
per partition (Topic, Partition, Leader, Replicas, Isr, Elr, LastKnownElr). Leader is `none`
while a partition has no leader. Eligible leader replicas (KIP-966) are not modelled, as in a
4.0 cluster where they are not enabled: Elr and LastKnownElr are empty. (Kafka 3.7 and older
print neither field.) A topic on a single broker has no TopicId line field: the simulator's
lone broker runs without a controller. Configs lists the topic-level configs set at creation.";

/// Arguments of `kafka-sim describe`.
#[derive(Debug, Args)]
#[command(after_long_help = FORMAT_HELP)]
pub(crate) struct DescribeArgs {
    /// The trace (JSONL, the format of sim-traces/README.md).
    #[arg(value_name = "TRACE")]
    trace: PathBuf,
    /// Describe the cluster as it was at this virtual time (ms), not at the end.
    #[arg(long, value_name = "MS")]
    at: Option<u64>,
    /// Only this topic.
    #[arg(long)]
    topic: Option<String>,
    /// The language of messages: en or fr. The table is Kafka's and stays as it prints it.
    #[arg(long, default_value_t = Lang::En)]
    lang: Lang,
    /// Print `kafka-consumer-groups --describe --group G` instead (at `--at`, or at the end):
    /// the rows the interactive page shows at that time.
    #[arg(long, value_name = "G")]
    group: Option<String>,
}

pub(crate) fn run(args: &DescribeArgs) -> anyhow::Result<ExitCode> {
    let shown = args.trace.display();
    let trace = jsonl::read_trace_file(&args.trace)?;
    if let Some(marker) = &trace.incomplete {
        eprintln!("{}", jsonl::incomplete_warning(&shown.to_string(), marker));
    }
    let report = Report::from_trace(Some(&trace.header), &trace.records);
    if let Some(g) = &args.group {
        let at = args.at.unwrap_or(report.ended_at_ms);
        let d = describe::consumer_group(&report, g, at);
        if let Some(w) = d.warning {
            eprintln!("{w}");
        }
        print!("{}", d.table);
        // Standard output stays the tool's; a lag of markers is explained beside it.
        let mut err = std::io::stderr();
        super::run::transactions::print_lag_notes(&mut err, &report, g, at, args.lang)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut cluster = report.cluster;
    if let Some(t) = &args.topic {
        if !cluster.topics.contains_key(t) {
            let named = [("trace", shown.to_string().into()), ("topic", t.into())];
            bail!("{}", args.lang.fmt("describe-no-topic", &named));
        }
        cluster.topics.retain(|name, _| name == t);
    }
    if cluster.topics.is_empty() {
        let named = [("trace", shown.to_string().into())];
        bail!("{}", args.lang.fmt("describe-no-topics", &named));
    }
    print!("{}", cluster.describe(args.at));
    Ok(ExitCode::SUCCESS)
}
