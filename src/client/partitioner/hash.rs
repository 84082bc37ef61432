//! The three key hashes Kafka clients use to pick a partition, bit for bit.
//!
//! - [`murmur2`]: the Java client's `Utils.murmur2` (seed `0x9747b28c`), also librdkafka's
//!   `murmur2`/`murmur2_random` partitioners.
//! - [`crc32`]: standard CRC-32 (IEEE 802.3, as zlib), librdkafka's `consistent`/
//!   `consistent_random` (its default, hence Python `confluent_kafka` and .NET `Confluent.Kafka`).
//! - [`fnv1a`]: 32-bit FNV-1a, librdkafka's `fnv1a`/`fnv1a_random` (Sarama-compatible).

/// Kafka's murmur2 of `key`, as the signed 32-bit `int` Java returns.
///
/// Blocks are read little-endian with bytes as unsigned values; the tail is mixed with
/// fall-through; the result is finalised with the 13/15 shifts (kafka-semantics.md a.1).
///
/// ```
/// use kafka_sim::client::partitioner::hash::murmur2;
/// assert_eq!(murmur2(b"21"), -973932308); // Kafka's UtilsTest.testMurmur2
/// assert_eq!(murmur2(b""), 0x106e08d9);   // an empty key is still a key
/// ```
pub fn murmur2(key: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;

    let mut h: u32 = SEED ^ (key.len() as u32);
    let mut blocks = key.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = blocks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Java's `Utils.toPositive`: clears the sign bit (not `abs`, so `i32::MIN` maps to 0).
pub fn to_positive(x: i32) -> u32 {
    (x & 0x7fff_ffff) as u32
}

/// Standard CRC-32 (reflected polynomial `0xedb88320`, init and final xor `0xffffffff`).
///
/// ```
/// use kafka_sim::client::partitioner::hash::crc32;
/// assert_eq!(crc32(b"123456789"), 0xcbf43926); // the CRC-32 check value
/// ```
pub fn crc32(key: &[u8]) -> u32 {
    !key.iter().fold(!0u32, |crc, &b| {
        CRC32_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8)
    })
}

/// librdkafka's `rd_fnv1a`: 32-bit FNV-1a (offset basis `0x811c9dc5`, prime `0x01000193`, xor
/// then multiply per byte), then, as Sarama does, the absolute value of the result viewed as a
/// signed `int32`. This is the hash librdkafka reduces modulo the partition count.
///
/// ```
/// use kafka_sim::client::partitioner::hash::fnv1a;
/// assert_eq!(fnv1a(b"kafka"), 0x0d33c4e1); // librdkafka's rdfnv1a.c unit test
/// assert_eq!(fnv1a(b"1234"), 0x023bdd03);  // plain FNV-1a is 0xfdc422fd, negative as int32
/// assert_eq!(fnv1a(b""), 0x7ee3623b);      // |0x811c9dc5 as i32|
/// ```
pub fn fnv1a(key: &[u8]) -> u32 {
    (fnv1a_plain(key) as i32).unsigned_abs()
}

/// Plain 32-bit FNV-1a, before librdkafka's absolute value.
pub fn fnv1a_plain(key: &[u8]) -> u32 {
    key.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

const CRC32_TABLE: [u32; 256] = crc32_table();

const fn crc32_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_kafka_utils_test() {
        // apache/kafka UtilsTest.testMurmur2; the full vector files run in tests/partitioners.rs.
        assert_eq!(murmur2(b"21"), -973_932_308);
        assert_eq!(murmur2(b"foobar"), -790_332_482);
        assert_eq!(murmur2(b"a-little-bit-long-string"), -985_981_536);
        assert_eq!(murmur2(b"a-little-bit-longer-string"), -1_486_304_829);
    }

    #[test]
    fn to_positive_is_a_mask() {
        assert_eq!(to_positive(-1), 0x7fff_ffff);
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(5), 5);
    }

    #[test]
    fn crc32_and_fnv1a_of_empty() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(fnv1a_plain(b""), 0x811c_9dc5);
    }
}
