//! `where-time-goes.{png,svg}`: each path's hops stacked, at p50 and at p99,
//! path 1 above path 2. Every bar segment is one hop's own percentile (the
//! hops are timed per row on one clock), so a bar shows where a typical (p50)
//! or a slow (p99) row spends its time; percentiles do not add, so a bar's
//! length is near, not equal to, the path's own percentile, which is marked.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::model::{Hop, Sink};
use crate::report::data::RunData;
use crate::stats::{LatencySummary, Series};

use super::{
    desc_style, legend_style, linear_axis, tick_style, title_style, DrawResult, GRID_BOLD,
    GRID_LIGHT, INK, MARGIN, MARGIN_RIGHT, X_LABEL_AREA,
};

/// Left area for the bar names.
const LABEL_AREA: u32 = 150;

/// The colour of a hop's segment.
fn hop_color(hop: Hop) -> RGBColor {
    match hop {
        Hop::AckToBinlog => RGBColor(150, 150, 150),
        Hop::BinlogToKafka => RGBColor(230, 159, 0),
        Hop::KafkaToPath1 => RGBColor(0, 114, 178),
        Hop::BinlogToPath2 => RGBColor(0, 158, 115),
    }
}

/// One bar: its label, its segments (hop, ms) and the path's own percentile (ms).
struct Bar {
    label: String,
    segments: Vec<(Hop, f64)>,
    whole: Option<f64>,
}

/// Whether `run` has hops to draw (both hops of path 2 or all of path 1).
pub fn applies(run: &RunData) -> bool {
    let has = |h: Hop| !run.stats.summary(Series::Hop(h)).is_empty();
    Hop::PATH1.iter().all(|h| has(*h)) || Hop::PATH2.iter().all(|h| has(*h))
}

fn bars(run: &RunData) -> Vec<Bar> {
    let ms = |us: u64| us as f64 / 1000.0;
    let hop = |h: Hop| run.stats.summary(Series::Hop(h));
    let mut out = Vec::new();
    for (name, pick) in [
        (
            "p50",
            (|s: &LatencySummary| s.p50) as fn(&LatencySummary) -> u64,
        ),
        ("p99", |s: &LatencySummary| s.p99),
    ] {
        for (sink, hops) in [
            (Sink::Path1, &Hop::PATH1[..]),
            (Sink::Path2, &Hop::PATH2[..]),
        ] {
            if hops.iter().any(|h| hop(*h).is_empty()) {
                continue;
            }
            let whole = LatencySummary::from_option(run.stats.sink_total(sink).as_ref());
            out.push(Bar {
                label: format!("{sink} {name}"),
                segments: hops.iter().map(|h| (*h, ms(pick(&hop(*h))))).collect(),
                whole: (!whole.is_empty()).then(|| ms(pick(&whole))),
            });
        }
    }
    out
}

/// Draws the chart of `run`.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, run: &RunData) -> DrawResult<DB> {
    let title = format!("{}: where each path spends its time", run.scenario);
    let root = root.titled(&title, title_style())?;
    let bars = bars(run);
    let longest = bars
        .iter()
        .map(|b| {
            let sum: f64 = b.segments.iter().map(|s| s.1).sum();
            sum.max(b.whole.unwrap_or(0.0))
        })
        .fold(1.0f64, f64::max);
    let x_max = longest * 1.12;
    let n = bars.len().max(1) as f64;
    let step = nice_step(x_max);
    let keys: Vec<f64> = (0..=(x_max / step) as usize)
        .map(|i| i as f64 * step)
        .collect();
    let mut chart = ChartBuilder::on(&root)
        .margin(MARGIN)
        .margin_right(MARGIN_RIGHT)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(LABEL_AREA)
        .build_cartesian_2d(linear_axis(0f64..x_max, keys), 0f64..n)?;
    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    chart
        .configure_mesh()
        .x_desc("ms (each segment: that hop's own percentile; ◆ the path's)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_labels(bars.len() * 2 + 1)
        .y_label_formatter(&|y| {
            let i = (n - y - 0.5).round();
            let near = (n - y - 0.5 - i).abs() < 0.01;
            match (near, usize::try_from(i as i64)) {
                (true, Ok(i)) if i < labels.len() => labels[i].clone(),
                _ => String::new(),
            }
        })
        .disable_y_mesh()
        .label_style(tick_style())
        .axis_desc_style(desc_style())
        .bold_line_style(GRID_BOLD)
        .light_line_style(GRID_LIGHT)
        .draw()?;
    for (i, bar) in bars.iter().enumerate() {
        let top = n - i as f64 - 0.2;
        let bottom = n - i as f64 - 0.8;
        let mut x = 0.0;
        for (hop, w) in &bar.segments {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x, bottom), (x + w, top)],
                hop_color(*hop).filled(),
            )))?;
            x += w;
        }
        if let Some(whole) = bar.whole {
            chart.draw_series(std::iter::once(
                EmptyElement::at((whole, (top + bottom) / 2.0))
                    + Polygon::new(vec![(0, -9), (7, 0), (0, 9), (-7, 0)], INK.filled()),
            ))?;
        }
    }
    for hop in Hop::ALL {
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
            .label(hop.label())
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 6), (x + 14, y + 6)], hop_color(hop).filled())
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(legend_style())
        .background_style(WHITE.mix(0.9))
        .border_style(GRID_BOLD)
        .draw()?;
    Ok(())
}

/// A round tick step giving about 6 ticks up to `max`.
fn nice_step(max: f64) -> f64 {
    let raw = max / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tick_steps_are_round() {
        assert_eq!(super::nice_step(120.0), 20.0);
        assert_eq!(super::nice_step(5.5), 1.0);
        assert_eq!(super::nice_step(900.0), 200.0);
    }
}
