//! Charts as PNG files: the pictures a course shows on a projector.
//!
//! This module is an edge, and a pure one: it takes plain series (numbers and labels, with no
//! simulator type inside) and writes a PNG. Which numbers go in is decided by
//! [`crate::report::series`], from a trace's [`Report`](crate::report::Report), so a trace
//! recorded on a real broker plots the same way; [`chart`] (in `charts.rs`) turns those series
//! into the chart types defined here, which the drawing code takes. The arrow points one way:
//! `plot` reads the report's series, the report never imports `plot`.
//!
//! | kind | what it shows | series |
//! |---|---|---|
//! | [`Kind::Lag`] | consumer lag over time, a curve per group and variant | [`LagChart`] |
//! | [`Kind::Partitions`] | records per partition: key skew, hot partitions | [`PartitionBars`] |
//! | [`Kind::Assignments`] | who owned which partition when (Gantt) | [`AssignmentGantt`] |
//! | [`Kind::Throughput`] | produced and processed records per second | [`ThroughputChart`] |
//!
//! Text is drawn with DejaVu Sans, bundled in the binary (`DejaVuSans.ttf` beside this file,
//! licence in `FONT-LICENSE`) and registered with `plotters`' `ab_glyph` renderer: no system
//! font, no fontconfig, no freetype. Sizes are for a projector: at the default 1600x900 the
//! title is 46 px, tick labels 28 px and curves 5 px wide, and everything scales with the
//! image. Colours come from the Okabe-Ito palette, which stays distinct for colour-blind readers.
//!
//! The same series give the same PNG bytes, but tests check the series, never the bytes.

mod assignments;
mod charts;
mod label;
mod lag;
mod partitions;
mod style;
mod throughput;

use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::i18n::Lang;

pub use self::assignments::{AssignmentGantt, GanttRow, Span};
pub use self::charts::{
    MissingData, assignments_chart, bucket_ms, chart, group_lag, lag_chart, ownership_spans,
    partitions_chart, per_bucket, throughput_chart,
};
pub use self::label::{Label, Title};
pub use self::lag::LagChart;
pub use self::partitions::{BarSeries, PartitionBars};
pub use self::style::{Dash, Stroke, curve_stroke};
use self::style::{draw_markers, marker_key};
pub use self::throughput::{FlowKind, RateCurve, ThroughputChart};

/// The image size when none is given: 16:9, sharp on a 1080p projector.
pub const DEFAULT_SIZE: Size = Size {
    width: 1600,
    height: 900,
};

/// The smallest image a chart is drawn on: below it the labels no longer fit.
pub const MIN_SIZE: Size = Size {
    width: 400,
    height: 300,
};

/// The largest image a chart is drawn on (about 100 MB of pixels in memory).
pub const MAX_SIZE: Size = Size {
    width: 8000,
    height: 4500,
};

/// The kinds of chart, as the command line names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Consumer lag over time.
    Lag,
    /// Records per partition.
    Partitions,
    /// Partition ownership over time.
    Assignments,
    /// Records per second over time.
    Throughput,
}

impl Kind {
    /// Every kind, in the order the help lists them.
    pub const ALL: [Kind; 4] = [
        Kind::Lag,
        Kind::Partitions,
        Kind::Assignments,
        Kind::Throughput,
    ];

    /// The name on the command line: `lag`, `partitions`, `assignments`, `throughput`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Lag => "lag",
            Kind::Partitions => "partitions",
            Kind::Assignments => "assignments",
            Kind::Throughput => "throughput",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Kind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown plot kind {s:?}; expected one of: {}",
                    names.join(", ")
                )
            })
    }
}

/// An image size in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Default for Size {
    fn default() -> Size {
        DEFAULT_SIZE
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// A series of values over virtual time: lag samples, one variant's curve.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Curve {
    /// The legend entry.
    pub label: Label,
    /// (virtual time in ms, value), in time order.
    pub points: Vec<(u64, u64)>,
}

/// A moment worth a vertical line: a rebalance, a crash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marker {
    /// Virtual time in ms.
    pub t_ms: u64,
    /// The text beside the line, e.g. `rebalance g` or `crash consumer/g/1`.
    pub label: Label,
    /// Draw it in the colour of this curve (or series), so the marker reads with its variant;
    /// `None` draws it in grey.
    pub colour: Option<usize>,
}

/// One chart, ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub enum Chart {
    /// Consumer lag over time.
    Lag(LagChart),
    /// Records per partition.
    Partitions(PartitionBars),
    /// Partition ownership over time.
    Assignments(AssignmentGantt),
    /// Records per second over time.
    Throughput(ThroughputChart),
}

impl Chart {
    /// Which kind of chart this is.
    pub fn kind(&self) -> Kind {
        match self {
            Chart::Lag(_) => Kind::Lag,
            Chart::Partitions(_) => Kind::Partitions,
            Chart::Assignments(_) => Kind::Assignments,
            Chart::Throughput(_) => Kind::Throughput,
        }
    }

    /// The title drawn above the chart.
    pub fn title(&self) -> &Title {
        match self {
            Chart::Lag(c) => &c.title,
            Chart::Partitions(c) => &c.title,
            Chart::Assignments(c) => &c.title,
            Chart::Throughput(c) => &c.title,
        }
    }

    /// Draws the chart at `size` and writes it to `path`, which must end in `.png`.
    pub fn write_png(&self, path: &Path, size: Size) -> Result<(), PlotError> {
        self.write_png_in(path, size, Lang::En)
    }

    /// [`Chart::write_png`] with titles, axes, legends and markers in `lang`.
    pub fn write_png_in(&self, path: &Path, size: Size, lang: Lang) -> Result<(), PlotError> {
        let is_png = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"));
        if !is_png {
            return Err(PlotError::NotPng(path.to_path_buf()));
        }
        let Size {
            width: w,
            height: h,
        } = size;
        if w < MIN_SIZE.width || h < MIN_SIZE.height || w > MAX_SIZE.width || h > MAX_SIZE.height {
            return Err(PlotError::Size(size));
        }
        register_font();
        let theme = Theme {
            lang,
            ..Theme::for_size(size)
        };
        let drawn = (|| {
            let root = BitMapBackend::new(path, (w, h)).into_drawing_area();
            root.fill(&WHITE)?;
            match self {
                Chart::Lag(c) => lag::draw(c, &root, &theme)?,
                Chart::Partitions(c) => partitions::draw(c, &root, &theme)?,
                Chart::Assignments(c) => assignments::draw(c, &root, &theme)?,
                Chart::Throughput(c) => throughput::draw(c, &root, &theme)?,
            }
            root.present()?;
            Ok::<(), Box<dyn Error>>(())
        })();
        drawn.map_err(|e| PlotError::Draw {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }
}

/// A chart that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The output file does not end in `.png`.
    #[error("{}: plots are written as PNG; give a file name ending in .png", .0.display())]
    NotPng(PathBuf),
    /// The size is outside [`MIN_SIZE`]..=[`MAX_SIZE`].
    #[error(
        "a plot of {0} pixels cannot be drawn: the size must be within {MIN_SIZE} and {MAX_SIZE}"
    )]
    Size(Size),
    /// Drawing or writing the file failed.
    #[error("writing the plot {}: {message}", path.display())]
    Draw {
        /// The output file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

/// The bundled font: DejaVu Sans 2.37 (see `FONT-LICENSE` beside this file).
static FONT: &[u8] = include_bytes!("DejaVuSans.ttf");

/// The family name every chart asks for; the bundled font is registered under it.
const FAMILY: &str = "sans-serif";

/// Registers the bundled font with `plotters` once per process, before any text is drawn.
/// Without it `ab_glyph` has no font at all and every chart fails with `FontUnavailable`.
fn register_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        if plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_err() {
            panic!("the bundled DejaVuSans.ttf is not a valid font");
        }
    });
}

/// The Okabe-Ito palette (Okabe and Ito, "Color Universal Design", 2002), ordered so the first
/// colours contrast best on a white background; yellow, the faintest, comes last.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];

/// The colour of curve, series or member `i` (the palette repeats after eight).
fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Black or white, whichever reads better on `background`.
fn text_on(background: RGBColor) -> &'static RGBColor {
    let RGBColor(r, g, b) = background;
    let luma = 299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b);
    if luma > 150_000 { &BLACK } else { &WHITE }
}

/// Markers with no curve of their own.
const GREY: RGBColor = RGBColor(110, 110, 110);

/// Sizes in pixels for one image size, scaled from the 1600x900 design.
#[derive(Clone, Copy, Debug)]
struct Theme {
    title: u32,
    axis: u32,
    tick: u32,
    legend: u32,
    note: u32,
    line: u32,
    margin: u32,
    x_label_area: u32,
    y_label_area: u32,
    /// The language of the words drawn.
    lang: Lang,
}

impl Theme {
    fn for_size(size: Size) -> Theme {
        let scale = (f64::from(size.width) / 1600.0).min(f64::from(size.height) / 900.0);
        let px = |design: f64, least: u32| ((design * scale).round() as u32).max(least);
        Theme {
            title: px(46.0, 16),
            axis: px(34.0, 13),
            tick: px(28.0, 11),
            legend: px(30.0, 11),
            note: px(24.0, 10),
            line: px(5.0, 2),
            margin: px(28.0, 8),
            x_label_area: px(100.0, 36),
            y_label_area: px(150.0, 50),
            lang: Lang::En,
        }
    }

    fn font(self, size: u32) -> TextStyle<'static> {
        (FAMILY, size).into_font().color(&BLACK)
    }
}

/// A chart with numbers on both axes (virtual time in seconds on x, except for the bars),
/// drawn on a bitmap; `'a` borrows the drawing area, `'b` is the bitmap's own lifetime.
type TimeChart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A drawing area of the bitmap, in pixels from its top left corner.
type Area<'b> = DrawingArea<BitMapBackend<'b>, Shift>;

/// What a legend entry shows before its label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Swatch {
    /// A solid line: a curve.
    Line,
    /// A dashed line: a processed curve, an even share, a marker.
    Dashes,
    /// A filled block: bars, Gantt spans.
    Block,
    /// A curve's own stroke (solid or its dash pattern): the lag curves.
    Stroke(Stroke),
}

/// One legend entry.
#[derive(Clone, Debug)]
struct LegendEntry {
    label: String,
    colour: RGBColor,
    swatch: Swatch,
}

impl LegendEntry {
    fn new(label: impl Into<String>, colour: RGBColor, swatch: Swatch) -> LegendEntry {
        LegendEntry {
            label: label.into(),
            colour,
            swatch,
        }
    }
}

/// Lays out an image: the title on top (shrunk until it fits the width), the legend in a panel
/// on the right where it never covers data; returns the area left for the chart.
fn frame<'b>(
    root: &Area<'b>,
    theme: &Theme,
    title: &str,
    legend: &[LegendEntry],
) -> Result<Area<'b>, Box<dyn Error>> {
    let width = root.dim_in_pixel().0;
    let mut size = theme.title;
    while size > 12
        && root.estimate_text_size(title, &theme.font(size))?.0 + 2 * theme.margin > width
    {
        size -= 1;
    }
    let body = root
        .margin(theme.margin / 2, 0, 0, 0)
        .titled(title, theme.font(size))?;
    if legend.is_empty() {
        return Ok(body);
    }
    let font = theme
        .font(theme.legend)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let mut label_w = 0;
    for e in legend {
        label_w = label_w.max(body.estimate_text_size(&e.label, &font)?.0);
    }
    let swatch_w = theme.legend * 2;
    let gap = theme.legend / 2;
    let panel_w = (swatch_w + gap + label_w + theme.margin).min(width * 2 / 5);
    let (chart, panel) = body.split_horizontally(width - panel_w);
    let row = theme.legend * 17 / 10;
    for (i, e) in legend.iter().enumerate() {
        let y = (theme.margin + i as u32 * row + row / 2) as i32;
        let (x1, half) = (swatch_w as i32, (theme.legend / 2) as i32);
        let line = vec![(0, y), (x1, y)];
        match e.swatch {
            Swatch::Line => {
                panel.draw(&PathElement::new(line, e.colour.stroke_width(theme.line)))?
            }
            Swatch::Dashes => {
                let dash = (swatch_w / 3) as i32;
                let style = e.colour.stroke_width(theme.line.div_ceil(2) + 1);
                panel.draw(&DashedPathElement::new(line, dash, dash / 2, style))?
            }
            Swatch::Block => panel.draw(&Rectangle::new(
                [(0, y - half), (x1, y + half)],
                e.colour.filled(),
            ))?,
            Swatch::Stroke(stroke) => {
                let style = e.colour.stroke_width(stroke.width_px);
                match stroke.dash {
                    Dash::Solid => panel.draw(&PathElement::new(line, style))?,
                    Dash::Dashed { on_px, off_px } => {
                        let (on, off) = (on_px as i32, off_px as i32);
                        panel.draw(&DashedPathElement::new(line, on, off, style))?
                    }
                }
            }
        }
        let at = ((swatch_w + gap) as i32, y);
        panel.draw(&Text::new(e.label.as_str(), at, font.clone()))?;
    }
    Ok(chart)
}

/// The top of a y axis whose data reach `top`, so that `head_px` pixels stay free above the
/// data (for marker labels, or the counts above bars).
fn y_top(area: &Area<'_>, theme: &Theme, top: f64, head_px: u32) -> f64 {
    let plot_h = area
        .dim_in_pixel()
        .1
        .saturating_sub(theme.x_label_area + 2 * theme.margin);
    let plot_h = f64::from(plot_h.max(head_px * 2));
    top * plot_h / (plot_h - f64::from(head_px))
}

/// The most rows of marker tags at the top of a time chart; beyond, tags may overlap.
const MARKER_ROWS: usize = 2;

/// The rows of marker tags a chart with `markers` reserves: one per marker, up to
/// [`MARKER_ROWS`].
fn marker_rows(markers: &[Marker]) -> usize {
    markers.len().min(MARKER_ROWS)
}

/// The pixels [`draw_markers`] needs above the data.
fn marker_head(theme: &Theme, markers: &[Marker]) -> u32 {
    match marker_rows(markers) {
        0 => theme.note,
        rows => rows as u32 * (theme.note + 6) + 10,
    }
}

/// The axes every kind shares: margins, label areas, 0 to `x_high` on x (seconds, except for
/// the partition bars) and 0 to `y_high` on y.
fn axes<'a, 'b>(
    area: &'a Area<'b>,
    theme: &Theme,
    x_high: f64,
    y_high: f64,
) -> Result<TimeChart<'a, 'b>, Box<dyn Error>> {
    let chart = ChartBuilder::on(area)
        .margin(theme.margin)
        .x_label_area_size(theme.x_label_area)
        .y_label_area_size(theme.y_label_area)
        .build_cartesian_2d(0.0..x_high, 0.0..y_high)?;
    Ok(chart)
}

/// [`axes`] with virtual time on x, from 0 to `end_ms`.
fn time_axes<'a, 'b>(
    area: &'a Area<'b>,
    theme: &Theme,
    end_ms: u64,
    y_high: f64,
) -> Result<TimeChart<'a, 'b>, Box<dyn Error>> {
    axes(area, theme, seconds(end_ms.max(1)), y_high)
}

/// The grid, the axes, their numbers and their descriptions; `numbers` says which axes get
/// numbers (the partition bars and the Gantt rows write their own names instead).
fn draw_mesh(
    chart: &mut TimeChart<'_, '_>,
    theme: &Theme,
    (x_desc, y_desc): (&str, &str),
    numbers: (bool, bool),
) -> Result<(), Box<dyn Error>> {
    let format = |v: &f64| tick(*v);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style(theme.font(theme.axis))
        .label_style(theme.font(theme.tick))
        .x_label_formatter(&format)
        .y_label_formatter(&format)
        .max_light_lines(2)
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .axis_style(BLACK.stroke_width(2));
    if !numbers.0 {
        mesh.disable_x_mesh().x_labels(0);
    }
    if !numbers.1 {
        mesh.disable_y_mesh().y_labels(0);
    }
    mesh.draw()?;
    Ok(())
}

/// Virtual milliseconds as the seconds on the time axis.
fn seconds(t_ms: u64) -> f64 {
    t_ms as f64 / 1000.0
}

/// A duration for a label: `250 ms`, `1 s`, `1.5 s`; in French with a decimal comma (`1,5 s`),
/// as the page writes it.
fn duration(ms: u64, lang: Lang) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        let seconds = tick(seconds(ms));
        match lang {
            Lang::En => format!("{seconds} s"),
            Lang::Fr => format!("{} s", seconds.replace('.', ",")),
        }
    }
}

/// A tick label: at most three decimals, no trailing zeros (`0.25`, `12`).
fn tick(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The grid and axis lines every chart uses.
const GRID_LIGHT: RGBColor = RGBColor(236, 236, 236);
const GRID_BOLD: RGBColor = RGBColor(200, 200, 200);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_font_registers() {
        register_font();
        register_font();
        let (w, h) = FontDesc::new(FontFamily::SansSerif, 20.0, FontStyle::Normal)
            .box_size("lag (records)")
            .unwrap();
        assert!(w > 50 && h > 10, "{w}x{h}");
    }

    #[test]
    fn kinds_parse_by_name() {
        for k in Kind::ALL {
            assert_eq!(k.name().parse::<Kind>(), Ok(k));
        }
        let err = "latency".parse::<Kind>().unwrap_err();
        assert!(
            err.contains("lag, partitions, assignments, throughput"),
            "{err}"
        );
    }

    #[test]
    fn ticks_and_text_colours() {
        assert_eq!(tick(12.0), "12");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(1.5000001), "1.5");
        assert_eq!(text_on(colour(0)), &WHITE);
        assert_eq!(text_on(colour(7)), &BLACK);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(10, Lang::En), "10 ms");
        assert_eq!(duration(1_000, Lang::En), "1 s");
        assert_eq!(duration(1_500, Lang::En), "1.5 s");
        assert_eq!(duration(6_005, Lang::Fr), "6,005 s");
    }

    #[test]
    fn sizes_scale_with_the_image() {
        let big = Theme::for_size(DEFAULT_SIZE);
        assert_eq!((big.title, big.tick, big.line), (46, 28, 5));
        let small = Theme::for_size(MIN_SIZE);
        assert!(small.title < big.title && small.tick >= 11);
    }
}
