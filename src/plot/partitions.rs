//! The partitions chart: records per partition as bars, one bar per variant in each partition,
//! with each variant's even share as a dashed line. Key skew shows as bars far from the line: a
//! hot partition towers over it, a partition no key hashes to stays empty.

use std::error::Error;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::i18n::Lang;

use super::{
    Area, Label, LegendEntry, Swatch, Theme, TimeChart, Title, axes, colour, draw_mesh, frame,
    tick, y_top,
};

/// Records per partition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartitionBars {
    /// Names the scenario, the variants and the seed.
    pub title: Title,
    /// The partitions along the x axis, in Kafka's `topic-partition` form (`orders-0`).
    pub partitions: Vec<String>,
    /// One series per variant; `records[i]` belongs to `partitions[i]`.
    pub series: Vec<BarSeries>,
}

/// One variant's bars.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BarSeries {
    /// The legend entry.
    pub label: Label,
    /// Records appended to each partition.
    pub records: Vec<u64>,
}

impl BarSeries {
    /// The even share: the records per partition if every partition got the same number.
    pub fn mean(&self) -> f64 {
        let total: u64 = self.records.iter().sum();
        total as f64 / self.records.len().max(1) as f64
    }
}

pub(super) fn draw(
    chart: &PartitionBars,
    root: &Area<'_>,
    theme: &Theme,
) -> Result<(), Box<dyn Error>> {
    let n = chart.partitions.len().max(1);
    let shares = even_shares(chart, theme.lang);
    let mut legend: Vec<_> = (chart.series.iter().enumerate())
        .map(|(i, s)| LegendEntry::new(s.label.text(theme.lang), colour(i), Swatch::Block))
        .collect();
    legend.extend(
        shares
            .iter()
            .map(|(label, _, c)| LegendEntry::new(label, *c, Swatch::Dashes)),
    );
    let area = frame(root, theme, &chart.title.text(theme.lang), &legend)?;
    let highest = chart.series.iter().flat_map(|s| s.records.iter()).max();
    let top = highest.copied().unwrap_or(0).max(1) as f64;
    let y_high = y_top(&area, theme, top, theme.tick * 2);
    let mut cc = axes(&area, theme, n as f64, y_high)?;
    draw_mesh(
        &mut cc,
        theme,
        (
            &theme.lang.msg("plot-axis-partition-bars"),
            &theme.lang.msg("plot-axis-records-appended"),
        ),
        (false, true),
    )?;
    let slot_px = f64::from(cc.plotting_area().dim_in_pixel().0) / n as f64;
    draw_partition_labels(&mut cc, theme, &chart.partitions, slot_px)?;
    let bar = 0.8 / chart.series.len().max(1) as f64;
    for (s, series) in chart.series.iter().enumerate() {
        let x0 = |i: usize| i as f64 + 0.1 + s as f64 * bar;
        let fill = colour(s).filled();
        cc.draw_series(
            series
                .records
                .iter()
                .enumerate()
                .map(|(i, &r)| Rectangle::new([(x0(i), 0.0), (x0(i) + bar, r as f64)], fill)),
        )?;
        let style = theme
            .font(theme.tick)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        let counts = series.records.iter().enumerate().filter_map(|(i, &r)| {
            let text = r.to_string();
            let fits = text.len() as f64 * f64::from(theme.tick) * 0.62 < slot_px * bar;
            fits.then(|| {
                let at = (x0(i) + bar / 2.0, r as f64);
                EmptyElement::at(at) + Text::new(text, (0, -4), style.clone())
            })
        });
        cc.draw_series(counts)?;
    }
    for (_, mean, c) in shares {
        let dash = (theme.line * 4) as i32;
        let style = c.stroke_width(theme.line.div_ceil(2) + 1);
        cc.draw_series(DashedLineSeries::new(
            [(0.0, mean), (n as f64, mean)],
            dash,
            dash / 2,
            style,
        ))?;
    }
    Ok(())
}

/// The even-share lines: one black line when every series has the same mean (the same number of
/// records over the same partitions), else one per series in its colour.
fn even_shares(chart: &PartitionBars, lang: Lang) -> Vec<(String, f64, RGBColor)> {
    let means: Vec<f64> = chart.series.iter().map(BarSeries::mean).collect();
    let same = means.windows(2).all(|w| (w[0] - w[1]).abs() < 0.5);
    if same {
        let mean = means.first().copied().unwrap_or(0.0);
        let share = [("share", tick(mean.round()).into())];
        return vec![(lang.fmt("plot-even-share", &share), mean, BLACK)];
    }
    (chart.series.iter().zip(means).enumerate())
        .map(|(i, (s, mean))| {
            (
                lang.fmt(
                    "plot-even-share-of",
                    &[
                        ("label", s.label.text(lang).into()),
                        ("share", tick(mean.round()).into()),
                    ],
                ),
                mean,
                colour(i),
            )
        })
        .collect()
}

/// Writes each partition's name under its slot, shrinking the font until the names fit.
fn draw_partition_labels(
    cc: &mut TimeChart<'_, '_>,
    theme: &Theme,
    partitions: &[String],
    slot_px: f64,
) -> Result<(), Box<dyn Error>> {
    let longest = partitions
        .iter()
        .map(|p| p.chars().count())
        .max()
        .unwrap_or(1);
    let fitting = (slot_px * 0.95 / (longest as f64 * 0.6)).floor() as u32;
    let size = theme.tick.min(fitting).max(9);
    let style = theme.font(size).pos(Pos::new(HPos::Center, VPos::Top));
    let labels = partitions.iter().enumerate().map(|(i, p)| {
        EmptyElement::at((i as f64 + 0.5, 0.0)) + Text::new(p.clone(), (0, 10), style.clone())
    });
    cc.draw_series(labels)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_share_is_the_mean() {
        let s = BarSeries {
            label: "keyed".into(),
            records: vec![6, 0, 3],
        };
        assert_eq!(s.mean(), 3.0);
        assert_eq!(BarSeries::default().mean(), 0.0);
    }
}
