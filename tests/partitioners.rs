//! Every shared murmur2, FNV-1a and CRC32 vector, through the library and the partition rule.

use kafka_sim::client::partitioner::hash::{crc32, fnv1a, murmur2, to_positive};
use kafka_sim::client::partitioner::{KeyRoute, Partitioner, route};

use crate::support::data_json;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn u32_hex(s: &str) -> u32 {
    u32::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

fn partition(p: Partitioner, key: Option<&[u8]>, n: u32) -> Option<u32> {
    match route(p, key, n) {
        KeyRoute::Hashed { partition, .. } => Some(partition.0),
        _ => None,
    }
}

#[test]
fn java_murmur2_vectors() {
    let v = data_json("murmur2.json");
    let cases = v["java_utils_murmur2"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for c in cases {
        let key = hex(c["input_hex"].as_str().unwrap());
        assert_eq!(
            i64::from(murmur2(&key)),
            c["murmur2_i32"].as_i64().unwrap(),
            "{c}"
        );
        assert_eq!(
            i64::from(to_positive(murmur2(&key))),
            c["to_positive"].as_i64().unwrap()
        );
    }
}

#[test]
fn librdkafka_murmur2_and_fnv1a_unit_vectors() {
    let v = data_json("murmur2.json");
    let m = v["librdkafka_murmur2_unittest"].as_array().unwrap();
    let f = v["librdkafka_fnv1a_unittest"].as_array().unwrap();
    assert_eq!((m.len(), f.len()), (12, 12));
    for c in m {
        let key = hex(c["input_hex"].as_str().unwrap());
        assert_eq!(
            murmur2(&key) as u32,
            u32_hex(c["murmur2_u32_hex"].as_str().unwrap()),
            "{c}"
        );
    }
    for c in f {
        let key = hex(c["input_hex"].as_str().unwrap());
        assert_eq!(
            i64::from(fnv1a(&key)),
            c["fnv1a_u32"].as_i64().unwrap(),
            "{c}"
        );
    }
}

/// librdkafka `tests/0048-partitioner.c`: every partitioner, 5 keys (NULL, empty, three
/// strings), 17 and 7 partitions. `null` expectations mean "random": not decided by the hash.
#[test]
fn librdkafka_partitioner_integration_0048() {
    let v = data_json("murmur2.json");
    let t = &v["librdkafka_partitioner_integration_0048"];
    let keys: Vec<Option<Vec<u8>>> = t["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key_hex"].as_str().map(hex))
        .collect();
    let mut checked = 0;
    for (name, expected) in t["expected"].as_object().unwrap() {
        let p: Partitioner = name.parse().unwrap();
        for (key, e) in keys.iter().zip(expected.as_array().unwrap()) {
            for n in [17, 7] {
                let got = partition(p, key.as_deref(), n);
                let want = e[format!("partition_if_{n}")].as_u64().map(|x| x as u32);
                assert_eq!(got, want, "{name} key {key:?} with {n} partitions");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 7 * 5 * 2);
}

#[test]
fn computed_key_to_partition_table() {
    let v = data_json("murmur2.json");
    let rows = v["computed_key_to_partition_table"]["rows"]
        .as_array()
        .unwrap();
    assert_eq!(rows.len(), 19);
    for r in rows {
        let key = r["key"].as_str().unwrap().as_bytes();
        assert_eq!(i64::from(murmur2(key)), r["murmur2_i32"].as_i64().unwrap());
        assert_eq!(i64::from(crc32(key)), r["crc32_u32"].as_i64().unwrap());
        assert_eq!(i64::from(fnv1a(key)), r["fnv1a_u32"].as_i64().unwrap());
        for (column, p) in [
            ("java_partition", Partitioner::Java),
            (
                "librdkafka_consistent_random_partition",
                Partitioner::ConsistentRandom,
            ),
            ("librdkafka_fnv1a_partition", Partitioner::Fnv1a),
        ] {
            for (n, want) in r[column].as_object().unwrap() {
                let n: u32 = n.parse().unwrap();
                assert_eq!(
                    partition(p, Some(key), n),
                    Some(want.as_u64().unwrap() as u32)
                );
            }
        }
    }
}

#[test]
fn crc32_check_value() {
    let v = data_json("murmur2.json");
    let c = &v["crc32_check_value"];
    let input = c["input_utf8"].as_str().unwrap().as_bytes();
    assert_eq!(crc32(input), u32_hex(c["crc32_u32_hex"].as_str().unwrap()));
}

/// kafka-semantics.md a.1: an empty key is a key for the Java client (1000 partitions -> 681).
#[test]
fn empty_key_goes_where_java_sends_it() {
    assert_eq!(partition(Partitioner::Java, Some(b""), 1000), Some(681));
    assert_eq!(partition(Partitioner::Java, Some(b"a"), 1000), Some(524));
    assert_eq!(partition(Partitioner::Java, Some(b"abc"), 1000), Some(107));
}
