//! The interactive HTML page (`kafka-sim run --html`, `kafka-sim report -o`): one file that a
//! teacher opens from disk, with a time slider over a run and its variants.
//!
//! Everything the page shows is computed here, in Rust, from each variant's [`Report`] and trace,
//! and written into the page as one JSON document ([`PageData`]); the page's script only picks
//! the entry for the selected time. In particular each partition row is a [`describe::rows`] row,
//! the very rows `kafka-consumer-groups --describe` prints in `kafka-sim run`: a snapshot is
//! taken at every time one of its inputs changes (a `LagSampled`, a change of ownership, a group
//! state change), so the latest snapshot at or before any time *is* the table at that time.
//!
//! The file is self-contained, because it is pasted into slides and mailed to students: the
//! script, the styles, the data, the chart library (uPlot, MIT, vendored under `vendor/` with its
//! licence) and the font (DejaVu Sans, the plots' font) are inline; nothing is fetched, so it
//! opens from `file://` with no network. Deep links: `FILE.html#t=MS&variant=NAME`.

mod feed;
mod snapshot;

use serde::Serialize;

use crate::report::Report;
use crate::trace::TraceRecord;

pub use self::feed::{FeedEntry, feed};
pub use self::snapshot::{GroupTimeline, LagNoteText, PartitionRow, Snapshot, group_timelines};

/// One variant (or one trace) to show on the page.
#[derive(Clone, Copy, Debug)]
pub struct PageVariant<'a> {
    /// The name in the variant selector and the deep link (`3p3c-crash`).
    pub name: &'a str,
    /// One line saying what the variant is, if known.
    pub description: Option<&'a str>,
    /// The report of its trace.
    pub report: &'a Report,
    /// The trace itself, for the feed.
    pub records: &'a [TraceRecord],
}

/// Everything the page's script reads, serialized as JSON into the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PageData {
    /// The scenario's name, for the title.
    pub scenario: String,
    /// One entry per variant, in the order given.
    pub variants: Vec<VariantData>,
}

/// The data of one variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VariantData {
    /// Its name.
    pub name: String,
    /// What it is, if known.
    pub description: Option<String>,
    /// Virtual time of the trace's last event: the slider's end.
    pub end_ms: u64,
    /// Per consumer group: its members and its describe snapshots over time.
    pub groups: Vec<GroupTimeline>,
    /// Total lag per group over time: (time, sum of the partitions' lag) from `LagSampled`.
    pub lag: Vec<GroupLag>,
    /// The decisions of the run, in time order.
    pub feed: Vec<FeedEntry>,
}

/// One group's total lag, the curve of the chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupLag {
    /// `group.id`.
    pub group: String,
    /// (virtual time in ms, total lag) per sample.
    pub points: Vec<(u64, u64)>,
}

/// Builds the page's data from the variants of one run (or several traces).
pub fn page_data(scenario: &str, variants: &[PageVariant<'_>]) -> PageData {
    let variants = variants
        .iter()
        .map(|v| VariantData {
            name: v.name.to_string(),
            description: v.description.map(str::to_string),
            end_ms: v.report.ended_at_ms,
            groups: group_timelines(v.report),
            lag: v
                .report
                .groups()
                .into_iter()
                .map(|g| GroupLag {
                    points: v.report.group_lag_series(&g),
                    group: g,
                })
                .collect(),
            feed: feed(v.records),
        })
        .collect();
    PageData {
        scenario: scenario.to_string(),
        variants,
    }
}

/// The whole page: the template with the styles, scripts, font and data put in.
pub fn render(data: &PageData) -> String {
    const TEMPLATE: &str = include_str!("template.html");
    const FONT: &[u8] = include_bytes!("../plot/DejaVuSans.ttf");
    let json = serde_json::to_string(data).expect("page data serializes");
    TEMPLATE
        .replace("{{TITLE}}", &escape_html(&data.scenario))
        .replace("{{UPLOT_CSS}}", include_str!("vendor/uPlot.min.css"))
        .replace("{{PAGE_CSS}}", include_str!("page.css"))
        .replace("{{FONT_BASE64}}", &base64(FONT))
        .replace("{{UPLOT_JS}}", include_str!("vendor/uPlot.iife.min.js"))
        .replace("{{PAGE_JS}}", include_str!("page.js"))
        // Inside <script>, `</` could close the element early: JSON allows `<\/`.
        .replace("{{DATA}}", &json.replace("</", "<\\/"))
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Standard base64 with padding (RFC 4648 section 4), for the font's `data:` URL.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
    }

    #[test]
    fn the_page_is_self_contained() {
        let data = page_data("demo</script>", &[]);
        let html = render(&data);
        assert!(!html.contains("{{"), "a placeholder was left in the page");
        assert!(html.contains("demo&lt;/script&gt;"));
        assert!(!html.contains("demo</script>"));
        for fetched in ["src=\"http", "href=\"http", "url(http", "@import"] {
            assert!(
                !html.contains(fetched),
                "the page fetches something: {fetched}"
            );
        }
    }
}
