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
//! the page's text colour, and no single grey reads well on both white and near-black. Every
//! chart is therefore drawn on its own white card ([`BACKGROUND`]) with near-black text
//! ([`TEXT`], contrast above 12:1) at sizes that stay readable when the image is scaled to the
//! content column. Series colours are the Okabe–Ito palette (colour-blind safe; its yellow,
//! which vanishes on white, left out) followed by two colours of Paul Tol's muted scheme, so ten
//! configurations get ten different colours; every configuration also has its own marker shape
//! and the encrypted (JWE) ones a dashed line, so no two series look alike even to a reader who
//! cannot tell two of the colours apart. The same configuration has the same style in every
//! chart ([`target_style`]).

use anyhow::{Result, anyhow};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Chart size in pixels: a little wider than an mdBook content column (the image scales down,
/// so the fonts below are sized for about 0.8 of their nominal size on the page).
pub const SIZE: (u32, u32) = (960, 520);

/// The legend's column, right of the plot: a legend inside the plot hides data whichever
/// corner it takes.
const LEGEND_WIDTH: u32 = 250;

/// The card every chart is drawn on.
pub const BACKGROUND: RGBColor = RGBColor(0xFF, 0xFF, 0xFF);

/// Text, axes, error bars and reference lines: near-black on the white card.
pub const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);

/// The no-auth baseline's line and bars: a mid grey, clearly not a series colour.
pub const BASELINE_GREY: RGBColor = RGBColor(0x77, 0x77, 0x77);

/// Grid lines: faint grey.
const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);

/// Font family: the browser picks its sans-serif (SVG text is drawn by the viewer, so no font
/// is embedded and none is needed to render).
const FONT: &str = "sans-serif";

/// Font sizes, pixels of the 960-pixel-wide chart.
const TITLE_PX: f64 = 24.0;
const LABEL_PX: f64 = 17.0;
const DESC_PX: f64 = 18.0;
const LEGEND_PX: f64 = 16.0;
const NOTE_PX: f64 = 15.0;

/// Series colours: Okabe–Ito (orange, sky blue, bluish green, reddish purple, vermillion, blue,
/// black) without its yellow, then Paul Tol's olive and wine. No two are the same.
pub const PALETTE: [RGBColor; 9] = [
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0x00, 0x00, 0x00), // black
    RGBColor(0x99, 0x99, 0x33), // olive (Tol)
    RGBColor(0x88, 0x22, 0x55), // wine (Tol)
];

/// How a line is stroked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dash {
    /// Solid.
    Solid,
    /// Long dashes.
    Long,
    /// Short dashes.
    Short,
}

/// A marker shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// A filled circle.
    Circle,
    /// A filled square.
    Square,
    /// A filled triangle, point up.
    Triangle,
    /// A filled diamond.
    Diamond,
    /// A filled triangle, point down.
    TriangleDown,
    /// An X.
    Cross,
}

/// The marker shapes in the order styles take them.
pub const MARKERS: [Marker; 6] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
    Marker::TriangleDown,
    Marker::Cross,
];

/// Colour, dash and marker of one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Colour.
    pub color: RGBColor,
    /// Stroke.
    pub dash: Dash,
    /// Marker shape.
    pub marker: Marker,
}

impl Style {
    /// A solid line with circles, in `color`.
    pub fn plain(color: RGBColor) -> Self {
        Self {
            color,
            dash: Dash::Solid,
            marker: Marker::Circle,
        }
    }

    /// The same style, dashed.
    pub fn dashed(self, dash: Dash) -> Self {
        Self { dash, ..self }
    }

    /// The same style with another marker.
    pub fn with_marker(self, marker: Marker) -> Self {
        Self { marker, ..self }
    }
}

/// The style of a configuration or target, the same in every chart: grey and long dashes for
/// the no-auth baseline, orange for sessions, one colour per JWT algorithm, dashed lines for
/// JWE. Names not listed take the palette in order of `fallback_index`, with the dash changing
/// each time the palette wraps, so two series never share a style.
pub fn target_style(name: &str, fallback_index: usize) -> Style {
    let known = [
        "session",
        "jwt-HS256",
        "jwt-ES256",
        "jwt-EdDSA",
        "jwt-RS256",
        "jwt-PS256",
        "jwt-ES384",
        "jwe-dir",
        "jwe-ECDH-ES+A256KW",
    ];
    if name == "healthz" {
        return Style {
            color: BASELINE_GREY,
            dash: Dash::Long,
            marker: Marker::Cross,
        };
    }
    let i = known
        .iter()
        .position(|k| *k == name)
        .unwrap_or(known.len() + fallback_index);
    let dash = match ((i / PALETTE.len()) % 3, name.starts_with("jwe-")) {
        (0, false) => Dash::Solid,
        (0, true) | (2, _) => Dash::Short,
        _ => Dash::Long,
    };
    Style {
        color: PALETTE[i % PALETTE.len()],
        dash,
        marker: MARKERS[i % MARKERS.len()],
    }
}

/// The colour of a configuration or target, [`target_style`]'s.
pub fn target_color(name: &str, fallback_index: usize) -> RGBColor {
    target_style(name, fallback_index).color
}

fn font(size: f64) -> TextStyle<'static> {
    (FONT, size).into_font().color(&TEXT)
}

type Root<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// Draws a marker of `shape` centred on pixel `(x, y)` of the root area, `r` pixels in radius,
/// with a thin white rim so that overlapping markers stay distinct.
fn draw_marker(
    root: &Root<'_>,
    (x, y): (i32, i32),
    shape: Marker,
    color: RGBColor,
    r: i32,
) -> Result<()> {
    let rim = BACKGROUND.stroke_width(1);
    let poly = |pts: Vec<(i32, i32)>| -> Result<()> {
        root.draw(&Polygon::new(pts.clone(), color.filled()))
            .map_err(err)?;
        let mut closed = pts;
        closed.push(closed[0]);
        root.draw(&PathElement::new(closed, rim)).map_err(err)
    };
    match shape {
        Marker::Circle => {
            root.draw(&Circle::new((x, y), r, color.filled()))
                .map_err(err)?;
            root.draw(&Circle::new((x, y), r, rim)).map_err(err)
        }
        Marker::Square => {
            let q = r * 9 / 10;
            poly(vec![
                (x - q, y - q),
                (x + q, y - q),
                (x + q, y + q),
                (x - q, y + q),
            ])
        }
        Marker::Triangle => poly(vec![(x, y - r - 1), (x + r + 1, y + r), (x - r - 1, y + r)]),
        Marker::TriangleDown => poly(vec![(x, y + r + 1), (x + r + 1, y - r), (x - r - 1, y - r)]),
        Marker::Diamond => poly(vec![
            (x, y - r - 1),
            (x + r + 1, y),
            (x, y + r + 1),
            (x - r - 1, y),
        ]),
        Marker::Cross => {
            let style = color.stroke_width(3);
            root.draw(&PathElement::new(
                vec![(x - r, y - r), (x + r, y + r)],
                style,
            ))
            .map_err(err)?;
            root.draw(&PathElement::new(
                vec![(x - r, y + r), (x + r, y - r)],
                style,
            ))
            .map_err(err)
        }
    }
}

/// Dash and gap lengths of a dashed stroke, pixels.
fn dash_pattern(dash: Dash) -> Option<(u32, u32)> {
    match dash {
        Dash::Solid => None,
        Dash::Long => Some((10, 5)),
        Dash::Short => Some((4, 4)),
    }
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

/// Values in microseconds above this are shown in milliseconds.
pub const MS_FROM_US: f64 = 10_000.0;

/// The unit of a time axis whose largest value is `hi_us` microseconds: `("µs", 1)`, or
/// `("ms", 1000)` beyond [`MS_FROM_US`]. Divide the values by the second member.
pub fn time_unit(hi_us: f64) -> (&'static str, f64) {
    if hi_us > MS_FROM_US {
        ("ms", 1e3)
    } else {
        ("µs", 1.0)
    }
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

/// Characters per line of a category label under a bar chart's axis.
const CATEGORY_CHARS: usize = 10;

/// `name` cut into lines of at most about `width` characters, after a `-` or `+` where it can
/// (`jwe-ECDH-ES+A256KW` → `jwe-ECDH-`, `ES+A256KW`), so that neighbouring labels do not run
/// into each other.
pub fn category_lines(name: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut piece = String::new();
    let flush_piece = |line: &mut String, piece: &mut String, lines: &mut Vec<String>| {
        if !line.is_empty() && line.chars().count() + piece.chars().count() > width {
            lines.push(std::mem::take(line));
        }
        line.push_str(piece);
        piece.clear();
    };
    for ch in name.chars() {
        piece.push(ch);
        if ch == '-' {
            flush_piece(&mut line, &mut piece, &mut lines);
        }
    }
    flush_piece(&mut line, &mut piece, &mut lines);
    if !line.is_empty() {
        lines.push(line);
    }
    lines
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
        root.fill(&BACKGROUND).map_err(err)?;
        root.draw(&Text::new(
            title.to_owned(),
            (SIZE.0 as i32 / 2, 20),
            font(TITLE_PX).pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(err)?;
        root.draw(&Text::new(
            message.to_owned(),
            (SIZE.0 as i32 / 2, SIZE.1 as i32 / 2),
            font(LEGEND_PX).pos(Pos::new(HPos::Center, VPos::Center)),
        ))
        .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// A new chart's root area, filled with the card colour.
fn card(svg: &mut String) -> Result<Root<'_>> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&BACKGROUND).map_err(err)?;
    Ok(root)
}

/// A chart's plotting area on its root area, over our own [`Ticked`] axes.
type Plot<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Ticked, Ticked>>;

/// Which grid lines a chart draws, at the ticks of its axes.
#[derive(Debug, Clone, Copy)]
enum Grid {
    /// Both ways: a line chart is read off either axis.
    Both,
    /// Horizontal lines only: a bar chart's categories need no lines between them.
    Horizontal,
    /// Vertical lines only: a dot chart separates its rows itself.
    Vertical,
}

/// The plotting area of every kind of chart: the title above, the legend's column kept free
/// on the right, and both axes drawn with our ticks, labels and descriptions. `label_areas`
/// are the pixels under and left of the plot for tick labels and axis descriptions.
fn frame<'a, 'b>(
    root: &'a Root<'b>,
    title: &str,
    label_areas: (u32, u32),
    x: &Axis,
    y: &Axis,
    grid: Grid,
) -> Result<Plot<'a, 'b>> {
    let mut chart = ChartBuilder::on(root)
        .caption(title, font(TITLE_PX))
        .margin(12)
        .margin_right(LEGEND_WIDTH)
        .x_label_area_size(label_areas.0)
        .y_label_area_size(label_areas.1)
        .build_cartesian_2d(Ticked::of(x), Ticked::of(y))
        .map_err(err)?;
    let x_label = |v: &f64| x.label_of(*v);
    let y_label = |v: &f64| y.label_of(*v);
    let mut mesh = chart.configure_mesh();
    match grid {
        Grid::Both => {}
        Grid::Horizontal => {
            mesh.disable_x_mesh();
        }
        Grid::Vertical => {
            mesh.disable_y_mesh();
        }
    }
    mesh.x_desc(x.desc.as_str())
        .y_desc(y.desc.as_str())
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .axis_style(TEXT)
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .label_style(font(LABEL_PX))
        .axis_desc_style(font(DESC_PX))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// The mark before a legend entry.
#[derive(Debug, Clone, Copy)]
enum Swatch {
    /// A filled square: a bar series.
    Box(RGBColor),
    /// A line in its dash, with its marker in the middle (or none).
    Line(Style, bool),
    /// A vertical stroke: the error bars.
    Whisker,
    /// A marker alone: a dot series.
    Dot(Style),
    /// A dot on a line with a tick: a dot chart's p50, range and extra tick.
    DotRange,
    /// A triangle pointing right: a dot chart's "beyond the axis".
    Beyond,
}

/// Height of one legend row, pixels.
const LEGEND_ROW: i32 = 24;

/// A horizontal stroke from `from` to `to` (pixels) in `style`'s dash.
fn stroke(
    root: &Root<'_>,
    from: (i32, i32),
    to: (i32, i32),
    style: Style,
    width: u32,
) -> Result<()> {
    let s = style.color.stroke_width(width);
    match dash_pattern(style.dash) {
        None => root.draw(&PathElement::new(vec![from, to], s)),
        Some((d, g)) => root.draw(&DashedPathElement::new(vec![from, to], d, g, s)),
    }
    .map_err(err)
}

/// Draws the legend in the column right of the plot, on the root area (the plotting area
/// clamps everything to its own bounds).
fn legend(root: &Root<'_>, chart: &Plot<'_, '_>, entries: &[(Swatch, String)]) -> Result<()> {
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let x = xs.end + 14;
    for (i, (swatch, label)) in entries.iter().enumerate() {
        let y = ys.start + 10 + i as i32 * LEGEND_ROW;
        match *swatch {
            Swatch::Box(c) => root
                .draw(&Rectangle::new([(x, y - 7), (x + 16, y + 7)], c.filled()))
                .map_err(err)?,
            Swatch::Line(style, marker) => {
                stroke(root, (x, y), (x + 28, y), style, 3)?;
                if marker {
                    draw_marker(root, (x + 14, y), style.marker, style.color, 5)?;
                }
            }
            Swatch::Whisker => root
                .draw(&PathElement::new(
                    vec![(x + 8, y - 8), (x + 8, y + 8)],
                    TEXT.stroke_width(2),
                ))
                .map_err(err)?,
            Swatch::Dot(style) => draw_marker(root, (x + 10, y), style.marker, style.color, 6)?,
            Swatch::DotRange => {
                root.draw(&PathElement::new(
                    vec![(x, y), (x + 26, y)],
                    TEXT.stroke_width(2),
                ))
                .map_err(err)?;
                root.draw(&PathElement::new(
                    vec![(x + 18, y - 6), (x + 18, y + 6)],
                    TEXT.stroke_width(2),
                ))
                .map_err(err)?;
                root.draw(&Circle::new((x + 4, y), 5, TEXT.filled()))
                    .map_err(err)?;
            }
            Swatch::Beyond => root
                .draw(&Polygon::new(
                    vec![(x + 2, y - 7), (x + 16, y), (x + 2, y + 7)],
                    TEXT.filled(),
                ))
                .map_err(err)?,
        }
        root.draw(&Text::new(
            label.clone(),
            (x + 36, y),
            font(LEGEND_PX).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(err)?;
    }
    Ok(())
}

impl BarChart {
    /// Draws the chart into an SVG string.
    pub fn svg(&self) -> Result<String> {
        let (y_axis, map) = self.value_axis();
        let n = self.categories.len().max(1);
        // Category names are drawn below the axis by hand, on as many lines as they need, so
        // the ticks under the categories are left blank.
        let x_axis = Axis {
            desc: self.x_desc.clone(),
            range: (-0.5, n as f64 - 0.5),
            ticks: (0..n).map(|i| (i as f64, String::new())).collect(),
        };
        let layout = BarLayout::of(self, map, y_axis.range.0);
        let mut svg = String::new();
        {
            let root = card(&mut svg)?;
            let mut chart = frame(
                &root,
                &self.title,
                (84, 86),
                &x_axis,
                &y_axis,
                Grid::Horizontal,
            )?;
            let mut entries = self.draw_bars(&mut chart, &layout)?;
            self.draw_whiskers(&mut chart, &layout)?;
            if let Some(label) = &self.error_label {
                entries.push((Swatch::Whisker, label.clone()));
            }
            if let Some(f) = self.value_labels {
                self.draw_value_labels(&mut chart, &layout, f)?;
            }
            self.draw_ref_lines(&mut chart, map, n)?;
            self.draw_categories(&root, &chart, layout.bottom)?;
            legend(&root, &chart, &entries)?;
            root.present().map_err(err)?;
        }
        Ok(svg)
    }

    /// The value axis over every bar, error range and reference line, and the map from data
    /// into its plotting space (`log10` on a log axis, where only positive values count).
    fn value_axis(&self) -> (Axis, fn(f64) -> f64) {
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
    }

    /// Every bar with its series and category index, series by series.
    fn bars(&self) -> impl Iterator<Item = (usize, usize, Bar)> + '_ {
        self.series.iter().enumerate().flat_map(|(si, series)| {
            series
                .bars
                .iter()
                .enumerate()
                .filter_map(move |(c, b)| b.map(|b| (si, c, b)))
        })
    }

    /// The bars, one `draw_series` per series, and each series' legend entry.
    fn draw_bars(
        &self,
        chart: &mut Plot<'_, '_>,
        layout: &BarLayout,
    ) -> Result<Vec<(Swatch, String)>> {
        let mut entries = Vec::new();
        for (si, series) in self.series.iter().enumerate() {
            let rects: Vec<_> = series
                .bars
                .iter()
                .enumerate()
                .filter_map(|(c, b)| b.map(|b| (c, b)))
                .map(|(c, b)| {
                    let x = layout.x(c, si);
                    let half = layout.width * 0.46;
                    Rectangle::new(
                        [(x - half, layout.bottom), (x + half, layout.y(b.value))],
                        series.color.filled(),
                    )
                })
                .collect();
            chart.draw_series(rects).map_err(err)?;
            entries.push((Swatch::Box(series.color), series.name.clone()));
        }
        Ok(entries)
    }

    /// Error bars over the bars, in the text grey: a stroke over the range, capped at both
    /// ends.
    fn draw_whiskers(&self, chart: &mut Plot<'_, '_>, layout: &BarLayout) -> Result<()> {
        let mut whiskers = Vec::new();
        for (si, c, bar) in self.bars() {
            let Some((lo, hi)) = bar.range else {
                continue;
            };
            let x = layout.x(c, si);
            let (lo, hi) = (layout.y(lo), layout.y(hi));
            let cap = layout.width * 0.15;
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
        chart.draw_series(whiskers).map_err(err)?;
        Ok(())
    }

    /// Each bar's value, formatted with `f`, above the bar or its error bar, whichever is
    /// higher.
    fn draw_value_labels(
        &self,
        chart: &mut Plot<'_, '_>,
        layout: &BarLayout,
        f: fn(f64) -> String,
    ) -> Result<()> {
        let labels: Vec<_> = self
            .bars()
            .map(|(si, c, b)| {
                let top = b.range.map_or(b.value, |r| r.1.max(b.value));
                EmptyElement::at((layout.x(c, si), layout.y(top)))
                    + Text::new(
                        f(b.value),
                        (0, -3),
                        font(NOTE_PX).pos(Pos::new(HPos::Center, VPos::Bottom)),
                    )
            })
            .collect();
        chart.draw_series(labels).map_err(err)?;
        Ok(())
    }

    /// The reference lines: dashed across all `n` categories, labelled at the right end.
    fn draw_ref_lines(
        &self,
        chart: &mut Plot<'_, '_>,
        map: fn(f64) -> f64,
        n: usize,
    ) -> Result<()> {
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
                            font(NOTE_PX).pos(Pos::new(HPos::Right, VPos::Bottom)),
                        ),
                ))
                .map_err(err)?;
        }
        Ok(())
    }

    /// The category names under the axis, on the root area (the plotting area clips them),
    /// each cut into lines by [`category_lines`].
    fn draw_categories(&self, root: &Root<'_>, chart: &Plot<'_, '_>, bottom: f64) -> Result<()> {
        for (c, name) in self.categories.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(c as f64, bottom));
            for (k, line) in category_lines(name, CATEGORY_CHARS).iter().enumerate() {
                root.draw(&Text::new(
                    line.clone(),
                    (x, y + 8 + k as i32 * (LABEL_PX as i32 + 2)),
                    font(LABEL_PX - 1.0).pos(Pos::new(HPos::Center, VPos::Top)),
                ))
                .map_err(err)?;
            }
        }
        Ok(())
    }
}

/// Where a [`BarChart`]'s bars stand, in plotting space.
struct BarLayout {
    /// Per category, the series that have a bar there, so that the bars of a category close
    /// up around its centre.
    present: Vec<Vec<usize>>,
    /// One bar's slot: [`GROUP_WIDTH`] shared by the most bars any category has.
    width: f64,
    /// Data into plotting space.
    map: fn(f64) -> f64,
    /// The foot of the value axis, where bars start.
    bottom: f64,
}

impl BarLayout {
    fn of(chart: &BarChart, map: fn(f64) -> f64, bottom: f64) -> Self {
        let present: Vec<Vec<usize>> = (0..chart.categories.len())
            .map(|c| {
                (0..chart.series.len())
                    .filter(|s| matches!(chart.series[*s].bars.get(c), Some(Some(_))))
                    .collect()
            })
            .collect();
        let slots = present.iter().map(Vec::len).max().unwrap_or(1).max(1);
        Self {
            present,
            width: GROUP_WIDTH / slots as f64,
            map,
            bottom,
        }
    }

    /// The centre of series `s`'s bar in category `c`.
    fn x(&self, c: usize, s: usize) -> f64 {
        let k = self.present[c].iter().position(|x| *x == s).unwrap_or(0);
        let m = self.present[c].len() as f64;
        c as f64 - self.width * m / 2.0 + self.width * (k as f64 + 0.5)
    }

    /// The height of data value `v`, clamped to the foot of the axis (a log axis would
    /// otherwise send a value below its first tick off the chart).
    fn y(&self, v: f64) -> f64 {
        (self.map)(v).max(self.bottom)
    }
}

/// One line of a [`LineChart`], in plotting space.
#[derive(Debug, Clone)]
pub struct Line {
    /// Legend text.
    pub name: String,
    /// Colour, dash and marker.
    pub style: Style,
    /// The points.
    pub points: Vec<(f64, f64)>,
    /// Where to draw the style's marker (for a line with few points, every point; for a
    /// dense one, a few landmarks); the legend shows the marker when there is any.
    pub marks: Vec<(f64, f64)>,
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
            let root = card(&mut svg)?;
            let mut chart = frame(&root, &self.title, (60, 86), &self.x, &self.y, Grid::Both)?;
            let mut entries = Vec::new();
            for line in &self.lines {
                let stroke = line.style.color.stroke_width(3);
                match dash_pattern(line.style.dash) {
                    None => chart
                        .draw_series(LineSeries::new(line.points.iter().copied(), stroke))
                        .map(|_| ()),
                    Some((d, g)) => chart
                        .draw_series(DashedLineSeries::new(
                            line.points.iter().copied(),
                            d,
                            g,
                            stroke,
                        ))
                        .map(|_| ()),
                }
                .map_err(err)?;
                entries.push((
                    Swatch::Line(line.style, !line.marks.is_empty()),
                    line.name.clone(),
                ));
                let whisker = line.style.color.stroke_width(2);
                let mut whiskers = Vec::new();
                for (x, lo, hi) in &line.errors {
                    whiskers.push(PathElement::new(vec![(*x, *lo), (*x, *hi)], whisker));
                }
                chart.draw_series(whiskers).map_err(err)?;
            }
            for line in &self.lines {
                for p in &line.marks {
                    let at = chart.backend_coord(p);
                    draw_marker(&root, at, line.style.marker, line.style.color, 5)?;
                }
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
            let root = card(&mut svg)?;
            let mut chart = frame(
                &root,
                &self.title,
                (60, 170),
                &x_axis,
                &y_axis,
                Grid::Vertical,
            )?;
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
                entries.push((Swatch::Dot(Style::plain(series.color)), series.name.clone()));
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
    fn category_labels_break_after_dashes() {
        assert_eq!(category_lines("session", 10), ["session"]);
        assert_eq!(category_lines("jwt-HS256", 10), ["jwt-HS256"]);
        assert_eq!(
            category_lines("jwe-ECDH-ES+A256KW", 10),
            ["jwe-ECDH-", "ES+A256KW"]
        );
        assert_eq!(
            category_lines("jwt-ES256-denylist", 10),
            ["jwt-ES256-", "denylist"]
        );
    }

    #[test]
    fn every_configuration_has_its_own_style() {
        let names = [
            "healthz",
            "session",
            "jwt-HS256",
            "jwt-ES256",
            "jwt-EdDSA",
            "jwt-RS256",
            "jwt-PS256",
            "jwt-ES384",
            "jwe-dir",
            "jwe-ECDH-ES+A256KW",
        ];
        let colors: Vec<RGBColor> = names.iter().map(|n| target_color(n, 0)).collect();
        for (i, a) in colors.iter().enumerate() {
            for b in &colors[i + 1..] {
                assert_ne!(a, b, "two configurations share a colour");
            }
        }
        // Unknown names beyond the palette still differ from each other in style.
        let styles: Vec<Style> = (0..30).map(|i| target_style("other", i)).collect();
        for (i, a) in styles.iter().enumerate() {
            for b in &styles[i + 1..] {
                assert_ne!(a, b, "two series share a style");
            }
        }
    }

    #[test]
    fn long_times_switch_to_milliseconds() {
        assert_eq!(time_unit(9_000.0), ("µs", 1.0));
        assert_eq!(time_unit(1_000_000.0), ("ms", 1e3));
    }

    #[test]
    fn linear_axis_has_nice_ticks() {
        let a = Axis::linear("x", 0.0, 8192.0);
        assert_eq!(a.ticks.first().map(|t| t.1.as_str()), Some("0"));
        assert!(a.ticks.len() <= 8, "{:?}", a.ticks);
        assert!(a.range.1 >= 8192.0);
    }
}
