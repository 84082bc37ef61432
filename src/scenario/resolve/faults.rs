//! `[[fault]]`: the fault plan.

use super::{Builder, Resolved};
use crate::faults::{Direction, Fault, FaultKind};
use crate::rng::Ratio;
use crate::scenario::raw::RawFault;
use crate::scenario::{ClusterSpec, GroupSpec, ProducerSpec, Target};
use crate::units::{Millis, SimTime};

impl Builder<'_> {
    /// The file's faults and the variant's extra ones, in start order.
    pub(super) fn faults(
        &self,
        producers: &[ProducerSpec],
        groups: &[GroupSpec],
        cluster: &ClusterSpec,
    ) -> Resolved<Vec<Fault>> {
        let extra = self.variant.map(|v| v.fault.as_slice()).unwrap_or_default();
        let mut out = Vec::new();
        for f in self.raw.fault.iter().chain(extra) {
            out.push(self.fault(f, producers, groups, cluster)?);
        }
        out.sort_by_key(|f| f.start);
        Ok(out)
    }

    /// One fault: its window, its kind, and a target that can suffer it.
    fn fault(
        &self,
        f: &RawFault,
        producers: &[ProducerSpec],
        groups: &[GroupSpec],
        cluster: &ClusterSpec,
    ) -> Resolved<Fault> {
        let target = self.target(&f.target, "fault.target", producers, groups, cluster)?;
        let start = SimTime(*f.at_ms.get_ref());
        let end = match &f.until_ms {
            Some(u) if *u.get_ref() <= start.0 => {
                return Err(self.err(u.span(), "fault.until_ms", "must be after at_ms"));
            }
            Some(u) => Some(SimTime(*u.get_ref())),
            None => None,
        };
        let kind = self.fault_kind(f)?;
        self.check_fault_target(f, &kind, &target)?;
        if matches!(kind, FaultKind::Pause) && end.is_none() {
            return Err(self.err(f.kind.span(), "fault.until_ms", "a pause needs until_ms"));
        }
        // A crash never ends: the process is gone (a restart is a timeline action).
        let end = if matches!(kind, FaultKind::Crash) {
            None
        } else {
            end
        };
        Ok(Fault {
            start,
            end,
            target: target.component(),
            kind,
        })
    }

    /// `kind` with the fields it needs, one arm per kind. The direction is checked for every
    /// kind, so a typo in it is an error even where it does not matter.
    fn fault_kind(&self, f: &RawFault) -> Resolved<FaultKind> {
        let direction = self.fault_direction(f)?;
        let kind_span = f.kind.span();
        let need = |value: Option<u64>, field: &str, what: &str| {
            value.ok_or_else(|| self.err(kind_span.clone(), field, what.to_string()))
        };
        Ok(match f.kind.get_ref().as_str() {
            "latency" => FaultKind::Latency {
                latency: Millis(need(
                    f.latency_ms,
                    "fault.latency_ms",
                    "latency needs latency_ms",
                )?),
                jitter: Millis(f.jitter_ms.unwrap_or(0)),
                direction,
            },
            "lost_ack" => FaultKind::LostAck {
                count: f.count.unwrap_or(1),
            },
            "timeout" => FaultKind::Timeout {
                after: Millis(f.timeout_ms.unwrap_or(0)),
                direction,
            },
            "bandwidth" => FaultKind::Bandwidth {
                bytes_per_s: need(
                    f.rate_bytes_per_s.filter(|&r| r > 0),
                    "fault.rate_bytes_per_s",
                    "bandwidth needs rate_bytes_per_s > 0",
                )?,
                direction,
            },
            "broker_down" => FaultKind::BrokerDown,
            "crash" => FaultKind::Crash,
            "pause" => FaultKind::Pause,
            "poison_pill" => FaultKind::PoisonPill {
                ratio: match &f.ratio {
                    Some(r) => self.ratio(r, "fault.ratio")?,
                    None => Ratio::ONE,
                },
            },
            other => {
                return Err(self.err(
                    kind_span,
                    "fault.kind",
                    format!(
                        "unknown fault {other:?}; use latency, lost_ack, timeout, bandwidth, \
                         broker_down, crash, pause or poison_pill"
                    ),
                ));
            }
        })
    }

    /// `direction`: which way a network fault applies (default downstream, the responses).
    fn fault_direction(&self, f: &RawFault) -> Resolved<Direction> {
        match f
            .direction
            .as_ref()
            .map(|d| (d.get_ref().as_str(), d.span()))
        {
            None | Some(("downstream", _)) => Ok(Direction::Downstream),
            Some(("upstream", _)) => Ok(Direction::Upstream),
            Some(("both", _)) => Ok(Direction::Both),
            Some((_, span)) => {
                Err(self.err(span, "fault.direction", "use upstream, downstream or both"))
            }
        }
    }

    /// A broker fault targets a broker, a poison pill a producer, every other fault a client.
    fn check_fault_target(&self, f: &RawFault, kind: &FaultKind, target: &Target) -> Resolved<()> {
        let is_client = matches!(target, Target::Producer(_) | Target::Consumer { .. });
        let needs_broker = matches!(kind, FaultKind::BrokerDown);
        if needs_broker == is_client {
            let want = if needs_broker {
                "broker/<id>"
            } else {
                "a producer or consumer"
            };
            return Err(self.err(
                f.target.span(),
                "fault.target",
                format!("this fault targets {want}"),
            ));
        }
        if matches!(kind, FaultKind::PoisonPill { .. }) && !matches!(target, Target::Producer(_)) {
            return Err(self.err(
                f.target.span(),
                "fault.target",
                "poison_pill targets producer/<name>",
            ));
        }
        Ok(())
    }
}
