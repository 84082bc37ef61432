//! The assignments chart: which member owned which partition over virtual time, as a Gantt
//! chart with one row per partition and one colour (and name) per member.
//!
//! An eager rebalance (`range`, `roundrobin`) shows as a gap in every row at once: each member
//! revokes everything before the group is synced again. A cooperative one (`cooperative-sticky`,
//! KIP-429) leaves most rows unbroken and cuts only the partitions that move. A crash shows as
//! rows that end and stay empty until `session.timeout.ms` runs out and a rebalance hands them on.

use std::error::Error;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Area, LegendEntry, Marker, Swatch, Theme, Title, colour, draw_markers, draw_mesh, frame,
    marker_head, marker_key, seconds, text_on, time_axes, y_top,
};

/// Partition ownership over time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssignmentGantt {
    /// Names the scenario, the variants and the seed.
    pub title: Title,
    /// One row per partition (per group and variant, when there are several), top to bottom.
    pub rows: Vec<GanttRow>,
    /// The end of the time axis: the end of the run.
    pub end_ms: u64,
    /// Rebalances and crashes.
    pub markers: Vec<Marker>,
}

/// One partition's owners, one after the other.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GanttRow {
    /// The partition, as `orders-0` (prefixed with the variant or group when there are several).
    pub label: String,
    /// Who owned it when, in time order, never overlapping; the gaps are times without owner.
    pub spans: Vec<Span>,
}

/// One member's ownership of one partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// Assigned at (virtual ms).
    pub from_ms: u64,
    /// Revoked, lost or run ended at (virtual ms).
    pub to_ms: u64,
    /// The member, as the legend names it (`consumer/analytics/1`).
    pub member: String,
}

impl AssignmentGantt {
    /// Every member, in order of first appearance (top row first, then by time): member `i`
    /// is drawn in colour `i`.
    pub fn members(&self) -> Vec<&str> {
        let mut spans: Vec<(usize, u64, &str)> = Vec::new();
        for (r, row) in self.rows.iter().enumerate() {
            spans.extend(row.spans.iter().map(|s| (r, s.from_ms, s.member.as_str())));
        }
        spans.sort_by_key(|&(r, t, _)| (t, r));
        let mut members: Vec<&str> = Vec::new();
        for (_, _, m) in spans {
            if !members.contains(&m) {
                members.push(m);
            }
        }
        members
    }
}

pub(super) fn draw(
    chart: &AssignmentGantt,
    root: &Area<'_>,
    theme: &Theme,
) -> Result<(), Box<dyn Error>> {
    let members = chart.members();
    let legend: Vec<_> = (members.iter().enumerate())
        .map(|(i, m)| LegendEntry::new(*m, colour(i), Swatch::Block))
        .collect();
    let root = &marker_key(root, theme, &chart.markers)?;
    let area = frame(root, theme, &chart.title.text(theme.lang), &legend)?;
    let n = chart.rows.len().max(1);
    let row_font = theme.tick;
    let theme = &widened_for_row_labels(&area, theme, chart)?;
    let y_high = y_top(&area, theme, n as f64, marker_head(theme, &chart.markers));
    let mut cc = time_axes(&area, theme, chart.end_ms, y_high)?;
    draw_mesh(
        &mut cc,
        theme,
        (
            &theme.lang.msg("plot-axis-time"),
            &theme.lang.msg("plot-axis-partition"),
        ),
        (true, false),
    )?;
    let (width_px, height_px) = cc.plotting_area().dim_in_pixel();
    let px_per_s = f64::from(width_px) / seconds(chart.end_ms.max(1));
    let row_px = f64::from(height_px) / y_high;
    let row_font = row_font.min((row_px * 0.6) as u32).max(9);
    let gap = ((row_px * 0.12) as u32).max(1);
    let label_style = theme
        .font(row_font)
        .pos(Pos::new(HPos::Right, VPos::Center));
    cc.draw_series(chart.rows.iter().enumerate().map(|(r, row)| {
        let y = (n - r) as f64 - 0.5;
        EmptyElement::at((0.0, y)) + Text::new(row.label.clone(), (-12, 0), label_style.clone())
    }))?;
    for (m, member) in members.into_iter().enumerate() {
        let c = colour(m);
        let spans = || {
            (chart.rows.iter().enumerate()).flat_map(move |(r, row)| {
                let y = (n - r) as f64;
                row.spans
                    .iter()
                    .filter(move |s| s.member == member)
                    .map(move |s| (y, s))
            })
        };
        cc.draw_series(spans().map(|(y, s)| {
            let corners = [(seconds(s.from_ms), y - 1.0), (seconds(s.to_ms), y)];
            let mut bar = Rectangle::new(corners, c.filled());
            bar.set_margin(gap, gap, 0, 1);
            bar
        }))?;
        let style = theme
            .font(row_font)
            .color(text_on(c))
            .pos(Pos::new(HPos::Left, VPos::Center));
        let name_px = area.estimate_text_size(member, &style)?.0 as f64 + 16.0;
        cc.draw_series(spans().filter_map(|(y, s)| {
            let span_px = seconds(s.to_ms - s.from_ms) * px_per_s;
            (span_px > name_px).then(|| {
                EmptyElement::at((seconds(s.from_ms), y - 0.5))
                    + Text::new(member.to_string(), (8, 0), style.clone())
            })
        }))?;
    }
    draw_markers(&mut cc, theme, &chart.markers)
}

/// `theme` with a y-label area wide enough for the longest row label at tick size: the rows
/// are named there (`orders-0`, `eager orders-1`), not on a numeric axis.
fn widened_for_row_labels(
    area: &Area<'_>,
    theme: &Theme,
    chart: &AssignmentGantt,
) -> Result<Theme, Box<dyn Error>> {
    let mut longest = 0;
    for row in &chart.rows {
        longest = longest.max(
            area.estimate_text_size(&row.label, &theme.font(theme.tick))?
                .0,
        );
    }
    Ok(Theme {
        y_label_area: theme.y_label_area.max(longest + theme.axis * 2 + 24),
        ..*theme
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(from_ms: u64, to_ms: u64, member: &str) -> Span {
        Span {
            from_ms,
            to_ms,
            member: member.into(),
        }
    }

    #[test]
    fn members_in_order_of_first_appearance() {
        let chart = AssignmentGantt {
            rows: vec![
                GanttRow {
                    label: "orders-0".into(),
                    spans: vec![span(100, 500, "c2"), span(600, 900, "c1")],
                },
                GanttRow {
                    label: "orders-1".into(),
                    spans: vec![span(100, 900, "c3")],
                },
                GanttRow {
                    label: "orders-2".into(),
                    spans: vec![span(50, 900, "c1")],
                },
            ],
            ..AssignmentGantt::default()
        };
        assert_eq!(chart.members(), ["c1", "c2", "c3"]);
    }
}
