//! Builds a [`World`] from a [`Scenario`] and runs it: the bridge between a course exercise as
//! written and the state machines that replay it.
//!
//! Each piece of the scenario becomes what it names in Kafka: `[cluster]` brokers (with their
//! broker configs: group coordinator, replication, log cleaner and retention), `[[topic]]`s
//! created on them (replicas placed round-robin; more than one broker starts the controller),
//! one producer process per `[[producer]]` (`producer/<name>`, Kafka producer configs by name,
//! the workload), one consumer process per group member (`consumer/<group>/<n>`, coordinated by
//! the broker `World::coordinator_for` names), the timeline's actions and the fault plan
//! scheduled at their times, lag sampled at `[report] lag_sample_ms`. Config errors come back
//! as [`ScenarioError`]s that point at the offending key in the file.
//!
//! [`service`] builds a service's member processes (a consumer and its producer, linked).

pub mod service;

pub mod estimate;

use crate::broker::config::{BROKER_CONFIGS as LOG_AND_REPLICATION_CONFIGS, BrokerConfig};
use crate::broker::coordinator::CoordinatorConfig;
use crate::client::consumer::Consumer;
use crate::client::consumer::app::{Application, ManualCommit};
use crate::client::consumer::config::ConsumerConfig;
use crate::client::producer::{Producer, ProducerConfig, Workload};
use crate::faults::FaultPlan;
use crate::record::{Malformed, ValueTemplate};
use crate::scenario::{
    Action, CommitMode, Configs, GroupSpec, ProducerSpec, Scenario, ScenarioError, SendMode,
    SourceMap, Target,
};
use crate::scheduler::EventLimitExceeded;
use crate::trace::TraceSink;
use crate::units::{BrokerId, ClientId, Millis, SimTime};
use crate::world::{ClientCommand, ClientMachine, RunOutcome, World, WorldConfig};

/// Why a scenario could not be run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scenario asks for something the simulator refuses (a bad Kafka config).
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// The run did not settle within its event limit.
    #[error("{0}")]
    EventLimit(#[from] EventLimitExceeded),
}

/// The group coordinator's broker configs a scenario may set in `[cluster] config` (the others
/// are [`LOG_AND_REPLICATION_CONFIGS`]).
const BROKER_CONFIGS: &[&str] = &[
    "group.initial.rebalance.delay.ms",
    "group.min.session.timeout.ms",
    "group.max.session.timeout.ms",
    "group.consumer.session.timeout.ms",
    "group.consumer.heartbeat.interval.ms",
];

/// Runs `scenario` with `seed`, writing its trace to `sink`. `progress` is called with the
/// virtual time reached, every 1% of the duration (the CLI shows a progress bar with it).
pub fn run(
    scenario: &Scenario,
    seed: u64,
    sink: &mut dyn TraceSink,
    mut progress: impl FnMut(SimTime),
) -> Result<RunOutcome, RunError> {
    let map = SourceMap::new(&scenario.path, &scenario.source);
    let config = WorldConfig {
        seed,
        network_latency: scenario.cluster.network_latency,
        max_events: scenario.max_events,
        check_invariants: false,
    };
    let mut world = World::new(config, sink);
    build(&mut world, scenario, &map)?;
    let end = SimTime::ZERO + scenario.duration;
    let step = (scenario.duration.0 / 100).max(1);
    let mut at = SimTime::ZERO;
    loop {
        at = (at + Millis(step)).min(end);
        let quiescent = world.advance_until(at)?;
        progress(at);
        if quiescent || at >= end {
            return Ok(world.finish(end, quiescent));
        }
    }
}

/// Builds the scenario's cluster and clients in `world` (what [`run`] runs; `serve` serves it).
pub fn build(
    world: &mut World<'_>,
    scenario: &Scenario,
    map: &SourceMap<'_>,
) -> Result<(), ScenarioError> {
    let (coordinator, broker_config) = broker_configs(&scenario.cluster.config, map)?;
    let lag_interval = scenario.report.lag_sample;
    for &id in &scenario.cluster.brokers {
        world.add_broker(id);
        let coordinator = coordinator.clone();
        world.with_broker(id, |b, out| {
            b.set_coordinator_config(coordinator);
            b.sample_lag_every(lag_interval, SimTime::ZERO, out);
        });
    }
    world.set_broker_config(broker_config);
    for t in &scenario.topics {
        let configs = t
            .config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (name, partitions, rf) = (t.name.clone(), t.partitions, t.replication_factor);
        world
            .create_topic(name, partitions, rf, configs)
            .map_err(|e| config_error(&t.config, map, "topic.config", e.to_string()))?;
    }
    for p in &scenario.producers {
        let machine = producer_machine(world, p, map)?;
        world.add_client(&format!("producer/{}", p.name), machine, SimTime::ZERO);
    }
    for g in &scenario.groups {
        for (i, &start) in g.member_starts.iter().enumerate() {
            let member = i as u32 + 1;
            let coordinator = world.coordinator_for(&g.group_id);
            let (consumer, producer) = member_process(world, g, member, coordinator, map)?;
            service::add_member(world, g, member, consumer, producer, start);
        }
    }
    for a in &scenario.actions {
        let component = a.target.component();
        let id = world
            .client_id(&component)
            .expect("scenario targets are checked");
        match &a.action {
            Action::Crash => world.schedule_command(a.at, id, ClientCommand::Crash),
            Action::Close => world.schedule_command(a.at, id, ClientCommand::Close),
            Action::Pause(d) => {
                world.schedule_command(a.at, id, ClientCommand::Pause { duration: *d })
            }
            Action::Restart => restart(world, scenario, a.at, id, &a.target, map)?,
        }
    }
    let mut plan = FaultPlan::new();
    for f in &scenario.faults {
        plan.push(f.clone());
    }
    world
        .add_faults(&plan)
        .map_err(|e| map.file_error(format!("fault plan: {e}")))?;
    Ok(())
}

fn restart(
    world: &mut World<'_>,
    scenario: &Scenario,
    at: SimTime,
    id: ClientId,
    target: &Target,
    map: &SourceMap<'_>,
) -> Result<(), ScenarioError> {
    let machine = match target {
        Target::Consumer { group, member } => {
            let g = scenario
                .groups
                .iter()
                .find(|g| &g.group_id == group)
                .expect("checked");
            let coordinator = world.coordinator_for(&g.group_id);
            let (mut consumer, producer) = member_process(world, g, *member, coordinator, map)?;
            if let Some(p) = producer {
                // The process restarts whole: its producer too.
                let name = service::producer_name(&g.group_id, *member);
                let pid = world
                    .client_id(&name)
                    .expect("the member's producer exists");
                world.restart_client(at, pid, ClientMachine::Producer(Box::new(p)));
            }
            if g.output.is_some() {
                consumer.report_each_record();
            }
            ClientMachine::Consumer(Box::new(consumer))
        }
        Target::Producer(name) => {
            let p = scenario
                .producers
                .iter()
                .find(|p| &p.name == name)
                .expect("checked");
            producer_machine(world, p, map)?
        }
        Target::Broker(_) => unreachable!("brokers restart through faults"),
    };
    world.restart_client(at, id, machine);
    Ok(())
}

/// `[cluster] config`: the group coordinator's settings and the broker's own (replication, log
/// cleaner, retention, topic defaults).
fn broker_configs(
    configs: &Configs,
    map: &SourceMap<'_>,
) -> Result<(CoordinatorConfig, BrokerConfig), ScenarioError> {
    let mut config = CoordinatorConfig::default();
    let mut broker = BrokerConfig::default();
    for (key, value) in configs.iter() {
        let ms = || {
            value.parse::<u64>().map(Millis).map_err(|_| {
                map.error(
                    configs.span(key),
                    key,
                    format!("{value:?} is not a number of milliseconds"),
                )
            })
        };
        match key {
            "group.initial.rebalance.delay.ms" => config.initial_rebalance_delay = ms()?,
            "group.min.session.timeout.ms" => config.min_session_timeout = ms()?,
            "group.max.session.timeout.ms" => config.max_session_timeout = ms()?,
            "group.consumer.session.timeout.ms" => config.consumer_session_timeout = ms()?,
            "group.consumer.heartbeat.interval.ms" => config.consumer_heartbeat_interval = ms()?,
            other => match broker.set(other, value) {
                Ok(true) => {}
                Ok(false) => {
                    let known: Vec<&str> = BROKER_CONFIGS
                        .iter()
                        .chain(LOG_AND_REPLICATION_CONFIGS)
                        .copied()
                        .collect();
                    return Err(map.error(
                        configs.span(other),
                        other,
                        format!("unknown broker config; known: {}", known.join(", ")),
                    ));
                }
                Err(e) => return Err(map.error(configs.span(other), other, e.to_string())),
            },
        }
    }
    Ok((config, broker))
}

/// The config key a client config error is about: the longest key of `configs` its message
/// names (the parsers' errors all quote the key).
fn config_error(
    configs: &Configs,
    map: &SourceMap<'_>,
    section: &str,
    message: String,
) -> ScenarioError {
    let key = configs
        .iter()
        .map(|(k, _)| k)
        .filter(|k| message.contains(k))
        .max_by_key(|k| k.len());
    match key {
        Some(k) => map.error(configs.span(k), k, message),
        None => map.error(None, section, message),
    }
}

fn producer_machine(
    world: &World<'_>,
    p: &ProducerSpec,
    map: &SourceMap<'_>,
) -> Result<ClientMachine, ScenarioError> {
    let config = ProducerConfig::parse(p.client, p.config.iter())
        .map_err(|e| config_error(&p.config, map, "producer.config", e.to_string()))?;
    let mut template = ValueTemplate::new(&p.value.template).with_malformed(Malformed {
        ratio: p.value.malformed_ratio,
        records: p.value.malformed.clone(),
    });
    if let Some(size) = p.value.size {
        template.size = size;
    }
    template.tombstone = p.value.tombstone;
    let workload = Workload {
        topic: p.topic.clone(),
        records: p.records,
        start: p.start,
        pacing: p.pacing,
        sync: p.send == SendMode::Sync,
        keys: p.keys.clone(),
        value: std::rc::Rc::new(template),
        partition: p.partition,
    };
    let producer = Producer::new(config, world.metadata(), Some(workload))
        .map_err(|e| map.error(None, "producer.topic", e.to_string()))?;
    Ok(ClientMachine::Producer(Box::new(producer)))
}

/// The consumer of member `member` of `g`, and its producer when the group produces (a service
/// output or a dead-letter topic): one process.
fn member_process(
    world: &World<'_>,
    g: &GroupSpec,
    member: u32,
    coordinator: BrokerId,
    map: &SourceMap<'_>,
) -> Result<(Consumer, Option<Producer>), ScenarioError> {
    let mut settings: Vec<(String, String)> = vec![("group.id".into(), g.group_id.clone())];
    if g.static_members {
        settings.push((
            "group.instance.id".into(),
            format!("{}-{member}", g.group_id),
        ));
    }
    if g.commit != CommitMode::Auto && g.config.get("enable.auto.commit").is_none() {
        // Manual commits come with auto-commit off, as every course's manual-commit code does.
        settings.push(("enable.auto.commit".into(), "false".into()));
    }
    settings.extend(g.config.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = ConsumerConfig::parse(g.client, settings)
        .map_err(|e| config_error(&g.config, map, "consumer_group.config", e.to_string()))?;
    let app = Application {
        processing: g.processing,
        commit: match g.commit {
            CommitMode::Auto => ManualCommit::None,
            CommitMode::PerRecord => ManualCommit::PerRecord,
            CommitMode::PerBatch => ManualCommit::PerBatch,
        },
        on_failure: g.on_failure.clone(),
    };
    let mut consumer = Consumer::new(config, app, g.topics.clone(), coordinator);
    let producer = if service::needs_producer(g) {
        let empty = Configs::default();
        let configs = g.output.as_ref().map_or(&empty, |o| &o.config);
        let config = service::producer_config(g)
            .map_err(|e| config_error(configs, map, "output.config", e.to_string()))?;
        let producer = Producer::new(config, world.metadata(), None)
            .map_err(|e| map.error(None, "output.topic", e.to_string()))?;
        if producer.config().transactional.is_some() {
            // The consume-transform-produce loop: offsets go into the transactions.
            consumer.commit_in_transactions();
        }
        Some(producer)
    } else {
        None
    };
    Ok((consumer, producer))
}
