//! kafka-sim's integration tests: one binary, one module per area.

/// Consumer-group assignors: Kafka's test vectors (through the library and the CLI) and the
/// course's claims about range, roundrobin, sticky and cooperative-sticky.
mod assignors;
