//! `kafka-sim report TRACE... -o FILE.html`: the interactive page of one or more traces (the
//! variants of a scenario, say), each one a variant of the page's selector.

use std::fs;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use kafka_sim::page::{self, PageVariant};
use kafka_sim::report::Report;
use kafka_sim::trace::{TraceRecord, jsonl};

/// Arguments of `kafka-sim report`.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// The traces (JSONL, the format of sim-traces/README.md), one variant of the page each.
    #[arg(value_name = "TRACE", required = true)]
    traces: Vec<PathBuf>,
    /// The page to write (one self-contained HTML file).
    #[arg(short = 'o', long = "output", value_name = "FILE.html")]
    output: PathBuf,
}

pub(crate) fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let written = write_page(&args.traces, &[], &args.output)?;
    println!("{written}");
    Ok(ExitCode::SUCCESS)
}

/// A trace read and reported, with the name it has on the page.
struct Loaded {
    name: String,
    scenario: String,
    report: Report,
    records: Vec<TraceRecord>,
}

/// Writes the page of `traces` to `output`; `descriptions` gives, by position, a line per
/// variant when known (`kafka-sim run --html`). Returns the line to print.
pub(crate) fn write_page(
    traces: &[PathBuf],
    descriptions: &[Option<String>],
    output: &Path,
) -> anyhow::Result<String> {
    let mut loaded: Vec<Loaded> = Vec::new();
    for path in traces {
        let shown = path.display();
        let jsonl::Trace {
            header, records, ..
        } = jsonl::read_trace_file(path)?;
        let report = Report::from_trace(Some(&header), &records);
        let name = header.variant.clone().unwrap_or_else(|| {
            path.file_stem()
                .map_or_else(|| shown.to_string(), |s| s.to_string_lossy().into_owned())
        });
        if loaded.iter().any(|l| l.name == name) {
            bail!("two traces are named {name:?} on the page: pass each variant once");
        }
        loaded.push(Loaded {
            name,
            scenario: header.scenario.clone(),
            report,
            records,
        });
    }
    let variants: Vec<PageVariant<'_>> = loaded
        .iter()
        .enumerate()
        .map(|(i, l)| PageVariant {
            name: &l.name,
            description: descriptions.get(i).and_then(|d| d.as_deref()),
            report: &l.report,
            records: &l.records,
        })
        .collect();
    let mut scenarios: Vec<&str> = loaded.iter().map(|l| &l.scenario[..]).collect();
    scenarios.dedup();
    let html = page::render(&page::page_data(&scenarios.join(", "), &variants));
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    fs::write(output, &html).with_context(|| format!("writing {}", output.display()))?;
    Ok(format!(
        "page: {} ({} KB, {} variant(s))",
        output.display(),
        html.len().div_ceil(1024),
        loaded.len()
    ))
}
