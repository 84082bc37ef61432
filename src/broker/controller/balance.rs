//! Preferred replica leader election, automatic (`auto.leader.rebalance.enable`, true by
//! default): after a failover the partitions stay led by the broker that took over, even once the
//! failed broker is back in their ISR, until the controller moves each back to its *preferred*
//! replica, the first of its replica list.
//!
//! As KRaft's `QuorumController` does it (`maybeScheduleNextBalancePartitionLeaders`, called after
//! every controller write event): when some partition's leader is not its preferred replica and no
//! balance is scheduled, one is scheduled `leader.imbalance.check.interval.seconds` (300) later;
//! or 10 ms later when the previous run stopped at its batch limit
//! (`ReplicationControlManager.maybeBalancePartitionLeaders`, 1000 elections per run). The run
//! elects the preferred replica of every imbalanced partition where that replica is in the ISR and
//! unfenced (`PartitionChangeBuilder` with the preferred election); a partition whose preferred
//! replica is not eligible yet stays imbalanced, and the next run is again an interval later.
//!
//! `leader.imbalance.per.broker.percentage` (10) is parsed but changes nothing: only the
//! ZooKeeper-era `KafkaController.checkAndTriggerAutoLeaderRebalance` compared a broker's share of
//! imbalanced partitions with it; the KRaft controller, the only one since Kafka 4.0, balances
//! every imbalanced partition at each run.

use crate::effects::Effects;
use crate::trace::{LeaderElected, TraceEvent};
use crate::units::{LeaderEpoch, Millis, PartitionId, SimTime, TopicName};

use super::{Controller, ControllerTimer, Election};

/// Elections per run (`maxElectionsPerImbalance`).
const MAX_ELECTIONS_PER_RUN: usize = 1_000;

/// The imbalance check's schedule (`QuorumController.ImbalanceSchedule`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct LeaderBalance {
    /// `leader.imbalance.check.interval.seconds`, when `auto.leader.rebalance.enable` is true.
    pub(super) interval: Option<Millis>,
    /// When the next run is armed for.
    pub(super) scheduled: Option<SimTime>,
    /// The last run stopped at its batch limit: the next one comes 10 ms later.
    pub(super) immediately: bool,
}

impl Controller {
    /// Turns the automatic preferred leader election on every `interval`, or off.
    pub fn set_leader_balance(&mut self, interval: Option<Millis>) {
        self.balance = LeaderBalance {
            interval,
            ..LeaderBalance::default()
        };
    }

    /// Partitions whose leader is not their preferred replica, in key order.
    fn imbalanced(&self) -> Vec<(TopicName, PartitionId)> {
        self.partitions
            .iter()
            .filter(|(_, s)| s.leader != s.replicas.first().copied())
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// After a change: schedules a run if a partition is imbalanced and none is scheduled.
    pub(super) fn maybe_schedule_balance(
        &mut self,
        now: SimTime,
        out: &mut Effects<ControllerTimer>,
    ) {
        let Some(interval) = self.balance.interval else {
            return;
        };
        if self.balance.scheduled.is_some() || self.imbalanced().is_empty() {
            return;
        }
        let delay = if self.balance.immediately {
            Millis(10)
        } else {
            interval
        };
        let at = now + delay;
        self.balance.scheduled = Some(at);
        out.set_timer(ControllerTimer::BalanceLeaders, at);
    }

    /// The scheduled run: each imbalanced partition whose preferred replica is in its ISR and
    /// unfenced is led by it again.
    pub(super) fn balance_leaders(&mut self, out: &mut Effects<ControllerTimer>) {
        self.balance.scheduled = None;
        let mut changed = Vec::new();
        let mut more = false;
        // The metadata update cites the run's first election, as other controller updates do.
        let mut first_election = None;
        for key in self.imbalanced() {
            if changed.len() >= MAX_ELECTIONS_PER_RUN {
                more = true;
                break;
            }
            let state = &self.partitions[&key];
            let Some(preferred) = state.replicas.first().copied() else {
                continue;
            };
            if !state.isr.contains(&preferred) || self.is_fenced(preferred) {
                continue;
            }
            let mut next = state.clone();
            next.leader = Some(preferred);
            next.leader_epoch = LeaderEpoch(state.leader_epoch.0 + 1);
            next.partition_epoch += 1;
            let seq = out.trace(TraceEvent::LeaderElected(LeaderElected {
                topic: key.0.as_arc().clone(),
                partition: key.1.0,
                leader: Some(preferred.0),
                previous_leader: state.leader.map(|b| b.0),
                leader_epoch: next.leader_epoch.0,
                isr: next.isr.iter().map(|b| b.0).collect(),
                election: Election::Preferred.name().to_string(),
                reason: format!(
                    "preferred replica {preferred} is in the ISR again \
                     (auto.leader.rebalance.enable)"
                ),
            }));
            first_election.get_or_insert(seq);
            self.partitions.insert(key, next.clone());
            changed.push(next);
        }
        self.balance.immediately = more;
        self.broadcast(changed, first_election, out);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::broker::controller::ControllerInput;
    use crate::effects::TimerOp;
    use crate::trace::Detail;
    use crate::units::BrokerId;

    /// A controller over brokers 1 to 3 with one partition, replicas [1,2,3], now led by 2 with
    /// ISR `isr`: what a failover of broker 1 leaves.
    fn failed_over(isr: &[u32]) -> (Controller, TopicName) {
        let brokers = [1, 2, 3].map(BrokerId);
        let mut c = Controller::new(Millis(9_000), &brokers, SimTime(0));
        c.set_leader_balance(Some(Millis(300_000)));
        let t = TopicName::new("t").unwrap();
        let mut out = Effects::new(Detail::Records);
        c.create_topic(
            SimTime(0),
            &t,
            "id",
            &[brokers.to_vec()],
            &BTreeMap::new(),
            false,
            &mut out,
        );
        assert!(c.balance.scheduled.is_none(), "balanced at creation");
        let state = c.partitions.get_mut(&(t.clone(), PartitionId(0))).unwrap();
        state.leader = Some(BrokerId(2));
        state.isr = isr.iter().map(|&b| BrokerId(b)).collect();
        (c, t)
    }

    fn armed(out: &Effects<ControllerTimer>) -> Option<SimTime> {
        out.timers.iter().rev().find_map(|op| match op {
            TimerOp::Set(ControllerTimer::BalanceLeaders, at) => Some(*at),
            _ => None,
        })
    }

    #[test]
    fn the_check_comes_one_interval_after_the_imbalance_and_moves_the_leader_back() {
        let (mut c, t) = failed_over(&[2, 3, 1]);
        let mut out = Effects::new(Detail::Records);
        c.maybe_schedule_balance(SimTime(37_000), &mut out);
        assert_eq!(armed(&out), Some(SimTime(337_000)));
        // Scheduled once: a later change does not push it back.
        c.maybe_schedule_balance(SimTime(90_000), &mut out);
        assert_eq!(c.balance.scheduled, Some(SimTime(337_000)));
        let mut out = Effects::new(Detail::Records);
        let timer = ControllerInput::Timer(ControllerTimer::BalanceLeaders);
        c.handle(SimTime(337_000), timer, &mut out);
        let s = c.partition(&t, PartitionId(0)).unwrap();
        assert_eq!(s.leader, Some(BrokerId(1)));
        assert_eq!(s.leader_epoch, LeaderEpoch(1));
        assert!(out.traces.iter().any(|(_, e)| matches!(
            e,
            TraceEvent::LeaderElected(LeaderElected { election, .. }) if election == "preferred"
        )));
        assert_eq!(armed(&out), None, "balanced: nothing more to check");
    }

    #[test]
    fn a_preferred_replica_outside_the_isr_waits_for_the_next_check() {
        let (mut c, t) = failed_over(&[2, 3]);
        let mut out = Effects::new(Detail::Records);
        c.maybe_schedule_balance(SimTime(37_000), &mut out);
        let timer = ControllerInput::Timer(ControllerTimer::BalanceLeaders);
        c.handle(SimTime(337_000), timer, &mut out);
        assert_eq!(
            c.partition(&t, PartitionId(0)).unwrap().leader,
            Some(BrokerId(2))
        );
        assert_eq!(c.balance.scheduled, Some(SimTime(637_000)));
    }

    #[test]
    fn without_auto_leader_rebalance_nothing_is_scheduled() {
        let (mut c, _) = failed_over(&[2, 3, 1]);
        c.set_leader_balance(None);
        let mut out = Effects::new(Detail::Records);
        c.maybe_schedule_balance(SimTime(37_000), &mut out);
        assert_eq!(armed(&out), None);
    }
}
