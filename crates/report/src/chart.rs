//! The kinds of chart the book needs, drawn with plotters into SVG strings.
//!
//! - [`BarChart`]: categories along x, one coloured bar per series in each category, optional
//!   error bars and horizontal reference lines (a limit, a baseline).
//! - [`LineChart`]: numeric x and y, one line per series, optional markers and error bars.
//! - [`DotChart`]: rows of categories, a log value axis along x, one dot per series and row
//!   with a range line, and a column beyond the axis for values that never arrived.
//!
//! Both take coordinates already in *plotting space*: a logarithmic axis is drawn as a linear
//! axis over `log10(value)` with explicit ticks ([`Axis::log`]), so every tick is one we chose
//! and labelled ourselves (plotters' own log axis picks its ticks, which we want fixed).
//!
//! # Theme
//!
//! The book has light and dark themes and the SVGs are shown as images, so they cannot inherit
//! the page's text colour. They use a transparent background, text and axes in a neutral grey
//! ([`TEXT`]) that reads on white and on near-black, and mid-tone series colours (the
//! Okabe–Ito palette without its yellow, which vanishes on white). The same configuration has
//! the same colour in every chart ([`target_color`]).

use anyhow::{Result, anyhow};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Chart size in pixels: a little wider than an mdBook content column (the image scales down).
pub const SIZE: (u32, u32) = (900, 460);

/// The legend's column, right of the plot: a legend inside the plot hides data whichever
/// corner it takes, and an opaque legend box cannot suit both themes.
const LEGEND_WIDTH: u32 = 220;

/// Text, axes, error bars and reference lines: a grey readable on light and dark backgrounds.
pub const TEXT: RGBColor = RGBColor(0x88, 0x88, 0x88);

/// Grid lines: the text grey, faint.
const GRID: RGBAColor = RGBAColor(0x88, 0x88, 0x88, 0.25);

/// Font family: the browser picks its sans-serif (SVG text is drawn by the viewer, so no font
/// is embedded and none is needed to render).
const FONT: &str = "sans-serif";

/// Series colours, mid-tone (Okabe–Ito, with a lighter blue and an olive in place of the dark
/// blue and the yellow).
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x3D, 0x8F, 0xD6), // blue
    RGBColor(0xA6, 0xA0, 0x2A), // olive
];

/// The colour of a configuration or target, the same in every chart: grey for the no-auth
/// baseline, orange for sessions, one colour per JWT algorithm. Names not listed take a palette
/// colour by `fallback_index`.
pub fn target_color(name: &str, fallback_index: usize) -> RGBColor {
    match name {
        "healthz" => TEXT,
        "session" => PALETTE[0],
        "jwt-HS256" => PALETTE[1],
        "jwt-ES256" => PALETTE[2],
        "jwt-EdDSA" => PALETTE[3],
        "jwt-RS256" => PALETTE[4],
        "jwt-PS256" => PALETTE[5],
        "jwt-ES384" => PALETTE[6],
        _ => PALETTE[fallback_index % PALETTE.len()],
    }
}

fn font(size: f64) -> TextStyle<'static> {
    (FONT, size).into_font().color(&TEXT)
}

/// One axis in plotting space: its range, its labelled ticks, and its description (with unit).
#[derive(Debug, Clone)]
pub struct Axis {
    /// Description, with the unit: `latency (µs)`.
    pub desc: String,
    /// Range in plotting space.
    pub range: (f64, f64),
    /// Ticks: position in plotting space, label.
    pub ticks: Vec<(f64, String)>,
}

/// `1, 2, 5, 10, 20, 50 …`: the "nice" numbers ticks and log ranges snap to.
fn nice_steps() -> impl Iterator<Item = f64> {
    (-3..=9).flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e)))
}

impl Axis {
    /// A linear axis from 0 (or `lo`, if negative) to a little above `hi`, with about five
    /// ticks at nice values.
    pub fn linear(desc: impl Into<String>, lo: f64, hi: f64) -> Self {
        let lo = lo.min(0.0);
        let hi = if hi.is_finite() && hi > lo {
            hi
        } else {
            lo + 1.0
        };
        let step = nice_steps()
            .find(|s| (hi - lo) / s <= 6.0)
            .unwrap_or(hi - lo);
        let top = (hi * 1.08 / step).ceil() * step;
        let mut ticks = Vec::new();
        let mut i = (lo / step).ceil() as i64;
        while (i as f64) * step <= top + step * 1e-9 {
            let v = i as f64 * step;
            ticks.push((v, crate::format::short(v)));
            i += 1;
        }
        Self {
            desc: desc.into(),
            range: (lo, top),
            ticks,
        }
    }

    /// A log axis covering `[lo, hi]` (both > 0), snapped outwards to 1-2-5 values, with ticks
    /// at every 1-2-5 value inside (every power of ten only, when that would be more than
    /// eight). Positions are `log10(value)`: map data with [`Axis::to_log`].
    pub fn log(desc: impl Into<String>, lo: f64, hi: f64) -> Self {
        let lo = if lo > 0.0 && lo.is_finite() { lo } else { 1.0 };
        let hi = if hi > lo && hi.is_finite() {
            hi
        } else {
            lo * 10.0
        };
        let bottom = nice_steps()
            .filter(|s| *s <= lo * (1.0 + 1e-9))
            .last()
            .unwrap_or(lo);
        let top = nice_steps().find(|s| *s >= hi * (1.0 - 1e-9)).unwrap_or(hi);
        let mut values: Vec<f64> = nice_steps()
            .filter(|s| *s >= bottom * (1.0 - 1e-9) && *s <= top * (1.0 + 1e-9))
            .collect();
        if values.len() > 8 {
            values.retain(|v| (v.log10() - v.log10().round()).abs() < 1e-9);
        }
        Self {
            desc: desc.into(),
            range: (bottom.log10(), top.log10()),
            ticks: values
                .into_iter()
                .map(|v| (v.log10(), crate::format::short(v)))
                .collect(),
        }
    }

    /// A value in the plotting space of a [`log`](Self::log) axis.
    pub fn to_log(v: f64) -> f64 {
        v.max(f64::MIN_POSITIVE).log10()
    }

    fn label_of(&self, v: f64) -> String {
        self.ticks
            .iter()
            .min_by(|a, b| (a.0 - v).abs().total_cmp(&(b.0 - v).abs()))
            .map(|t| t.1.clone())
            .unwrap_or_default()
    }
}

/// A linear coordinate whose ticks are exactly the ones given (plotters' `WithKeyPoints` does
/// the same but cannot take a label formatter on an `f64` axis).
#[derive(Debug, Clone)]
struct Ticked {
    range: (f64, f64),
    ticks: Vec<f64>,
}

impl Ticked {
    fn of(axis: &Axis) -> Self {
        Self {
            range: axis.range,
            ticks: axis.ticks.iter().map(|t| t.0).collect(),
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let (lo, hi) = self.range;
        if hi == lo {
            return (limit.0 + limit.1) / 2;
        }
        let share = (v - lo) / (hi - lo);
        let pixels = f64::from(limit.1 - limit.0) * share;
        limit.0 + pixels.round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.0..self.range.1
    }
}

/// A bar with its optional error range, in data units.
#[derive(Debug, Clone, Copy)]
pub struct Bar {
    /// Height.
    pub value: f64,
    /// Error range (min–max, or p10–p90), if any.
    pub range: Option<(f64, f64)>,
}

/// One legend entry of a bar chart: a colour and one optional bar per category.
#[derive(Debug, Clone)]
pub struct BarSeries {
    /// Legend text.
    pub name: String,
    /// Fill colour.
    pub color: RGBColor,
    /// One entry per category; `None` leaves no bar (the others close up).
    pub bars: Vec<Option<Bar>>,
}

/// A dashed horizontal line across the chart, labelled at its right end.
#[derive(Debug, Clone)]
pub struct RefLine {
    /// Height, data units.
    pub value: f64,
    /// Label drawn above the line.
    pub label: String,
}

/// Categories along x, bars per series.
#[derive(Debug, Clone)]
pub struct BarChart {
    /// Title above the chart.
    pub title: String,
    /// What the categories are (x description).
    pub x_desc: String,
    /// Category labels.
    pub categories: Vec<String>,
    /// Value axis description, with unit.
    pub y_desc: String,
    /// Logarithmic value axis.
    pub log: bool,
    /// The series.
    pub series: Vec<BarSeries>,
    /// Legend text of the error bars (`min–max of 3 runs`); no entry if `None`.
    pub error_label: Option<String>,
    /// Reference lines.
    pub lines: Vec<RefLine>,
    /// Write each bar's value above it, formatted with this function.
    pub value_labels: Option<fn(f64) -> String>,
}

/// Fraction of a category's width the bars fill.
const GROUP_WIDTH: f64 = 0.8;

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("drawing a chart: {e}")
}

/// A blank chart with a title and a message, for a figure the run has no data for.
pub fn empty(title: &str, message: &str) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.draw(&Text::new(
            title.to_owned(),
            (SIZE.0 as i32 / 2, 20),
            font(20.0).pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(err)?;
        root.draw(&Text::new(
            message.to_owned(),
            (SIZE.0 as i32 / 2, SIZE.1 as i32 / 2),
            font(15.0).pos(Pos::new(HPos::Center, VPos::Center)),
        ))
        .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The mark before a legend entry.
#[derive(Debug, Clone, Copy)]
enum Swatch {
    /// A filled square: a bar series.
    Box(RGBColor),
    /// A line, solid or dashed.
    Line(RGBColor, bool),
    /// A vertical grey stroke: the error bars.
    Whisker,
    /// A filled dot: a dot series.
    Dot(RGBColor),
    /// A grey dot on a line with a tick: a dot chart's p50, range and extra tick.
    DotRange,
    /// A grey triangle pointing right: a dot chart's "beyond the axis".
    Beyond,
}

/// Height of one legend row, pixels.
const LEGEND_ROW: i32 = 20;

/// Draws the legend in the column right of the plot, on the root area (the plotting area
/// clamps everything to its own bounds).
fn legend(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    chart: &ChartContext<'_, SVGBackend<'_>, Cartesian2d<Ticked, Ticked>>,
    entries: &[(Swatch, String)],
) -> Result<()> {
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let x = xs.end + 16;
    for (i, (swatch, label)) in entries.iter().enumerate() {
        let y = ys.start + 8 + i as i32 * LEGEND_ROW;
        match *swatch {
            Swatch::Box(c) => root.draw(&Rectangle::new([(x, y - 6), (x + 14, y + 6)], c.filled())),
            Swatch::Line(c, false) => root.draw(&PathElement::new(
                vec![(x, y), (x + 20, y)],
                c.stroke_width(2),
            )),
            Swatch::Line(c, true) => root.draw(&DashedPathElement::new(
                vec![(x, y), (x + 22, y)],
                5,
                3,
                c.stroke_width(2),
            )),
            Swatch::Whisker => root.draw(&PathElement::new(
                vec![(x + 7, y - 7), (x + 7, y + 7)],
                TEXT.stroke_width(2),
            )),
            Swatch::Dot(c) => root.draw(&Circle::new((x + 7, y), 5, c.filled())),
            Swatch::DotRange => {
                root.draw(&PathElement::new(
                    vec![(x, y), (x + 22, y)],
                    TEXT.stroke_width(2),
                ))
                .map_err(err)?;
                root.draw(&PathElement::new(
                    vec![(x + 15, y - 5), (x + 15, y + 5)],
                    TEXT.stroke_width(2),
                ))
                .map_err(err)?;
                root.draw(&Circle::new((x + 3, y), 5, TEXT.filled()))
            }
            Swatch::Beyond => root.draw(&Polygon::new(
                vec![(x + 1, y - 6), (x + 13, y), (x + 1, y + 6)],
                TEXT.filled(),
            )),
        }
        .map_err(err)?;
        root.draw(&Text::new(
            label.clone(),
            (x + 28, y),
            font(13.0).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(err)?;
    }
    Ok(())
}

impl BarChart {
    /// Draws the chart into an SVG string.
    pub fn svg(&self) -> Result<String> {
        let (y_axis, map): (Axis, fn(f64) -> f64) = {
            let values = self
                .series
                .iter()
                .flat_map(|s| s.bars.iter().flatten())
                .flat_map(|b| [Some(b.value), b.range.map(|r| r.1), b.range.map(|r| r.0)])
                .flatten()
                .chain(self.lines.iter().map(|l| l.value))
                .filter(|v| v.is_finite());
            if self.log {
                let (lo, hi) = values
                    .filter(|v| *v > 0.0)
                    .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
                        (lo.min(v), hi.max(v))
                    });
                (Axis::log(&self.y_desc, lo, hi), Axis::to_log)
            } else {
                let hi = values.fold(0.0f64, f64::max);
                (Axis::linear(&self.y_desc, 0.0, hi), |v| v)
            }
        };
        let n = self.categories.len().max(1);
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            let x_range = Ticked {
                range: (-0.5, n as f64 - 0.5),
                ticks: (0..n).map(|i| i as f64).collect(),
            };
            let y_range = Ticked::of(&y_axis);
            let mut chart = ChartBuilder::on(&root)
                .caption(&self.title, font(20.0))
                .margin(12)
                .margin_right(LEGEND_WIDTH)
                .x_label_area_size(48)
                .y_label_area_size(72)
                .build_cartesian_2d(x_range, y_range)
                .map_err(err)?;
            let x_label = |v: &f64| {
                let i = v.round();
                if i >= 0.0 && (i as usize) < self.categories.len() {
                    self.categories[i as usize].clone()
                } else {
                    String::new()
                }
            };
            let y_label = |v: &f64| y_axis.label_of(*v);
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_desc(self.x_desc.as_str())
                .y_desc(y_axis.desc.as_str())
                .x_label_formatter(&x_label)
                .y_label_formatter(&y_label)
                .axis_style(TEXT)
                .bold_line_style(GRID)
                .light_line_style(TRANSPARENT)
                .label_style(font(13.0))
                .axis_desc_style(font(14.0))
                .draw()
                .map_err(err)?;

            let mut entries = Vec::new();
            let bottom = y_axis.range.0;
            // Per category, the series that have a bar there, so the bars of a category close up.
            let present: Vec<Vec<usize>> = (0..self.categories.len())
                .map(|c| {
                    (0..self.series.len())
                        .filter(|s| matches!(self.series[*s].bars.get(c), Some(Some(_))))
                        .collect()
                })
                .collect();
            let slots = present.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let width = GROUP_WIDTH / slots as f64;
            let place = |c: usize, s: usize| -> f64 {
                let k = present[c].iter().position(|x| *x == s).unwrap_or(0);
                let m = present[c].len() as f64;
                c as f64 - width * m / 2.0 + width * (k as f64 + 0.5)
            };
            for (si, series) in self.series.iter().enumerate() {
                let rects: Vec<_> = series
                    .bars
                    .iter()
                    .enumerate()
                    .filter_map(|(c, b)| b.map(|b| (c, b)))
                    .map(|(c, b)| {
                        let x = place(c, si);
                        let top = map(b.value).max(bottom);
                        Rectangle::new(
                            [(x - width * 0.46, bottom), (x + width * 0.46, top)],
                            series.color.filled(),
                        )
                    })
                    .collect();
                chart.draw_series(rects).map_err(err)?;
                entries.push((Swatch::Box(series.color), series.name.clone()));
            }
            // Error bars over the bars, in the text grey.
            let mut whiskers = Vec::new();
            for (si, series) in self.series.iter().enumerate() {
                for (c, b) in series.bars.iter().enumerate() {
                    let Some(Bar {
                        range: Some((lo, hi)),
                        ..
                    }) = b
                    else {
                        continue;
                    };
                    let x = place(c, si);
                    let (lo, hi) = (map(*lo).max(bottom), map(*hi).max(bottom));
                    let cap = width * 0.15;
                    whiskers.push(PathElement::new(
                        vec![(x, lo), (x, hi)],
                        TEXT.stroke_width(2),
                    ));
                    whiskers.push(PathElement::new(
                        vec![(x - cap, lo), (x + cap, lo)],
                        TEXT.stroke_width(2),
                    ));
                    whiskers.push(PathElement::new(
                        vec![(x - cap, hi), (x + cap, hi)],
                        TEXT.stroke_width(2),
                    ));
                }
            }
            chart.draw_series(whiskers).map_err(err)?;
            if let Some(label) = &self.error_label {
                entries.push((Swatch::Whisker, label.clone()));
            }
            if let Some(f) = self.value_labels {
                let mut labels = Vec::new();
                for (si, series) in self.series.iter().enumerate() {
                    for (c, b) in series.bars.iter().enumerate() {
                        if let Some(b) = b {
                            let top = b.range.map_or(b.value, |r| r.1.max(b.value));
                            labels.push(
                                EmptyElement::at((place(c, si), map(top).max(bottom)))
                                    + Text::new(
                                        f(b.value),
                                        (0, -3),
                                        font(11.0).pos(Pos::new(HPos::Center, VPos::Bottom)),
                                    ),
                            );
                        }
                    }
                }
                chart.draw_series(labels).map_err(err)?;
            }
            for line in &self.lines {
                let y = map(line.value);
                let left = -0.5;
                let right = n as f64 - 0.5;
                chart
                    .draw_series(std::iter::once(DashedPathElement::new(
                        vec![(left, y), (right, y)],
                        6,
                        4,
                        TEXT.stroke_width(2),
                    )))
                    .map_err(err)?;
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((right, y))
                            + Text::new(
                                line.label.clone(),
                                (-4, -4),
                                font(12.0).pos(Pos::new(HPos::Right, VPos::Bottom)),
                            ),
                    ))
                    .map_err(err)?;
            }
            legend(&root, &chart, &entries)?;
            root.present().map_err(err)?;
        }
        Ok(svg)
    }
}

/// One line of a [`LineChart`], in plotting space.
#[derive(Debug, Clone)]
pub struct Line {
    /// Legend text.
    pub name: String,
    /// Colour.
    pub color: RGBColor,
    /// Dashed instead of solid.
    pub dashed: bool,
    /// Draw a marker at every point (for lines with few points).
    pub markers: bool,
    /// The points.
    pub points: Vec<(f64, f64)>,
    /// Error bars: x, low, high.
    pub errors: Vec<(f64, f64, f64)>,
}

/// Numeric axes, one line per series.
#[derive(Debug, Clone)]
pub struct LineChart {
    /// Title above the chart.
    pub title: String,
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis.
    pub y: Axis,
    /// The lines.
    pub lines: Vec<Line>,
    /// Legend text of the error bars; no entry if `None`.
    pub error_label: Option<String>,
}

impl LineChart {
    /// Draws the chart into an SVG string.
    pub fn svg(&self) -> Result<String> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            let x_range = Ticked::of(&self.x);
            let y_range = Ticked::of(&self.y);
            let mut chart = ChartBuilder::on(&root)
                .caption(&self.title, font(20.0))
                .margin(12)
                .margin_right(LEGEND_WIDTH)
                .x_label_area_size(48)
                .y_label_area_size(72)
                .build_cartesian_2d(x_range, y_range)
                .map_err(err)?;
            let x_label = |v: &f64| self.x.label_of(*v);
            let y_label = |v: &f64| self.y.label_of(*v);
            chart
                .configure_mesh()
                .x_desc(self.x.desc.as_str())
                .y_desc(self.y.desc.as_str())
                .x_label_formatter(&x_label)
                .y_label_formatter(&y_label)
                .axis_style(TEXT)
                .bold_line_style(GRID)
                .light_line_style(TRANSPARENT)
                .label_style(font(13.0))
                .axis_desc_style(font(14.0))
                .draw()
                .map_err(err)?;
            let mut entries = Vec::new();
            for line in &self.lines {
                let style = line.color.stroke_width(2);
                let color = line.color;
                if line.dashed {
                    chart.draw_series(DashedLineSeries::new(
                        line.points.iter().copied(),
                        8,
                        5,
                        style,
                    ))
                } else {
                    chart.draw_series(LineSeries::new(line.points.iter().copied(), style))
                }
                .map_err(err)?;
                entries.push((Swatch::Line(color, line.dashed), line.name.clone()));
                if line.markers {
                    chart
                        .draw_series(
                            line.points
                                .iter()
                                .map(|p| Circle::new(*p, 4, color.filled())),
                        )
                        .map_err(err)?;
                }
                let mut whiskers = Vec::new();
                for (x, lo, hi) in &line.errors {
                    whiskers.push(PathElement::new(vec![(*x, *lo), (*x, *hi)], style));
                }
                chart.draw_series(whiskers).map_err(err)?;
            }
            if let Some(label) = &self.error_label {
                entries.push((Swatch::Whisker, label.clone()));
            }
            legend(&root, &chart, &entries)?;
            root.present().map_err(err)?;
        }
        Ok(svg)
    }
}

/// One mark of a [`DotChart`] series in one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mark {
    /// A measured value (data units): a dot, a line over `range`, a short tick at `tick`.
    At {
        /// The dot (a median).
        value: f64,
        /// The line (e.g. median to maximum).
        range: Option<(f64, f64)>,
        /// A tick on the line (e.g. the 99th percentile).
        tick: Option<f64>,
    },
    /// Beyond the axis (the value never arrived within what was watched): a triangle in the
    /// column right of the axis, under its label.
    Beyond,
}

/// One legend entry of a dot chart: a colour and the marks per row.
#[derive(Debug, Clone)]
pub struct DotSeries {
    /// Legend text.
    pub name: String,
    /// Colour.
    pub color: RGBColor,
    /// Per row (in [`DotChart::rows`] order), its marks; an empty list draws nothing there.
    pub marks: Vec<Vec<Mark>>,
}

/// Rows of categories top to bottom, a logarithmic value axis along x, one dot per series and
/// row (series offset vertically within a row), and a labelled column right of the axis for
/// the [`Mark::Beyond`] marks.
#[derive(Debug, Clone)]
pub struct DotChart {
    /// Title above the chart.
    pub title: String,
    /// Row labels, top to bottom.
    pub rows: Vec<String>,
    /// What the rows are.
    pub y_desc: String,
    /// Value axis description, with unit.
    pub x_desc: String,
    /// The value axis starts at `lo` snapped down to a 1-2-5 value (data units, > 0) ...
    pub lo: f64,
    /// ... and ends at `hi` exactly, where the beyond column starts: the largest value that can
    /// be measured (a larger one is [`Mark::Beyond`]); larger [`Mark::At`] values are clamped.
    pub hi: f64,
    /// Tick label of the column beyond the axis (`until exp`).
    pub beyond_label: String,
    /// The series.
    pub series: Vec<DotSeries>,
    /// Legend text of the dot, line and tick; no entry if `None`.
    pub range_label: Option<String>,
    /// Legend text of the beyond marker; no entry if `None`.
    pub beyond_legend: Option<String>,
}

/// Width of the beyond column, decades of the log axis.
const BEYOND_WIDTH: f64 = 1.0;

impl DotChart {
    /// Draws the chart into an SVG string.
    pub fn svg(&self) -> Result<String> {
        let mut axis = Axis::log(&self.x_desc, self.lo, self.hi);
        // The axis ends at `hi` exactly (where the beyond column starts), labelled there; ticks
        // too close to that label to be read are dropped.
        let top = Axis::to_log(self.hi).max(axis.range.0 + 0.5);
        axis.range.1 = top;
        axis.ticks.retain(|t| t.0 < top - 0.3);
        axis.ticks
            .push((top, crate::format::short(10f64.powf(top))));
        let beyond = top + BEYOND_WIDTH / 2.0;
        let mut ticks = axis.ticks.clone();
        ticks.push((beyond, self.beyond_label.clone()));
        let x_axis = Axis {
            desc: axis.desc.clone(),
            range: (axis.range.0, top + BEYOND_WIDTH),
            ticks,
        };
        let n = self.rows.len().max(1);
        let y_axis = Axis {
            desc: self.y_desc.clone(),
            range: (-0.5, n as f64 - 0.5),
            ticks: self
                .rows
                .iter()
                .enumerate()
                .map(|(i, r)| ((n - 1 - i) as f64, r.clone()))
                .collect(),
        };
        let map = |v: f64| Axis::to_log(v).clamp(axis.range.0, top);
        let k = self.series.len();
        let offset = |s: usize| {
            if k <= 1 {
                0.0
            } else {
                0.28 - 0.56 * s as f64 / (k - 1) as f64
            }
        };
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            let mut chart = ChartBuilder::on(&root)
                .caption(&self.title, font(20.0))
                .margin(12)
                .margin_right(LEGEND_WIDTH)
                .x_label_area_size(48)
                .y_label_area_size(150)
                .build_cartesian_2d(Ticked::of(&x_axis), Ticked::of(&y_axis))
                .map_err(err)?;
            let x_label = |v: &f64| x_axis.label_of(*v);
            let y_label = |v: &f64| y_axis.label_of(*v);
            chart
                .configure_mesh()
                .disable_y_mesh()
                .x_desc(self.x_desc.as_str())
                .y_desc(self.y_desc.as_str())
                .x_label_formatter(&x_label)
                .y_label_formatter(&y_label)
                .axis_style(TEXT)
                .bold_line_style(GRID)
                .light_line_style(TRANSPARENT)
                .label_style(font(13.0))
                .axis_desc_style(font(14.0))
                .draw()
                .map_err(err)?;
            // Row separators, and the boundary of the beyond column.
            let (x0, x1) = x_axis.range;
            let separators: Vec<_> = (1..n)
                .map(|i| PathElement::new(vec![(x0, i as f64 - 0.5), (x1, i as f64 - 0.5)], GRID))
                .collect();
            chart.draw_series(separators).map_err(err)?;
            chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    vec![(top, -0.5), (top, n as f64 - 0.5)],
                    6,
                    4,
                    TEXT.stroke_width(1),
                )))
                .map_err(err)?;
            let mut entries = Vec::new();
            for (si, series) in self.series.iter().enumerate() {
                let style = series.color.stroke_width(2);
                let mut lines = Vec::new();
                let mut dots = Vec::new();
                let mut ticks = Vec::new();
                let mut beyonds = Vec::new();
                for (row, marks) in series.marks.iter().enumerate().take(n) {
                    let y = (n - 1 - row) as f64 + offset(si);
                    for mark in marks {
                        match *mark {
                            Mark::At { value, range, tick } => {
                                if let Some((lo, hi)) = range {
                                    lines.push(PathElement::new(
                                        vec![(map(lo), y), (map(hi), y)],
                                        style,
                                    ));
                                }
                                if let Some(t) = tick {
                                    ticks.push(
                                        EmptyElement::at((map(t), y))
                                            + PathElement::new(vec![(0, -5), (0, 5)], style),
                                    );
                                }
                                dots.push(Circle::new((map(value), y), 5, series.color.filled()));
                            }
                            Mark::Beyond => beyonds.push(
                                EmptyElement::at((beyond, y))
                                    + Polygon::new(
                                        vec![(-6, -6), (6, 0), (-6, 6)],
                                        series.color.filled(),
                                    ),
                            ),
                        }
                    }
                }
                chart.draw_series(lines).map_err(err)?;
                chart.draw_series(ticks).map_err(err)?;
                chart.draw_series(dots).map_err(err)?;
                chart.draw_series(beyonds).map_err(err)?;
                entries.push((Swatch::Dot(series.color), series.name.clone()));
            }
            if let Some(label) = &self.range_label {
                entries.push((Swatch::DotRange, label.clone()));
            }
            if let Some(label) = &self.beyond_legend {
                entries.push((Swatch::Beyond, label.clone()));
            }
            legend(&root, &chart, &entries)?;
            root.present().map_err(err)?;
        }
        Ok(svg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axis_snaps_to_one_two_five() {
        let a = Axis::log("x", 37.0, 480.0);
        let labels: Vec<&str> = a.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["20", "50", "100", "200", "500"]);
        let wide = Axis::log("x", 0.5, 600_000.0);
        assert!(wide.ticks.iter().all(|t| (t.0 - t.0.round()).abs() < 1e-9));
    }

    #[test]
    fn linear_axis_has_nice_ticks() {
        let a = Axis::linear("x", 0.0, 8192.0);
        assert_eq!(a.ticks.first().map(|t| t.1.as_str()), Some("0"));
        assert!(a.ticks.len() <= 8, "{:?}", a.ticks);
        assert!(a.range.1 >= 8192.0);
    }
}
