//! `kafka-sim partition`: which partition each key goes to, and why.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use kafka_sim::client::partitioner::{self, KeyRoute, Partitioner, StickyState};
use kafka_sim::rng::SimRng;
use kafka_sim::units::{Millis, PartitionId, SimTime};
use serde::Serialize;

const PARTITIONERS_HELP: &str = "\
Partitioners (the client that uses each):
  java               Java client 3.3+ default: murmur2 for keys, KIP-794 sticky for null keys
  java-legacy        Java client 2.4-3.2 DefaultPartitioner: murmur2, KIP-480 sticky
  round-robin        Java client RoundRobinPartitioner: ignores keys
  random             librdkafka: a random partition per record
  consistent         librdkafka: CRC32 of the key (null key hashed as empty)
  consistent_random  librdkafka DEFAULT (Python confluent_kafka, .NET Confluent.Kafka, Go):
                     CRC32 of the key; null and empty keys go to a random (sticky) partition
  murmur2            librdkafka: Java-compatible murmur2 (null key hashed as empty)
  murmur2_random     librdkafka: Java-compatible murmur2; null keys random (sticky).
                     Set this in librdkafka clients to match Java producers.
  fnv1a              librdkafka: FNV-1a (null key hashed as empty)
  fnv1a_random       librdkafka: FNV-1a; null keys random (sticky)

The hash column is the partitioner's raw hash: signed 32-bit for murmur2 (as Java's
Utils.murmur2 returns it), unsigned 32-bit for CRC32 and FNV-1a. Partitions that depend on
randomness are drawn from the seeded stream of --seed and marked as such.";

/// Arguments of `kafka-sim partition`.
#[derive(Debug, Args)]
#[command(after_long_help = PARTITIONERS_HELP)]
pub(crate) struct PartitionArgs {
    /// Number of partitions of the topic.
    #[arg(long, short = 'p', value_parser = clap::value_parser!(u32).range(1..))]
    partitions: u32,
    /// The partitioner (see --help for the list and which client uses each).
    #[arg(long, default_value = "java")]
    partitioner: Partitioner,
    /// Keys are hex-encoded bytes instead of UTF-8 strings.
    #[arg(long)]
    key_hex: bool,
    /// Print JSON: [{"key": ..., "hash": <int or null>, "partition": <int>}].
    #[arg(long)]
    json: bool,
    /// Seed for partitioners that draw at random.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The keys, as UTF-8 strings (use "" for an empty key).
    #[arg(required = true)]
    keys: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Row {
    key: String,
    hash: Option<i64>,
    partition: u32,
    #[serde(skip)]
    how: &'static str,
}

pub(crate) fn run(args: &PartitionArgs) -> anyhow::Result<ExitCode> {
    let mut rng = SimRng::for_component(args.seed, "cli/partition");
    let mut sticky = StickyState::default();
    let mut rows = Vec::with_capacity(args.keys.len());
    for key in &args.keys {
        let bytes = if args.key_hex {
            decode_hex(key).with_context(|| format!("key {key:?} is not valid hex"))?
        } else {
            key.as_bytes().to_vec()
        };
        let (hash, partition, how) =
            match partitioner::route(args.partitioner, Some(&bytes), args.partitions) {
                KeyRoute::Hashed { hash, partition } => (Some(hash.as_i64()), partition, "hash"),
                KeyRoute::RandomEach => {
                    let p = partitioner::librdkafka_random(&mut rng, args.partitions, &[]);
                    (None, p, "random (seeded)")
                }
                KeyRoute::Sticky => {
                    // All keys are sent at the same instant, so the sticky partition holds.
                    let linger = partitioner::librdkafka_sticky_linger(Millis(5));
                    let p = sticky.librdkafka_partition(
                        &mut rng,
                        SimTime::ZERO,
                        linger,
                        &[],
                        args.partitions,
                    );
                    (None, p, "sticky random (seeded)")
                }
                KeyRoute::RoundRobin => (
                    None,
                    sticky.round_robin(&[], args.partitions),
                    "round-robin",
                ),
            };
        rows.push(Row {
            key: key.clone(),
            hash,
            partition: partition_number(partition),
            how,
        });
    }
    if args.json {
        println!("{}", serde_json::to_string(&rows)?);
    } else {
        print_table(args, &rows);
    }
    Ok(ExitCode::SUCCESS)
}

fn partition_number(p: PartitionId) -> u32 {
    p.0
}

fn print_table(args: &PartitionArgs, rows: &[Row]) {
    println!(
        "partitioner: {} ({}), partitions: {}",
        args.partitioner,
        args.partitioner.client(),
        args.partitions
    );
    let key_width = rows.iter().map(|r| r.key.len()).max().unwrap_or(0).max(3);
    println!(
        "{:<key_width$}  {:>11}  {:>9}  HOW",
        "KEY", "HASH", "PARTITION"
    );
    for r in rows {
        let hash = r.hash.map_or_else(|| "-".to_string(), |h| h.to_string());
        println!(
            "{:<key_width$}  {:>11}  {:>9}  {}",
            r.key, hash, r.partition, r.how
        );
    }
}

fn decode_hex(s: &str) -> anyhow::Result<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        bail!("odd number of hex digits");
    }
    (0..s.len() / 2)
        .map(|i| {
            u8::from_str_radix(&s[2 * i..2 * i + 2], 16)
                .with_context(|| format!("{:?} is not a hex byte", &s[2 * i..2 * i + 2]))
        })
        .collect()
}
