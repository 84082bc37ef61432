//! The scenario's side of services ([`crate::service`]): a `[[consumer_group]]` with an `output`
//! or a dead-letter policy becomes, per member, one process of a consumer and a producer, named,
//! linked and started here.
//!
//! From a [`GroupSpec`], each member `n` (from 1) is a consumer whose
//! [`Application`](crate::client::consumer::app::Application) carries
//! the group's `on_failure`, plus a producer when [`needs_producer`] says so, both
//! handed to [`add_member`], which names them, links them, and starts them:
//!
//! ```
//! # use std::path::Path;
//! # use kafka_sim::client::consumer::Consumer;
//! # use kafka_sim::client::consumer::app::{Application, ManualCommit, ProcessingTime};
//! # use kafka_sim::client::consumer::config::ConsumerConfig;
//! # use kafka_sim::client::library::ClientLibrary;
//! # use kafka_sim::client::producer::Producer;
//! # use kafka_sim::scenario::ScenarioFile;
//! # use kafka_sim::runner::service;
//! # use kafka_sim::trace::{Detail, VecSink};
//! # use kafka_sim::units::{BrokerId, Millis, SimTime};
//! # use kafka_sim::world::{World, WorldConfig};
//! let toml = r#"
//!     [scenario]
//!     name = "order-service"
//!     duration_ms = 60000
//!     [[topic]]
//!     name = "payment-successful"
//!     partitions = 1
//!     [[topic]]
//!     name = "order-created"
//!     partitions = 1
//!     [[topic]]
//!     name = "dlq-payment"
//!     partitions = 1
//!     [[consumer_group]]
//!     group_id = "order-service"
//!     topics = ["payment-successful"]
//!     members = 2
//!     on_failure = { action = "dead-letter", topic = "dlq-payment", retries = 2 }
//!     output = { topic = "order-created", value = "order-{n} for {in}" }
//! "#;
//! let scenario = ScenarioFile::parse(Path::new("x.toml"), toml.into())?.resolve(None)?;
//! # let mut sink = VecSink::new(Detail::Records);
//! # let mut world = World::new(WorldConfig::default(), &mut sink);
//! # let broker = BrokerId(1);
//! # world.add_broker(broker);
//! # for t in &scenario.topics {
//! #     world.with_broker(broker, |b, out| {
//! #         b.create_topic(t.name.clone(), t.partitions, 1, Default::default(), out)
//! #     });
//! # }
//! let spec = &scenario.groups[0];
//! for n in 1..=spec.members() {
//!     let app = Application {
//!         processing: ProcessingTime::Constant(Millis(100)), // from spec.processing
//!         commit: ManualCommit::None,                        // from spec.commit
//!         on_failure: spec.on_failure.clone(),
//!     };
//!     let config = ConsumerConfig::parse(ClientLibrary::Java4, [("group.id", "order-service")])?;
//!     let consumer = Consumer::new(config, app, spec.topics.clone(), broker);
//!     let producer = if service::needs_producer(spec) {
//!         let config = service::producer_config(spec)?; // output.config, the group's client
//!         Some(Producer::new(config, world.metadata(), None)?)
//!     } else {
//!         None
//!     };
//!     let start = spec.member_starts[n as usize - 1];
//!     let ids = service::add_member(&mut world, spec, n, consumer, producer, start);
//!     assert_eq!(world.client_id(&format!("producer/order-service/{n}")), ids.producer);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
use crate::client::consumer::Consumer;
use crate::client::consumer::app::OnFailure;
use crate::client::producer::Producer;
use crate::client::producer::config::{ConfigError, ProducerConfig};
use crate::scenario::{GroupSpec, OutputSpec};
use crate::service::{OutputTemplate, OutputValue, ServiceOutput};
use crate::units::{ClientId, SimTime};
use crate::world::{ClientMachine, World};

impl ServiceOutput {
    /// The output of a scenario's `output = { topic, value }`: no value copies the input.
    pub fn from_spec(spec: &OutputSpec) -> ServiceOutput {
        ServiceOutput {
            topic: spec.topic.clone(),
            value: match &spec.value {
                None => OutputValue::Copy,
                Some(pattern) => OutputValue::Template(OutputTemplate::new(pattern)),
            },
        }
    }
}

/// True if the group's members produce: a service (`output`), or a dead-letter policy.
pub fn needs_producer(spec: &GroupSpec) -> bool {
    spec.output.is_some() || matches!(spec.on_failure, OnFailure::DeadLetter { .. })
}

/// The component name of member `member`'s producer: `producer/<group>/<member>`, beside its
/// consumer `consumer/<group>/<member>`.
pub fn producer_name(group: &str, member: u32) -> String {
    format!("producer/{group}/{member}")
}

/// The producer settings of the group's members: the group's client library, with the output's
/// `config` (none for a group that only dead-letters: the client's defaults). A
/// `transactional.id` there makes the members run the consume-transform-produce loop in
/// transactions (KIP-98, KIP-447): every member uses that same id, as instances of one
/// service deployed with one configuration do, so a newer instance fences an older one.
pub fn producer_config(spec: &GroupSpec) -> Result<ProducerConfig, ConfigError> {
    let settings: Vec<(&str, &str)> = spec
        .output
        .iter()
        .flat_map(|output| output.config.iter())
        .collect();
    ProducerConfig::parse_transactional(spec.client, settings)
}

/// The components of one member process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberIds {
    /// `consumer/<group>/<n>`.
    pub consumer: ClientId,
    /// `producer/<group>/<n>`, if the group produces.
    pub producer: Option<ClientId>,
}

/// Adds member `member` (from 1) of group `spec` as one process starting at `start`: its
/// consumer, and its producer linked to it when the group produces ([`needs_producer`]).
///
/// # Panics
///
/// If `producer` is given for a group that does not produce, or missing for one that does.
pub fn add_member(
    world: &mut World<'_>,
    spec: &GroupSpec,
    member: u32,
    mut consumer: Consumer,
    producer: Option<Producer>,
    start: SimTime,
) -> MemberIds {
    assert_eq!(
        producer.is_some(),
        needs_producer(spec),
        "group {}: a member has a producer exactly when the group has an output or a \
         dead-letter topic",
        spec.group_id
    );
    let output = spec.output.as_ref().map(ServiceOutput::from_spec);
    if producer
        .as_ref()
        .is_some_and(|p| p.config().transactional.is_some())
    {
        // Its offsets go into the producer's transactions, never committed by the consumer.
        consumer.commit_in_transactions();
    }
    if output.is_some() {
        consumer.report_each_record();
    }
    let name = format!("consumer/{}/{member}", spec.group_id);
    let consumer = world.add_client(&name, ClientMachine::Consumer(Box::new(consumer)), start);
    let producer = producer.map(|producer| {
        let name = producer_name(&spec.group_id, member);
        let id = world.add_client(&name, ClientMachine::Producer(Box::new(producer)), start);
        world.link_service(consumer, id, &spec.group_id, output);
        id
    });
    MemberIds { consumer, producer }
}
