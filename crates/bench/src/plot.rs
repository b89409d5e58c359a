//! SVG plots (plotters' SVG backend: text is emitted as SVG text, no system fonts needed).
//! Every title names the CPU and the configuration. Measured points are drawn as markers, with
//! bars for their 95% confidence intervals (of a median, or of a median of paired ratios: the
//! same figures as the tables); lines join only what was measured or modelled at every x they
//! pass.

use super::report::{thr, Point, Report, SourceKind};
use super::stats::Estimate;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use poie_proof::HashId;

/// Twelve colours told apart by most eyes (Tableau's ten and two darker ones).
const COLORS: [RGBColor; 12] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 128),
    RGBColor(128, 0, 0),
];

/// The legend text of the bars of a chart of rates.
pub const BARS_LABEL: &str = "bars: 95% confidence interval of the median";

/// The legend text of the bars of the speedup chart.
pub const RATIO_BARS_LABEL: &str = "bars: 95% interval of the median of the paired ratios";

/// How a series is drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    /// Markers joined by a line.
    Line,
    /// Markers only.
    Markers,
    /// A dashed line, no markers (references: ideal, unchained, a bound).
    Dashed,
}

struct Series {
    name: String,
    /// Whether the series has a legend entry of its own.
    legend: bool,
    pts: Vec<(f64, f64)>,
    /// `(x, min, max)` bars.
    bars: Vec<(f64, f64, f64)>,
    style: Style,
    color: RGBColor,
}

impl Series {
    fn new(name: String, pts: Vec<(f64, f64)>, style: Style, color: RGBColor) -> Series {
        Series {
            name,
            legend: true,
            pts,
            bars: Vec::new(),
            style,
            color,
        }
    }
}

fn color(i: usize) -> RGBColor {
    COLORS[i % COLORS.len()]
}

/// One legend entry: what it says and how its sample is drawn.
struct Entry {
    name: String,
    style: Option<Style>,
    color: RGBColor,
}

/// Draws `series` into an SVG string, the legend below the plot (it never hides data).
/// Largest magnitude plotted: reports are untrusted, and plotters' pixel arithmetic overflows
/// on coordinates far outside any real figure.
const PLOT_LIMIT: f64 = 1e9;

/// `series` without what cannot be drawn: non-finite, negative or absurd values, and x <= 0 on
/// a log axis; bars clipped to what remains drawable.
fn drawable(series: &[Series], log2_x: bool) -> Vec<Series> {
    let x_ok = |x: f64| x.is_finite() && x.abs() <= PLOT_LIMIT && (!log2_x || x > 0.0);
    let y_ok = |y: f64| y.is_finite() && (0.0..=PLOT_LIMIT).contains(&y);
    series
        .iter()
        .map(|s| Series {
            name: s.name.clone(),
            legend: s.legend,
            pts: s
                .pts
                .iter()
                .copied()
                .filter(|&(x, y)| x_ok(x) && y_ok(y))
                .collect(),
            bars: s
                .bars
                .iter()
                .copied()
                .filter(|&(x, lo, hi)| x_ok(x) && lo.is_finite() && hi.is_finite())
                .map(|(x, lo, hi)| (x, lo.clamp(0.0, PLOT_LIMIT), hi.clamp(0.0, PLOT_LIMIT)))
                .collect(),
            style: s.style,
            color: s.color,
        })
        .collect()
}

fn chart(title: &str, x_desc: &str, y_desc: &str, series: &[Series], log2_x: bool) -> String {
    chart_with(title, x_desc, y_desc, series, log2_x, BARS_LABEL)
}

fn chart_with(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
    log2_x: bool,
    bars_label: &str,
) -> String {
    let mut svg = String::new();
    let series = &drawable(series, log2_x)[..];
    if series.iter().all(|s| s.pts.is_empty()) {
        return svg_fallback(title);
    }
    let entries = legend_entries(series, bars_label);
    let columns = if entries.iter().all(|e| e.name.chars().count() <= 52) {
        2
    } else {
        1
    };
    let rows = entries.len().div_ceil(columns) as u32;
    let (width, plot_height) = (800u32, 440u32);
    {
        let root = SVGBackend::with_string(&mut svg, (width, plot_height + 12 + 20 * rows))
            .into_drawing_area();
        let _ = root.fill(&WHITE);
        let (plot_area, legend_area) = root.split_vertically(plot_height);
        let tx = |x: f64| if log2_x { x.max(1e-9).log2() } else { x };
        let xs = series.iter().flat_map(|s| {
            s.pts
                .iter()
                .map(|p| tx(p.0))
                .chain(s.bars.iter().map(|b| tx(b.0)))
        });
        let xmin = xs.clone().fold(f64::INFINITY, f64::min).min(0.0);
        let xmax = xs.fold(1.0, f64::max);
        let ymax = series
            .iter()
            .flat_map(|s| s.pts.iter().map(|p| p.1).chain(s.bars.iter().map(|b| b.2)))
            .filter(|y| y.is_finite())
            .fold(1.0, f64::max)
            * 1.08;
        let span = (xmax - xmin).max(1.0);
        let chart = ChartBuilder::on(&plot_area)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(xmin - 0.03 * span..xmax + 0.05 * span, 0f64..ymax);
        let Ok(mut chart) = chart else {
            return svg_fallback(title);
        };
        // Only whole ticks are labelled (plotters may place ticks at halves).
        let xfmt = |x: &f64| {
            let v = if log2_x { 2f64.powf(*x) } else { *x };
            if (v - v.round()).abs() < 1e-6 && v >= 0.5 {
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
        for s in series {
            draw_series(&mut chart, s, &tx, 0.008 * span);
        }
        let col_width = (width as i32 - 80) / columns as i32;
        for (i, e) in entries.iter().enumerate() {
            let x = 70 + col_width * (i as i32 % columns as i32);
            let y = 14 + 20 * (i as i32 / columns as i32);
            draw_legend_entry(&legend_area, e, (x, y));
        }
        let _ = root.present();
    }
    svg
}

/// The legend: every series that asks for an entry, and the interval bars' meaning when any
/// series has a bar to draw.
fn legend_entries(series: &[Series], bars_label: &str) -> Vec<Entry> {
    let mut entries: Vec<Entry> = series
        .iter()
        .filter(|s| s.legend)
        .map(|s| Entry {
            name: s.name.clone(),
            style: Some(s.style),
            color: s.color,
        })
        .collect();
    if series
        .iter()
        .flat_map(|s| s.bars.iter())
        .any(|b| b.1.is_finite() && b.2.is_finite() && b.2 > b.1)
    {
        entries.push(Entry {
            name: bars_label.into(),
            style: None,
            color: BLACK,
        });
    }
    entries
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// One series in its style, with its interval bars (capped `cap` wide either side).
fn draw_series(chart: &mut Chart<'_, '_>, s: &Series, tx: &dyn Fn(f64) -> f64, cap: f64) {
    let c = s.color;
    let pts: Vec<(f64, f64)> = s.pts.iter().map(|(x, y)| (tx(*x), *y)).collect();
    let _ = match s.style {
        Style::Line => {
            let _ = chart.draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)));
            chart.draw_series(pts.iter().map(|p| Circle::new(*p, 3, c.filled())))
        }
        Style::Dashed => {
            chart.draw_series(DashedLineSeries::new(pts.clone(), 8, 5, c.stroke_width(2)))
        }
        Style::Markers => chart.draw_series(pts.iter().map(|p| Circle::new(*p, 4, c.filled()))),
    };
    for &(x, lo, hi) in &s.bars {
        if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
            continue;
        }
        let x = tx(x);
        let _ = chart.draw_series([
            PathElement::new(vec![(x, lo), (x, hi)], c.stroke_width(1)),
            PathElement::new(vec![(x - cap, lo), (x + cap, lo)], c.stroke_width(1)),
            PathElement::new(vec![(x - cap, hi), (x + cap, hi)], c.stroke_width(1)),
        ]);
    }
}

/// One legend entry at `(x, y)`: its mark in the series' style, then its name.
fn draw_legend_entry(area: &DrawingArea<SVGBackend<'_>, Shift>, e: &Entry, (x, y): (i32, i32)) {
    let c = e.color;
    let segment = |from: i32, to: i32| {
        area.draw(&PathElement::new(
            vec![(x + from, y), (x + to, y)],
            c.stroke_width(2),
        ))
    };
    let _ = match e.style {
        Some(Style::Line) => {
            let _ = area.draw(&Circle::new((x + 11, y), 3, c.filled()));
            segment(0, 22)
        }
        Some(Style::Dashed) => {
            let _ = segment(0, 6);
            let _ = segment(9, 14);
            segment(17, 22)
        }
        Some(Style::Markers) => area.draw(&Circle::new((x + 11, y), 4, c.filled())),
        None => area.draw(&PathElement::new(
            vec![(x + 11, y - 6), (x + 11, y + 6)],
            c.stroke_width(1),
        )),
    };
    let _ = area.draw(&Text::new(
        e.name.clone(),
        (x + 30, y - 7),
        ("sans-serif", 13).into_font().color(&BLACK),
    ));
}

fn svg_fallback(title: &str) -> String {
    let title = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"40\"><text x=\"10\" y=\"25\">{title}: no data</text></svg>\n")
}

fn layouts(pts: &[&Point]) -> Vec<(bool, u32)> {
    let mut l: Vec<(bool, u32)> = pts.iter().map(|p| (p.chained, p.lanes)).collect();
    l.sort();
    l.dedup();
    l
}

/// A point's rate with its interval as a bar, in M chunks/s.
fn rate_bar(x: f64, p: &Point) -> (f64, f64, f64) {
    let e = p.estimate();
    let (lo, hi) = e.interval.unwrap_or((e.median, e.median));
    (x, lo / 1e6, hi / 1e6)
}

/// Speedup over one thread versus threads, one line per layout, with the interval of each
/// speedup, the oversubscribed point and the ideal (linear up to the logical cores, flat
/// beyond). Each speedup is the median of the per-round ratios, as in the tables.
pub fn speedup(r: &Report) -> String {
    let pts: Vec<&Point> = r.main_points().collect();
    let cores = r.cores();
    let mut series = Vec::new();
    for (i, (chained, lanes)) in layouts(&pts).into_iter().enumerate() {
        let mut line: Vec<&Point> = pts
            .iter()
            .copied()
            .filter(|p| p.chained == chained && p.lanes == lanes)
            .collect();
        line.sort_by_key(|p| p.threads);
        let Some(one) = line
            .iter()
            .copied()
            .find(|p| p.threads == 1 && p.median > 0.0)
        else {
            continue;
        };
        let Some(name) = line.first().map(|p| p.layout_name()) else {
            continue;
        };
        let ratios: Vec<(f64, Estimate)> = line
            .iter()
            .map(|p| (p.threads as f64, p.ratio(one)))
            .collect();
        let mut s = Series::new(
            name,
            ratios.iter().map(|(t, e)| (*t, e.median)).collect(),
            Style::Line,
            color(i),
        );
        s.bars = ratios
            .iter()
            .filter_map(|(t, e)| e.interval.map(|(lo, hi)| (*t, lo, hi)))
            .collect();
        series.push(s);
    }
    let tmax = pts.iter().map(|p| p.threads).max().unwrap_or(1).max(cores);
    let mut ideal = vec![(1.0, 1.0), (cores as f64, cores as f64)];
    if tmax > cores {
        ideal.push((tmax as f64, cores as f64));
    }
    series.push(Series::new(
        format!("ideal: linear to {cores} logical cores, flat beyond (oversubscribed)"),
        ideal,
        Style::Dashed,
        BLACK,
    ));
    let title = format!(
        "{}: speedup vs threads (blake3 {}, synthetic)",
        r.fingerprint.cpu_model, r.fingerprint.blake3_detected
    );
    chart_with(
        &title,
        "worker threads",
        "speedup over 1 thread",
        &series,
        false,
        RATIO_BARS_LABEL,
    )
}

/// Throughput per SIMD backend at one thread: markers at the chained lane counts measured
/// (nothing drawn between them).
pub fn simd(r: &Report) -> String {
    let mut series = Vec::new();
    for (i, simd) in r.fingerprint.blake3_backends.iter().enumerate() {
        let mut line: Vec<&Point> = r
            .points
            .iter()
            .filter(|p| {
                p.hash == HashId::Blake3
                    && p.source == SourceKind::Synthetic
                    && p.simd == *simd
                    && p.threads == 1
                    && p.chained
            })
            .collect();
        line.sort_by_key(|p| p.lanes);
        if line.is_empty() {
            continue;
        }
        let mut s = Series::new(
            format!("{simd} (measured lanes only)"),
            line.iter()
                .map(|p| (f64::from(p.lanes), p.median / 1e6))
                .collect(),
            Style::Markers,
            color(i),
        );
        s.bars = line
            .iter()
            .map(|p| rate_bar(f64::from(p.lanes), p))
            .collect();
        series.push(s);
    }
    let title = format!(
        "{}: blake3 backends, 1 thread, chained lanes",
        r.fingerprint.cpu_model
    );
    chart(&title, "lanes (log2 scale)", "M chunks/s", &series, true)
}

/// Chained throughput versus lanes, one line per thread count, each with its unchained
/// reference (dashed, same colour): the rate no lane count can beat.
pub fn lanes(r: &Report) -> String {
    let pts: Vec<&Point> = r.main_points().collect();
    let mut threads: Vec<usize> = pts.iter().map(|p| p.threads).collect();
    threads.sort();
    threads.dedup();
    let cores = r.cores();
    let mut series = Vec::new();
    let xmax = pts
        .iter()
        .filter(|p| p.chained)
        .map(|p| f64::from(p.lanes))
        .fold(1.0, f64::max);
    for (i, &t) in threads.iter().enumerate() {
        let o = if t > cores { " (o)" } else { "" };
        let mut line: Vec<&Point> = pts
            .iter()
            .copied()
            .filter(|p| p.threads == t && p.chained)
            .collect();
        line.sort_by_key(|p| p.lanes);
        if !line.is_empty() {
            let mut s = Series::new(
                format!("chained, {}{o}", thr(t)),
                line.iter()
                    .map(|p| (f64::from(p.lanes), p.median / 1e6))
                    .collect(),
                Style::Line,
                color(i),
            );
            s.bars = line
                .iter()
                .map(|p| rate_bar(f64::from(p.lanes), p))
                .collect();
            series.push(s);
        }
        if let Some(u) = pts.iter().find(|p| p.threads == t && !p.chained) {
            series.push(Series::new(
                format!("unchained, {}{o}", thr(t)),
                vec![(1.0, u.median / 1e6), (xmax, u.median / 1e6)],
                Style::Dashed,
                color(i),
            ));
        }
    }
    let title = format!(
        "{}: throughput vs lanes (blake3 {}, chained; dashed: unchained)",
        r.fingerprint.cpu_model, r.fingerprint.blake3_detected
    );
    chart(&title, "lanes (log2 scale)", "M chunks/s", &series, true)
}

/// Lane tuning (modelled): each big machine's gain over the reference at the same L, with its
/// unchained gain dashed, and the recommended L marked.
pub fn tuning(r: &Report) -> String {
    let Some(t) = &r.tuning else {
        return svg_fallback("lane tuning (no blake3 model)");
    };
    let mut series = Vec::new();
    let xmax = t
        .rows
        .iter()
        .map(|x| f64::from(x.lanes))
        .fold(1.0, f64::max);
    let mut ymax: f64 = 1.0;
    for (i, b) in t.big.iter().enumerate() {
        let pts: Vec<(f64, f64)> = t
            .rows
            .iter()
            .filter_map(|row| {
                row.big_gains
                    .get(i)
                    .map(|(_, g)| (f64::from(row.lanes), *g))
            })
            .collect();
        ymax = pts.iter().map(|p| p.1).fold(ymax, f64::max);
        series.push(Series::new(
            format!("{}-core {} over the reference, same L", b.cores, b.simd),
            pts,
            Style::Line,
            color(i),
        ));
        if let Some((_, g)) = t.unbounded_gains.get(i) {
            ymax = ymax.max(*g);
            series.push(Series::new(
                format!("{}-core {} over the reference, unchained", b.cores, b.simd),
                vec![(1.0, *g), (xmax, *g)],
                Style::Dashed,
                color(i),
            ));
        }
    }
    if let Some(l) = t.recommended {
        series.push(Series::new(
            format!(
                "recommended L={l}: the reference keeps at least {:.0}% of its unbounded rate",
                100.0 * t.keep
            ),
            vec![(f64::from(l), 0.0), (f64::from(l), ymax)],
            Style::Dashed,
            BLACK,
        ));
    }
    let title = format!(
        "modelled lane tuning from {}: gain over a {}-core {} reference",
        r.fingerprint.cpu_model, t.reference.cores, t.reference.simd
    );
    chart(
        &title,
        "lanes L (log2 scale)",
        "gain over the reference",
        &series,
        true,
    )
}

/// Compare chart: chained throughput vs lanes at all cores, one line per machine (its latest
/// report), each in a colour of its own, with its unchained rate dashed in the same colour.
pub fn machines(reports: &[Report]) -> String {
    let mut series = Vec::new();
    let xmax = reports
        .iter()
        .flat_map(|r| r.main_points().filter(|p| p.chained))
        .map(|p| f64::from(p.lanes))
        .fold(1.0, f64::max);
    let mut ids: Vec<&str> = Vec::new();
    for r in reports {
        if !ids.contains(&r.fingerprint.machine_id.as_str()) {
            ids.push(&r.fingerprint.machine_id);
        }
    }
    for (i, id) in ids.iter().enumerate() {
        let of_machine: Vec<(usize, &Report)> = reports
            .iter()
            .enumerate()
            .filter(|(_, r)| r.fingerprint.machine_id == *id)
            .collect();
        let Some(&(n, r)) = of_machine
            .iter()
            .max_by(|a, b| a.1.created_utc.cmp(&b.1.created_utc))
        else {
            continue;
        };
        let cores = r.fingerprint.logical_cores;
        let mut line: Vec<&Point> = r
            .main_points()
            .filter(|p| p.chained && p.threads == cores)
            .collect();
        line.sort_by_key(|p| p.lanes);
        let name = format!(
            "{} {} ({} cores, {}; #{}, latest of {})",
            id,
            r.fingerprint.cpu_model,
            cores,
            r.fingerprint.blake3_detected,
            n + 1,
            super::report::count(of_machine.len(), "report", "reports")
        );
        let mut s = Series::new(
            name,
            line.iter()
                .map(|p| (f64::from(p.lanes), p.median / 1e6))
                .collect(),
            Style::Line,
            color(i),
        );
        s.bars = line
            .iter()
            .map(|p| rate_bar(f64::from(p.lanes), p))
            .collect();
        series.push(s);
        if let Some(u) = r.main_points().find(|p| !p.chained && p.threads == cores) {
            let mut dashed = Series::new(
                String::new(),
                vec![(1.0, u.median / 1e6), (xmax, u.median / 1e6)],
                Style::Dashed,
                color(i),
            );
            dashed.legend = false;
            series.push(dashed);
        }
    }
    series.push(Series::new(
        "dashed: each machine's unchained rate, in its colour".into(),
        vec![],
        Style::Dashed,
        BLACK,
    ));
    chart(
        "throughput vs lanes, all cores, blake3 best backend (dashed: unchained)",
        "lanes (log2 scale)",
        "M chunks/s",
        &series,
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::sample_report;

    fn texts(doc: &roxmltree::Document) -> String {
        doc.descendants()
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Polylines with their point counts.
    fn polylines(doc: &roxmltree::Document) -> Vec<usize> {
        doc.descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .map(|n| {
                n.attribute("points")
                    .unwrap_or("")
                    .split_whitespace()
                    .count()
            })
            .collect()
    }

    #[test]
    fn speedup_has_the_ideal_line_bars_and_the_oversubscribed_point() {
        let r = sample_report();
        let svg = speedup(&r);
        let doc = roxmltree::Document::parse(&svg).expect("valid SVG");
        let t = texts(&doc);
        assert!(t.contains("ideal: linear to 4 logical cores"), "{t}");
        assert!(t.contains(RATIO_BARS_LABEL));
        assert!(t.contains("L=16 chained") && t.contains("L=1 unchained"));
        // 16 main points with a bar of three strokes each.
        let twos = polylines(&doc).iter().filter(|&&n| n == 2).count();
        assert!(twos >= 3 * 16, "{twos}");
        // Threads 1, 2, 4 and the oversubscribed 8: each layout's line has four points.
        assert!(polylines(&doc).iter().filter(|&&n| n == 4).count() >= 4);
        // Markers: 16 points.
        assert!(
            doc.descendants()
                .filter(|n| n.has_tag_name("circle"))
                .count()
                >= 16
        );
    }

    #[test]
    fn simd_draws_markers_only_where_measured() {
        let r = sample_report();
        let doc_text = simd(&r);
        let doc = roxmltree::Document::parse(&doc_text).expect("valid SVG");
        // avx2 at L=1, 4, 16 and sse41 at L=16; legend markers besides.
        let circles = doc
            .descendants()
            .filter(|n| n.has_tag_name("circle"))
            .count();
        assert!((4..=6).contains(&circles), "{circles}");
        assert!(
            polylines(&doc).iter().all(|&n| n <= 2),
            "no line joins the measured lanes: {:?}",
            polylines(&doc)
        );
        assert!(texts(&doc).contains("avx2 (measured lanes only)"));
    }

    #[test]
    fn lanes_tuning_and_machines_plots_carry_their_references() {
        let r = sample_report();
        let lanes_svg = lanes(&r);
        let doc = roxmltree::Document::parse(&lanes_svg).expect("valid SVG");
        let t = texts(&doc);
        assert!(t.contains("unchained, 4 threads") && t.contains("chained, 8 threads (o)"));

        let tuning_svg = tuning(&r);
        let doc = roxmltree::Document::parse(&tuning_svg).expect("valid SVG");
        let t = texts(&doc);
        assert!(
            t.contains("32-core avx512 over the reference, same L"),
            "{t}"
        );
        assert!(t.contains("32-core avx512 over the reference, unchained"));
        assert!(t.contains("gain over a 4-core avx2 reference"));
        if let Some(l) = r.tuning.as_ref().and_then(|t| t.recommended) {
            assert!(t.contains(&format!("recommended L={l}")));
        }
        // Nine lane counts, 1 to 256, modelled at each.
        assert!(polylines(&doc).contains(&9));

        // Eleven reports of two machines: one line (and colour) per machine, its latest.
        let mut reports = vec![r.clone(); 10];
        for (i, x) in reports.iter_mut().enumerate() {
            x.created_utc = format!("2026-11-{:02}T06:00:00Z", 10 + i);
        }
        let mut other = r.clone();
        other.fingerprint.cpu_model = "Other CPU".into();
        other.fingerprint.machine_id = "ffffffffffff".into();
        reports.push(other);
        let m = machines(&reports);
        let doc = roxmltree::Document::parse(&m).expect("valid SVG");
        let t = texts(&doc);
        assert!(
            t.contains("0123456789ab Test CPU (4 cores, avx2; #10, latest of 10 reports)"),
            "{t}"
        );
        assert!(t.contains("ffffffffffff Other CPU (4 cores, avx2; #11, latest of 1 report)"));
        assert!(t.contains("dashed: each machine's unchained rate"));
        assert_eq!(
            t.matches("Test CPU").count(),
            t.matches("Other CPU").count(),
            "one legend entry per machine, however many reports: {t}"
        );

        let mut none = sample_report();
        none.tuning = None;
        none.points.clear();
        for svg in [tuning(&none), speedup(&none), simd(&none), lanes(&none)] {
            roxmltree::Document::parse(&svg).expect("valid SVG without data");
        }
    }

    /// Reports are untrusted: extreme numbers anywhere render without a panic.
    #[test]
    fn extreme_numbers_anywhere_render_without_panicking() {
        fn leaves(v: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
            match v {
                serde_json::Value::Number(_) => out.push(path.clone()),
                serde_json::Value::Array(a) => {
                    for (i, x) in a.iter().enumerate() {
                        path.push(i.to_string());
                        leaves(x, path, out);
                        path.pop();
                    }
                }
                serde_json::Value::Object(o) => {
                    for (k, x) in o {
                        path.push(k.clone());
                        leaves(x, path, out);
                        path.pop();
                    }
                }
                _ => {}
            }
        }
        let base: serde_json::Value =
            serde_json::from_str(&sample_report().to_json()).expect("json");
        let mut paths = Vec::new();
        leaves(&base, &mut Vec::new(), &mut paths);
        assert!(paths.len() > 100);
        for (i, path) in paths.iter().enumerate() {
            for extreme in [
                serde_json::json!(0),
                serde_json::json!(-1.0e308),
                serde_json::json!(1.0e308),
            ] {
                let mut v = base.clone();
                let mut at = &mut v;
                for k in path {
                    at = match at {
                        serde_json::Value::Array(a) => &mut a[k.parse::<usize>().expect("index")],
                        serde_json::Value::Object(o) => o.get_mut(k).expect("key"),
                        _ => unreachable!(),
                    };
                }
                *at = extreme;
                let Ok(r) = Report::from_json(&v.to_string()) else {
                    continue;
                };
                let _ = crate::report::markdown(&r);
                if i % 7 == 0 {
                    for svg in [speedup(&r), simd(&r), lanes(&r), tuning(&r)] {
                        assert!(svg.contains("<svg"));
                    }
                }
            }
        }
    }
}
