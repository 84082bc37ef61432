//! `kafka-sim explain TRACE...`: each decision of a run, in time order, with its chain of
//! causes and its numbers (see `kafka_sim::explain`). TRACE may be several files or a directory
//! of traces (the run's trace directory); `--variant` picks one of them by its header.

use std::fs::{self, File};
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use kafka_sim::explain::{self, Context, Filter, FilterError, Names, filter, render, state};
use kafka_sim::i18n::Lang;
use kafka_sim::trace::jsonl::{self, Trace};

/// Arguments of `kafka-sim explain`.
#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The traces (JSONL), or a directory holding them.
    #[arg(value_name = "TRACE", required = true)]
    traces: Vec<PathBuf>,
    /// Only the trace of this variant (its header's `variant`).
    #[arg(long)]
    variant: Option<String>,
    /// The state at this virtual time (ms) and the decisions taken then.
    #[arg(long, value_name = "MS", conflicts_with_all = ["from", "to"])]
    at: Option<u64>,
    /// Decisions from this time (ms) on.
    #[arg(long, value_name = "MS")]
    from: Option<u64>,
    /// Decisions up to this time (ms).
    #[arg(long, value_name = "MS")]
    to: Option<u64>,
    /// Decisions about this record key.
    #[arg(long, value_name = "K")]
    key: Option<String>,
    /// Decisions about this partition.
    #[arg(long, value_name = "TOPIC-N")]
    partition: Option<String>,
    /// Decisions about this member (its member id or its consumer, `consumer/g/1`).
    #[arg(long, value_name = "ID")]
    member: Option<String>,
    /// Decisions about this consumer group.
    #[arg(long, value_name = "G")]
    group: Option<String>,
    /// The language: en or fr. Kafka's config names, API names and error codes stay verbatim.
    #[arg(long, default_value_t = Lang::En)]
    lang: Lang,
    /// One JSON object per decision instead of text (shape in sim-traces/README.md).
    #[arg(long)]
    json: bool,
}

/// A trace read, with the name it was read from.
struct Loaded {
    path: String,
    trace: Trace,
}

pub(crate) fn run(args: &ExplainArgs) -> anyhow::Result<ExitCode> {
    let mut loaded = load(&args.traces)?;
    if let Some(v) = &args.variant {
        let names: Vec<String> = loaded
            .iter()
            .filter_map(|l| l.trace.header.variant.clone())
            .collect();
        loaded.retain(|l| l.trace.header.variant.as_deref() == Some(v));
        if loaded.is_empty() {
            let e = FilterError {
                what: "variant",
                name: v.clone(),
                closest: filter::closest(v, &names),
            };
            return unknown(args, &e, &shown(&args.traces));
        }
    }
    let mut names = Names::default();
    for l in &loaded {
        names.merge(Names::of(&Context::new(&l.trace.records)));
    }
    if let Err(e) = filter_of(args).check(&names) {
        return unknown(args, &e, &shown(&args.traces));
    }
    let several = loaded.len() > 1;
    let mut out = String::new();
    let mut json = Vec::new();
    for l in &loaded {
        if let Some(marker) = &l.trace.incomplete {
            eprintln!("{}", jsonl::incomplete_warning(&l.path, marker));
        }
        let ctx = Context::new(&l.trace.records);
        let f = filter_of(args);
        let entries = explain::explain(&l.trace.records);
        let selected = f.select(&ctx, &entries);
        if args.json {
            json.push(render::json(&selected, args.lang));
            continue;
        }
        if several {
            let h = &l.trace.header;
            let variant = h.variant.as_deref().unwrap_or(&l.path);
            let named = [
                ("variant", variant.into()),
                ("scenario", (&h.scenario).into()),
            ];
            out.push_str(&format!("{}\n", args.lang.fmt("explain-variant", &named)));
        }
        if let Some(at) = args.at {
            out.push_str(&state::at(&ctx, at, args.group.as_deref(), args.lang));
        }
        out.push_str(&render::text_of(&ctx, &selected, args.lang));
    }
    if args.json {
        // One array per trace; several traces give an array of arrays.
        out = if several {
            format!("[{}]\n", json.join(","))
        } else {
            format!("{}\n", json.concat())
        };
    }
    // A reader that stops early (`| head`) is not an error of ours.
    match std::io::stdout().lock().write_all(out.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn filter_of(args: &ExplainArgs) -> Filter {
    Filter {
        at: args.at,
        from: args.from,
        to: args.to,
        key: args.key.clone(),
        partition: args.partition.clone(),
        member: args.member.clone(),
        group: args.group.clone(),
    }
}

/// The bad-input error: the closest names, exit code 2.
fn unknown(args: &ExplainArgs, e: &FilterError, trace: &str) -> anyhow::Result<ExitCode> {
    let what = args.lang.msg(&format!("explain-what-{}", e.what));
    let closest = if e.closest.is_empty() {
        "-".to_string()
    } else {
        e.closest.join(", ")
    };
    let named = [
        ("what", what.into()),
        ("name", (&e.name).into()),
        ("trace", trace.into()),
        ("closest", closest.into()),
    ];
    eprintln!("error: {}", args.lang.fmt("explain-unknown", &named));
    Ok(ExitCode::from(super::EXIT_USAGE))
}

fn shown(paths: &[PathBuf]) -> String {
    let v: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    v.join(" ")
}

/// Every trace of `paths`: files as given, directories expanded to their `.jsonl` files in
/// name order.
fn load(paths: &[PathBuf]) -> anyhow::Result<Vec<Loaded>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut inside: Vec<PathBuf> = fs::read_dir(p)
                .with_context(|| format!("reading the directory {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "jsonl"))
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(p.clone());
        }
    }
    files.iter().map(|f| read(f)).collect()
}

fn read(path: &Path) -> anyhow::Result<Loaded> {
    let shown = path.display().to_string();
    let file = File::open(path).with_context(|| format!("cannot open the trace {shown}"))?;
    let trace = jsonl::read_trace(BufReader::new(file))
        .with_context(|| format!("{shown} is not a readable kafka-sim trace"))?;
    Ok(Loaded { path: shown, trace })
}
