//! The bottom panel of `latency-over-time` when the run sampled the
//! pipeline's own metrics: path 1's Kafka consumer lag (messages; it moves in
//! checkpoint steps, see [`crate::pipeline_metrics`]), shaded where a Flink job was not
//! RUNNING, with a mark where Flink counted a job restart. Same time axis as
//! the panels above, so a latency spike lines up with its cause.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::report::data::RunData;

use super::over_time::counts_over_time;
use super::{draw_side_legend, mid, DrawResult, Swatch, LINE_WIDTH, MARGIN, THIN_LINE_WIDTH};

/// Kafka lag line.
const LAG_COLOR: RGBColor = RGBColor(120, 60, 160);
/// Seconds where a Flink job was not RUNNING.
const NOT_RUNNING_FILL: RGBColor = RGBColor(255, 236, 179);
/// A Flink job restart.
const RESTART_COLOR: RGBColor = RGBColor(200, 30, 30);

/// Draws the panel into `area`, its legend into `legend`.
pub(super) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    legend: &DrawingArea<DB, Shift>,
    run: &RunData,
    x_max: f64,
) -> DrawResult<DB> {
    let lag: Vec<(f64, f64)> = run
        .metrics
        .iter()
        .filter_map(|m| m.kafka_lag.map(|l| (mid(m.second), l as f64)))
        .collect();
    let y_max = lag.iter().map(|p| p.1).fold(1.0, f64::max) * 1.15;
    let mut chart = counts_over_time(area, x_max, y_max, "path 1 Kafka lag (msgs)")?;
    let not_running = run
        .metrics
        .iter()
        .filter(|m| match (m.flink_running, m.flink_jobs) {
            (Some(r), Some(j)) => r < j,
            _ => true,
        });
    chart.draw_series(not_running.map(|m| {
        let x = f64::from(m.second);
        Rectangle::new([(x, 0.0), (x + 1.0, y_max)], NOT_RUNNING_FILL.filled())
    }))?;
    let restarts =
        run.metrics
            .windows(2)
            .filter_map(|w| match (w[0].flink_restarts, w[1].flink_restarts) {
                (Some(a), Some(b)) if b > a => Some(mid(w[1].second)),
                _ => None,
            });
    let restart_style = RESTART_COLOR.stroke_width(THIN_LINE_WIDTH);
    chart.draw_series(
        restarts.map(|x| PathElement::new(vec![(x, 0.0), (x, y_max)], restart_style)),
    )?;
    let lag_style = LAG_COLOR.stroke_width(LINE_WIDTH);
    chart.draw_series(LineSeries::new(lag, lag_style))?;
    let entries = vec![
        ("path 1 Kafka lag".to_string(), Swatch::Line(lag_style)),
        (
            "a Flink job not RUNNING".to_string(),
            Swatch::Fill(NOT_RUNNING_FILL),
        ),
        ("Flink job restart".to_string(), Swatch::Line(restart_style)),
    ];
    draw_side_legend(legend, (MARGIN + 12) as i32, &entries)
}
