//! Client processes: an input reaching a client (held while its process is paused, dropped once
//! it crashed), crash, pause and restart of a process (both clients of a service's process share
//! its fate), and what a consumer hands its process ([`ConsumerOutput`]).

use crate::client::consumer::{ConsumerInput, ConsumerOutput};
use crate::client::producer::{ProducerOutput, TxnOutcome};
use crate::effects::Effects;
use crate::trace::{TraceEvent, TraceSeq};
use crate::units::{ClientId, Millis, NodeId, SimTime};

use super::apply::ClientSlot;
use super::client::{consumer_input, load_input, producer_input};
use super::{ClientCommand, ClientEvent, ClientMachine, Scheduled, World};

impl World<'_> {
    pub(super) fn handle_client(&mut self, now: SimTime, index: usize, event: ClientEvent) {
        let node = &mut self.clients[index];
        if !node.alive {
            return;
        }
        if let Some(until) = node.paused_until {
            if now < until {
                // A paused process runs nothing: the input waits, keeping its order.
                self.scheduler.schedule_at(
                    until,
                    Scheduled::ClientEvent {
                        client: index,
                        event,
                    },
                );
                return;
            }
            node.paused_until = None;
        }
        match event {
            ClientEvent::Command(ClientCommand::Crash) => self.crash_process(now, index),
            ClientEvent::Command(ClientCommand::Pause { duration }) => {
                self.pause(now, index, duration);
                if let Some(partner) = self.services.partner(index) {
                    self.pause(now, partner, duration);
                }
            }
            ClientEvent::Command(ClientCommand::Resume) => {
                let component = node.component.clone();
                let cause = node.paused_by.take();
                self.record(now, &component, cause, TraceEvent::ClientResumed {});
            }
            event => self.handle_machine(now, index, event),
        }
    }

    /// Hands `event` to client `index`'s machine, in the machine's own input type (an event the
    /// machine does not understand is dropped), and applies its effects.
    pub(super) fn handle_machine(&mut self, now: SimTime, index: usize, event: ClientEvent) {
        let detail = self.sink.detail();
        let (first, cause_in) = (TraceSeq(self.next_seq), self.cause_in);
        let lost = self.lost_replies_of(index);
        let node = &mut self.clients[index];
        match &mut node.machine {
            ClientMachine::LoadGenerator(generator) => {
                let Some(input) = load_input(event) else {
                    return;
                };
                let mut out = Effects::caused(detail, first, cause_in);
                generator.handle(now, input, &mut node.rng, &mut out);
                self.apply_effects(ClientSlot(index), out);
            }
            ClientMachine::LoadReader(reader) => {
                let Some(input) = load_input(event) else {
                    return;
                };
                let mut out = Effects::caused(detail, first, cause_in);
                reader.handle(now, input, &mut out);
                self.apply_effects(ClientSlot(index), out);
            }
            ClientMachine::Consumer(consumer) => {
                let Some(input) = consumer_input(event) else {
                    return;
                };
                let mut out = Effects::caused(detail, first, cause_in);
                consumer.handle(now, input, &mut node.rng, &mut out);
                self.apply_effects(ClientSlot(index), out);
            }
            ClientMachine::Producer(producer) => {
                let Some(input) = producer_input(event) else {
                    return;
                };
                let mut out = Effects::caused(detail, first, cause_in).with_lost_replies(lost);
                producer.handle(now, input, &mut node.rng, &mut out);
                self.apply_effects(ClientSlot(index), out);
            }
            ClientMachine::Edge(edge) => {
                let mut out = Effects::caused(detail, first, cause_in);
                edge.handle(event, &mut out);
                self.apply_effects(ClientSlot(index), out);
            }
        }
    }

    /// The process of client `index` dies, and with it the other client of its process.
    pub(super) fn crash_process(&mut self, now: SimTime, index: usize) {
        self.crash(now, index);
        if let Some(partner) = self.services.partner(index) {
            self.crash(now, partner);
        }
    }

    /// The process of client `index` dies (if it is still alive).
    pub(super) fn crash(&mut self, now: SimTime, index: usize) {
        let mut out = self.effects();
        let node = &mut self.clients[index];
        if !node.alive {
            return;
        }
        node.alive = false;
        if let ClientMachine::Consumer(consumer) = &mut node.machine {
            // What its application finished before dying is still done.
            consumer.handle(now, ConsumerInput::Crashed, &mut node.rng, &mut out);
            assert!(
                out.sends.is_empty() && out.timers.is_empty() && out.disconnects.is_empty(),
                "a crashed consumer asks for nothing but traces and outputs"
            );
            self.apply_effects(ClientSlot(index), out);
        }
        let component = self.clients[index].component.clone();
        let crashed = self.record(now, &component, self.cause_in, TraceEvent::ClientCrashed {});
        self.clients[index].stopped_by = Some(crashed);
    }

    /// The process of client `index` freezes for `duration`.
    pub(super) fn pause(&mut self, now: SimTime, index: usize, duration: Millis) {
        let mut out = self.effects();
        let node = &mut self.clients[index];
        if !node.alive {
            return;
        }
        node.paused_until = Some(now + duration);
        if let ClientMachine::Consumer(consumer) = &mut node.machine {
            // Its application's work in progress now ends `duration` later.
            consumer.handle(
                now,
                ConsumerInput::Paused { duration },
                &mut node.rng,
                &mut out,
            );
            self.apply_effects(ClientSlot(index), out);
        }
        let component = self.clients[index].component.clone();
        let event = TraceEvent::ClientPaused {
            duration_ms: duration.0,
        };
        let paused = self.record(now, &component, self.cause_in, event);
        self.clients[index].paused_by = Some(paused);
        let resumed = ClientEvent::Command(ClientCommand::Resume);
        self.scheduler.schedule_at(
            now + duration,
            Scheduled::ClientEvent {
                client: index,
                event: resumed,
            },
        );
    }

    pub(super) fn restart(&mut self, now: SimTime, index: usize, machine: ClientMachine) {
        let linked = self.services.partner(index).is_some();
        let node = &mut self.clients[index];
        node.machine = machine;
        if let (ClientMachine::Consumer(consumer), true) = (&mut node.machine, linked) {
            // A service's new process hands what it processes to its producer, as before.
            consumer.keep_processed();
        }
        node.alive = true;
        node.paused_until = None;
        node.incarnation += 1;
        node.timers.clear();
        node.processed.clear();
        // The old process's connections are gone, and with them the answers they awaited.
        self.requests.retain(|_, pending| pending.client != index);
        let client = NodeId::Client(ClientId(index as u32));
        for node in 0..self.brokers.len() {
            let broker = NodeId::Broker(self.brokers[node].broker.id());
            self.network.reset_connection(now, client, broker);
        }
        let (component, cause) = (node.component.clone(), node.stopped_by.take());
        self.record(now, &component, cause, TraceEvent::ClientRestarted {});
        self.handle_client(now, index, ClientEvent::Start);
    }

    /// Routes what consumer `index` handed its process ([`ConsumerOutput`]): its linked producer
    /// sends what the application processed and gave up on (now, as the application calls
    /// `send()` right after each record), and a consumer whose application died on a poison pill
    /// is crashed, with its producer, after those sends were handed over (they die with it
    /// unless already sent). A consumer outside any service keeps its processed records for
    /// [`World::drain_processed`].
    pub(super) fn serve_consumer(
        &mut self,
        now: SimTime,
        index: usize,
        outputs: Vec<ConsumerOutput>,
    ) {
        if outputs.is_empty() {
            return;
        }
        let mut processed = Vec::new();
        let mut dead = Vec::new();
        let mut died = None;
        let mut commit = None;
        for output in outputs {
            match output {
                ConsumerOutput::Processed(record) => processed.push(record),
                ConsumerOutput::DeadLettered(letter) => dead.push(letter),
                ConsumerOutput::ApplicationDied(failed) => died = Some(failed),
                ConsumerOutput::CommitTransaction(offsets) => commit = Some(offsets),
            }
        }
        match self.services.partner(index) {
            // The process is gone (this is its crash): its application sends nothing more.
            Some(_) if !self.clients[index].alive => {}
            Some(_) => {
                let (client, records) = self
                    .services
                    .sends(index, processed, dead)
                    .expect("a linked consumer");
                if !records.is_empty() {
                    let event = ClientEvent::Command(ClientCommand::Produce { records });
                    self.scheduler
                        .schedule_at(now, Scheduled::ClientEvent { client, event });
                }
                if let Some(offsets) = commit {
                    // After the batch's outputs: sendOffsetsToTransaction, commitTransaction.
                    let event = ClientEvent::Command(ClientCommand::CommitTransaction(offsets));
                    self.scheduler
                        .schedule_at(now, Scheduled::ClientEvent { client, event });
                }
            }
            None => {
                assert!(
                    dead.is_empty(),
                    "{} dead-letters records but has no producer: link one with \
                     World::link_service",
                    self.clients[index].component
                );
                self.clients[index].processed.extend(processed);
            }
        }
        if let Some(failed) = died {
            // The crash follows from the pill's failure.
            self.cause_in = failed;
            self.crash_process(now, index);
        }
    }

    /// Routes what producer `index` handed its process ([`ProducerOutput`]): the end of a
    /// transaction goes to the consumer of its process, whose application was waiting in
    /// `commitTransaction()`; a fatal producer (fenced) ends the process: the application closes
    /// its consumer and its producer, as a Java application does on `ProducerFencedException`.
    pub(super) fn serve_producer(
        &mut self,
        now: SimTime,
        index: usize,
        outputs: Vec<ProducerOutput>,
    ) {
        for ProducerOutput::TransactionEnded(outcome) in outputs {
            let Some(consumer) = self.services.partner(index) else {
                continue;
            };
            let event = ClientEvent::Command(ClientCommand::TransactionEnded(outcome));
            self.scheduler.schedule_at(
                now,
                Scheduled::ClientEvent {
                    client: consumer,
                    event,
                },
            );
            if outcome == TxnOutcome::Fatal {
                for client in [consumer, index] {
                    let event = ClientEvent::Command(ClientCommand::Close);
                    self.scheduler
                        .schedule_at(now, Scheduled::ClientEvent { client, event });
                }
            }
        }
    }
}
