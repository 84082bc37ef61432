//! Serving from inside a program (tests, benchmarks): the world is built and served on a thread
//! of its own (it is not `Send`, so it is made there), [`Served::stop`] ends it as SIGINT ends
//! `kafka-sim serve`, and hands back the trace.

use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::scenario::Scenario;
use crate::trace::{Detail, TraceRecord, VecSink};
use crate::world::{World, WorldConfig};

use super::{ServeConfig, ServeError, bind, build, default_topics, run};

/// A cluster served on a thread of this process.
#[derive(Debug)]
pub struct Served {
    bootstrap: String,
    config: ServeConfig,
    thread: JoinHandle<Result<Vec<TraceRecord>, ServeError>>,
}

impl Served {
    /// `bootstrap.servers` for clients.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// Stops serving and returns the session's trace.
    pub fn stop(self) -> Result<Vec<TraceRecord>, ServeError> {
        self.config.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .expect("the serving thread does not panic")
    }
}

/// The world a session serves: the scenario's seed and latency, no event limit.
pub fn world_config(scenario: Option<&Scenario>) -> WorldConfig {
    match scenario {
        Some(s) => WorldConfig {
            seed: s.seed,
            network_latency: s.cluster.network_latency,
            max_events: u64::MAX,
            check_invariants: false,
        },
        None => WorldConfig {
            max_events: u64::MAX,
            ..WorldConfig::default()
        },
    }
}

/// Serves `scenario`'s cluster (or one broker) per `config`, until [`Served::stop`].
pub fn spawn(scenario: Option<Scenario>, config: ServeConfig) -> Result<Served, ServeError> {
    let (ready, addresses) = mpsc::channel();
    let serving = config.clone();
    let thread = std::thread::spawn(move || {
        let detail = scenario.as_ref().map_or(Detail::Records, |s| s.detail);
        let mut sink = VecSink::new(detail);
        let mut world = World::new(world_config(scenario.as_ref()), &mut sink);
        let bound = build(&mut world, scenario.as_ref())
            .map_err(ServeError::from)
            .and_then(|()| bind(&serving, &world.broker_ids()));
        let listeners = match bound {
            Ok(l) => l,
            Err(e) => {
                let _ = ready.send(None);
                return Err(e);
            }
        };
        let addrs: Vec<String> = listeners
            .iter()
            .filter_map(|(_, l)| l.local_addr().ok().map(|a| a.to_string()))
            .collect();
        let _ = ready.send(Some(addrs.join(",")));
        let path = scenario
            .as_ref()
            .map(|s| (s.path.display().to_string(), s.variant.clone()));
        let end = run(
            &mut world,
            listeners,
            &serving,
            path,
            default_topics(),
            |line| eprintln!("kafka-sim serve: {line}"),
        )?;
        world.finish(end, false);
        drop(world);
        Ok(sink.records)
    });
    match addresses.recv() {
        Ok(Some(bootstrap)) => Ok(Served {
            bootstrap,
            config,
            thread,
        }),
        _ => Err(thread
            .join()
            .expect("the serving thread does not panic")
            .expect_err("it stopped before listening")),
    }
}
