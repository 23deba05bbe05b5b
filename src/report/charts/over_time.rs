//! `latency-over-time.{png,svg}`: per-second p50 and p99 end-to-end latency of
//! every sink (top panel, log ms) above the load it was measured at (bottom
//! panel): target and achieved rows/s and rows/s first seen at each sink. The
//! warmup seconds are shaded; each second is drawn at its middle (interval
//! `[s, s + 1)` at `s + 0.5`). Legends sit in a column to the right of each
//! panel so they never cover a line. Fault windows (`[[faults]]`) are shaded
//! red in both panels (a snapshot's window, `[snapshot]`, blue), and each sink's recovery is a dashed line in its colour.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use crate::model::Sink;
use crate::report::data::RunData;

use crate::stats::IntervalCounters;

use super::{
    count_tick, desc_style, draw_side_legend, linear_axis, log_ms_axis, mid, ms_range, ms_tick,
    segments, sink_color, tick_style, title_style, DrawResult, KeyedAxis, Swatch, ACHIEVED_COLOR,
    GRID_BOLD, GRID_LIGHT, INK, LEGEND_WIDTH, LINE_WIDTH, MARGIN, TARGET_COLOR, THIN_LINE_WIDTH,
    WARMUP_FILL, X_LABEL_AREA, Y_LABEL_AREA,
};

/// Share of the height given to the latency panel.
const LATENCY_PANEL_SHARE: f64 = 0.6;
/// Share of the whole height given to the pipeline-metrics panel, when there is one.
const METRICS_PANEL_SHARE: f64 = 0.25;
/// Opacity of the "seen at sink" rate lines, which mostly sit on the achieved line.
const SEEN_OPACITY: f64 = 0.6;
/// Dash and gap length of p50 and target lines (px).
const DASH: (u32, u32) = (6, 4);
/// Background of a fault window (`[[faults]]`: target down until it answers again).
const FAULT_FILL: RGBColor = RGBColor(250, 212, 205);

/// Background of the snapshot window (`[snapshot]`: jobs submitted until
/// the last sink holds the last preloaded row).
const SNAPSHOT_FILL: RGBColor = RGBColor(205, 225, 248);

/// The fault windows of `run` in run seconds, clipped to `[0, x_max]`,
/// with their fill; the snapshot's first.
fn fault_windows(run: &RunData, x_max: f64) -> Vec<(f64, f64, RGBColor)> {
    let snapshot = run.snapshot.as_ref().and_then(|s| {
        let end = s.sinks.values().filter_map(|x| x.last_s).reduce(f64::max)?;
        Some((s.jobs_submitted_s, end, SNAPSHOT_FILL))
    });
    snapshot
        .into_iter()
        .chain(
            run.faults
                .iter()
                .filter_map(|f| f.event.window())
                .map(|(a, b)| (a, b, FAULT_FILL)),
        )
        .map(|(a, b, c)| (a.clamp(0.0, x_max), b.clamp(0.0, x_max), c))
        .collect()
}

struct SinkSeries {
    sink: Sink,
    p50: Vec<(u32, Option<f64>)>,
    p99: Vec<(u32, Option<f64>)>,
    seen: Vec<(f64, f64)>,
}

fn sink_series(run: &RunData) -> Vec<SinkSeries> {
    run.sinks
        .keys()
        .map(|&sink| {
            let mut s = SinkSeries {
                sink,
                p50: Vec::new(),
                p99: Vec::new(),
                seen: Vec::new(),
            };
            for (second, sum, seen) in run.stats.sink_seconds(sink) {
                let ms = |us: u64| (!sum.is_empty()).then_some(us as f64 / 1000.0);
                s.p50.push((second, ms(sum.p50)));
                s.p99.push((second, ms(sum.p99)));
                s.seen.push((mid(second), seen as f64));
            }
            s
        })
        .collect()
}

/// Evenly spaced time ticks (1, 2, 5 × 10ⁿ s apart), about eight of them.
pub(crate) fn time_ticks(x_max: f64) -> Vec<f64> {
    let raw = (x_max / 8.0).max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    (0..)
        .map(|i| f64::from(i) * step)
        .take_while(|x| *x <= x_max)
        .collect()
}

/// Draws the chart of `run`.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, run: &RunData) -> DrawResult<DB> {
    let title = format!("{}: latency and throughput over time", run.scenario);
    let root = root.titled(&title, title_style())?;
    let width = root.dim_in_pixel().0;
    let (plots, legend) = root.split_horizontally(width.saturating_sub(LEGEND_WIDTH));
    let height = f64::from(plots.dim_in_pixel().1);
    // With pipeline metrics, a third panel below takes a quarter of the height.
    let (plots, legend, metrics_panel) = if run.metrics.is_empty() {
        (plots, legend, None)
    } else {
        let cut = (height * (1.0 - METRICS_PANEL_SHARE)) as u32;
        let (p, pm) = plots.split_vertically(cut);
        let (l, lm) = legend.split_vertically(cut);
        (p, l, Some((pm, lm)))
    };
    let split = (f64::from(plots.dim_in_pixel().1) * LATENCY_PANEL_SHARE) as u32;
    let (top, bottom) = plots.split_vertically(split);
    let (legend_top, legend_bottom) = legend.split_vertically(split);

    let last = run.stats.last_second().unwrap_or(0);
    let x_max = f64::from(last + 1);
    let warmup = f64::from(run.stats.warmup_intervals()).min(x_max);
    let series = sink_series(run);
    let mut top_entries = Vec::new();
    let mut bottom_entries = Vec::new();
    if warmup > 0.0 {
        top_entries.push(("warmup (excluded)".to_string(), Swatch::Fill(WARMUP_FILL)));
    }
    let faults = fault_windows(run, x_max);
    if run.snapshot.is_some() {
        top_entries.push((
            "snapshot: jobs start → last preloaded row".to_string(),
            Swatch::Fill(SNAPSHOT_FILL),
        ));
    }
    for f in &run.faults {
        top_entries.push((
            format!("fault: {}", f.event.label()),
            Swatch::Fill(FAULT_FILL),
        ));
    }

    // Latency panel.
    let (lo, hi) = series
        .iter()
        .flat_map(|s| s.p50.iter().chain(&s.p99))
        .filter_map(|p| p.1)
        .fold((f64::INFINITY, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = ms_range(lo, hi);
    let mut chart = ChartBuilder::on(&top)
        .margin(MARGIN)
        .x_label_area_size(X_LABEL_AREA / 2)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(
            linear_axis(0f64..x_max, time_ticks(x_max)),
            log_ms_axis(lo, hi),
        )?;
    chart
        .configure_mesh()
        .y_desc("end-to-end latency (ms, log scale)")
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&|y| ms_tick(y))
        .label_style(tick_style())
        .axis_desc_style(desc_style())
        .bold_line_style(GRID_BOLD)
        .light_line_style(GRID_LIGHT)
        .axis_style(INK)
        .draw()?;
    if warmup > 0.0 {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, lo), (warmup, hi)],
            WARMUP_FILL.filled(),
        )))?;
    }
    chart.draw_series(
        faults
            .iter()
            .map(|&(a, b, c)| Rectangle::new([(a, lo), (b, hi)], c.filled())),
    )?;
    // Each sink's recovery (p99 back under its threshold): a thin line in its colour.
    for f in &run.faults {
        for r in &f.sinks {
            let (Some(at), Some(sink)) = (
                r.recovered_at_s,
                Sink::ALL.into_iter().find(|s| s.name() == r.sink),
            ) else {
                continue;
            };
            let x = f64::from(at).min(x_max);
            chart.draw_series(std::iter::once(DashedPathElement::new(
                vec![(x, lo), (x, hi)],
                2,
                3,
                sink_color(sink).stroke_width(THIN_LINE_WIDTH),
            )))?;
        }
    }
    for s in &series {
        let color = sink_color(s.sink);
        let p50 = color.stroke_width(THIN_LINE_WIDTH);
        chart.draw_series(
            segments(s.p50.iter().copied())
                .into_iter()
                .map(|seg| DashedPathElement::new(seg, DASH.0, DASH.1, p50)),
        )?;
        let p99 = color.stroke_width(LINE_WIDTH);
        chart.draw_series(
            segments(s.p99.iter().copied())
                .into_iter()
                .map(|seg| PathElement::new(seg, p99)),
        )?;
        top_entries.push((format!("{} p99", s.sink), Swatch::Line(p99)));
        top_entries.push((format!("{} p50", s.sink), Swatch::Dashed(p50)));
    }

    // Throughput panel.
    let rate = |f: fn(&IntervalCounters) -> u64| -> Vec<(f64, f64)> {
        (0..=last)
            .map(|s| {
                let v = run.stats.interval(s).map_or(0, |i| f(&i.counters));
                (mid(s), v as f64)
            })
            .collect()
    };
    let target = rate(|c| c.target_rows);
    let achieved = rate(|c| c.committed_rows);
    let y_max = target
        .iter()
        .chain(&achieved)
        .chain(series.iter().flat_map(|s| &s.seen))
        .map(|p| p.1)
        .fold(1.0, f64::max)
        * 1.15;
    let mut chart = counts_over_time(&bottom, x_max, y_max, "rows per second")?;
    if warmup > 0.0 {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, 0.0), (warmup, y_max)],
            WARMUP_FILL.filled(),
        )))?;
    }
    chart.draw_series(
        faults
            .iter()
            .map(|&(a, b, c)| Rectangle::new([(a, 0.0), (b, y_max)], c.filled())),
    )?;
    let achieved_style = ACHIEVED_COLOR.stroke_width(LINE_WIDTH + 2);
    chart.draw_series(LineSeries::new(achieved, achieved_style))?;
    bottom_entries.push((
        "achieved (committed)".to_string(),
        Swatch::Line(achieved_style),
    ));
    for s in &series {
        let style = sink_color(s.sink)
            .mix(SEEN_OPACITY)
            .stroke_width(THIN_LINE_WIDTH);
        chart.draw_series(LineSeries::new(s.seen.iter().copied(), style))?;
        bottom_entries.push((format!("seen at {}", s.sink), Swatch::Line(style)));
    }
    let target_style = TARGET_COLOR.stroke_width(LINE_WIDTH);
    chart.draw_series(DashedLineSeries::new(
        target,
        DASH.0 + 2,
        DASH.1,
        target_style,
    ))?;
    bottom_entries.insert(0, ("target".to_string(), Swatch::Dashed(target_style)));

    let first_row = (MARGIN + 12) as i32;
    draw_side_legend(&legend_top, first_row, &top_entries)?;
    draw_side_legend(&legend_bottom, first_row, &bottom_entries)?;
    if let Some((panel, legend)) = metrics_panel {
        super::pipeline_panel::draw(&panel, &legend, run, x_max)?;
    }
    Ok(())
}

/// A chart whose x axis is the run's seconds and whose y axis is linear.
pub(super) type TimeChart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<KeyedAxis<RangedCoordf64>, RangedCoordf64>>;

/// A panel of counts over the run's seconds (rows/s, Kafka lag): the time
/// axis and mesh every such panel shares, drawn, ready for its series.
pub(super) fn counts_over_time<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x_max: f64,
    y_max: f64,
    y_desc: &str,
) -> Result<TimeChart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(linear_axis(0f64..x_max, time_ticks(x_max)), 0f64..y_max)?;
    chart
        .configure_mesh()
        .x_desc("time since run start (s)")
        .y_desc(y_desc)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| count_tick(y))
        .y_max_light_lines(1)
        .label_style(tick_style())
        .axis_desc_style(desc_style())
        .bold_line_style(GRID_BOLD)
        .light_line_style(GRID_LIGHT)
        .axis_style(INK)
        .draw()?;
    Ok(chart)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_ticks_are_round() {
        assert_eq!(
            time_ticks(120.0),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0, 120.0]
        );
        assert_eq!(time_ticks(3.0), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(time_ticks(300.0).len(), 7); // every 50 s
    }
}
