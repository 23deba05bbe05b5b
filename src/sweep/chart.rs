//! A sweep's charts: `latency-throughput.{png,svg}` (p50 dashed and p99 solid
//! per sink against the achieved rate, log latency axis, each sink's knee
//! ringed, the SLO limits as grey dashes) and `achieved-vs-target.{png,svg}`
//! (committed against intended rows per second, the diagonal is "kept up").

use std::path::Path;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::Sweep;
use crate::model::Sink;
use crate::report::ReportError;

use crate::report::charts::over_time::time_ticks;
use crate::report::charts::{
    desc_style, draw_side_legend, linear_axis, log_ms_axis, ms_range, ms_tick, sink_color,
    tick_style, title_style, DrawResult, Swatch, ACHIEVED_COLOR, GRID_BOLD, GRID_LIGHT, INK,
    LEGEND_WIDTH, LINE_WIDTH, MARGIN, MARGIN_RIGHT, TARGET_COLOR, THIN_LINE_WIDTH, X_LABEL_AREA,
    Y_LABEL_AREA,
};

/// Size of both sweep charts (px).
pub const SWEEP_SIZE: (u32, u32) = (1200, 650);

/// The sweep's charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepChart {
    /// p50/p99 per sink against achieved rate.
    LatencyThroughput,
    /// Achieved against target rate.
    AchievedVsTarget,
}

impl SweepChart {
    /// Both charts, in page order.
    pub const ALL: [SweepChart; 2] = [SweepChart::LatencyThroughput, SweepChart::AchievedVsTarget];

    /// File stem.
    pub fn stem(self) -> &'static str {
        match self {
            SweepChart::LatencyThroughput => "latency-throughput",
            SweepChart::AchievedVsTarget => "achieved-vs-target",
        }
    }

    fn draw<DB: DrawingBackend>(self, root: &DrawingArea<DB, Shift>, s: &Sweep) -> DrawResult<DB> {
        root.fill(&crate::report::charts::BACKGROUND)?;
        match self {
            SweepChart::LatencyThroughput => curves(root, s),
            SweepChart::AchievedVsTarget => achieved(root, s),
        }?;
        root.present()
    }

    fn error(self, ext: &str, e: impl std::fmt::Display) -> ReportError {
        ReportError::Chart {
            name: format!("{}.{ext}", self.stem()),
            message: e.to_string(),
        }
    }

    /// The chart as an SVG document.
    pub fn render_svg(self, s: &Sweep) -> Result<String, ReportError> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SWEEP_SIZE).into_drawing_area();
            self.draw(&root, s).map_err(|e| self.error("svg", e))?;
        }
        Ok(svg)
    }

    /// The chart as a PNG file at `path`.
    pub fn render_png(self, s: &Sweep, path: &Path) -> Result<(), ReportError> {
        let root = BitMapBackend::new(path, SWEEP_SIZE).into_drawing_area();
        self.draw(&root, s).map_err(|e| self.error("png", e))
    }
}

/// Every sink measured at some step.
fn sinks(s: &Sweep) -> Vec<Sink> {
    let set: std::collections::BTreeSet<Sink> = s
        .steps
        .iter()
        .flat_map(|st| st.sinks.keys().copied())
        .collect();
    set.into_iter().collect()
}

/// (achieved rate, p50 ms, p99 ms) points of one sink's curve.
type Curve = Vec<(f64, f64, f64)>;

/// (achieved rate, p50 ms, p99 ms) of a sink, by achieved rate.
fn points(s: &Sweep, sink: Sink) -> Curve {
    let mut p: Vec<(f64, f64, f64)> = s
        .steps
        .iter()
        .filter_map(|st| {
            let x = st.sinks.get(&sink).filter(|x| x.count > 0)?;
            Some((
                st.achieved_rate,
                x.p50_us.max(1) as f64 / 1000.0,
                x.p99_us.max(1) as f64 / 1000.0,
            ))
        })
        .collect();
    p.sort_by(|a, b| a.0.total_cmp(&b.0));
    p
}

fn curves<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Sweep) -> DrawResult<DB> {
    let root = root.titled(
        &format!("{}: latency against achieved rate", s.scenario),
        title_style(),
    )?;
    let (plot, legend) = root.split_horizontally(root.dim_in_pixel().0 - LEGEND_WIDTH);
    let sinks = sinks(s);
    let all: Vec<(Sink, Curve)> = sinks.iter().map(|&k| (k, points(s, k))).collect();
    let x_max = all
        .iter()
        .flat_map(|(_, p)| p.iter().map(|x| x.0))
        .fold(1.0f64, f64::max)
        * 1.08;
    let limits: Vec<f64> = s.slo.p99_ms.values().copied().collect();
    let (lo, hi) = all
        .iter()
        .flat_map(|(_, p)| p.iter().flat_map(|x| [x.1, x.2]))
        .chain(limits.iter().copied())
        .fold((f64::INFINITY, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = ms_range(lo, hi);
    let mut chart = ChartBuilder::on(&plot)
        .margin(MARGIN)
        .margin_right(MARGIN_RIGHT)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(
            linear_axis(0f64..x_max, time_ticks(x_max)),
            log_ms_axis(lo, hi),
        )?;
    chart
        .configure_mesh()
        .x_desc("achieved rate (rows/s)")
        .y_desc("latency (ms, log scale)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| ms_tick(y))
        .label_style(tick_style())
        .axis_desc_style(desc_style())
        .bold_line_style(GRID_BOLD)
        .light_line_style(GRID_LIGHT)
        .axis_style(INK)
        .draw()?;
    for l in &limits {
        chart.draw_series(std::iter::once(DashedPathElement::new(
            vec![(0.0, *l), (x_max, *l)],
            8,
            6,
            RGBColor(150, 150, 150).stroke_width(THIN_LINE_WIDTH),
        )))?;
    }
    let mut entries = Vec::new();
    for (sink, pts) in &all {
        let c = sink_color(*sink);
        let p99: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.2)).collect();
        let p50: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.1)).collect();
        chart.draw_series(std::iter::once(PathElement::new(
            p99.clone(),
            c.stroke_width(LINE_WIDTH),
        )))?;
        chart.draw_series(p99.iter().map(|p| Circle::new(*p, 4, c.filled())))?;
        chart.draw_series(std::iter::once(DashedPathElement::new(
            p50,
            6,
            4,
            c.stroke_width(THIN_LINE_WIDTH),
        )))?;
        if let Some(k) = s.knees.get(sink) {
            let at = (k.achieved_rate, k.p99_us.max(1) as f64 / 1000.0);
            chart.draw_series(std::iter::once(Circle::new(
                at,
                11,
                c.stroke_width(LINE_WIDTH),
            )))?;
        }
        entries.push((
            format!("{sink} p99"),
            Swatch::Line(c.stroke_width(LINE_WIDTH)),
        ));
        entries.push((
            format!("{sink} p50"),
            Swatch::Dashed(c.stroke_width(THIN_LINE_WIDTH)),
        ));
    }
    entries.push((
        "○ knee".into(),
        Swatch::Fill(crate::report::charts::BACKGROUND),
    ));
    if !limits.is_empty() {
        entries.push((
            "SLO p99 limit".into(),
            Swatch::Dashed(RGBColor(150, 150, 150).stroke_width(THIN_LINE_WIDTH)),
        ));
    }
    draw_side_legend(&legend, 40, &entries)
}

fn achieved<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Sweep) -> DrawResult<DB> {
    let root = root.titled(
        &format!("{}: achieved against target rate", s.scenario),
        title_style(),
    )?;
    let (plot, legend) = root.split_horizontally(root.dim_in_pixel().0 - LEGEND_WIDTH);
    let mut pts: Vec<(f64, f64)> = s
        .steps
        .iter()
        .map(|st| (st.target_rate, st.achieved_rate))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let max = pts.iter().flat_map(|p| [p.0, p.1]).fold(1.0f64, f64::max) * 1.08;
    let mut chart = ChartBuilder::on(&plot)
        .margin(MARGIN)
        .margin_right(MARGIN_RIGHT)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(
            linear_axis(0f64..max, time_ticks(max)),
            linear_axis(0f64..max, time_ticks(max)),
        )?;
    chart
        .configure_mesh()
        .x_desc("target rate (rows/s)")
        .y_desc("achieved rate (rows/s)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(tick_style())
        .axis_desc_style(desc_style())
        .bold_line_style(GRID_BOLD)
        .light_line_style(GRID_LIGHT)
        .axis_style(INK)
        .draw()?;
    let diag = TARGET_COLOR.stroke_width(THIN_LINE_WIDTH);
    chart.draw_series(std::iter::once(DashedPathElement::new(
        vec![(0.0, 0.0), (max, max)],
        8,
        6,
        diag,
    )))?;
    let style = ACHIEVED_COLOR.stroke_width(LINE_WIDTH);
    chart.draw_series(std::iter::once(PathElement::new(pts.clone(), style)))?;
    chart.draw_series(
        pts.iter()
            .map(|p| Circle::new(*p, 4, ACHIEVED_COLOR.filled())),
    )?;
    draw_side_legend(
        &legend,
        40,
        &[
            ("achieved".into(), Swatch::Line(style)),
            ("target (kept up)".into(), Swatch::Dashed(diag)),
        ],
    )
}
