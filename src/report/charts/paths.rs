//! `path1-vs-path2.{png,svg}`: the two warehouse paths side by side. Left: their
//! latency distributions overlaid on the nines axis; right: their per-second p99.
//! Path 1 goes through Kafka and a second Flink job, path 2 straight from CDC, so
//! the gap between the curves is the cost of the Kafka hop.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::model::Sink;
use crate::report::data::RunData;
use crate::report::timeseries_csv::Lane;

use super::over_time::time_ticks;
use super::percentiles::{curves, draw_curves};
use super::{
    desc_style, linear_axis, log_ms_axis, ms_range, ms_tick, segments, sink_color, tick_style,
    title_style, DrawResult, GRID_BOLD, GRID_LIGHT, INK, LINE_WIDTH, MARGIN, MARGIN_RIGHT,
    WARMUP_FILL, X_LABEL_AREA, Y_LABEL_AREA,
};

/// Share of the width given to the distribution panel.
const DISTRIBUTION_SHARE: f64 = 0.55;
const PATHS: [Sink; 2] = [Sink::Path1, Sink::Path2];

/// One value per run second; `None` where the second has no samples.
type PerSecond = Vec<(u32, Option<f64>)>;

/// Draws the chart of `run`.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, run: &RunData) -> DrawResult<DB> {
    let title = format!(
        "{}: path 1 (via Kafka) vs path 2 (direct CDC)",
        run.scenario
    );
    let root = root.titled(&title, title_style())?;
    let split = (f64::from(root.dim_in_pixel().0) * DISTRIBUTION_SHARE) as u32;
    let (left, right) = root.split_horizontally(split);

    let items = PATHS.map(|s| (s.name().to_string(), sink_color(s), run.stats.sink_total(s)));
    draw_curves(&left, "", &curves(items))?;

    let last = run.stats.last_second().unwrap_or(0);
    let x_max = f64::from(last + 1);
    let p99: Vec<(Sink, PerSecond)> = PATHS
        .iter()
        .map(|&sink| {
            let pts = (0..=last)
                .map(|s| {
                    let v = run.stats.interval(s).and_then(|i| {
                        let sum = Lane::Sink(sink).summary(i);
                        (!sum.is_empty()).then_some(sum.p99 as f64 / 1000.0)
                    });
                    (s, v)
                })
                .collect();
            (sink, pts)
        })
        .collect();
    let (lo, hi) = p99
        .iter()
        .flat_map(|(_, pts)| pts.iter().filter_map(|p| p.1))
        .fold((f64::INFINITY, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = ms_range(lo, hi);
    let mut chart = ChartBuilder::on(&right)
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
        .x_desc("time since run start (s)")
        .y_desc("p99 per second (ms, log scale)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| ms_tick(y))
        .label_style(tick_style())
        .axis_desc_style(desc_style())
        .bold_line_style(GRID_BOLD)
        .light_line_style(GRID_LIGHT)
        .axis_style(INK)
        .draw()?;
    let warmup = f64::from(run.stats.warmup_intervals()).min(x_max);
    if warmup > 0.0 {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, lo), (warmup, hi)],
            WARMUP_FILL.filled(),
        )))?;
    }
    // Same colours as the distribution's legend on the left; no second legend.
    for (sink, pts) in p99 {
        let style = sink_color(sink).stroke_width(LINE_WIDTH);
        chart.draw_series(
            segments(pts)
                .into_iter()
                .map(|seg| PathElement::new(seg, style)),
        )?;
    }
    Ok(())
}
