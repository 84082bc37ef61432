//! Client-side pieces of Kafka: what the Java client and librdkafka compute on their own.

pub mod assignor;
pub mod backoff;
pub mod consumer;
pub mod library;
pub mod load;
pub mod partitioner;
pub mod producer;
