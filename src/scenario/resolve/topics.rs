//! `[cluster]` and `[[topic]]`.

use toml::Spanned;

use super::{Builder, Resolved};
use crate::scenario::raw::RawConfig;
use crate::scenario::{ClusterSpec, TopicSpec};
use crate::units::{BrokerId, Millis, TopicName};

impl Builder<'_> {
    pub(super) fn cluster(&self) -> Resolved<ClusterSpec> {
        let raw = self.raw.cluster.as_ref();
        let brokers = match raw.and_then(|c| c.brokers.as_ref()) {
            None => 1,
            Some(b) if *b.get_ref() == 0 => {
                return Err(self.err(
                    b.span(),
                    "cluster.brokers",
                    "a cluster needs at least 1 broker",
                ));
            }
            Some(b) => *b.get_ref(),
        };
        let empty = RawConfig::new();
        Ok(ClusterSpec {
            brokers: (1..=brokers).map(BrokerId).collect(),
            network_latency: Millis(raw.and_then(|c| c.network_latency_ms).unwrap_or(1)),
            config: self.configs(raw.map_or(&empty, |c| &c.config), None)?,
        })
    }

    pub(super) fn topics(&self, cluster: &ClusterSpec) -> Resolved<Vec<TopicSpec>> {
        let mut out: Vec<TopicSpec> = Vec::new();
        self.check_overrides(
            "topic",
            self.variant.map(|v| v.topic.keys()),
            self.raw.topic.iter().map(|t| t.name.get_ref()),
        )?;
        for t in &self.raw.topic {
            let name = TopicName::new(t.name.get_ref())
                .map_err(|e| self.err(t.name.span(), "topic.name", e.to_string()))?;
            if out.iter().any(|o| o.name == name) {
                return Err(self.err(t.name.span(), "topic.name", "topic declared twice"));
            }
            let over = self.variant.and_then(|v| v.topic.get(name.as_str()));
            let partitions = over
                .and_then(|o| o.partitions.as_ref())
                .unwrap_or(&t.partitions);
            if *partitions.get_ref() == 0 {
                return Err(self.err(
                    partitions.span(),
                    "topic.partitions",
                    "a topic needs at least 1 partition",
                ));
            }
            let rf = over
                .and_then(|o| o.replication_factor.as_ref())
                .or(t.replication_factor.as_ref());
            let replication_factor = match rf {
                None => 1,
                Some(r) if *r.get_ref() == 0 || *r.get_ref() as usize > cluster.brokers.len() => {
                    return Err(self.err(
                        r.span(),
                        "topic.replication_factor",
                        format!(
                            "replication factor {} is impossible with {} broker(s): it must be \
                             between 1 and the broker count (set [cluster] brokers)",
                            r.get_ref(),
                            cluster.brokers.len()
                        ),
                    ));
                }
                Some(r) => *r.get_ref(),
            };
            out.push(TopicSpec {
                name,
                partitions: *partitions.get_ref(),
                replication_factor,
                config: self.configs(&t.config, over.map(|o| &o.config))?,
            });
        }
        Ok(out)
    }

    pub(super) fn topic_ref(
        &self,
        topics: &[TopicSpec],
        name: &Spanned<String>,
        field: &str,
    ) -> Resolved<TopicName> {
        topics
            .iter()
            .find(|t| t.name.as_str() == name.get_ref())
            .map(|t| t.name.clone())
            .ok_or_else(|| {
                let known: Vec<_> = topics.iter().map(|t| t.name.to_string()).collect();
                self.err(
                    name.span(),
                    field,
                    format!(
                        "no topic {:?} is declared; declared topics: {}",
                        name.get_ref(),
                        known.join(", ")
                    ),
                )
            })
    }
}
