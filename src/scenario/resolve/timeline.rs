//! `[[timeline]]`: actions aimed at components, and the targets they name.

use toml::Spanned;

use super::{Builder, Resolved};
use crate::client::consumer::app::OnFailure;
use crate::scenario::{Action, ActionSpec, ClusterSpec, GroupSpec, ProducerSpec, Target};
use crate::units::{BrokerId, Millis, SimTime};

impl Builder<'_> {
    pub(super) fn target(
        &self,
        s: &Spanned<String>,
        field: &str,
        producers: &[ProducerSpec],
        groups: &[GroupSpec],
        cluster: &ClusterSpec,
    ) -> Resolved<Target> {
        let text = s.get_ref();
        let bad = |why: String| self.err(s.span(), field, why);
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            ["consumer", group, n] => {
                let (g, member) = group_member(groups, group, n).map_err(bad)?;
                if member == 0 || member > g.members() {
                    return Err(bad(format!(
                        "group {group} has members 1 to {} (consumer/{group}/1 ...)",
                        g.members()
                    )));
                }
                Ok(Target::Consumer {
                    group: group.to_string(),
                    member,
                })
            }
            ["producer", group, n] => {
                // A service member's producer: `producer/<group>/<n>`.
                let (g, member) = group_member(groups, group, n).map_err(bad)?;
                if g.output.is_none() && !matches!(g.on_failure, OnFailure::DeadLetter { .. }) {
                    return Err(bad(format!(
                        "group {group} produces nothing: it has no producer"
                    )));
                }
                if member == 0 || member > g.members() {
                    return Err(bad(format!(
                        "group {group} has members 1 to {}",
                        g.members()
                    )));
                }
                Ok(Target::Producer(format!("{group}/{member}")))
            }
            ["producer", name] => {
                if producers.iter().any(|p| p.name == *name) {
                    Ok(Target::Producer(name.to_string()))
                } else {
                    Err(bad(format!("no producer {name:?} is declared")))
                }
            }
            ["broker", id] => {
                let id: u32 = id
                    .parse()
                    .map_err(|_| bad(format!("{id:?} is not a broker id")))?;
                if cluster.brokers.contains(&BrokerId(id)) {
                    Ok(Target::Broker(BrokerId(id)))
                } else {
                    Err(bad(format!("brokers are 1 to {}", cluster.brokers.len())))
                }
            }
            _ => Err(bad(format!(
                "{text:?} is not a component; use consumer/<group>/<n>, producer/<name> or \
                 broker/<id>"
            ))),
        }
    }

    pub(super) fn actions(
        &self,
        producers: &[ProducerSpec],
        groups: &[GroupSpec],
        cluster: &ClusterSpec,
    ) -> Resolved<Vec<ActionSpec>> {
        let extra = self
            .variant
            .map(|v| v.timeline.as_slice())
            .unwrap_or_default();
        let mut out = Vec::new();
        for a in self.raw.timeline.iter().chain(extra) {
            let target = self.target(&a.target, "timeline.target", producers, groups, cluster)?;
            let action = match a.action.get_ref().as_str() {
                "crash" => Action::Crash,
                "close" => Action::Close,
                "restart" => Action::Restart,
                "pause" => match a.duration_ms {
                    Some(d) if d > 0 => Action::Pause(Millis(d)),
                    _ => {
                        return Err(self.err(
                            a.action.span(),
                            "timeline.duration_ms",
                            "pause needs duration_ms > 0",
                        ));
                    }
                },
                other => {
                    return Err(self.err(
                        a.action.span(),
                        "timeline.action",
                        format!("unknown action {other:?}; use crash, close, pause or restart"),
                    ));
                }
            };
            if matches!(target, Target::Broker(_)) {
                return Err(self.err(
                    a.target.span(),
                    "timeline.target",
                    "brokers go down and up through [[fault]] kind = \"broker_down\"",
                ));
            }
            out.push(ActionSpec {
                at: SimTime(*a.at_ms.get_ref()),
                action,
                target,
            });
        }
        out.sort_by_key(|a| a.at);
        Ok(out)
    }
}

/// The group named `group` and the member number `n` in a target: the group must be declared
/// and `n` a number (its range is the caller's check: a producer target says more first).
fn group_member<'g>(
    groups: &'g [GroupSpec],
    group: &str,
    n: &str,
) -> Result<(&'g GroupSpec, u32), String> {
    let g = groups
        .iter()
        .find(|g| g.group_id == group)
        .ok_or_else(|| format!("no consumer group {group:?} is declared"))?;
    let member = n
        .parse()
        .map_err(|_| format!("{n:?} is not a member number"))?;
    Ok((g, member))
}
