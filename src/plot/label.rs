//! The words of a chart, kept structured until they are drawn: a title is what is drawn plus
//! the scenario, the variants and the seeds; a legend entry or a marker is a [`Label`] (a
//! group, a flow, a crash, a rebalance, ...) around the names of scenarios, groups, variants
//! and components. Drawing renders them in the chart's language with the `plot-title-*`,
//! `plot-series-*` and `plot-mark-*` messages of `locales/<lang>/plot.ftl`; names stay as they
//! are.

use super::Kind;
use crate::i18n::Lang;
use crate::report::series::MarkKind;

/// A chart's title: `black_friday · consumer lag · 1p1c vs 3p3c · seed 42`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Title {
    /// The scenarios of the runs, comma-separated, when their traces say.
    pub scenarios: Option<String>,
    /// What is drawn.
    pub kind: Kind,
    /// The runs compared (`1p1c vs 3p3c`), when there are several or a variant.
    pub runs: Option<String>,
    /// The master seeds of the runs, when their traces say.
    pub seeds: Vec<u64>,
}

impl Title {
    /// The title in `lang`, its parts between ` · `.
    pub fn text(&self, lang: Lang) -> String {
        let what = match self.kind {
            Kind::Lag => "plot-title-lag",
            Kind::Partitions => "plot-title-partitions",
            Kind::Assignments => "plot-title-assignments",
            Kind::Throughput => "plot-title-throughput",
        };
        let mut parts: Vec<String> = self.scenarios.iter().cloned().collect();
        parts.push(lang.msg(what));
        parts.extend(self.runs.iter().cloned());
        let seeds: Vec<String> = self.seeds.iter().map(u64::to_string).collect();
        match &seeds[..] {
            [] => {}
            [seed] => parts.push(lang.fmt("plot-title-seed", &[("seed", seed.into())])),
            _ => parts.push(lang.fmt("plot-title-seeds", &[("seeds", seeds.join(", ").into())])),
        }
        parts.join(" · ")
    }
}

/// A legend entry or a marker's label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Label {
    /// A name drawn as it is: a run (`3p3c`).
    Name(String),
    /// A consumer group's curve: `group billing`.
    Group(String),
    /// The bars of a lone run: `records appended`.
    RecordsAppended,
    /// A topic's throughput: `produced to orders`.
    ProducedTo(String),
    /// A group's throughput: `processed by analytics`.
    ProcessedBy(String),
    /// A moment of a run: a crash, a rebalance, a generation.
    Mark(MarkKind),
    /// One run's entry among several: `3p3c: group billing`.
    Run(String, Box<Label>),
    /// A marker of some of the runs: `crash consumer/g/1 (3p3c)`.
    Of(Box<Label>, String),
}

impl Label {
    /// The label in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        match self {
            Label::Name(name) => name.clone(),
            Label::Group(group) => lang.fmt("plot-series-group", &[("group", group.into())]),
            Label::RecordsAppended => lang.msg("plot-series-records-appended"),
            Label::ProducedTo(name) => {
                lang.fmt("plot-series-produced-to", &[("name", name.into())])
            }
            Label::ProcessedBy(name) => {
                lang.fmt("plot-series-processed-by", &[("name", name.into())])
            }
            Label::Mark(MarkKind::Crash { component }) => {
                lang.fmt("plot-mark-crash", &[("what", component.into())])
            }
            Label::Mark(MarkKind::Rebalance { group }) => {
                lang.fmt("plot-mark-rebalance", &[("what", group.into())])
            }
            Label::Mark(MarkKind::Generation { generation, group }) => {
                let args = [
                    ("generation", generation.to_string().into()),
                    ("what", group.into()),
                ];
                lang.fmt("plot-mark-generation", &args)
            }
            Label::Run(run, label) => {
                let args = [("run", run.into()), ("label", label.text(lang).into())];
                lang.fmt("plot-series-run", &args)
            }
            Label::Of(label, runs) => {
                let args = [("label", label.text(lang).into()), ("runs", runs.into())];
                lang.fmt("plot-mark-of", &args)
            }
        }
    }
}

/// An empty name: what a chart built field by field starts from.
impl Default for Label {
    fn default() -> Label {
        Label::Name(String::new())
    }
}

/// A lag chart's title with nothing but its kind: what a chart built field by field starts
/// from.
impl Default for Title {
    fn default() -> Title {
        Title {
            scenarios: None,
            kind: Kind::Lag,
            runs: None,
            seeds: Vec::new(),
        }
    }
}

impl From<&str> for Label {
    fn from(name: &str) -> Label {
        Label::Name(name.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_words_around_the_names() {
        let fr = Lang::Fr;
        let title = Title {
            scenarios: Some("black_friday".into()),
            kind: Kind::Lag,
            runs: Some("1p1c vs 3p3c".into()),
            seeds: vec![42],
        };
        assert_eq!(
            title.text(fr),
            "black_friday · lag des consommateurs · 1p1c vs 3p3c · graine 42"
        );
        assert_eq!(
            title.text(Lang::En),
            "black_friday · consumer lag · 1p1c vs 3p3c · seed 42"
        );
        let run = Label::Run("3p3c".into(), Box::new(Label::Group("billing".into())));
        assert_eq!(run.text(fr), "3p3c : groupe billing");
        assert_eq!(run.text(Lang::En), "3p3c: group billing");
        let crash = MarkKind::Crash {
            component: "consumer/g/1".into(),
        };
        let of = Label::Of(Box::new(Label::Mark(crash)), "3p3c-crash".into());
        assert_eq!(of.text(fr), "panne consumer/g/1 (3p3c-crash)");
        let generation = Label::Mark(MarkKind::Generation {
            generation: 2,
            group: "g".into(),
        });
        let of = Label::Of(Box::new(generation), "a, b".into());
        assert_eq!(of.text(fr), "génération 2 g (a, b)");
        assert_eq!(of.text(Lang::En), "generation 2 g (a, b)");
        assert_eq!(Label::from("1p1c").text(fr), "1p1c");
    }
}
