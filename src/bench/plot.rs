//! SVG plots (plotters' SVG backend: text is emitted as SVG text, no system fonts needed).
//! Every title names the CPU and the configuration.

use super::report::{Point, Report, SourceKind};
use crate::proof::HashId;
use plotters::prelude::*;

const COLORS: [RGBColor; 9] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(23, 190, 207),
];

/// Draws lines `(name, points)` into an SVG string.
fn line_chart(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[(String, Vec<(f64, f64)>)],
    log2_x: bool,
) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 480)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let all = series.iter().flat_map(|(_, pts)| pts.iter());
        let xmax = all.clone().map(|p| p.0).fold(1.0, f64::max);
        let ymax = all.map(|p| p.1).fold(1.0, f64::max) * 1.1;
        let tx = |x: f64| if log2_x { x.log2() } else { x };
        let chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..tx(xmax) * 1.05 + 0.1, 0f64..ymax);
        let Ok(mut chart) = chart else {
            return svg_fallback(title);
        };
        // Only whole ticks are labelled (plotters may place ticks at halves).
        let xfmt = |x: &f64| {
            let v = if log2_x { 2f64.powf(*x) } else { *x };
            if (v - v.round()).abs() < 1e-6 {
                format!("{}", v.round())
            } else {
                String::new()
            }
        };
        let _ = chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_label_formatter(&xfmt)
            .draw();
        for (i, (name, pts)) in series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let pts: Vec<(f64, f64)> = pts.iter().map(|(x, y)| (tx(*x), *y)).collect();
            if let Ok(s) = chart.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2))) {
                s.label(name.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            }
            let _ = chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())));
        }
        let _ = chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw();
        let _ = root.present();
    }
    svg
}

fn svg_fallback(title: &str) -> String {
    format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"40\"><text x=\"10\" y=\"25\">{title}: no data</text></svg>\n")
}

fn main_points(r: &Report) -> Vec<&Point> {
    r.main_points().filter(|p| !p.oversubscribed).collect()
}

/// Speedup over one thread versus threads, one line per layout.
pub fn speedup(r: &Report) -> String {
    let pts = main_points(r);
    let mut layouts: Vec<(bool, u32)> = pts.iter().map(|p| (p.chained, p.lanes)).collect();
    layouts.sort();
    layouts.dedup();
    let series: Vec<(String, Vec<(f64, f64)>)> = layouts
        .iter()
        .filter_map(|&(chained, lanes)| {
            let mut line: Vec<&&Point> = pts
                .iter()
                .filter(|p| p.chained == chained && p.lanes == lanes)
                .collect();
            line.sort_by_key(|p| p.threads);
            let one = line.iter().find(|p| p.threads == 1)?.median;
            let name = line.first()?.layout_name();
            Some((
                name,
                line.iter()
                    .map(|p| (p.threads as f64, p.median / one))
                    .collect(),
            ))
        })
        .collect();
    let title = format!(
        "{}: speedup vs threads (blake3 {}, synthetic)",
        r.fingerprint.cpu_model, r.fingerprint.blake3_detected
    );
    line_chart(
        &title,
        "worker threads",
        "speedup over 1 thread",
        &series,
        false,
    )
}

/// Throughput per SIMD backend at one thread, one line per backend over lanes (chained).
pub fn simd(r: &Report) -> String {
    let mut series = Vec::new();
    for simd in &r.fingerprint.blake3_backends {
        let mut line: Vec<(f64, f64)> = r
            .points
            .iter()
            .filter(|p| {
                p.hash == HashId::Blake3
                    && p.source == SourceKind::Synthetic
                    && p.simd == *simd
                    && p.threads == 1
                    && p.chained
            })
            .map(|p| (f64::from(p.lanes), p.median / 1e6))
            .collect();
        line.sort_by(|a, b| a.0.total_cmp(&b.0));
        if !line.is_empty() {
            series.push((simd.to_string(), line));
        }
    }
    let title = format!(
        "{}: blake3 backends, 1 thread, chained lanes",
        r.fingerprint.cpu_model
    );
    line_chart(&title, "lanes (log2 scale)", "M chunks/s", &series, true)
}

/// Throughput versus lanes (chained), one line per thread count.
pub fn lanes(r: &Report) -> String {
    let pts = main_points(r);
    let mut threads: Vec<usize> = pts.iter().map(|p| p.threads).collect();
    threads.sort();
    threads.dedup();
    let series: Vec<(String, Vec<(f64, f64)>)> = threads
        .iter()
        .map(|&t| {
            let mut line: Vec<(f64, f64)> = pts
                .iter()
                .filter(|p| p.threads == t && p.chained)
                .map(|p| (f64::from(p.lanes), p.median / 1e6))
                .collect();
            line.sort_by(|a, b| a.0.total_cmp(&b.0));
            (format!("{t} threads"), line)
        })
        .collect();
    let title = format!(
        "{}: throughput vs lanes (blake3 {}, chained)",
        r.fingerprint.cpu_model, r.fingerprint.blake3_detected
    );
    line_chart(&title, "lanes (log2 scale)", "M chunks/s", &series, true)
}

/// Compare chart: throughput vs lanes at all cores, one line per machine.
pub fn machines(reports: &[Report]) -> String {
    let series: Vec<(String, Vec<(f64, f64)>)> = reports
        .iter()
        .map(|r| {
            let cores = r.fingerprint.logical_cores;
            let mut line: Vec<(f64, f64)> = r
                .main_points()
                .filter(|p| p.chained && p.threads == cores)
                .map(|p| (f64::from(p.lanes), p.median / 1e6))
                .collect();
            line.sort_by(|a, b| a.0.total_cmp(&b.0));
            (
                format!("{} ({} cores)", r.fingerprint.cpu_model, cores),
                line,
            )
        })
        .collect();
    line_chart(
        "throughput vs lanes, all cores, blake3 best backend, chained",
        "lanes (log2 scale)",
        "M chunks/s",
        &series,
        true,
    )
}
