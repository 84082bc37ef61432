//! The throughput chart: records produced and processed per second over virtual time, as steps
//! (one step per time bucket). Produced lines are solid, processed lines dashed, so a consumer
//! group that falls behind shows as a dashed line below a solid one, and lag is the area between.

use std::error::Error;

use plotters::prelude::*;

use super::{
    Area, Label, LegendEntry, Marker, Swatch, Theme, Title, colour, draw_markers, draw_mesh,
    duration, frame, marker_head, marker_key, seconds, time_axes, y_top,
};

/// Records per second over time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThroughputChart {
    /// Names the scenario, the variants and the seed.
    pub title: Title,
    /// The width of one time bucket: counts are per bucket, the axis shows records per second.
    pub bucket_ms: u64,
    /// One curve per (variant, topic) produced to and per (variant, group) processing.
    pub curves: Vec<RateCurve>,
    /// Rebalances and crashes.
    pub markers: Vec<Marker>,
}

/// Records counted per time bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RateCurve {
    /// The legend entry (`produced to orders`, `processed by analytics`).
    pub label: Label,
    /// Produced (solid) or processed (dashed).
    pub kind: FlowKind,
    /// `counts[i]` records in `[i * bucket_ms, (i + 1) * bucket_ms)`.
    pub counts: Vec<u64>,
}

/// Which side of the topic a curve counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FlowKind {
    /// Records appended to a topic's logs.
    #[default]
    Produced,
    /// Records a consumer group finished processing.
    Processed,
}

impl ThroughputChart {
    /// The curve's steps in (seconds, records per second): each bucket's rate held across it.
    pub fn steps(&self, curve: &RateCurve) -> Vec<(f64, f64)> {
        let per_s = 1000.0 / self.bucket_ms.max(1) as f64;
        let mut points = Vec::with_capacity(curve.counts.len() * 2);
        for (i, &count) in curve.counts.iter().enumerate() {
            let from = i as u64 * self.bucket_ms;
            let rate = count as f64 * per_s;
            points.push((seconds(from), rate));
            points.push((seconds(from + self.bucket_ms), rate));
        }
        points
    }

    /// The end of the time axis: the end of the longest curve.
    pub fn end_ms(&self) -> u64 {
        let buckets = self
            .curves
            .iter()
            .map(|c| c.counts.len())
            .max()
            .unwrap_or(0);
        buckets as u64 * self.bucket_ms
    }
}

pub(super) fn draw(
    chart: &ThroughputChart,
    root: &Area<'_>,
    theme: &Theme,
) -> Result<(), Box<dyn Error>> {
    let swatch = |c: &RateCurve| match c.kind {
        FlowKind::Produced => Swatch::Line,
        FlowKind::Processed => Swatch::Dashes,
    };
    let legend: Vec<_> = (chart.curves.iter().enumerate())
        .map(|(i, c)| LegendEntry::new(c.label.text(theme.lang), colour(i), swatch(c)))
        .collect();
    let root = &marker_key(root, theme, &chart.markers)?;
    let area = frame(root, theme, &chart.title.text(theme.lang), &legend)?;
    let steps: Vec<_> = chart.curves.iter().map(|c| chart.steps(c)).collect();
    let highest = steps.iter().flatten().map(|p| p.1).fold(0.0, f64::max);
    let head = marker_head(theme, &chart.markers);
    let y_high = y_top(&area, theme, highest.max(1.0), head);
    let mut cc = time_axes(&area, theme, chart.end_ms(), y_high)?;
    let bucket = [("bucket", duration(chart.bucket_ms, theme.lang).into())];
    let y_desc = theme.lang.fmt("plot-axis-rate", &bucket);
    let x_desc = theme.lang.msg("plot-axis-time");
    draw_mesh(&mut cc, theme, (&x_desc, &y_desc), (true, true))?;
    draw_markers(&mut cc, theme, &chart.markers)?;
    for (i, (curve, points)) in chart.curves.iter().zip(steps).enumerate() {
        let style = colour(i).stroke_width(theme.line);
        match curve.kind {
            FlowKind::Produced => cc.draw_series(LineSeries::new(points, style))?,
            FlowKind::Processed => {
                let dash = (theme.line * 4) as i32;
                cc.draw_series(DashedLineSeries::new(points, dash, dash / 2, style))?
            }
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_hold_each_bucket_rate() {
        let chart = ThroughputChart {
            bucket_ms: 500,
            curves: vec![RateCurve {
                label: "produced to orders".into(),
                kind: FlowKind::Produced,
                counts: vec![5, 0],
            }],
            ..ThroughputChart::default()
        };
        let steps = chart.steps(&chart.curves[0]);
        assert_eq!(steps, [(0.0, 10.0), (0.5, 10.0), (0.5, 0.0), (1.0, 0.0)]);
        assert_eq!(chart.end_ms(), 1000);
    }
}
