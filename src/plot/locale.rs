//! Charts in French: the chart builders (`report::series`) write their titles, legends and
//! marker labels in English, from a few fixed phrases around the names of scenarios, groups,
//! variants and components; [`translated`] rewrites those phrases with the `plot-title-*`,
//! `plot-series-*` and `plot-mark-*` messages of `locales/<lang>/plot.ftl`, and leaves every name
//! as it is. English charts are drawn as built.

use std::borrow::Cow;

use super::Chart;
use crate::i18n::Lang;

/// `chart` with its words in `lang`.
pub(super) fn translated(chart: &Chart, lang: Lang) -> Cow<'_, Chart> {
    if lang == Lang::En {
        return Cow::Borrowed(chart);
    }
    let mut chart = chart.clone();
    let relabel = |s: &mut String| *s = label(lang, s);
    match &mut chart {
        Chart::Lag(c) => {
            c.title = title(lang, &c.title);
            c.curves.iter_mut().for_each(|x| relabel(&mut x.label));
            c.markers.iter_mut().for_each(|x| relabel(&mut x.label));
        }
        Chart::Partitions(c) => {
            c.title = title(lang, &c.title);
            c.series.iter_mut().for_each(|x| relabel(&mut x.label));
        }
        Chart::Assignments(c) => {
            c.title = title(lang, &c.title);
            c.markers.iter_mut().for_each(|x| relabel(&mut x.label));
        }
        Chart::Throughput(c) => {
            c.title = title(lang, &c.title);
            c.curves.iter_mut().for_each(|x| relabel(&mut x.label));
            c.markers.iter_mut().for_each(|x| relabel(&mut x.label));
        }
    }
    Cow::Owned(chart)
}

/// `black_friday · consumer lag · 1p1c vs 3p3c · seed 42`: the parts between ` · ` that are
/// the builders' words are translated, the scenario and variant names are kept.
fn title(lang: Lang, title: &str) -> String {
    let parts: Vec<String> = title
        .split(" · ")
        .map(|part| match part {
            "consumer lag" => lang.msg("plot-title-lag"),
            "records per partition" => lang.msg("plot-title-partitions"),
            "partition assignments" => lang.msg("plot-title-assignments"),
            "throughput" => lang.msg("plot-title-throughput"),
            _ => match (part.strip_prefix("seed "), part.strip_prefix("seeds ")) {
                (Some(seed), _) => lang.fmt("plot-title-seed", &[("seed", seed.into())]),
                (_, Some(seeds)) => lang.fmt("plot-title-seeds", &[("seeds", seeds.into())]),
                _ => part.to_string(),
            },
        })
        .collect();
    parts.join(" · ")
}

/// A legend or marker label: `group g`, `3p3c: group g`, `crash consumer/g/1 (3p3c)`,
/// `rebalance g`, `generation 2 g`, `produced to orders`, `processed by g`, `records appended`.
fn label(lang: Lang, label: &str) -> String {
    let rest = |prefix: &str| label.strip_prefix(prefix).map(str::to_string);
    if label == "records appended" {
        lang.msg("plot-series-records-appended")
    } else if let Some(group) = rest("group ") {
        lang.fmt("plot-series-group", &[("group", group.into())])
    } else if let Some(name) = rest("produced to ") {
        lang.fmt("plot-series-produced-to", &[("name", name.into())])
    } else if let Some(name) = rest("processed by ") {
        lang.fmt("plot-series-processed-by", &[("name", name.into())])
    } else if let Some(what) = rest("crash ") {
        lang.fmt("plot-mark-crash", &[("what", what.into())])
    } else if let Some(what) = rest("rebalance ") {
        lang.fmt("plot-mark-rebalance", &[("what", what.into())])
    } else if let Some((generation, what)) = rest("generation ")
        .as_deref()
        .and_then(|r| r.split_once(' '))
    {
        let args = [("generation", generation.into()), ("what", what.into())];
        lang.fmt("plot-mark-generation", &args)
    } else if let Some((run, inner)) = label.split_once(": ") {
        let args = [
            ("run", run.into()),
            ("label", self::label(lang, inner).into()),
        ];
        lang.fmt("plot-series-run", &args)
    } else {
        label.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_rewrites_the_words_and_keeps_the_names() {
        let fr = Lang::Fr;
        assert_eq!(
            title(fr, "black_friday · consumer lag · 1p1c vs 3p3c · seed 42"),
            "black_friday · lag des consommateurs · 1p1c vs 3p3c · graine 42"
        );
        assert_eq!(label(fr, "3p3c: group billing"), "3p3c : groupe billing");
        assert_eq!(
            label(fr, "crash consumer/g/1 (3p3c-crash)"),
            "panne consumer/g/1 (3p3c-crash)"
        );
        assert_eq!(label(fr, "generation 2 g (a, b)"), "génération 2 g (a, b)");
        assert_eq!(label(fr, "1p1c"), "1p1c");
    }
}
