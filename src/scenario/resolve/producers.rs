//! `[[producer]]`: workloads, keys and values.

use std::collections::BTreeSet;

use toml::Spanned;

use super::{Builder, Resolved};
use crate::client::library::ClientLibrary;
use crate::client::producer::{KeySpec, Pacing};
use crate::rng::Ratio;
use crate::scenario::raw::{RawKey, RawValue};
use crate::scenario::{ProducerSpec, SendMode, TopicSpec, ValueSpec};
use crate::units::{Millis, PartitionId, SimTime};

impl Builder<'_> {
    pub(super) fn producers(
        &self,
        default: ClientLibrary,
        topics: &[TopicSpec],
    ) -> Resolved<Vec<ProducerSpec>> {
        let mut out: Vec<ProducerSpec> = Vec::new();
        self.check_overrides(
            "producer",
            self.variant.map(|v| v.producer.keys()),
            self.raw.producer.iter().map(|p| p.name.get_ref()),
        )?;
        for p in &self.raw.producer {
            let name = self.component_name(&p.name, "producer.name")?;
            if out.iter().any(|o| o.name == name) {
                return Err(self.err(p.name.span(), "producer.name", "producer declared twice"));
            }
            let over = self.variant.and_then(|v| v.producer.get(&name));
            let topic = self.topic_ref(topics, &p.topic, "producer.topic")?;
            let partitions = topics
                .iter()
                .find(|t| t.name == topic)
                .map_or(1, |t| t.partitions);
            let records = over.and_then(|o| o.records.as_ref()).unwrap_or(&p.records);
            if *records.get_ref() == 0 {
                return Err(self.err(records.span(), "producer.records", "must be at least 1"));
            }
            // A variant that sets a pacing replaces the scenario's, whichever kind it was.
            let over_pacing = over.filter(|o| o.rate_per_s.is_some() || o.interval_ms.is_some());
            let (rate, interval) = match over_pacing {
                Some(o) => (o.rate_per_s.as_ref(), o.interval_ms.as_ref()),
                None => (p.rate_per_s.as_ref(), p.interval_ms.as_ref()),
            };
            let pacing = self.pacing(rate, interval)?;
            let send = over.and_then(|o| o.send.as_ref()).or(p.send.as_ref());
            let send = self.send_mode(send)?;
            let partition = match &p.partition {
                Some(x) if *x.get_ref() >= partitions => {
                    return Err(self.err(
                        x.span(),
                        "producer.partition",
                        format!("topic {topic} has partitions 0 to {}", partitions - 1),
                    ));
                }
                Some(x) => Some(PartitionId(*x.get_ref())),
                None => None,
            };
            let key = over.and_then(|o| o.key.as_ref()).or(p.key.as_ref());
            out.push(ProducerSpec {
                client: self.client(
                    over.and_then(|o| o.client.as_ref()).or(p.client.as_ref()),
                    default,
                )?,
                topic,
                records: *records.get_ref(),
                start: SimTime(over.and_then(|o| o.start_ms).or(p.start_ms).unwrap_or(0)),
                pacing,
                send,
                keys: self.keys(key)?,
                value: self.value(p.value.as_ref(), &name)?,
                partition,
                config: self.configs(&p.config, over.map(|o| &o.config))?,
                name,
            });
        }
        Ok(out)
    }

    /// `rate_per_s` or `interval_ms` (not both); neither sends every record at once.
    fn pacing(
        &self,
        rate: Option<&Spanned<u64>>,
        interval: Option<&Spanned<u64>>,
    ) -> Resolved<Pacing> {
        match (rate, interval) {
            (Some(r), Some(_)) => Err(self.err(
                r.span(),
                "producer.rate_per_s",
                "give either rate_per_s or interval_ms, not both",
            )),
            (Some(r), None) if *r.get_ref() == 0 => {
                Err(self.err(r.span(), "producer.rate_per_s", "must be at least 1"))
            }
            (Some(r), None) => Ok(Pacing::Rate(*r.get_ref())),
            (None, Some(i)) => Ok(Pacing::Interval(Millis(*i.get_ref()))),
            (None, None) => Ok(Pacing::Burst),
        }
    }

    /// `send`: `async` (callbacks) or `sync` (`send().get()`, one record at a time).
    fn send_mode(&self, send: Option<&Spanned<String>>) -> Resolved<SendMode> {
        match send.map(|s| (s.get_ref().as_str(), s.span())) {
            None | Some(("async", _)) => Ok(SendMode::Async),
            Some(("sync", _)) => Ok(SendMode::Sync),
            Some((_, span)) => Err(self.err(span, "producer.send", "use async or sync")),
        }
    }

    pub(super) fn keys(&self, raw: Option<&RawKey>) -> Resolved<KeySpec> {
        let Some(k) = raw else {
            return Ok(KeySpec::Null);
        };
        match (k.null, &k.pattern, &k.values) {
            (Some(true), None, None) => Ok(KeySpec::Null),
            (None | Some(false), Some(pattern), None) => {
                let distinct = k.distinct.as_ref().map_or(u64::MAX, |d| *d.get_ref());
                if distinct == 0 {
                    let span = k
                        .distinct
                        .as_ref()
                        .map(Spanned::span)
                        .unwrap_or(pattern.span());
                    return Err(self.err(span, "key.distinct", "must be at least 1"));
                }
                if !pattern.get_ref().contains("{n}") && k.distinct.is_none() {
                    return Err(self.err(
                        pattern.span(),
                        "key.pattern",
                        "a pattern needs {n}; for one fixed key use values = [\"...\"]",
                    ));
                }
                let random = match k.order.as_ref().map(|o| (o.get_ref().as_str(), o.span())) {
                    None | Some(("cycle", _)) => false,
                    Some(("random", _)) => true,
                    Some((_, span)) => {
                        return Err(self.err(span, "key.order", "use cycle or random"));
                    }
                };
                let hot = match (&k.hot, &k.hot_ratio) {
                    (Some(h), Some(r)) => Some((h.clone(), self.ratio(r, "key.hot_ratio")?)),
                    (None, None) => None,
                    _ => {
                        return Err(self.err(
                            pattern.span(),
                            "key.hot",
                            "give both hot and hot_ratio",
                        ));
                    }
                };
                Ok(KeySpec::Pattern {
                    pattern: pattern.get_ref().clone(),
                    first: k.first.unwrap_or(0),
                    distinct,
                    random,
                    hot,
                })
            }
            (None | Some(false), None, Some(values)) if !values.get_ref().is_empty() => {
                Ok(KeySpec::Values(values.get_ref().clone()))
            }
            _ => Err(self.map.error(
                k.pattern
                    .as_ref()
                    .map(Spanned::span)
                    .or(k.values.as_ref().map(Spanned::span)),
                "key",
                "give exactly one of: null = true, pattern = \"user-{n}\", values = [..]",
            )),
        }
    }

    pub(super) fn value(&self, raw: Option<&RawValue>, producer: &str) -> Resolved<ValueSpec> {
        let default = format!("{producer}-{{n}}");
        let Some(v) = raw else {
            return Ok(ValueSpec {
                template: default,
                size: None,
                malformed_ratio: Ratio::ZERO,
                malformed: BTreeSet::new(),
                tombstone: false,
            });
        };
        Ok(ValueSpec {
            template: v.template.clone().unwrap_or(default),
            size: v.size,
            malformed_ratio: match &v.malformed_ratio {
                Some(r) => self.ratio(r, "value.malformed_ratio")?,
                None => Ratio::ZERO,
            },
            malformed: v.malformed.iter().copied().collect(),
            tombstone: v.tombstone,
        })
    }
}
