//! `latency-percentiles.{png,svg}`: the end-to-end latency distribution of every
//! sink (after warmup) on a "nines" x-axis (0%, 50%, 90%, 99%, 99.9%...) with
//! latency in ms on a log y-axis, the standard HdrHistogram percentile plot.
//! Each curve stops at the finest percentile its sample count supports.

use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::model::Sink;
use crate::report::data::RunData;

use super::{
    desc_style, legend_style, linear_axis, log_ms_axis, ms_range, ms_tick, nines, nines_label,
    percentile_curve, sink_color, tick_style, title_style, DrawResult, GRID_BOLD, GRID_LIGHT, INK,
    LINE_WIDTH, MARGIN, MARGIN_RIGHT, X_LABEL_AREA, Y_LABEL_AREA,
};

/// Most nines the x-axis ever shows (99.9999 %).
const MAX_NINES: f64 = 6.0;
/// Fewest nines the x-axis shows (99 %), even for tiny runs.
const MIN_NINES: f64 = 2.0;

/// One labelled curve.
pub(super) struct Curve {
    pub label: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
}

/// Curves of the given (label, colour, histogram) triples.
pub(super) fn curves(
    items: impl IntoIterator<Item = (String, RGBColor, Option<Histogram<u64>>)>,
) -> Vec<Curve> {
    items
        .into_iter()
        .filter_map(|(label, color, h)| {
            let h = h.filter(|h| !h.is_empty())?;
            Some(Curve {
                label: format!(
                    "{label}  (p50 {} · p99 {} · n={})",
                    crate::stats::fmt_latency(h.value_at_quantile(0.5)),
                    crate::stats::fmt_latency(h.value_at_quantile(0.99)),
                    h.len()
                ),
                color,
                points: percentile_curve(&h),
            })
        })
        .collect()
}

/// Draws `curves` on a nines × log-ms chart in `area`. The legend sits bottom
/// right: percentile curves rise to the right, so that corner is the emptiest.
pub(super) fn draw_curves<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    curves: &[Curve],
) -> DrawResult<DB> {
    let max_x = curves
        .iter()
        .flat_map(|c| c.points.last())
        .map(|p| p.0.ceil())
        .fold(MIN_NINES, f64::max)
        .min(MAX_NINES);
    let (lo, hi) = curves
        .iter()
        .flat_map(|c| c.points.iter())
        .fold((f64::INFINITY, 0f64), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    let (lo, hi) = ms_range(lo, hi);
    let mut x_points = vec![0.0, nines(0.5)];
    x_points.extend((1..=max_x as i32).map(f64::from));

    let mut builder = ChartBuilder::on(area);
    if !title.is_empty() {
        builder.caption(title, title_style());
    }
    let mut chart = builder
        .margin(MARGIN)
        .margin_right(MARGIN_RIGHT)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(linear_axis(0f64..max_x, x_points), log_ms_axis(lo, hi))?;
    chart
        .configure_mesh()
        .x_desc("percentile (log scale: each step adds a nine)")
        .y_desc("latency (ms, log scale)")
        .x_label_formatter(&|x| nines_label(*x))
        .y_label_formatter(&|y| ms_tick(y))
        .label_style(tick_style())
        .axis_desc_style(desc_style())
        .bold_line_style(GRID_BOLD)
        .light_line_style(GRID_LIGHT)
        .axis_style(INK)
        .draw()?;

    if curves.is_empty() {
        area.draw(&Text::new(
            "no latency samples after warmup",
            (
                area.dim_in_pixel().0 as i32 / 2 - 150,
                area.dim_in_pixel().1 as i32 / 2,
            ),
            desc_style(),
        ))?;
        return Ok(());
    }
    for c in curves {
        let color = c.color;
        chart
            .draw_series(LineSeries::new(
                c.points.iter().copied(),
                color.stroke_width(LINE_WIDTH),
            ))?
            .label(c.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(
                    vec![(x, y), (x + 24, y)],
                    color.stroke_width(LINE_WIDTH + 1),
                )
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(legend_style())
        .background_style(WHITE.mix(0.9))
        .border_style(GRID_BOLD)
        .draw()
}

/// Draws the chart of `run`.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, run: &RunData) -> DrawResult<DB> {
    let items = run
        .sinks
        .keys()
        .map(|&s: &Sink| (s.name().to_string(), sink_color(s), run.stats.sink_total(s)));
    draw_curves(
        root,
        &format!(
            "{}: end-to-end latency distribution (commit → visible, after warmup)",
            run.scenario
        ),
        &curves(items),
    )
}
