//! The state at one time (`explain --at MS`): per consumer group its state, generation and
//! assignment as the coordinator held them, per partition its leader and ISR when the trace
//! has a controller. Read from the last event of each kind at or before the time.

use std::collections::BTreeMap;

use super::{Context, Message, list, text, tp};
use crate::i18n::Lang;
use crate::trace::{LeaderElected, MemberAssignment, TraceEvent};

#[derive(Debug, Default)]
struct Group<'a> {
    state: Option<&'a str>,
    generation: Option<i32>,
    assignments: &'a [MemberAssignment],
}

/// The state at `at`, as lines of text in `lang`.
pub fn at(ctx: &Context<'_>, at: u64, group: Option<&str>, lang: Lang) -> String {
    let mut groups: BTreeMap<&str, Group<'_>> = BTreeMap::new();
    let mut leaders: BTreeMap<String, (String, String)> = BTreeMap::new();
    for r in ctx.records.iter().take_while(|r| r.t_ms <= at) {
        match &r.event {
            TraceEvent::GroupStateChanged { group, to, .. } => {
                groups.entry(group).or_default().state = Some(to);
            }
            TraceEvent::GenerationStarted {
                group, generation, ..
            } => groups.entry(group).or_default().generation = Some(*generation),
            TraceEvent::AssignmentStored {
                group, assignments, ..
            } => groups.entry(group).or_default().assignments = assignments,
            TraceEvent::LeaderElected(LeaderElected {
                topic,
                partition,
                leader,
                isr,
                ..
            }) => {
                let isr: Vec<String> = isr.iter().map(u32::to_string).collect();
                let leader = leader.map_or_else(|| "none".into(), |l| l.to_string());
                leaders.insert(tp(topic, *partition), (leader, isr.join(",")));
            }
            _ => {}
        }
    }
    let mut out = format!("{}\n", lang.fmt("explain-state-at", &[("at", at.into())]));
    for (name, g) in groups
        .iter()
        .filter(|(n, _)| group.is_none_or(|x| x == **n))
    {
        let head = Message::new(
            "explain-state-group",
            vec![
                ("group", text(*name)),
                ("state", text(g.state.unwrap_or("-"))),
                (
                    "generation",
                    text(g.generation.map_or("-".into(), |x| x.to_string())),
                ),
            ],
        );
        out.push_str(&format!("  {}\n", super::render::message(&head, lang)));
        for a in g.assignments {
            let m = Message::new(
                "explain-state-member",
                vec![
                    ("member", text(ctx.label(&a.member_id))),
                    ("partitions", list(&a.partitions)),
                ],
            );
            out.push_str(&format!("    {}\n", super::render::message(&m, lang)));
        }
    }
    for (p, (leader, isr)) in &leaders {
        let m = Message::new(
            "explain-state-partition",
            vec![
                ("partition", text(p)),
                ("leader", text(leader)),
                ("isr", text(isr)),
            ],
        );
        out.push_str(&format!("  {}\n", super::render::message(&m, lang)));
    }
    out
}
