//! Kafka records as the simulator stores them: compact enough that millions stay cheap.
//!
//! A key is shared bytes (`Rc<[u8]>`), so a producer that interns its keys (`user-{n}` with 50
//! distinct users) pays no allocation per record. A value is either real bytes or a synthetic
//! descriptor (`template`, `n`, `size`): the text `payment-17` is rendered only when someone
//! looks, and `size` stands for the bytes it would occupy on the wire.
//!
//! Shared parts are `Rc`, not `Arc`: a run is single-threaded (sweeps run whole runs on their
//! threads), and every record is copied per fetch and per group, where an atomic count would
//! cost a full memory barrier per copy (measured: a third of the flood's wall time).
//!
//! A value can be **malformed**: a poison pill that a consumer's deserializer or processing fails
//! on (the course's Black Friday exercise sends them to a dead-letter queue). Whether a value is
//! malformed is a property of the record itself ([`Value::is_malformed`]), so a consumer decides
//! from the record alone, with no shared state; a malformed value renders with the
//! [`MALFORMED_PREFIX`] so that it is visible in a trace.

use std::collections::BTreeSet;
use std::fmt;
use std::rc::Rc;

use crate::rng::Ratio;
use crate::units::{Offset, ProducerEpoch, ProducerId, Sequence, SimTime};

/// A record key: the bytes the client's serializer produced (UTF-8 for a string key).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(pub Rc<[u8]>);

impl Key {
    /// A key from a string, UTF-8 encoded as Java's `StringSerializer` does.
    pub fn utf8(s: &str) -> Key {
        Key(Rc::from(s.as_bytes()))
    }

    /// The key bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(s) => f.write_str(s),
            Err(_) => self.0.iter().try_for_each(|b| write!(f, "{b:02x}")),
        }
    }
}

/// A record value. `None` (at the [`Record`] level) is a null value: a tombstone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Real bytes.
    Bytes(Rc<[u8]>),
    /// A value described, not stored: record number `n` rendered through a shared template.
    Synthetic {
        /// The template, shared by every record of a producer.
        template: Rc<ValueTemplate>,
        /// The record's number within its producer, from 0.
        n: u64,
    },
}

impl Value {
    /// The value's serialized size in bytes.
    pub fn size(&self) -> u64 {
        match self {
            Value::Bytes(b) => b.len() as u64,
            Value::Synthetic { template, .. } => u64::from(template.size),
        }
    }

    /// The value as text (rendering a synthetic value), for traces and reports.
    pub fn render(&self) -> Vec<u8> {
        match self {
            Value::Bytes(b) => b.to_vec(),
            Value::Synthetic { template, n } => template.render(*n).into_bytes(),
        }
    }

    /// True for a poison pill: a value the consumer's processing must fail on.
    #[inline]
    pub fn is_malformed(&self) -> bool {
        match self {
            Value::Bytes(b) => b.starts_with(MALFORMED_PREFIX.as_bytes()),
            Value::Synthetic { template, n } => template.malformed.contains(*n),
        }
    }

    /// The same value made malformed (a poison pill). A synthetic value keeps its record number
    /// and points at `all_malformed(template)`, a copy of its template whose every value is
    /// malformed (the caller caches it), so no bytes are allocated; real bytes get the
    /// [`MALFORMED_PREFIX`].
    pub fn into_malformed(
        self,
        all_malformed: impl FnOnce(&Rc<ValueTemplate>) -> Rc<ValueTemplate>,
    ) -> Value {
        match self {
            Value::Bytes(b) => {
                let mut bytes = MALFORMED_PREFIX.as_bytes().to_vec();
                bytes.extend_from_slice(&b);
                Value::Bytes(Rc::from(bytes))
            }
            Value::Synthetic { template, n } => Value::Synthetic {
                template: all_malformed(&template),
                n,
            },
        }
    }
}

/// A value template: `pattern` with `{n}` replaced by the record number, standing for `size`
/// bytes on the wire. Millions of records then cost no value bytes at all.
///
/// Placeholders: `{n}` the record number; `{amount}` the record's [`amount`], a fixed function of
/// `n` (the analytics exercises sum it as revenue, so it must be exact and reproducible);
/// `{key}` the record's key as text (empty for a null key). `{key}` is not a function of `n`, so
/// a producer renders such a value once, as bytes ([`ValueTemplate::uses_key`]).
///
/// `payment-{n} amount={amount}` renders record 0 as `payment-0 amount=451`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueTemplate {
    /// The text, with `{n}`, `{amount}` and `{key}` where they go.
    pub pattern: Rc<str>,
    /// The serialized size each value stands for.
    pub size: u32,
    /// Which record numbers render as poison pills.
    pub malformed: Malformed,
    /// The records carry no value at all: tombstones (a null value deletes the key from a
    /// compacted topic).
    pub tombstone: bool,
}

/// What a rendered poison pill starts with, so that it stands out in a trace and a consumer can
/// recognise real-bytes poison pills too.
pub const MALFORMED_PREFIX: &str = "!malformed!";

/// Which values of a template are malformed: a share of them, chosen by a fixed hash of the record
/// number (so every run and every reader agrees without drawing from any stream), plus listed
/// record numbers. `Ratio::ONE` makes every value malformed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Malformed {
    /// The share of record numbers that are malformed.
    pub ratio: Ratio,
    /// Record numbers that are malformed whatever the ratio.
    pub records: BTreeSet<u64>,
}

impl Malformed {
    /// Every value.
    pub fn all() -> Malformed {
        Malformed {
            ratio: Ratio::ONE,
            records: BTreeSet::new(),
        }
    }

    /// True if record `n` is malformed.
    #[inline]
    pub fn contains(&self, n: u64) -> bool {
        match self.ratio.ppm() {
            0 => self.records.contains(&n),
            ppm if u64::from(ppm) >= Ratio::SCALE => true,
            ppm => mix64(n) % Ratio::SCALE < u64::from(ppm) || self.records.contains(&n),
        }
    }
}

/// SplitMix64's finaliser: a fixed, well-mixed hash of a record number.
fn mix64(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The smallest [`amount`].
pub const AMOUNT_MIN: u64 = 5;
/// The largest [`amount`].
pub const AMOUNT_MAX: u64 = 2000;

/// The amount (a price, in whole currency units) of record number `n`: `5 + SplitMix64(n XOR
/// 0x616d6f756e74) mod 1996`, so between [`AMOUNT_MIN`] and [`AMOUNT_MAX`].
///
/// A fixed hash rather than a draw from a seeded stream: every reader (the producer, the trace,
/// a test computing the expected revenue) gets the same amount from the record number alone, and
/// the salt ("amount" in ASCII) keeps amounts independent of which records are malformed.
pub fn amount(n: u64) -> u64 {
    const SALT: u64 = 0x616d_6f75_6e74;
    AMOUNT_MIN + mix64(n ^ SALT) % (AMOUNT_MAX - AMOUNT_MIN + 1)
}

/// The value of field `name` in a record's text: what follows `name=` (`amount=1999`) or
/// `"name":` (`{"amount": 1999}`), up to the next separator (space, `,`, `;`, `&`, `}`, `]`) or,
/// for a quoted value, its closing quote. `None` if the text has no such field.
///
/// Services carry fields of their input over to their output this way, and reports sum the
/// `amount` field as revenue: the same reading the course's analytics service does with
/// `json.loads(value)["amount"]`, without a JSON parser.
pub fn value_field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let mut from = 0;
    while let Some(found) = text[from..].find(name) {
        let start = from + found;
        let mut i = start + name.len();
        from = start + 1;
        if start > 0 && word(bytes[start - 1]) {
            continue;
        }
        let quoted_name = start > 0 && bytes[start - 1] == b'"';
        if quoted_name {
            if bytes.get(i) != Some(&b'"') {
                continue;
            }
            i += 1;
        }
        while bytes.get(i) == Some(&b' ') {
            i += 1;
        }
        match bytes.get(i) {
            Some(b'=') if !quoted_name => {}
            Some(b':') => {}
            _ => continue,
        }
        i += 1;
        while bytes.get(i) == Some(&b' ') {
            i += 1;
        }
        if bytes.get(i) == Some(&b'"') {
            let rest = &text[i + 1..];
            return Some(&rest[..rest.find('"').unwrap_or(rest.len())]);
        }
        let rest = &text[i..];
        let end = rest
            .find([' ', ',', ';', '&', '}', ']', '"', '\t', '\n'])
            .unwrap_or(rest.len());
        return Some(&rest[..end]);
    }
    None
}

impl ValueTemplate {
    /// A template whose size is the rendered length of record 0 (at least 1 byte).
    pub fn new(pattern: &str) -> ValueTemplate {
        let mut template = ValueTemplate {
            pattern: Rc::from(pattern),
            size: 1,
            malformed: Malformed::default(),
            tombstone: false,
        };
        template.size = template.text(0, Some("")).len().max(1) as u32;
        template
    }

    /// True if the pattern has `{key}`: its values depend on the key, not only on `n`.
    pub fn uses_key(&self) -> bool {
        self.pattern.contains("{key}")
    }

    /// The text of record `n` with key `key` (with [`MALFORMED_PREFIX`] if it is a poison pill).
    pub fn render_with_key(&self, n: u64, key: Option<&Key>) -> String {
        let key = key.map(ToString::to_string);
        self.with_prefix(n, self.text(n, Some(key.as_deref().unwrap_or(""))))
    }

    /// The pattern with `{n}`, `{amount}` and (when given) `{key}` filled in, in one pass (the
    /// filled-in numbers and key are never read again as placeholders).
    fn text(&self, n: u64, key: Option<&str>) -> String {
        use std::fmt::Write as _;
        let mut text = String::with_capacity(self.pattern.len() + 16);
        let mut rest: &str = &self.pattern;
        while let Some(open) = rest.find('{') {
            text.push_str(&rest[..open]);
            let tail = &rest[open..];
            rest = if let Some(after) = tail.strip_prefix("{n}") {
                write!(text, "{n}").expect("a String takes any text");
                after
            } else if let Some(after) = tail.strip_prefix("{amount}") {
                write!(text, "{}", amount(n)).expect("a String takes any text");
                after
            } else if let (Some(after), Some(k)) = (tail.strip_prefix("{key}"), key) {
                text.push_str(k);
                after
            } else {
                text.push('{');
                &tail[1..]
            };
        }
        text.push_str(rest);
        text
    }

    fn with_prefix(&self, n: u64, text: String) -> String {
        if self.malformed.contains(n) {
            format!("{MALFORMED_PREFIX}{text}")
        } else {
            text
        }
    }

    /// The same template with `malformed` values.
    pub fn with_malformed(mut self, malformed: Malformed) -> ValueTemplate {
        self.malformed = malformed;
        self
    }

    /// The text of record `n` (with [`MALFORMED_PREFIX`] if it is a poison pill). A `{key}` is
    /// left as written: render such values with [`ValueTemplate::render_with_key`].
    pub fn render(&self, n: u64) -> String {
        self.with_prefix(n, self.text(n, None))
    }
}

/// A record header (Kafka headers are an ordered list; keys may repeat).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Header key.
    pub key: Rc<str>,
    /// Header value; null allowed.
    pub value: Option<Rc<[u8]>>,
}

/// A record's headers behind one thin pointer: most records have none, and a shared slice
/// (a pointer and a length) would cost every record 8 bytes more (88 instead of 80).
pub type Headers = Rc<Vec<Header>>;

/// Idempotence fields of the batch a record was written in (KIP-98); absent for a plain
/// producer, whose batches carry producer id -1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerStamp {
    /// The producer id.
    pub producer_id: ProducerId,
    /// Its epoch.
    pub epoch: ProducerEpoch,
    /// This record's sequence number.
    pub sequence: Sequence,
    /// True for the last record of its producer batch: followers rebuild the batches (and so
    /// the leader's five-batch window, KIP-98) from replicated records with it. Free in memory:
    /// the stamp's padding holds it.
    pub last_in_batch: bool,
    /// The record's part in transactions, in one byte so that the stamp stays 16 bytes.
    pub txn: TxnRole,
}

impl ProducerStamp {
    /// True for a record of a transactional batch (KIP-98: the batch attributes'
    /// transactional bit), markers included.
    pub fn transactional(&self) -> bool {
        self.txn != TxnRole::None
    }

    /// For a transaction marker: COMMIT or ABORT.
    pub fn control(&self) -> Option<TransactionResult> {
        match self.txn {
            TxnRole::Marker(result) => Some(result),
            _ => None,
        }
    }
}

/// A stamped record's part in transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnRole {
    /// Written outside any transaction (an idempotent producer's record).
    None,
    /// A record of a transactional batch.
    Data,
    /// A transaction marker (a control batch of one record, written by the partition's leader
    /// at the coordinator's request). Consumers never hand a control record to the
    /// application, whatever their `isolation.level`.
    Marker(TransactionResult),
}

/// How a transaction ended: the control record's type (`ControlRecordType.COMMIT` / `ABORT`).
/// Kept here, beside the record that carries it; `protocol::transaction` names it too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TransactionResult {
    /// EndTxn(commit): COMMIT markers.
    Commit,
    /// EndTxn(abort), a `transaction.timeout.ms` expiry, or a fenced instance: ABORT markers.
    Abort,
}

impl TransactionResult {
    /// `COMMIT` or `ABORT`, as Kafka's `DumpLogSegments` prints a control record.
    pub fn name(self) -> &'static str {
        match self {
            TransactionResult::Commit => "COMMIT",
            TransactionResult::Abort => "ABORT",
        }
    }
}

impl fmt::Display for TransactionResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A record in a partition's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its offset; offsets increase and may have gaps after compaction.
    pub offset: Offset,
    /// The record timestamp (CreateTime: when the producer's application sent it).
    pub timestamp: SimTime,
    /// The key; `None` is a null key.
    pub key: Option<Key>,
    /// The value; `None` is a null value (a tombstone).
    pub value: Option<Value>,
    /// Headers, if any.
    pub headers: Option<Headers>,
    /// Idempotence fields, if the producer is idempotent.
    pub stamp: Option<ProducerStamp>,
}

/// A record before the log has given it an offset: what a producer sends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewRecord {
    /// The record timestamp (the send time).
    pub timestamp: SimTime,
    /// The key.
    pub key: Option<Key>,
    /// The value.
    pub value: Option<Value>,
    /// Headers.
    pub headers: Option<Headers>,
}

impl NewRecord {
    /// Kafka's v2 record size estimate: attributes, varint-framed deltas, key, value and headers,
    /// preceded by the varint body size. Used for `batch.size` and fetch byte limits.
    pub fn size_in_batch(&self, offset_delta: u32) -> u64 {
        self.sizing().at(offset_delta)
    }

    /// The record's size wherever it lands in a batch: sized once, placed at any offset delta
    /// (the producer asks both whether it fits and, once placed, how much its batch grew).
    pub fn sizing(&self) -> RecordSizing {
        RecordSizing::of(
            self.key.as_ref(),
            self.value.as_ref(),
            self.headers.as_deref().map(Vec::as_slice),
        )
    }
}

/// A record's v2 size less the one field that depends on its place in the batch, the
/// varint offset delta: [`RecordSizing::at`] adds it (and the varint length that frames it all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordSizing {
    /// The body's bytes but the offset delta's.
    body: u64,
}

impl RecordSizing {
    fn of(key: Option<&Key>, value: Option<&Value>, headers: Option<&[Header]>) -> RecordSizing {
        let len_and = |len: Option<u64>| match len {
            Some(l) => varint_len(l as i64) + l,
            None => 1,
        };
        let mut body = 1 // attributes
            + 1 // timestamp delta, 0 within a batch of one send instant
            + len_and(key.map(|k| k.0.len() as u64))
            + len_and(value.map(Value::size));
        let headers = headers.unwrap_or_default();
        body += varint_len(headers.len() as i64);
        for h in headers {
            body += len_and(Some(h.key.len() as u64));
            body += len_and(h.value.as_ref().map(|v| v.len() as u64));
        }
        RecordSizing { body }
    }

    /// The record's size at `offset_delta` in its batch.
    pub fn at(self, offset_delta: u32) -> u64 {
        let body = self.body + varint_len(i64::from(offset_delta));
        varint_len(body as i64) + body
    }
}

impl Record {
    /// An empty record at `offset` (null key and value, no headers, no producer stamp), for
    /// tests that care only about positions.
    #[cfg(test)]
    pub(crate) fn at(offset: Offset) -> Record {
        Record {
            offset,
            timestamp: SimTime(0),
            key: None,
            value: None,
            headers: None,
            stamp: None,
        }
    }

    /// True for a poison pill: its value is malformed ([`Value::is_malformed`]). The consumer's
    /// processing fails on it, and a log chunk records at append whether it holds one.
    #[inline]
    pub fn is_poison_pill(&self) -> bool {
        self.value.as_ref().is_some_and(Value::is_malformed)
    }

    /// The record's size estimate, as in [`NewRecord::size_in_batch`] at offset delta 0.
    pub fn size_bytes(&self) -> u64 {
        record_size(
            0,
            self.key.as_ref(),
            self.value.as_ref(),
            self.headers.as_deref().map(Vec::as_slice),
        )
    }
}

/// `DefaultRecordBatch.RECORD_BATCH_OVERHEAD`: the v2 batch header is 61 bytes.
pub const RECORD_BATCH_OVERHEAD: u64 = 61;

fn varint_len(v: i64) -> u64 {
    // Zig-zag then 7 bits per byte, as Kafka's ByteUtils.sizeOfVarlong: with `log2` the index
    // of the highest bit set (0 for zero), (9 log2 + 73) / 64 is 1 + log2 / 7 without a loop or
    // a division (protobuf's VarintSize64).
    let z = ((v << 1) ^ (v >> 63)) as u64;
    let log2 = u64::from(63 - (z | 1).leading_zeros());
    (log2 * 9 + 73) / 64
}

fn record_size(
    offset_delta: u32,
    key: Option<&Key>,
    value: Option<&Value>,
    headers: Option<&[Header]>,
) -> u64 {
    RecordSizing::of(key, value, headers).at(offset_delta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_sizes_follow_the_v2_format() {
        let r = NewRecord {
            timestamp: SimTime(0),
            key: None,
            value: None,
            headers: None,
        };
        // length(1) + attributes(1) + offsetDelta(1) + timestampDelta(1) + key -1 (1) +
        // value -1 (1) + header count (1)
        assert_eq!(r.size_in_batch(0), 7);
        let r = NewRecord {
            timestamp: SimTime(0),
            key: Some(Key::utf8("user123")),
            value: Some(Value::Synthetic {
                template: Rc::new(ValueTemplate {
                    pattern: Rc::from("v{n}"),
                    size: 100,
                    malformed: Malformed::default(),
                    tombstone: false,
                }),
                n: 1,
            }),
            headers: None,
        };
        // body = 1 + 1 + 1 + (1 + 7) + (2 + 100) + 1 = 114, whose varint length is 2 bytes
        assert_eq!(r.size_in_batch(0), 2 + 114);
        assert_eq!(varint_len(63), 1); // zig-zag(63) = 126 < 128
        assert_eq!(varint_len(64), 2); // zig-zag(64) = 128
        assert_eq!(varint_len(-1), 1);
        for v in [
            0i64,
            1,
            63,
            64,
            8191,
            8192,
            1 << 20,
            -(1 << 20),
            i64::MAX,
            i64::MIN,
        ] {
            // Kafka's ByteUtils.sizeOfVarlong, written as a loop.
            let mut z = ((v << 1) ^ (v >> 63)) as u64;
            let mut n = 1;
            while z >= 0x80 {
                z >>= 7;
                n += 1;
            }
            assert_eq!(varint_len(v), n, "{v}");
        }
    }

    #[test]
    fn malformed_values_are_a_property_of_the_record() {
        let mut listed = Malformed::default();
        listed.records.insert(3);
        let t = Rc::new(ValueTemplate::new("order-{n}").with_malformed(listed));
        let v = |n| Value::Synthetic {
            template: t.clone(),
            n,
        };
        assert!(!v(2).is_malformed());
        assert!(v(3).is_malformed());
        assert_eq!(v(3).render(), b"!malformed!order-3".to_vec());
        let tenth = ValueTemplate::new("x").with_malformed(Malformed {
            ratio: Ratio::parse("0.1").unwrap(),
            records: BTreeSet::new(),
        });
        let count = (0..10_000).filter(|&n| tenth.malformed.contains(n)).count();
        assert!((900..1100).contains(&count), "{count}");
        let all = |t: &Rc<ValueTemplate>| Rc::new((**t).clone().with_malformed(Malformed::all()));
        assert!(v(2).into_malformed(all).is_malformed());
        let bytes = Value::Bytes(Rc::from(&b"{}"[..])).into_malformed(all);
        assert!(bytes.is_malformed());
        assert_eq!(bytes.render(), b"!malformed!{}".to_vec());
    }

    #[test]
    fn amounts_keys_and_fields_render_reproducibly() {
        let t = ValueTemplate::new("payment-{n} amount={amount}");
        let amounts: Vec<u64> = (0..1_000).map(amount).collect();
        assert!(
            amounts
                .iter()
                .all(|a| (AMOUNT_MIN..=AMOUNT_MAX).contains(a))
        );
        assert!(
            amounts.iter().collect::<BTreeSet<_>>().len() > 300,
            "spread out"
        );
        assert_eq!(
            t.render(0),
            "payment-0 amount=451",
            "the example in the docs"
        );
        assert_eq!(t.render(7), format!("payment-7 amount={}", amount(7)));
        assert_eq!(
            value_field(&t.render(7), "amount"),
            Some(&*amount(7).to_string())
        );
        let keyed = ValueTemplate::new("{key}:{n}");
        assert!(keyed.uses_key() && !t.uses_key());
        assert_eq!(
            keyed.render_with_key(3, Some(&Key::utf8("user-1"))),
            "user-1:3"
        );
        assert_eq!(keyed.render_with_key(3, None), ":3");
        let json = r#"{"user": "u-1", "amount": 1999, "paid_amount":5}"#;
        assert_eq!(value_field(json, "amount"), Some("1999"));
        assert_eq!(value_field(json, "user"), Some("u-1"));
        assert_eq!(
            value_field("order-1 for x amount=12,y=1", "amount"),
            Some("12")
        );
        assert_eq!(value_field("amounts=3 amount", "amount"), None);
    }

    #[test]
    fn records_stay_small() {
        // The stamp's flags fit in the padding after its epoch and sequence.
        assert_eq!(std::mem::size_of::<Option<ProducerStamp>>(), 16);
        // Headers behind a thin pointer: 8 bytes, not a slice's 16.
        assert_eq!(std::mem::size_of::<Option<Headers>>(), 8);
        assert!(
            std::mem::size_of::<Record>() <= 80,
            "{}",
            std::mem::size_of::<Record>()
        );
        assert!(std::mem::size_of::<NewRecord>() <= 56);
    }
}
