//! librdkafka's built-in mock cluster (`rdkafka_mock.c`): a Kafka-protocol broker inside this
//! process, listening on 127.0.0.1, with classic consumer groups, session expiry, the
//! idempotence window and per-API error injection. It runs in real time over real sockets, so
//! member processes reach it like any broker.
//!
//! rust-rdkafka's safe `MockCluster` API lacks two calls a scenario needs: the broker config
//! `group.initial.rebalance.delay.ms` and delayed responses (the only way the mock can lose an
//! acknowledgement while still appending the records). Those two go through librdkafka's C API
//! below: the project's only `unsafe` code, allowed in this module alone.
#![allow(unsafe_code)]

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::bindings as rd;
use rdkafka::producer::{BaseProducer, Producer};

use crate::error::{Error, Result};

/// A mock cluster. It is owned by a librdkafka client handle created with
/// `test.mock.num.brokers`; dropping the handle destroys the cluster.
pub struct MockBroker {
    owner: BaseProducer,
    bootstrap: String,
    brokers: u32,
}

impl std::fmt::Debug for MockBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockBroker")
            .field("bootstrap", &self.bootstrap)
            .field("brokers", &self.brokers)
            .finish()
    }
}

impl MockBroker {
    /// Starts a mock cluster of `brokers` brokers on 127.0.0.1.
    pub fn start(brokers: u32) -> Result<MockBroker> {
        let owner: BaseProducer = ClientConfig::new()
            .set("test.mock.num.brokers", brokers.to_string())
            .create()
            .map_err(Error::kafka("starting the mock cluster"))?;
        let bootstrap = owner
            .client()
            .mock_cluster()
            .ok_or_else(|| Error::Broker {
                broker: "mock".into(),
                message: "librdkafka created no mock cluster".into(),
            })?
            .bootstrap_servers();
        Ok(MockBroker {
            owner,
            bootstrap,
            brokers,
        })
    }

    /// `bootstrap.servers` for clients.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// Creates a topic (the mock answers no CreateTopics request).
    pub fn create_topic(&self, name: &str, partitions: u32, replication: u32) -> Result<()> {
        let cluster = self
            .owner
            .client()
            .mock_cluster()
            .expect("created at start");
        cluster
            .create_topic(
                name,
                i32::try_from(partitions).unwrap_or(i32::MAX),
                i32::try_from(replication).unwrap_or(1),
            )
            .map_err(Error::kafka(format!(
                "creating topic {name} on the mock cluster"
            )))
    }

    /// Sets `group.initial.rebalance.delay.ms` (the mock's default is Kafka's, 3000).
    pub fn initial_rebalance_delay(&self, delay_ms: i32) {
        let cluster = self.raw();
        // SAFETY: `cluster` is the live mock cluster owned by `self.owner`, which outlives the
        // call; the function only stores the value under the cluster's lock.
        unsafe { rd::rd_kafka_mock_group_initial_rebalance_delay_ms(cluster, delay_ms) };
    }

    /// Sets the KIP-848 broker configs `group.consumer.session.timeout.ms` and
    /// `group.consumer.heartbeat.interval.ms` (the mock's defaults are 30000 and 3000, not
    /// Kafka's 45000 and 5000). A group copies them when it is created: call before it exists.
    pub fn consumer_group_timing(&self, name: &str, ms: i32) {
        let cluster = self.raw();
        // SAFETY: as above; each setter only stores the value under the cluster's lock.
        unsafe {
            if name == "group.consumer.session.timeout.ms" {
                rd::rd_kafka_mock_set_group_consumer_session_timeout_ms(cluster, ms);
            } else {
                rd::rd_kafka_mock_set_group_consumer_heartbeat_interval_ms(cluster, ms);
            }
        }
    }

    /// Delays the responses to the next `count` produce requests on every broker by `hold`.
    /// The records are appended at once; a producer whose `request.timeout.ms` is shorter than
    /// `hold` gives up on the request and retries it: an acknowledgement lost in the network.
    pub fn delay_produce_responses(&self, count: u32, hold: Duration) -> Result<()> {
        const PRODUCE: i16 = 0;
        let cluster = self.raw();
        let rtt_ms = i32::try_from(hold.as_millis()).unwrap_or(i32::MAX);
        for broker in 1..=self.brokers {
            for _ in 0..count {
                // SAFETY: as above; the variadic arguments are one (error, rtt) pair, as the C
                // declaration documents, with `cnt` = 1. Error 0 means "no error, just late".
                let err = unsafe {
                    rd::rd_kafka_mock_broker_push_request_error_rtts(
                        cluster,
                        broker as i32,
                        PRODUCE,
                        1,
                        0i32, // RD_KAFKA_RESP_ERR_NO_ERROR, promoted to int as C varargs are
                        rtt_ms,
                    )
                };
                if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                    return Err(Error::Broker {
                        broker: "mock".into(),
                        message: format!("delaying produce responses on broker {broker}: {err:?}"),
                    });
                }
            }
        }
        Ok(())
    }

    fn raw(&self) -> *mut rd::rd_kafka_mock_cluster_t {
        // SAFETY: the handle is a live client created with test.mock.num.brokers.
        let cluster = unsafe { rd::rd_kafka_handle_mock_cluster(self.owner.client().native_ptr()) };
        assert!(!cluster.is_null(), "the owner handle has a mock cluster");
        cluster
    }
}
