//! `kafka-sim plot`: draws a chart of one or more traces as a PNG file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use kafka_sim::i18n::Lang;
use kafka_sim::plot::{self, DEFAULT_SIZE, Kind, Size};
use kafka_sim::report::Report;
use kafka_sim::report::series::RunSeries;
use kafka_sim::trace::jsonl;

const KINDS_HELP: &str = "\
Kinds:
  lag          consumer lag over virtual time, one curve per group and trace (variant),
               rebalances and crashes marked
  partitions   records appended per partition, one bar per trace: key skew, hot partitions
  assignments  which member owned which partition when (a Gantt chart): eager rebalances
               leave gaps in every row, cooperative ones only in the rows that move
  throughput   records produced (solid) and processed (dashed) per second

Several traces (e.g. the variants of one scenario) share one chart; each is named by its
header's variant, or by its file name.";

/// Arguments of `kafka-sim plot`.
#[derive(Debug, Args)]
#[command(after_long_help = KINDS_HELP)]
pub(crate) struct PlotArgs {
    /// The traces to plot (JSONL, the format of sim-traces/README.md).
    #[arg(required = true, value_name = "TRACE")]
    traces: Vec<PathBuf>,
    /// What to draw: lag, partitions, assignments or throughput (see --help).
    #[arg(long, short = 'k')]
    kind: Kind,
    /// The PNG file to write.
    #[arg(long, short = 'o', value_name = "FILE.png")]
    output: PathBuf,
    /// Image width in pixels.
    #[arg(long, default_value_t = DEFAULT_SIZE.width)]
    width: u32,
    /// Image height in pixels.
    #[arg(long, default_value_t = DEFAULT_SIZE.height)]
    height: u32,
    /// The language of titles, axes and legends: en or fr.
    #[arg(long, default_value_t = Lang::En)]
    lang: Lang,
}

pub(crate) fn run(args: &PlotArgs) -> anyhow::Result<ExitCode> {
    let mut runs = Vec::with_capacity(args.traces.len());
    for path in &args.traces {
        runs.push(read_run(path)?);
    }
    name_runs_apart(&mut runs, &args.traces);
    let size = Size {
        width: args.width,
        height: args.height,
    };
    write(args.kind, &runs, &args.output, size, args.lang)?;
    let wrote = [
        ("path", args.output.display().to_string().into()),
        ("kind", args.kind.to_string().into()),
        ("size", size.to_string().into()),
        ("traces", runs.len().into()),
    ];
    println!("{}", args.lang.fmt("plot-wrote", &wrote));
    Ok(ExitCode::SUCCESS)
}

/// Draws the chart of `kind` for `runs` into the PNG file `path`. `kafka-sim run --plot` calls
/// this too, with one run per variant.
pub(crate) fn write(
    kind: Kind,
    runs: &[RunSeries],
    path: &Path,
    size: Size,
    lang: Lang,
) -> anyhow::Result<()> {
    let chart = plot::chart(kind, runs)?;
    chart.write_png_in(path, size, lang)?;
    Ok(())
}

/// Reads a trace file and collects its plot series; the run is named by its variant, else by
/// the file name.
fn read_run(path: &Path) -> anyhow::Result<RunSeries> {
    let shown = path.display();
    let jsonl::Trace {
        header,
        records,
        incomplete,
    } = jsonl::read_trace_file(path)?;
    if let Some(marker) = &incomplete {
        eprintln!("{}", jsonl::incomplete_warning(&shown.to_string(), marker));
    }
    let report = Report::from_trace(Some(&header), &records);
    let label = header.variant.clone().unwrap_or_else(|| file_stem(path));
    Ok(RunSeries::from_report(&label, &shown.to_string(), &report))
}

/// Two traces of the same variant (two seeds, say) would share a legend entry: name each of
/// those by its file instead.
fn name_runs_apart(runs: &mut [RunSeries], paths: &[PathBuf]) {
    let labels: Vec<String> = runs.iter().map(|r| r.label.clone()).collect();
    for (run, path) in runs.iter_mut().zip(paths) {
        if labels.iter().filter(|l| **l == run.label).count() > 1 {
            run.label = file_stem(path);
        }
    }
}

/// `sim-traces/black_friday.trace.jsonl` -> `black_friday.trace`.
fn file_stem(path: &Path) -> String {
    path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}
