//! How curves and markers are told apart on a projector, where thick lines and long labels
//! crowd the chart.
//!
//! - Every curve has one line width; curves are told apart by colour *and* dash pattern
//!   ([`curve_stroke`]), so two variants that behave alike (Black Friday's `3p3c` and
//!   `3p3c-keyed`) still show both: the later, dashed curve lets the earlier one through its gaps.
//! - Every marker (a rebalance, a crash) gets a number: a small tag at the top of its line, and
//!   a line of the key under the chart (`3  6 s  generation 1 order-service-group (3p3c)`).
//!   Markers a few pixels apart (the initial joins of every variant) share one tag, `1–4`,
//!   instead of hiding each other's labels; none is ever left unnamed.

use std::error::Error;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Area, GREY, Marker, Size, Theme, TimeChart, colour, duration, seconds};
use crate::i18n::Lang;

/// The dash pattern of a curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dash {
    /// A continuous line.
    Solid,
    /// Dashes of `on_px` pixels separated by `off_px`.
    Dashed {
        /// The length of a dash.
        on_px: u32,
        /// The gap between dashes.
        off_px: u32,
    },
}

/// How a curve is drawn: one width for every curve, a dash pattern of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stroke {
    /// The line width in pixels: the same for every curve of a chart.
    pub width_px: u32,
    /// The dash pattern.
    pub dash: Dash,
}

/// The patterns, in the order curves take them: solid, long dashes, short dashes, dots. Each is
/// in multiples of the line width, so they keep their look at every image size.
const PATTERNS: [Option<(u32, u32)>; 4] = [None, Some((6, 3)), Some((2, 2)), Some((1, 2))];

/// The stroke of lag curve `i` on an image of `size`: the theme's line width, and the `i`-th
/// dash pattern (with eight colours and four patterns, no two of the first 32 curves look alike).
pub fn curve_stroke(i: usize, size: Size) -> Stroke {
    stroke(i, Theme::for_size(size).line)
}

pub(super) fn stroke(i: usize, width_px: u32) -> Stroke {
    let dash = match PATTERNS[i % PATTERNS.len()] {
        None => Dash::Solid,
        Some((on, off)) => Dash::Dashed {
            on_px: on * width_px,
            off_px: off * width_px,
        },
    };
    Stroke { width_px, dash }
}

/// Draws curve `i` through `points` in its colour and stroke.
pub(super) fn draw_curve(
    chart: &mut TimeChart<'_, '_>,
    theme: &Theme,
    i: usize,
    points: Vec<(f64, f64)>,
) -> Result<Stroke, Box<dyn Error>> {
    let s = stroke(i, theme.line);
    let style = colour(i).stroke_width(s.width_px);
    match s.dash {
        Dash::Solid => chart.draw_series(LineSeries::new(points, style))?,
        Dash::Dashed { on_px, off_px } => {
            let (on, off) = (on_px as i32, off_px as i32);
            chart.draw_series(DashedLineSeries::new(points, on, off, style))?
        }
    };
    Ok(s)
}

/// The markers in the order they are numbered (from 1): by time, then label as drawn in
/// `lang`.
fn numbered(markers: &[Marker], lang: Lang) -> Vec<&Marker> {
    let mut order: Vec<&Marker> = markers.iter().collect();
    order.sort_by_cached_key(|m| (m.t_ms, m.label.text(lang)));
    order
}

fn marker_colour(m: &Marker) -> RGBColor {
    m.colour.map_or(GREY, colour)
}

/// Lays the key of `markers` under the chart, one numbered line per marker in up to three
/// columns, and returns the area left above it (all of `root` when there is no marker).
pub(super) fn marker_key<'b>(
    root: &Area<'b>,
    theme: &Theme,
    markers: &[Marker],
) -> Result<Area<'b>, Box<dyn Error>> {
    if markers.is_empty() {
        return Ok(root.clone());
    }
    let font = theme.font(theme.note);
    let lines: Vec<(String, RGBColor)> = (numbered(markers, theme.lang).into_iter().enumerate())
        .map(|(i, m)| {
            let args = [
                ("n", (i + 1).into()),
                ("t", duration(m.t_ms, theme.lang).into()),
                ("label", m.label.text(theme.lang).into()),
            ];
            (theme.lang.fmt("plot-key-entry", &args), marker_colour(m))
        })
        .collect();
    let mut widest = 0;
    for (text, _) in &lines {
        widest = widest.max(root.estimate_text_size(text, &font)?.0);
    }
    let (width, height) = root.dim_in_pixel();
    let column_w = widest + 2 * theme.note;
    let columns = ((width - 2 * theme.margin) / column_w.max(1)).clamp(1, 3) as usize;
    let rows = lines.len().div_ceil(columns);
    let row_h = theme.note + theme.note / 3;
    let key_h = rows as u32 * row_h + theme.margin;
    let (above, key) = root.split_vertically(height.saturating_sub(key_h));
    let column_w = (width - 2 * theme.margin) / columns as u32;
    for (i, (text, c)) in lines.iter().enumerate() {
        let (col, row) = ((i / rows) as u32, (i % rows) as u32);
        let at = ((theme.margin + col * column_w) as i32, (row * row_h) as i32);
        let style = font.clone().color(c).pos(Pos::new(HPos::Left, VPos::Top));
        key.draw(&Text::new(text.as_str(), at, style))?;
    }
    Ok(above)
}

/// Draws the vertical marker lines and, at their top, a tag with their numbers in the key;
/// markers closer than a tag's width share one tag. Tags sit in the first of the reserved rows
/// where they overlap no other tag (the last row when none is free: a tag is never left out).
pub(super) fn draw_markers(
    chart: &mut TimeChart<'_, '_>,
    theme: &Theme,
    markers: &[Marker],
) -> Result<(), Box<dyn Error>> {
    let (x_end, y_high) = (chart.x_range().end, chart.y_range().end);
    let plot_w = chart.plotting_area().dim_in_pixel().0 as i32;
    let order = numbered(markers, theme.lang);
    draw_marker_lines(chart, theme, &order, y_high)?;
    let px = |m: &Marker| (seconds(m.t_ms) / x_end * f64::from(plot_w)) as i32;
    let clusters = clusters(&order, px, theme.note as i32);
    let rows = super::marker_rows(markers).max(1);
    let mut taken: Vec<Vec<(i32, i32)>> = vec![Vec::new(); rows];
    let text_h = theme.note as i32;
    for cluster in clusters {
        let first = cluster[0].1;
        let text = tag_text(&cluster);
        let same = cluster.iter().all(|(_, m)| m.colour == first.colour);
        let c = if same { marker_colour(first) } else { BLACK };
        let font = theme.font(theme.note).color(&c);
        let text_w = chart.plotting_area().estimate_text_size(&text, &font)?.0 as i32;
        let x_px = px(first);
        let right = x_px + 8 + text_w > plot_w;
        let (left, end) = if right {
            (x_px - 8 - text_w, x_px)
        } else {
            (x_px, x_px + 8 + text_w)
        };
        let free = |t: &Vec<(i32, i32)>| t.iter().all(|&(l, e)| end + 6 <= l || e + 6 <= left);
        let row = (0..rows).find(|&r| free(&taken[r])).unwrap_or(rows - 1);
        taken[row].push((left, end));
        let top = 6 + row as i32 * (text_h + 8);
        let (box_l, box_r) = if right {
            (-8 - text_w, -2)
        } else {
            (2, 8 + text_w)
        };
        let background = Rectangle::new(
            [(box_l, top - 3), (box_r, top + text_h + 3)],
            WHITE.filled(),
        );
        let border = Rectangle::new(
            [(box_l, top - 3), (box_r, top + text_h + 3)],
            c.stroke_width(2),
        );
        let dx = if right { -5 } else { 5 };
        let h = if right { HPos::Right } else { HPos::Left };
        let label = Text::new(text, (dx, top), font.pos(Pos::new(h, VPos::Top)));
        let tag = EmptyElement::at((seconds(first.t_ms), y_high)) + background + border + label;
        chart.draw_series(std::iter::once(tag))?;
    }
    Ok(())
}

/// Draws every marker's dashed vertical line, the full height of the chart.
fn draw_marker_lines(
    chart: &mut TimeChart<'_, '_>,
    theme: &Theme,
    order: &[&Marker],
    y_high: f64,
) -> Result<(), Box<dyn Error>> {
    let dash = (theme.line * 3) as i32;
    for m in order {
        let x = seconds(m.t_ms);
        let line = marker_colour(m)
            .mix(0.85)
            .stroke_width(theme.line.div_ceil(2));
        chart.draw_series(DashedLineSeries::new(
            [(x, 0.0), (x, y_high)],
            dash,
            dash * 2 / 3,
            line,
        ))?;
    }
    Ok(())
}

/// The markers of `order` with their numbers, in clusters within `near` pixels of the
/// cluster's first line (`px` places a marker), so close markers share one tag.
fn clusters<'m>(
    order: &[&'m Marker],
    px: impl Fn(&Marker) -> i32,
    near: i32,
) -> Vec<Vec<(usize, &'m Marker)>> {
    let mut clusters: Vec<Vec<(usize, &Marker)>> = Vec::new();
    for (i, &m) in order.iter().enumerate() {
        match clusters.last_mut() {
            Some(c) if px(m) - px(c[0].1) < near => c.push((i + 1, m)),
            _ => clusters.push(vec![(i + 1, m)]),
        }
    }
    clusters
}

/// A cluster's tag: `3`, `3, 4` or `3–6`, the numbers of its markers in the key.
fn tag_text(cluster: &[(usize, &Marker)]) -> String {
    match cluster {
        [(a, _), _, .., (b, _)] => format!("{a}\u{2013}{b}"),
        [(a, _), (b, _)] => format!("{a}, {b}"),
        _ => cluster[0].0.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::DEFAULT_SIZE;

    #[test]
    fn curves_share_one_width_and_differ_in_pattern() {
        let strokes: Vec<Stroke> = (0..4).map(|i| curve_stroke(i, DEFAULT_SIZE)).collect();
        assert!(strokes.iter().all(|s| s.width_px == 5), "{strokes:?}");
        for (i, a) in strokes.iter().enumerate() {
            for b in &strokes[i + 1..] {
                assert_ne!(a.dash, b.dash);
            }
        }
        assert_eq!(strokes[0].dash, Dash::Solid);
    }

    #[test]
    fn markers_are_numbered_by_time_then_label() {
        let m = |t_ms, label: &str| Marker {
            t_ms,
            label: label.into(),
            colour: None,
        };
        let markers = [m(6_000, "b"), m(0, "z"), m(6_000, "a")];
        let labels: Vec<String> = numbered(&markers, Lang::En)
            .iter()
            .map(|m| m.label.text(Lang::En))
            .collect();
        assert_eq!(labels, ["z", "a", "b"]);
    }
}
