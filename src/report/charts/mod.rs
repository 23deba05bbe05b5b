//! Charts of a run, drawn with plotters as PNG and SVG, one file per chart:
//! [`percentiles`] (latency distribution per sink on a "nines" axis),
//! [`over_time`] (p50/p99 per second with target/achieved throughput below) and
//! [`paths`] (path 1 vs path 2 overlay). Colours, sizes and fonts are the named
//! constants of this module so every chart looks like the others.
//!
//! Text is rendered with system fonts through fontconfig (a sans-serif face such
//! as DejaVu Sans must be installed: Debian `fonts-dejavu-core`).

pub mod hops;
pub mod over_time;
pub mod paths;
pub mod percentiles;
mod pipeline_panel;

use std::ops::Range;
use std::path::Path;

use hdrhistogram::Histogram;
use plotters::coord::combinators::LogCoord;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::model::Sink;

use super::data::RunData;
use super::{Exporter, ReportError};

/// Font family of every text element.
pub const FONT: &str = "sans-serif";
/// Chart title size (px).
pub const TITLE_SIZE: u32 = 26;
/// Axis description size (px).
pub const AXIS_DESC_SIZE: u32 = 18;
/// Tick label size (px).
pub const TICK_SIZE: u32 = 15;
/// Legend text size (px).
pub const LEGEND_SIZE: u32 = 15;
/// Width of the main latency lines (px).
pub const LINE_WIDTH: u32 = 2;
/// Width of secondary lines (p50 over time, seen rates) (px).
pub const THIN_LINE_WIDTH: u32 = 1;
/// Outer margin (px).
pub const MARGIN: u32 = 16;
/// Right margin, wide enough for the last x tick label to fit (px).
pub const MARGIN_RIGHT: u32 = 44;
/// Width of a legend column beside a plot (px).
pub const LEGEND_WIDTH: u32 = 190;
/// Space for x tick labels and description (px).
pub const X_LABEL_AREA: u32 = 56;
/// Space for y tick labels and description (px).
pub const Y_LABEL_AREA: u32 = 80;

/// Plot background.
pub const BACKGROUND: RGBColor = WHITE;
/// Text and axes.
pub const INK: RGBColor = RGBColor(40, 40, 40);
/// Major grid lines.
pub const GRID_BOLD: RGBColor = RGBColor(210, 210, 210);
/// Minor grid lines.
pub const GRID_LIGHT: RGBColor = RGBColor(238, 238, 238);
/// Warmup shading.
pub const WARMUP_FILL: RGBColor = RGBColor(235, 235, 235);
/// Target rate line.
pub const TARGET_COLOR: RGBColor = RGBColor(40, 40, 40);
/// Achieved (committed) rate line.
pub const ACHIEVED_COLOR: RGBColor = RGBColor(86, 180, 233);

/// Line colour of a sink (Okabe–Ito palette: distinguishable with colour blindness).
pub fn sink_color(sink: Sink) -> RGBColor {
    match sink {
        Sink::Binlog => RGBColor(120, 120, 120),
        Sink::Kafka => RGBColor(230, 159, 0),
        Sink::Path1 => RGBColor(0, 114, 178),
        Sink::Path2 => RGBColor(0, 158, 115),
        Sink::Path1View => RGBColor(213, 94, 0),
        Sink::Path2View => RGBColor(204, 121, 167),
        Sink::Metrics => RGBColor(150, 140, 20),
        Sink::QStoreReturns => RGBColor(30, 30, 30),
        Sink::QTopItems => RGBColor(110, 60, 150),
    }
}

/// Size of the percentile chart (px).
pub const PERCENTILES_SIZE: (u32, u32) = (1100, 650);
/// Size of the latency-over-time chart (px).
pub const OVER_TIME_SIZE: (u32, u32) = (1200, 820);
/// Size of the path 1 vs path 2 chart (px).
pub const PATHS_SIZE: (u32, u32) = (1300, 600);
/// Size of the where-time-goes chart (px).
pub const HOPS_SIZE: (u32, u32) = (1200, 480);

/// The charts a run directory gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// Latency distribution per sink.
    Percentiles,
    /// Latency and throughput per second.
    OverTime,
    /// Path 1 against path 2 (only when both were measured).
    Paths,
    /// Each path's hops stacked at p50 and p99 (only when hops were timed).
    Hops,
}

impl Chart {
    /// Every chart, in page order.
    pub const ALL: [Chart; 4] = [
        Chart::Percentiles,
        Chart::OverTime,
        Chart::Paths,
        Chart::Hops,
    ];

    /// File stem (`latency-percentiles` → `.png` / `.svg`).
    pub fn stem(self) -> &'static str {
        match self {
            Chart::Percentiles => "latency-percentiles",
            Chart::OverTime => "latency-over-time",
            Chart::Paths => "path1-vs-path2",
            Chart::Hops => "where-time-goes",
        }
    }

    /// Pixel size.
    pub fn size(self) -> (u32, u32) {
        match self {
            Chart::Percentiles => PERCENTILES_SIZE,
            Chart::OverTime => OVER_TIME_SIZE,
            Chart::Paths => PATHS_SIZE,
            Chart::Hops => HOPS_SIZE,
        }
    }

    /// Whether the chart applies to `run`.
    pub fn applies(self, run: &RunData) -> bool {
        match self {
            Chart::Paths => {
                run.sinks.contains_key(&Sink::Path1) && run.sinks.contains_key(&Sink::Path2)
            }
            Chart::Hops => hops::applies(run),
            _ => true,
        }
    }

    fn draw<DB: DrawingBackend>(
        self,
        root: &DrawingArea<DB, Shift>,
        run: &RunData,
    ) -> DrawResult<DB> {
        root.fill(&BACKGROUND)?;
        match self {
            Chart::Percentiles => percentiles::draw(root, run),
            Chart::OverTime => over_time::draw(root, run),
            Chart::Paths => paths::draw(root, run),
            Chart::Hops => hops::draw(root, run),
        }?;
        root.present()
    }

    fn error<E: std::fmt::Display>(self, ext: &str, e: E) -> ReportError {
        ReportError::Chart {
            name: format!("{}.{ext}", self.stem()),
            message: e.to_string(),
        }
    }

    /// Renders the chart as an SVG document.
    pub fn render_svg(self, run: &RunData) -> Result<String, ReportError> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, self.size()).into_drawing_area();
            self.draw(&root, run).map_err(|e| self.error("svg", e))?;
        }
        Ok(svg)
    }

    /// Renders the chart as a PNG file at `path`.
    pub fn render_png(self, run: &RunData, path: &Path) -> Result<(), ReportError> {
        let root = BitMapBackend::new(path, self.size()).into_drawing_area();
        self.draw(&root, run).map_err(|e| self.error("png", e))
    }
}

/// Result of drawing on a backend.
pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Writes every applicable chart as `<stem>.png` and `<stem>.svg`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChartsExporter;

impl Exporter for ChartsExporter {
    fn name(&self) -> &'static str {
        "*.png, *.svg"
    }

    fn export(&self, run: &RunData, dir: &Path) -> Result<(), ReportError> {
        for chart in Chart::ALL.into_iter().filter(|c| c.applies(run)) {
            chart.render_png(run, &dir.join(format!("{}.png", chart.stem())))?;
            let svg = chart.render_svg(run)?;
            super::write_file(dir, &format!("{}.svg", chart.stem()), svg.as_bytes())?;
        }
        Ok(())
    }
}

/// Text style of tick labels.
pub(crate) fn tick_style() -> TextStyle<'static> {
    (FONT, TICK_SIZE).into_font().color(&INK)
}

/// Text style of axis descriptions.
pub(crate) fn desc_style() -> TextStyle<'static> {
    (FONT, AXIS_DESC_SIZE).into_font().color(&INK)
}

/// Text style of chart titles.
pub(crate) fn title_style() -> TextStyle<'static> {
    (FONT, TITLE_SIZE).into_font().color(&INK)
}

/// Text style of legends.
fn legend_style() -> TextStyle<'static> {
    (FONT, LEGEND_SIZE).into_font().color(&INK)
}

/// An f64 axis whose tick marks (and minor grid lines) are given explicitly.
///
/// plotters' own `with_key_points` loses the label formatter of a plain f64 axis,
/// so this wrapper provides both.
pub(crate) struct KeyedAxis<R> {
    inner: R,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl<R: Ranged<ValueType = f64>> Ranged for KeyedAxis<R> {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }

    fn axis_pixel_range(&self, limit: (i32, i32)) -> Range<i32> {
        self.inner.axis_pixel_range(limit)
    }
}

/// A linear axis over `range` with ticks at `keys`.
pub(crate) fn linear_axis(range: Range<f64>, keys: Vec<f64>) -> KeyedAxis<RangedCoordf64> {
    KeyedAxis {
        inner: range.into(),
        bold: keys,
        light: Vec::new(),
    }
}

/// A log latency axis over `lo..hi` (ms) with 1-2-5 ticks and minor lines at every integer multiple.
pub(crate) fn log_ms_axis(lo: f64, hi: f64) -> KeyedAxis<LogCoord<f64>> {
    let mut light = Vec::new();
    let mut decade = 10f64.powf(lo.log10().floor());
    while decade <= hi {
        light.extend(
            (1..10)
                .map(|m| decade * f64::from(m))
                .filter(|v| *v >= lo && *v <= hi),
        );
        decade *= 10.0;
    }
    KeyedAxis {
        inner: (lo..hi).log_scale().into(),
        bold: log_ticks(lo, hi),
        light,
    }
}

/// Formats a millisecond tick on a log axis: `0.5`, `2`, `20`, `200`, `2000`.
pub(crate) fn ms_tick(ms: &f64) -> String {
    if *ms >= 1.0 {
        format!("{:.0}", ms)
    } else {
        let s = format!("{ms:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Log-axis key points covering `lo..hi`: 1, 2, 5 × 10ⁿ, or every integer
/// multiple of 10ⁿ when the range is too narrow for that to give four ticks.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let multiples = |ms: &[f64]| {
        let mut out = Vec::new();
        let mut decade = 10f64.powf(lo.log10().floor());
        while decade <= hi {
            out.extend(
                ms.iter()
                    .map(|m| decade * m)
                    .filter(|v| *v >= lo && *v <= hi),
            );
            decade *= 10.0;
        }
        out
    };
    let coarse = multiples(&[1.0, 2.0, 5.0]);
    if coarse.len() >= 4 {
        coarse
    } else {
        multiples(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    }
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Swatch {
    /// A solid line.
    Line(ShapeStyle),
    /// A dashed line.
    Dashed(ShapeStyle),
    /// A filled box.
    Fill(RGBColor),
}

/// Height of one legend row (px).
const LEGEND_ROW: i32 = 24;
/// Length of a legend line sample (px).
const LEGEND_SAMPLE: i32 = 30;

/// Draws a legend as a column of entries in `area` (outside any plot, so it never
/// hides data), starting `top` px from the area's top.
pub(crate) fn draw_side_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    top: i32,
    entries: &[(String, Swatch)],
) -> DrawResult<DB> {
    use plotters::element::DashedPathElement;
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let text = legend_style().pos(Pos::new(HPos::Left, VPos::Center));
    for (i, (label, swatch)) in entries.iter().enumerate() {
        let y = top + i as i32 * LEGEND_ROW;
        let (x0, x1) = (4, 4 + LEGEND_SAMPLE);
        match *swatch {
            Swatch::Line(style) => area.draw(&PathElement::new(vec![(x0, y), (x1, y)], style))?,
            Swatch::Dashed(style) => {
                area.draw(&DashedPathElement::new(vec![(x0, y), (x1, y)], 6, 4, style))?
            }
            Swatch::Fill(color) => {
                area.draw(&Rectangle::new([(x0, y - 7), (x1, y + 7)], color.filled()))?
            }
        }
        area.draw(&Text::new(label.clone(), (x1 + 8, y), text.clone()))?;
    }
    Ok(())
}

/// A log latency range (ms) padded around `lo..hi`, never empty or non-positive.
pub(crate) fn ms_range(lo: f64, hi: f64) -> (f64, f64) {
    let lo = if lo.is_finite() && lo > 0.0 { lo } else { 0.1 };
    let hi = if hi.is_finite() && hi > lo {
        hi
    } else {
        lo * 10.0
    };
    (lo / 1.3, hi * 1.3)
}

/// Number of "nines" of quantile `q`: 0 → 0, 0.9 → 1, 0.99 → 2, 0.999 → 3.
pub fn nines(q: f64) -> f64 {
    -(1.0 - q).log10()
}

/// The percentile a nines coordinate stands for, as a label (`50%`, `99.9%`).
pub fn nines_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 10f64.powf(-x));
    let digits = (x.round() as i32 - 2).max(0) as usize;
    let s = format!("{p:.digits$}");
    format!("{s}%")
}

/// Percentile curve of `h` in (nines, ms) points, up to the resolution its sample
/// count allows (1 − 1/count), ending at the maximum.
pub fn percentile_curve(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    const STEPS_PER_NINE: usize = 40;
    let n = h.len();
    if n == 0 {
        return Vec::new();
    }
    let last = (n as f64).log10();
    let mut pts: Vec<(f64, f64)> = (0..)
        .map(|i| i as f64 / STEPS_PER_NINE as f64)
        .take_while(|x| *x < last)
        .map(|x| (x, h.value_at_quantile(1.0 - 10f64.powf(-x)) as f64 / 1000.0))
        .collect();
    pts.push((last.max(0.0), h.max() as f64 / 1000.0));
    pts
}

/// Where a run second is drawn: the middle of the interval `[s, s + 1)` it covers.
pub(crate) fn mid(second: u32) -> f64 {
    f64::from(second) + 0.5
}

/// Formats a count tick without inventing precision: `3`, `2.5`.
pub(crate) fn count_tick(v: &f64) -> String {
    if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Splits per-second points into runs of consecutive seconds so a line is broken,
/// not bridged, where a second has no data.
fn segments(points: impl IntoIterator<Item = (u32, Option<f64>)>) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut prev: Option<u32> = None;
    for (s, v) in points {
        match v {
            Some(v) => {
                let continues = matches!(prev, Some(p) if p + 1 == s);
                if !continues {
                    out.push(Vec::new());
                }
                out.last_mut().expect("pushed above").push((mid(s), v));
                prev = Some(s);
            }
            None => prev = None,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_axis_labels() {
        assert_eq!(nines_label(0.0), "0%");
        assert_eq!(nines_label(nines(0.5)), "50%");
        assert_eq!(nines_label(1.0), "90%");
        assert_eq!(nines_label(2.0), "99%");
        assert_eq!(nines_label(3.0), "99.9%");
        assert_eq!(nines_label(5.0), "99.999%");
        assert!((nines(0.999) - 3.0).abs() < 1e-9);
    }

    #[test]
    fn ticks_and_ranges() {
        assert_eq!(
            log_ticks(3.0, 300.0),
            vec![5.0, 10.0, 20.0, 50.0, 100.0, 200.0]
        );
        assert_eq!(
            log_ticks(180.0, 700.0),
            vec![200.0, 300.0, 400.0, 500.0, 600.0, 700.0]
        );
        assert_eq!(ms_tick(&0.5), "0.5");
        assert_eq!(ms_tick(&200.0), "200");
        let (lo, hi) = ms_range(0.0, 0.0);
        assert!(lo > 0.0 && hi > lo);
    }

    #[test]
    fn segments_break_at_gaps() {
        let s = segments([
            (0, Some(1.0)),
            (1, Some(2.0)),
            (2, None),
            (3, Some(3.0)),
            (5, Some(4.0)),
        ]);
        assert_eq!(
            s,
            vec![
                vec![(0.5, 1.0), (1.5, 2.0)],
                vec![(3.5, 3.0)],
                vec![(5.5, 4.0)]
            ]
        );
        assert_eq!(count_tick(&2.5), "2.5");
        assert_eq!(count_tick(&3000.0), "3000");
    }

    #[test]
    fn curve_ends_at_max_within_count_resolution() {
        let mut h = crate::stats::new_histogram();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap();
        }
        let c = percentile_curve(&h);
        let (x, y) = *c.last().unwrap();
        assert!((x - 3.0).abs() < 1e-9);
        assert!((y - 1000.447).abs() < 0.001, "{y}");
        assert!(c.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
    }
}

#[cfg(test)]
mod render_tests {
    use super::*;
    use crate::report::testdata::{realistic_run, tiny_run};

    /// Renders the sample charts into `$TPCDS_REPORT_SAMPLE_DIR` (kept, for looking
    /// at) or a temporary directory.
    #[test]
    fn renders_every_chart_as_png_and_svg() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = std::env::var_os("TPCDS_REPORT_SAMPLE_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| tmp.path().to_path_buf());
        std::fs::create_dir_all(&dir).unwrap();
        let run = realistic_run();
        ChartsExporter.export(&run, &dir).unwrap();
        for chart in Chart::ALL {
            let png = std::fs::read(dir.join(format!("{}.png", chart.stem()))).unwrap();
            assert_eq!(&png[1..4], b"PNG");
            assert!(
                png.len() > 20_000,
                "{} PNG suspiciously small",
                chart.stem()
            );
            let svg = std::fs::read_to_string(dir.join(format!("{}.svg", chart.stem()))).unwrap();
            assert!(svg.starts_with("<svg"), "{}", chart.stem());
            let unit = match chart {
                Chart::Hops => "ms (each segment",
                _ => "(ms, log scale)",
            };
            assert!(svg.contains(unit), "{} lacks its axis unit", chart.stem());
        }
        let svg = Chart::Percentiles.render_svg(&run).unwrap();
        for text in ["99.9%", "kafka", "path1", "path2", "binlog"] {
            assert!(svg.contains(text), "percentile chart lacks {text}");
        }
        let svg = Chart::OverTime.render_svg(&run).unwrap();
        for text in [
            "rows per second",
            "time since run start (s)",
            "target",
            "warmup",
        ] {
            assert!(svg.contains(text), "over-time chart lacks {text}");
        }
    }

    #[test]
    fn path_chart_only_with_both_paths_and_empty_runs_still_draw() {
        let tiny = tiny_run();
        assert!(!Chart::Paths.applies(&tiny));
        if let Some(dir) = std::env::var_os("TPCDS_REPORT_SAMPLE_DIR") {
            let path = std::path::Path::new(&dir).join("tiny-latency-over-time.png");
            Chart::OverTime.render_png(&tiny, &path).unwrap();
        }
        let mut empty = tiny.clone();
        empty.stats = crate::stats::RunStats::new(empty.warmup);
        for chart in [Chart::Percentiles, Chart::OverTime] {
            chart.render_svg(&empty).unwrap();
            chart.render_svg(&tiny).unwrap();
        }
    }
}
