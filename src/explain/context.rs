//! What the builders look up while they read a trace: each producer's settings (its
//! `ProducerConfigured`), each topic's partition count, which consumer component holds which
//! member id, and where each seq sits.

use std::collections::BTreeMap;

use crate::client::partitioner::Partitioner;
use crate::trace::{TraceEvent, TraceRecord};

/// A producer's settings as its `ProducerConfigured` event wrote them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducerInfo {
    /// The client modelled (`java-4`, `librdkafka`, ...).
    pub client: String,
    /// The partitioner, parsed; `None` for a name this build does not know.
    pub partitioner: Option<Partitioner>,
    /// The partitioner's name as written.
    pub partitioner_name: String,
    /// `acks`.
    pub acks: String,
    /// `enable.idempotence`.
    pub idempotence: bool,
    /// `linger.ms`.
    pub linger_ms: u64,
    /// `batch.size`.
    pub batch_size: u64,
}

/// Lookups over one trace.
#[derive(Debug)]
pub struct Context<'a> {
    /// The trace.
    pub records: &'a [TraceRecord],
    seqs: BTreeMap<u64, usize>,
    producers: BTreeMap<&'a str, ProducerInfo>,
    topics: BTreeMap<&'a str, u32>,
    members: BTreeMap<&'a str, &'a str>,
    lifecycle: BTreeMap<&'a str, Vec<usize>>,
}

impl<'a> Context<'a> {
    /// Indexes `records`.
    pub fn new(records: &'a [TraceRecord]) -> Context<'a> {
        let mut ctx = Context {
            records,
            seqs: BTreeMap::new(),
            producers: BTreeMap::new(),
            topics: BTreeMap::new(),
            members: BTreeMap::new(),
            lifecycle: BTreeMap::new(),
        };
        for (i, r) in records.iter().enumerate() {
            ctx.seqs.insert(r.seq, i);
            ctx.index(r);
            if matches!(
                r.event,
                TraceEvent::ClientCrashed {}
                    | TraceEvent::ClientPaused { .. }
                    | TraceEvent::ClientRestarted {}
                    | TraceEvent::ConsumerClosed { .. }
                    | TraceEvent::MaxPollIntervalExceeded { .. }
            ) {
                ctx.lifecycle.entry(&r.component).or_default().push(i);
            }
        }
        ctx
    }

    fn index(&mut self, r: &'a TraceRecord) {
        match &r.event {
            TraceEvent::ProducerConfigured {
                client,
                acks,
                enable_idempotence,
                linger_ms,
                batch_size,
                partitioner,
                ..
            } => {
                let info = ProducerInfo {
                    client: client.clone(),
                    partitioner: partitioner.parse().ok(),
                    partitioner_name: partitioner.clone(),
                    acks: acks.clone(),
                    idempotence: *enable_idempotence,
                    linger_ms: *linger_ms,
                    batch_size: *batch_size,
                };
                self.producers.entry(&r.component).or_insert(info);
            }
            TraceEvent::TopicCreated {
                topic, partitions, ..
            } => {
                self.topics.entry(topic).or_insert(*partitions);
            }
            TraceEvent::PartitionsAssigned { member_id, .. }
            | TraceEvent::PartitionsRevoked { member_id, .. } => {
                self.members.entry(member_id).or_insert(&r.component);
            }
            _ => {}
        }
    }

    /// The record at seq `seq`.
    pub fn by_seq(&self, seq: u64) -> Option<&'a TraceRecord> {
        self.seqs.get(&seq).map(|&i| &self.records[i])
    }

    /// The index of the record at seq `seq`.
    pub fn index_of(&self, seq: u64) -> Option<usize> {
        self.seqs.get(&seq).copied()
    }

    /// The settings of the producer `component` (`producer/api`).
    pub fn producer(&self, component: &str) -> Option<&ProducerInfo> {
        self.producers.get(component)
    }

    /// A topic's partition count.
    pub fn partitions(&self, topic: &str) -> Option<u32> {
        self.topics.get(topic).copied()
    }

    /// Every topic and its partition count.
    pub fn topics(&self) -> impl Iterator<Item = (&'a str, u32)> + '_ {
        self.topics.iter().map(|(t, n)| (*t, *n))
    }

    /// The consumer component (`consumer/g/2`) that held member id `member`.
    pub fn member_component(&self, member: &str) -> Option<&'a str> {
        self.members.get(member).copied()
    }

    /// `consumer/g/2 (member-id)` when the member's consumer is known, else the member id.
    pub fn label(&self, member: &str) -> String {
        match self.member_component(member) {
            Some(c) => format!("{c} ({member})"),
            None => member.to_string(),
        }
    }

    /// Every (member id, component) pair.
    pub fn members(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.members.iter().map(|(m, c)| (*m, *c))
    }

    /// The latest lifecycle event of `component` (a crash, a pause, a restart, a close, a poll
    /// timeout) before index `i` that `pick` accepts: however far back it is.
    pub fn last_lifecycle(
        &self,
        component: &str,
        i: usize,
        pick: impl Fn(&TraceEvent) -> bool,
    ) -> Option<&'a TraceRecord> {
        let records = self.records;
        self.lifecycle
            .get(component)?
            .iter()
            .rev()
            .filter(|&&j| j < i)
            .map(|&j| &records[j])
            .find(|r| pick(&r.event))
    }

    /// The latest record before index `i` (and at most `window` records back) that `pick`
    /// accepts, with its index.
    pub fn find_back(
        &self,
        i: usize,
        window: usize,
        mut pick: impl FnMut(&TraceRecord) -> bool,
    ) -> Option<(usize, &'a TraceRecord)> {
        let start = i.saturating_sub(window);
        (start..i)
            .rev()
            .map(|j| (j, &self.records[j]))
            .find(|(_, r)| pick(r))
    }
}
