//! Services: consumer groups whose members produce. A member of a service is one process holding
//! one consumer and one producer (the course's payment -> order -> email -> analytics chain: the
//! order service consumes `payment-successful` and produces one `order-created` per payment).
//!
//! The two state machines never call each other. The consumer hands what its application did to its
//! process as outputs ([`ConsumerOutput`](crate::client::consumer::ConsumerOutput): processed
//! records, dead letters); the world routes a linked consumer's outputs to its producer as `send()`
//! calls ([`ProducerInput::Send`](crate::client::producer::ProducerInput::Send)), through a table
//! (`Services`) of who is linked to whom (`World::link_service`) and what each service produces:
//!
//! - one output record per processed record ([`ServiceOutput`]): key = the input's key, value =
//!   the input value copied, or an [`OutputTemplate`] such as `order-{n} for {in}`;
//! - one dead-letter record per record its application gave up on (`OnFailure::DeadLetter`),
//!   with the error in its headers ([`DeadLetter::headers`]).
//!
//! Names: member `n` of group `g` is `consumer/g/n` and its producer `producer/g/n`
//! (`runner::service::producer_name`). One process, one fate: a crash or a pause of either
//! component (a fault or a timeline action) hits both; a consumer that dies on a poison pill takes
//! its producer with it, whatever that producer had not yet sent.
//!
//! The output is produced asynchronously (`send()` without waiting), when the record's
//! processing is done, so the consumer of a service reports each record as it finishes
//! ([`Consumer::report_each_record`](crate::client::consumer::Consumer::report_each_record))
//! instead of at the end of its poll batch.
//!
//! This module is the pure part: the link table and the output templates. It depends on neither
//! the world nor the scenario; building a service's members from a scenario is the runner's
//! (`runner/service.rs`).
//!
//! The same producer sends the outputs and the dead letters. Restarting a member (a timeline
//! `restart`) is adding a fresh consumer and producer under new component names, linked the
//! same way.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::client::consumer::app::{DeadLetter, ProcessedRecord};
use crate::client::producer::SendRequest;
use crate::record::{Key, Value, value_field};
use crate::units::TopicName;

/// What a service produces per processed record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceOutput {
    /// The output topic.
    pub topic: TopicName,
    /// The output value.
    pub value: OutputValue,
}

/// How an output value is made from the input record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputValue {
    /// The input value, unchanged (a synthetic value stays synthetic: no bytes are rendered).
    Copy,
    /// A template rendered per record.
    Template(OutputTemplate),
}

/// An output value template. Placeholders:
///
/// - `{in}`: the input value's text (empty for a tombstone);
/// - `{n}`: the service's output counter, from 0, shared by its members (so values stay unique
///   across the group: `order-{n}`);
/// - `{key}`: the input key's text (empty for a null key);
/// - any other `{field}`: the input's field of that name ([`value_field`]: `amount=1999` or
///   `"amount": 1999`), empty if it has none. This carries `{amount}` over from a payment to its
///   order, so that analytics can sum revenue on either topic.
///
/// `order-{n} for {in} amount={amount}` turns input `payment-3 amount=541` into
/// `order-0 for payment-3 amount=541 amount=541`. A template built from `{in}` makes a record
/// processed twice visible as a duplicate value in the output topic; one built from `{n}` alone
/// hides it behind a new number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputTemplate {
    pattern: Arc<str>,
    segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Text(String),
    Input,
    Counter,
    Key,
    Field(String),
}

impl OutputTemplate {
    /// Parses `pattern` once. A placeholder is `{name}` with a name of letters, digits, `_`, `-`
    /// or `.`; any other `{` is plain text (JSON templates keep their braces).
    pub fn new(pattern: &str) -> OutputTemplate {
        let is_name = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        };
        let mut segments = Vec::new();
        let mut text = String::new();
        let mut rest = pattern;
        while let Some(open) = rest.find('{') {
            text.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let name = after.find('}').map(|close| &after[..close]);
            let Some(name) = name.filter(|n| is_name(n)) else {
                text.push('{');
                rest = after;
                continue;
            };
            if !text.is_empty() {
                segments.push(Segment::Text(std::mem::take(&mut text)));
            }
            segments.push(match name {
                "in" => Segment::Input,
                "n" => Segment::Counter,
                "key" => Segment::Key,
                field => Segment::Field(field.to_string()),
            });
            rest = &after[name.len() + 1..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            segments.push(Segment::Text(text));
        }
        OutputTemplate {
            pattern: Arc::from(pattern),
            segments,
        }
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The output text for input value text `input` with key `key`, output number `n`.
    pub fn render(&self, input: &str, key: Option<&Key>, n: u64) -> String {
        let mut out = String::with_capacity(self.pattern.len() + input.len());
        for s in &self.segments {
            match s {
                Segment::Text(t) => out.push_str(t),
                Segment::Input => out.push_str(input),
                Segment::Counter => out.push_str(&n.to_string()),
                Segment::Key => {
                    if let Some(k) = key {
                        out.push_str(&k.to_string());
                    }
                }
                Segment::Field(f) => out.push_str(value_field(input, f).unwrap_or("")),
            }
        }
        out
    }
}

/// A consumer linked to its process's producer.
#[derive(Clone, Debug)]
struct Link {
    group: Arc<str>,
    producer: usize,
    output: Option<ServiceOutput>,
}

/// The world's table of service links: which consumer feeds which producer, and each service's
/// output counter.
#[derive(Debug, Default)]
pub(crate) struct Services {
    /// By consumer index.
    links: BTreeMap<usize, Link>,
    /// Each linked client's partner in its process, both ways.
    partners: BTreeMap<usize, usize>,
    /// `{n}` per service (group id).
    counters: BTreeMap<Arc<str>, u64>,
}

impl Services {
    /// Links consumer `consumer` to producer `producer` of the same process.
    pub(crate) fn link(
        &mut self,
        consumer: usize,
        producer: usize,
        group: &str,
        output: Option<ServiceOutput>,
    ) {
        assert!(
            !self.partners.contains_key(&consumer) && !self.partners.contains_key(&producer),
            "a process holds one consumer and one producer"
        );
        self.partners.insert(consumer, producer);
        self.partners.insert(producer, consumer);
        let group = Arc::from(group);
        self.links.insert(
            consumer,
            Link {
                group,
                producer,
                output,
            },
        );
    }

    /// The other client of `client`'s process, if it has one.
    pub(crate) fn partner(&self, client: usize) -> Option<usize> {
        self.partners.get(&client).copied()
    }

    /// The `send()` calls a linked consumer's application makes for what it just processed and
    /// gave up on, in the order they happened, and the producer that makes them; `None` if the
    /// consumer is not linked.
    pub(crate) fn sends(
        &mut self,
        consumer: usize,
        processed: Vec<ProcessedRecord>,
        dead: Vec<DeadLetter>,
    ) -> Option<(usize, Vec<SendRequest>)> {
        let link = self.links.get(&consumer)?;
        let counter = self.counters.entry(link.group.clone()).or_default();
        let mut outputs = Vec::new();
        if let Some(output) = &link.output {
            for p in processed {
                let value = match &output.value {
                    OutputValue::Copy => p.value,
                    OutputValue::Template(t) => {
                        let input = p.value.as_ref().map(Value::render).unwrap_or_default();
                        let text =
                            t.render(&String::from_utf8_lossy(&input), p.key.as_ref(), *counter);
                        Some(Value::Bytes(std::rc::Rc::from(text.into_bytes())))
                    }
                };
                *counter += 1;
                let send = SendRequest {
                    topic: output.topic.clone(),
                    key: p.key,
                    value,
                    headers: None,
                    partition: None,
                    sync: false,
                };
                outputs.push((p.processed_at, send));
            }
        }
        for d in dead {
            let send = SendRequest {
                topic: d.topic,
                key: d.key,
                value: d.value,
                headers: Some(d.headers),
                partition: None,
                sync: false,
            };
            outputs.push((d.at, send));
        }
        // Processing order: outputs and dead letters of the same moment keep their order.
        outputs.sort_by_key(|(at, _)| *at);
        Some((link.producer, outputs.into_iter().map(|(_, s)| s).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_templates_carry_the_input_over() {
        let t = OutputTemplate::new("order-{n} for {in} amount={amount} user={key}{");
        let key = Key::utf8("user-42");
        assert_eq!(
            t.render("payment-3 amount=541", Some(&key), 0),
            "order-0 for payment-3 amount=541 amount=541 user=user-42{"
        );
        assert_eq!(t.render("", None, 7), "order-7 for  amount= user={");
        let json = OutputTemplate::new(r#"{"order":{n},"amount":{amount}}"#);
        assert_eq!(
            json.render(r#"{"amount": 1999}"#, None, 1),
            r#"{"order":1,"amount":1999}"#
        );
    }

    #[test]
    fn outputs_and_dead_letters_go_to_the_linked_producer_in_order() {
        use crate::units::{Offset, PartitionId, SimTime, TopicPartition};
        let topic = |s| TopicName::new(s).unwrap();
        let mut services = Services::default();
        let output = ServiceOutput {
            topic: topic("orders"),
            value: OutputValue::Template(OutputTemplate::new("order-{n}")),
        };
        services.link(0, 1, "order-service", Some(output));
        assert_eq!(
            (services.partner(0), services.partner(1)),
            (Some(1), Some(0))
        );
        assert!(
            services.sends(5, Vec::new(), Vec::new()).is_none(),
            "not linked"
        );
        let processed = |offset, at| ProcessedRecord {
            topic: topic("payments"),
            partition: PartitionId(0),
            offset: Offset(offset),
            key: None,
            value: None,
            processed_at: SimTime(at),
        };
        let tp = TopicPartition::new(topic("payments"), PartitionId(0));
        let dead = DeadLetter {
            topic: topic("dlq"),
            original: tp.clone(),
            offset: Offset(1),
            key: None,
            value: None,
            headers: std::rc::Rc::from(DeadLetter::headers("malformed value", &tp, Offset(1))),
            error: Arc::from("malformed value"),
            attempts: 1,
            at: SimTime(20),
        };
        let (producer, sends) = services
            .sends(0, vec![processed(0, 10), processed(2, 30)], vec![dead])
            .unwrap();
        assert_eq!(producer, 1);
        let shown: Vec<(String, Option<Vec<u8>>)> = sends
            .iter()
            .map(|s| (s.topic.to_string(), s.value.as_ref().map(Value::render)))
            .collect();
        assert_eq!(
            shown,
            vec![
                ("orders".into(), Some(b"order-0".to_vec())),
                ("dlq".into(), None),
                ("orders".into(), Some(b"order-1".to_vec())),
            ]
        );
        assert_eq!(sends[1].headers.as_ref().unwrap().len(), 4);
    }
}
