//! `[[consumer_group]]`: members, processing and failure handling.

use toml::Spanned;

use super::{Builder, Resolved};
use crate::client::consumer::app::{OnFailure, ProcessingTime};
use crate::client::library::ClientLibrary;
use crate::scenario::raw::{RawGroup, RawOnFailure, RawProcessing};
use crate::scenario::{CommitMode, GroupSpec, OutputSpec, TopicSpec};
use crate::units::{Millis, SimTime, TopicName};

impl Builder<'_> {
    pub(super) fn groups(
        &self,
        default: ClientLibrary,
        topics: &[TopicSpec],
    ) -> Resolved<Vec<GroupSpec>> {
        let mut out: Vec<GroupSpec> = Vec::new();
        self.check_overrides(
            "consumer_group",
            self.variant.map(|v| v.consumer_group.keys()),
            self.raw.consumer_group.iter().map(|g| g.group_id.get_ref()),
        )?;
        for g in &self.raw.consumer_group {
            let group_id = self.component_name(&g.group_id, "consumer_group.group_id")?;
            if out.iter().any(|o| o.group_id == group_id) {
                return Err(self.err(
                    g.group_id.span(),
                    "consumer_group.group_id",
                    "declared twice",
                ));
            }
            let over = self.variant.and_then(|v| v.consumer_group.get(&group_id));
            let subscribed = self.subscriptions(g, topics)?;
            let members = over.and_then(|o| o.members.as_ref()).unwrap_or(&g.members);
            let start = SimTime(over.and_then(|o| o.start_ms).or(g.start_ms).unwrap_or(0));
            let member_starts = self.member_starts(g, *members.get_ref() as usize, start)?;
            let processing_ms = over.and_then(|o| o.processing_ms).or(g.processing_ms);
            let processing = self.processing(processing_ms, g.processing.as_ref())?;
            let commit = over.and_then(|o| o.commit.as_ref()).or(g.commit.as_ref());
            let commit = self.commit_mode(commit)?;
            let on_failure = over
                .and_then(|o| o.on_failure.as_ref())
                .or(g.on_failure.as_ref());
            let output = match &g.output {
                None => None,
                Some(o) => Some(OutputSpec {
                    topic: self.topic_ref(topics, &o.topic, "output.topic")?,
                    value: o.value.clone(),
                    config: self.configs(&o.config, None)?,
                }),
            };
            out.push(GroupSpec {
                client: self.client(
                    over.and_then(|o| o.client.as_ref()).or(g.client.as_ref()),
                    default,
                )?,
                topics: subscribed,
                member_starts,
                processing,
                commit,
                static_members: over
                    .and_then(|o| o.static_members)
                    .or(g.static_members)
                    .unwrap_or(false),
                on_failure: self.on_failure(on_failure, topics)?,
                output,
                config: self.configs(&g.config, over.map(|o| &o.config))?,
                group_id,
            });
        }
        Ok(out)
    }

    /// `topics`: the declared topics the group subscribes to (at least one).
    fn subscriptions(&self, g: &RawGroup, topics: &[TopicSpec]) -> Resolved<Vec<TopicName>> {
        let mut subscribed = Vec::new();
        for t in g.topics.get_ref() {
            let spanned = Spanned::new(g.topics.span(), t.clone());
            subscribed.push(self.topic_ref(topics, &spanned, "consumer_group.topics")?);
        }
        if subscribed.is_empty() {
            return Err(self.err(
                g.topics.span(),
                "consumer_group.topics",
                "subscribe to a topic",
            ));
        }
        Ok(subscribed)
    }

    /// When each of `count` members starts: `member_start_ms`, else all at the group's `start`.
    fn member_starts(&self, g: &RawGroup, count: usize, start: SimTime) -> Resolved<Vec<SimTime>> {
        match &g.member_start_ms {
            Some(list) if list.get_ref().len() != count => Err(self.err(
                list.span(),
                "consumer_group.member_start_ms",
                format!("give one start time per member ({count})"),
            )),
            Some(list) => Ok(list.get_ref().iter().map(|&t| SimTime(t)).collect()),
            None => Ok(vec![start; count]),
        }
    }

    /// Processing time per record: a constant `processing_ms` or a `[processing]` range.
    fn processing(
        &self,
        ms: Option<u64>,
        range: Option<&RawProcessing>,
    ) -> Resolved<ProcessingTime> {
        match (ms, range) {
            (Some(ms), None) => Ok(ProcessingTime::Constant(Millis(ms))),
            (None, None) => Ok(ProcessingTime::Constant(Millis(0))),
            (None, Some(p)) if p.min_ms <= *p.max_ms.get_ref() => Ok(ProcessingTime::Uniform {
                min: Millis(p.min_ms),
                max: Millis(*p.max_ms.get_ref()),
            }),
            (None, Some(p)) => {
                Err(self.err(p.max_ms.span(), "processing.max_ms", "must be >= min_ms"))
            }
            (Some(_), Some(p)) => Err(self.err(
                p.max_ms.span(),
                "processing",
                "give processing_ms or processing, not both",
            )),
        }
    }

    /// `commit`: how the application commits (default: the client's auto-commit).
    fn commit_mode(&self, commit: Option<&Spanned<String>>) -> Resolved<CommitMode> {
        match commit.map(|c| (c.get_ref().as_str(), c.span())) {
            None | Some(("auto", _)) => Ok(CommitMode::Auto),
            Some(("per-record", _)) => Ok(CommitMode::PerRecord),
            Some(("per-batch", _)) => Ok(CommitMode::PerBatch),
            Some((_, span)) => Err(self.err(span, "commit", "use auto, per-record or per-batch")),
        }
    }

    pub(super) fn on_failure(
        &self,
        raw: Option<&RawOnFailure>,
        topics: &[TopicSpec],
    ) -> Resolved<OnFailure> {
        let Some(f) = raw else {
            return Ok(OnFailure::Crash);
        };
        let retries = f.retries.unwrap_or(0);
        let backoff = Millis(f.backoff_ms.unwrap_or(1000));
        match f.action.get_ref().as_str() {
            "crash" => Ok(OnFailure::Crash),
            "skip" => Ok(OnFailure::Skip),
            "retry" => Ok(OnFailure::Retry {
                retries: f.retries.unwrap_or(3),
                backoff,
            }),
            "dead-letter" => {
                let Some(topic) = &f.topic else {
                    return Err(self.err(
                        f.action.span(),
                        "on_failure.topic",
                        "dead-letter needs topic = \"<the DLQ topic>\"",
                    ));
                };
                Ok(OnFailure::DeadLetter {
                    topic: self.topic_ref(topics, topic, "on_failure.topic")?,
                    retries,
                    backoff,
                })
            }
            other => Err(self.err(
                f.action.span(),
                "on_failure.action",
                format!("unknown action {other:?}; use crash, skip, retry or dead-letter"),
            )),
        }
    }
}
