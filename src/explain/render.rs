//! An explanation as text (English or French, every word from `locales/<lang>/explain.ftl`) and
//! as JSON (one object per decision; `sim-traces/README.md` documents the shape).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{CauseSource, Context, Entry, Message, Subjects};
use crate::i18n::Lang;
use crate::trace::TraceRecord;

/// One message in `lang`.
pub fn message(m: &Message, lang: Lang) -> String {
    lang.fmt(m.id, &m.args)
}

/// An entry's headline and details as one paragraph: the page's feed shows it so.
pub fn sentence(e: &Entry, lang: Lang) -> String {
    let parts: Vec<String> = e.lines.iter().map(|m| message(m, lang)).collect();
    parts.join(" ")
}

/// The text of `entries`: a line per decision, its details indented, then its causes.
pub fn text(records: &[TraceRecord], entries: &[Entry], lang: Lang) -> String {
    let refs: Vec<&Entry> = entries.iter().collect();
    text_of(&Context::new(records), &refs, lang)
}

/// [`text`] of a selection.
pub fn text_of(ctx: &Context<'_>, entries: &[&Entry], lang: Lang) -> String {
    let mut out = String::new();
    for e in entries {
        let (head, details) = e.lines.split_first().expect("an entry has a headline");
        out.push_str(&format!(
            "{:>8} ms  #{:<6} {}\n",
            e.t_ms,
            e.seq,
            message(head, lang)
        ));
        for d in details {
            out.push_str(&format!("                   {}\n", message(d, lang)));
        }
        out.push_str(&causes(ctx, e, lang));
    }
    if entries.is_empty() {
        out.push_str(&lang.msg("explain-nothing"));
        out.push('\n');
    }
    out
}

fn causes(ctx: &Context<'_>, e: &Entry, lang: Lang) -> String {
    let id = match e.cause_source {
        CauseSource::None => return String::new(),
        CauseSource::Trace => "explain-causes-trace",
        CauseSource::Events => "explain-causes-events",
    };
    let mut out = format!("                   {}\n", lang.msg(id));
    for seq in &e.causes {
        let Some(r) = ctx.by_seq(*seq) else { continue };
        out.push_str(&format!(
            "                     <- {} ms #{} {} {}\n",
            r.t_ms,
            r.seq,
            r.component,
            r.event.name()
        ));
    }
    out
}

/// One decision as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JsonEntry<'a> {
    /// Virtual time in ms.
    pub t_ms: u64,
    /// The seq of the event it is read from.
    pub seq: u64,
    /// Its kind.
    pub kind: &'static str,
    /// Who and what it concerns.
    pub subjects: &'a Subjects,
    /// Its numbers.
    pub numbers: &'a BTreeMap<&'static str, i64>,
    /// The seqs of its causes, nearest first.
    pub causes: &'a [u64],
    /// `trace`, `events` or `none`.
    pub cause_source: CauseSource,
    /// The headline in the language asked for.
    pub text: String,
    /// The detail lines.
    pub details: Vec<String>,
}

/// The JSON of a selection: an array of [`JsonEntry`].
pub fn json(entries: &[&Entry], lang: Lang) -> String {
    let out: Vec<JsonEntry<'_>> = entries
        .iter()
        .map(|e| JsonEntry {
            t_ms: e.t_ms,
            seq: e.seq,
            kind: e.kind,
            subjects: &e.subjects,
            numbers: &e.numbers,
            causes: &e.causes,
            cause_source: e.cause_source,
            text: message(&e.lines[0], lang),
            details: e.lines[1..].iter().map(|m| message(m, lang)).collect(),
        })
        .collect();
    serde_json::to_string_pretty(&out).expect("entries serialise")
}
