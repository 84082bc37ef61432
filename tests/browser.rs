//! The interactive page in a real browser (issue 16): `kafka-sim run black_friday.toml --html`
//! opened headless in Debian's Chromium, driven by Playwright (`tests/browser/drive.js`).
//!
//! The setup installs what is missing: the `chromium` package (apt-get, as root) and
//! `playwright-core` (npm, into `target/browser-test/`, kept between runs). Playwright only
//! drives the browser; it downloads no browser of its own.

use std::path::{Path, PathBuf};
use std::process::Command;

use kafka_sim::report::{Report, describe};
use kafka_sim::trace::jsonl;
use serde_json::Value;

use crate::support::{kafka_sim, root, stderr, stdout};

const CHROMIUM: &str = "/usr/bin/chromium";
/// The Playwright release the test is written against, pinned so CI installs the same.
const PLAYWRIGHT_CORE: &str = "playwright-core@1.64.1";
const GROUP: &str = "order-service-group";

/// One partition row: group, topic, partition, owner (member id), committed, log end, lag, each
/// as `kafka-consumer-groups --describe` prints it.
type Row = [String; 7];

#[test]
fn black_friday_crash_page_matches_kafka_consumer_groups_in_chromium() {
    let playwright = setup();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("black_friday.html");
    let trace = dir.join("black_friday.jsonl");
    let out = kafka_sim(&[
        "run",
        "scenarios/black_friday.toml",
        "--html",
        page.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(
        size < 3 * 1024 * 1024,
        "the page is {size} bytes, over 3 MB"
    );
    let at_60s = table_rows(&run_table(&stdout(&out), "3p3c-crash", 60_000));
    assert_eq!(at_60s.len(), 3, "{at_60s:?}");

    let screenshot = dir.join("black_friday-3p3c-crash-60s.png");
    let result = drive(
        &playwright,
        &page,
        "#t=60000&variant=3p3c-crash",
        &screenshot,
        20_000,
        &dir,
    );
    let errors = &result["console_errors"];
    assert_eq!(
        errors.as_array().map(Vec::len),
        Some(0),
        "console: {errors}"
    );
    let requests = &result["requests"];
    assert_eq!(
        requests.as_array().map(Vec::len),
        Some(0),
        "requests: {requests}"
    );

    let at_link = &result["at_link"];
    assert_eq!(at_link["state"]["t"], "60000");
    assert_eq!(at_link["state"]["variant"], "3p3c-crash");
    assert_eq!(at_link["state"]["chart_canvases"], 1);
    assert_eq!(page_rows(&at_link["rows"]), at_60s);
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 10_000);

    // The slider moved to 20 s: the rows follow, equal to the table at 20 s from the trace.
    let after = &result["after_slider"];
    assert_eq!(after["state"]["t"], "20000");
    assert_eq!(after["state"]["hash"], "#t=20000&variant=3p3c-crash");
    let crash_trace = dir.join("black_friday.3p3c-crash.jsonl");
    let file = std::fs::File::open(&crash_trace).unwrap();
    let (header, records) = jsonl::read(std::io::BufReader::new(file)).unwrap();
    let report = Report::from_trace(Some(&header), &records);
    let at_20s = table_rows(&describe::consumer_group(&report, GROUP, 20_000).table);
    assert_ne!(
        at_20s, at_60s,
        "the test must move to a time where the table differs"
    );
    assert_eq!(page_rows(&after["rows"]), at_20s);
    let cli = kafka_sim(&[
        "describe",
        crash_trace.to_str().unwrap(),
        "--group",
        GROUP,
        "--at",
        "20000",
    ]);
    assert!(cli.status.success(), "{}", stderr(&cli));
    assert_eq!(table_rows(&stdout(&cli)), at_20s);
    let feed = after["state"]["feed_current"].as_str().unwrap_or_default();
    assert!(
        feed.starts_with("15.000 s"),
        "the feed follows the slider: {feed}"
    );
    assert_eq!(
        result["french_title"],
        "kafka-sim, exécution de black_friday"
    );
}

/// The table `kafka-sim run` printed for `variant` at `at_ms`.
fn run_table(out: &str, variant: &str, at_ms: u64) -> String {
    let section = out
        .split("\n== variant ")
        .find(|s| s.starts_with(&format!("{variant}:")))
        .unwrap_or_else(|| panic!("no variant {variant} in:\n{out}"));
    let title = format!("kafka-consumer-groups --describe --group {GROUP}  (at {at_ms} ms)");
    let table = section
        .split_once(&title)
        .unwrap_or_else(|| panic!("no {title:?} in:\n{section}"))
        .1;
    table
        .lines()
        .skip_while(|l| !l.starts_with("GROUP "))
        .take_while(|l| l.starts_with("GROUP ") || l.starts_with(&format!("{GROUP} ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The data rows of a describe table.
fn table_rows(table: &str) -> Vec<Row> {
    table
        .lines()
        .filter(|l| l.starts_with(&format!("{GROUP} ")))
        .map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(c.len(), 9, "{l}");
            [c[0], c[1], c[2], c[6], c[3], c[4], c[5]].map(str::to_string)
        })
        .collect()
}

fn page_rows(rows: &Value) -> Vec<Row> {
    let cell = |r: &Value, k: &str| r[k].as_str().unwrap_or("<missing>").to_string();
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            [
                "group",
                "topic",
                "partition",
                "owner",
                "committed",
                "log_end",
                "lag",
            ]
            .map(|k| cell(r, k))
        })
        .collect()
}

fn drive(
    playwright: &Path,
    page: &Path,
    hash: &str,
    screenshot: &Path,
    slider_ms: u64,
    dir: &Path,
) -> Value {
    let out = Command::new("node")
        .arg(root().join("tests/browser/drive.js"))
        .arg(playwright)
        .arg(page)
        .arg(hash)
        .arg(screenshot)
        .arg(slider_ms.to_string())
        .arg(dir.join("chromium-profile"))
        .output()
        .expect("node runs");
    assert!(out.status.success(), "drive.js failed:\n{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("drive.js prints JSON")
}

/// Installs Chromium and playwright-core if they are missing; returns playwright-core's path.
fn setup() -> PathBuf {
    if !Path::new(CHROMIUM).exists() {
        let ok = Command::new("sh")
            .args([
                "-c",
                "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium",
            ])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "installing Debian's chromium failed (the test runs as root)"
        );
    }
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp has a parent")
        .join("browser-test");
    let module = target.join("node_modules/playwright-core");
    if !module.join("package.json").exists() {
        std::fs::create_dir_all(&target).unwrap();
        let ok = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&target)
            .arg(PLAYWRIGHT_CORE)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "npm install {PLAYWRIGHT_CORE} failed");
    }
    module
}

/// `kafka-sim report TRACE... -o FILE.html`: one variant per trace, named by its header; the
/// data and the libraries inline; the same trace twice is refused (no browser needed here).
#[test]
fn report_writes_a_self_contained_page_of_golden_traces() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-page");
    let _ = std::fs::remove_dir_all(&dir);
    let page = dir.join("scaling.html");
    let traces = [
        "sim-traces/consumer_group_scaling.1-consumer.trace.jsonl",
        "sim-traces/consumer_group_scaling.3-consumers.trace.jsonl",
    ];
    let out = kafka_sim(&["report", traces[0], traces[1], "-o", page.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("2 variant(s)"), "{}", stdout(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    for inline in [
        "\"name\":\"1-consumer\"",
        "\"name\":\"3-consumers\"",
        "\"snapshots\":",
        "var uPlot=",
        "data:font/ttf;base64,",
    ] {
        assert!(html.contains(inline), "the page lacks {inline}");
    }
    let twice = kafka_sim(&["report", traces[0], traces[0], "-o", page.to_str().unwrap()]);
    assert_eq!(twice.status.code(), Some(2), "{}", stderr(&twice));
    assert!(stderr(&twice).contains("two traces are named \"1-consumer\""));
}
