//! The lag chart: consumer lag over virtual time, one curve per group and variant on shared
//! axes, rebalances and crashes marked. The Black Friday picture: with 1 partition and 1
//! consumer the lag climbs for the whole flood and drains slowly; with 3 and 3 it drains three
//! times faster.

use std::error::Error;

use super::style::{draw_curve, stroke};
use super::{
    Area, Curve, LegendEntry, Marker, Swatch, Theme, Title, colour, draw_markers, draw_mesh, frame,
    marker_head, marker_key, seconds, time_axes, y_top,
};

/// Lag over time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LagChart {
    /// Names the scenario, the variants and the seed.
    pub title: Title,
    /// One curve per (variant, group): total lag of the group, in records, at each sample.
    pub curves: Vec<Curve>,
    /// Rebalances and crashes; `colour` is the index of the curve they belong to.
    pub markers: Vec<Marker>,
}

impl LagChart {
    /// The last moment the chart shows: the last sample or marker.
    pub fn end_ms(&self) -> u64 {
        let samples = self
            .curves
            .iter()
            .flat_map(|c| c.points.iter().map(|p| p.0));
        samples
            .chain(self.markers.iter().map(|m| m.t_ms))
            .max()
            .unwrap_or(0)
    }

    /// The highest lag of any curve.
    pub fn max_lag(&self) -> u64 {
        let lags = self
            .curves
            .iter()
            .flat_map(|c| c.points.iter().map(|p| p.1));
        lags.max().unwrap_or(0)
    }
}

pub(super) fn draw(chart: &LagChart, root: &Area<'_>, theme: &Theme) -> Result<(), Box<dyn Error>> {
    let legend: Vec<_> = (chart.curves.iter().enumerate())
        .map(|(i, c)| {
            let stroke = Swatch::Stroke(stroke(i, theme.line));
            LegendEntry::new(c.label.text(theme.lang), colour(i), stroke)
        })
        .collect();
    let root = &marker_key(root, theme, &chart.markers)?;
    let area = frame(root, theme, &chart.title.text(theme.lang), &legend)?;
    let head = marker_head(theme, &chart.markers);
    let y_high = y_top(&area, theme, chart.max_lag().max(1) as f64, head);
    let mut cc = time_axes(&area, theme, chart.end_ms(), y_high)?;
    draw_mesh(
        &mut cc,
        theme,
        (
            &theme.lang.msg("plot-axis-time"),
            &theme.lang.msg("plot-axis-lag"),
        ),
        (true, true),
    )?;
    draw_markers(&mut cc, theme, &chart.markers)?;
    for (i, curve) in chart.curves.iter().enumerate() {
        let points = curve
            .points
            .iter()
            .map(|&(t, lag)| (seconds(t), lag as f64));
        draw_curve(&mut cc, theme, i, points.collect())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extent_covers_curves_and_markers() {
        let chart = LagChart {
            title: Title::default(),
            curves: vec![Curve {
                label: "1p1c".into(),
                points: vec![(0, 0), (1000, 40), (2000, 10)],
            }],
            markers: vec![Marker {
                t_ms: 2500,
                label: "rebalance".into(),
                colour: Some(0),
            }],
        };
        assert_eq!((chart.end_ms(), chart.max_lag()), (2500, 40));
        assert_eq!(
            (LagChart::default().end_ms(), LagChart::default().max_lag()),
            (0, 0)
        );
    }
}
