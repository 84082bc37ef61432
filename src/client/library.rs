//! Which Kafka client library a producer or consumer behaves like.
//!
//! The same Kafka config means different things in different clients, so a scenario must say
//! which client it models. One enum serves the scenario, the producer and the consumer, so that
//! a scenario's `client = "java-3"` reaches both sides unchanged.
//!
//! Why the libraries differ, in short (the tables in `producer/config.rs` and
//! `consumer/config.rs` give every default):
//! - **Java 3.x vs 4.0**: Kafka 4.0 raised the producer's `linger.ms` default from 0 to 5
//!   (KIP-1030), refuses the legacy partitioner, and makes more than 5 requests in flight with
//!   default idempotence an error instead of silently turning idempotence off (KAFKA-17927). The
//!   consumers of both behave alike here.
//! - **Java vs librdkafka**: librdkafka (Python `confluent_kafka`, .NET `Confluent.Kafka`, Go)
//!   is a separate C implementation with its own defaults (`enable.idempotence` false,
//!   `consistent_random` partitioner, `range,roundrobin` assignors), its own config names
//!   (`socket.timeout.ms`, `fetch.wait.max.ms`), and a consumer that hands out one message per
//!   `poll()` and auto-commits stored offsets from a timer rather than inside `poll()`.

use std::fmt;

/// A Kafka client library: its defaults, config names and rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClientLibrary {
    /// The Java client of Kafka 3.7 to 3.9 (`linger.ms` 0; KIP-580's exponential retry backoff
    /// arrived in 3.7).
    Java3,
    /// The Java client of Kafka 4.0 (`linger.ms` 5): a scenario's default.
    #[default]
    Java4,
    /// librdkafka and the clients built on it: Python `confluent_kafka`, .NET
    /// `Confluent.Kafka`, Go.
    Librdkafka,
}

impl ClientLibrary {
    /// The names a scenario's `client` key accepts, for error messages.
    pub const ACCEPTED: &'static str =
        "java (Kafka 4.0), java-3 (Kafka 3.x), librdkafka (also: python, dotnet)";

    /// Reads a scenario's `client` value: `java`, `java-3`, `librdkafka` or an alias (a
    /// language whose usual client is librdkafka).
    pub fn parse(s: &str) -> Option<ClientLibrary> {
        match s {
            "java" | "java-4" | "java-4.0" => Some(ClientLibrary::Java4),
            "java-3" | "java-3.x" => Some(ClientLibrary::Java3),
            "librdkafka" | "python" | "confluent_kafka" | "dotnet" | ".net" => {
                Some(ClientLibrary::Librdkafka)
            }
            _ => None,
        }
    }

    /// The short name used in traces and error messages (`java-4`).
    pub fn name(self) -> &'static str {
        match self {
            ClientLibrary::Java3 => "java-3",
            ClientLibrary::Java4 => "java-4",
            ClientLibrary::Librdkafka => "librdkafka",
        }
    }

    /// The name used in reports (`Java client 4.0`).
    pub fn description(self) -> &'static str {
        match self {
            ClientLibrary::Java4 => "Java client 4.0",
            ClientLibrary::Java3 => "Java client 3.x",
            ClientLibrary::Librdkafka => {
                "librdkafka (Python confluent_kafka, .NET Confluent.Kafka)"
            }
        }
    }

    /// True for either Java client: what the consumer and the assignor defaults distinguish.
    pub fn is_java(self) -> bool {
        matches!(self, ClientLibrary::Java3 | ClientLibrary::Java4)
    }
}

impl fmt::Display for ClientLibrary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_names_and_aliases_parse() {
        assert_eq!(ClientLibrary::parse("java"), Some(ClientLibrary::Java4));
        assert_eq!(ClientLibrary::parse("java-3.x"), Some(ClientLibrary::Java3));
        assert_eq!(
            ClientLibrary::parse("python"),
            Some(ClientLibrary::Librdkafka)
        );
        assert_eq!(ClientLibrary::parse("kotlin"), None);
        for library in [
            ClientLibrary::Java3,
            ClientLibrary::Java4,
            ClientLibrary::Librdkafka,
        ] {
            assert_eq!(ClientLibrary::parse(library.name()), Some(library));
        }
    }
}
