//! The page's feed: the run's decisions in time order, in English and French: the entries of
//! `kafka-sim explain` (the explain module), in the same words, headline and details in one
//! sentence. Clicking one moves the slider to its time.
//!
//! Two kinds are capped: a key's partition (`key`) and a null-key sticky partition (`sticky`)
//! are one decision per key or per switch, a thousand of them in a keyed flood; the feed keeps
//! the first ten of each kind, and `kafka-sim explain --key K` gives any other.

use serde::Serialize;

use crate::explain::{self, render};
use crate::i18n::Lang;
use crate::trace::TraceRecord;

/// How many entries of a capped kind the feed keeps.
const CAPPED: usize = 10;

/// One decision of the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FeedEntry {
    /// Virtual time in ms: clicking the entry moves the slider here.
    pub t_ms: u64,
    /// What kind of decision (`rebalance`, `assignment`, `crash`, `duplicate`, `election`,
    /// ...), for the page's colour and filter.
    pub kind: &'static str,
    /// The consumer group it concerns, if any.
    pub group: Option<String>,
    /// The sentence in English.
    pub en: String,
    /// The same sentence in French.
    pub fr: String,
}

/// The feed of one trace.
pub fn feed(records: &[TraceRecord]) -> Vec<FeedEntry> {
    let mut keys = 0;
    let mut sticky = 0;
    explain::explain(records)
        .into_iter()
        .filter(|e| {
            let count = match e.kind {
                "key" => &mut keys,
                "sticky" => &mut sticky,
                _ => return true,
            };
            *count += 1;
            *count <= CAPPED
        })
        .map(|e| FeedEntry {
            t_ms: e.t_ms,
            kind: e.kind,
            group: e.subjects.group.clone(),
            en: render::sentence(&e, Lang::En),
            fr: render::sentence(&e, Lang::Fr),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::trace::TraceEvent;

    fn at(t_ms: u64, component: &str, event: TraceEvent) -> TraceRecord {
        TraceRecord {
            t_ms,
            seq: t_ms,
            component: Arc::from(component),
            cause: None,
            event,
        }
    }

    #[test]
    fn the_feed_is_explains_entries_in_both_languages() {
        let records = [
            at(
                5,
                "group/g",
                TraceEvent::GroupStateChanged {
                    group: Arc::from("g"),
                    from: Arc::from("Stable"),
                    to: Arc::from("PreparingRebalance"),
                    reason: "removing member m-1 on heartbeat expiration".into(),
                },
            ),
            at(7, "consumer/g/1", TraceEvent::ClientCrashed {}),
            at(
                8,
                "world",
                TraceEvent::RunEnded {
                    reason: "duration reached".into(),
                    events_processed: 3,
                },
            ),
        ];
        let feed = feed(&records);
        let kinds: Vec<(u64, &str)> = feed.iter().map(|e| (e.t_ms, e.kind)).collect();
        assert_eq!(kinds, [(5, "rebalance"), (7, "crash")]);
        let entries = explain::explain(&records);
        assert_eq!(feed[0].en, render::sentence(&entries[0], Lang::En));
        assert!(
            feed[0]
                .en
                .starts_with("Group g rebalances: Stable -> PreparingRebalance")
        );
        assert!(feed[1].fr.starts_with("consumer/g/1 plante"));
        assert_eq!(feed[0].group.as_deref(), Some("g"));
    }
}
