//! Inline SVG line plots for the `wsgen bench --report` page: drawn here,
//! no JavaScript, no external resource, no `xmlns` URL (inline SVG in HTML
//! needs none).
//!
//! Two kinds of x axis: the latency percentile distribution (x = log10 of
//! 1/(1-p), ticks at 0 %, 90 %, 99 %, 99.9 %, ...; the maximum, given as
//! percentile 100, is drawn at the last point's x) and seconds since the
//! measurement window opened.

use std::fmt::Write as _;

use super::report::esc;

/// What the x values are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum XKind {
    /// Percentiles 0..=100 (100 = the maximum).
    Percentile,
    /// Seconds.
    Seconds,
}

/// What the y values are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum YKind {
    /// Microseconds (log scale when the values span two decades or more).
    Latency,
    /// Messages per second (linear from 0).
    Rate,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

#[derive(Debug, Clone)]
pub struct Plot {
    pub title: String,
    pub x: XKind,
    pub y: YKind,
    pub series: Vec<Series>,
    /// A dashed vertical line at this x, with its label (the window's end).
    pub marker: Option<(f64, String)>,
}

const W: f64 = 540.0;
const LEFT: f64 = 74.0;
const RIGHT: f64 = 32.0;
const TOP: f64 = 34.0;
const PLOT_H: f64 = 260.0;
const BOTTOM: f64 = 48.0;
const LEGEND_COL: f64 = 230.0;
const LEGEND_ROW: f64 = 18.0;
/// Points drawn as dots too (beyond this the line alone).
const DOTS_UP_TO: usize = 40;

pub const PALETTE: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#7f7f7f", "#bcbd22",
];

/// A percentile (0..100) as x: log10(1/(1-p)); `None` for 100 and above.
pub fn percentile_x(p: f64) -> Option<f64> {
    (p < 100.0).then(|| -(1.0 - p.max(0.0) / 100.0).log10())
}

/// Tick label of a percentile decade: 0 -> `0%`, 1 -> `90%`, 3 -> `99.9%`.
pub fn percentile_label(decade: u32) -> String {
    match decade {
        0 => "0%".into(),
        1 => "90%".into(),
        2 => "99%".into(),
        d => format!("99.{}%", "9".repeat(d as usize - 2)),
    }
}

/// A linear axis from 0: (top, step) with a nice step (1, 2 or 5 x 10^k)
/// and at least one step; a non-positive or non-finite max gives 0..1.
pub fn linear_axis(max: f64) -> (f64, f64) {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let n = raw / mag;
    let step = mag
        * if n <= 1.0 {
            1.0
        } else if n <= 2.0 {
            2.0
        } else if n <= 5.0 {
            5.0
        } else {
            10.0
        };
    let steps = (max / step - 1e-9).ceil().max(1.0);
    (steps * step, step)
}

/// Decades for a log axis over positive `lo..=hi`: (first, last) exponent,
/// at least one decade apart.
pub fn log_axis(lo: f64, hi: f64) -> (i32, i32) {
    let a = lo.log10().floor() as i32;
    let b = (hi.log10() - 1e-9).ceil() as i32;
    (a, b.max(a + 1))
}

/// `1234.5` -> `1.2k`; keeps tick labels short.
pub fn fmt_rate(v: f64) -> String {
    let (x, unit) = if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    format!("{}{unit}", trim(x))
}

/// A latency tick in microseconds: `0`, `250us`, `1.5ms`, `2s`.
pub fn fmt_latency_tick(us: f64) -> String {
    if us == 0.0 {
        "0".into()
    } else if us < 1_000.0 {
        format!("{}us", trim(us))
    } else if us < 1_000_000.0 {
        format!("{}ms", trim(us / 1_000.0))
    } else {
        format!("{}s", trim(us / 1_000_000.0))
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// y mapping: linear from 0 or log10.
enum YScale {
    Linear { top: f64, step: f64 },
    Log { lo: i32, hi: i32 },
}

impl YScale {
    fn frac(&self, v: f64) -> f64 {
        match *self {
            YScale::Linear { top, .. } => v / top,
            YScale::Log { lo, hi } => {
                let v = v.max(10f64.powi(lo));
                (v.log10() - lo as f64) / (hi - lo) as f64
            }
        }
    }

    fn ticks(&self) -> Vec<f64> {
        match *self {
            YScale::Linear { top, step } => {
                let n = (top / step).round() as usize;
                (0..=n).map(|i| i as f64 * step).collect()
            }
            YScale::Log { lo, hi } => {
                let mut t = Vec::new();
                for d in lo..=hi {
                    let base = 10f64.powi(d);
                    t.push(base);
                    if hi - lo <= 2 && d < hi {
                        t.push(2.0 * base);
                        t.push(5.0 * base);
                    }
                }
                t
            }
        }
    }
}

impl Plot {
    /// Every series' points in plot coordinates before scaling: x as drawn
    /// (percentiles transformed; the maximum at its series' last x).
    fn xy(&self) -> Vec<Vec<(f64, f64)>> {
        self.series
            .iter()
            .map(|s| {
                let pts = s
                    .points
                    .iter()
                    .filter(|(x, y)| x.is_finite() && y.is_finite() && *y >= 0.0);
                match self.x {
                    XKind::Seconds => pts.copied().collect(),
                    XKind::Percentile => {
                        let mut out: Vec<(f64, f64)> = Vec::new();
                        for &(p, y) in pts {
                            let x =
                                percentile_x(p).unwrap_or_else(|| out.last().map_or(0.0, |l| l.0));
                            out.push((x, y));
                        }
                        out
                    }
                }
            })
            .collect()
    }

    /// The plot as an `<svg>` element.
    pub fn svg(&self) -> String {
        let data = self.xy();
        let all: Vec<(f64, f64)> = data.iter().flatten().copied().collect();
        let legend_rows = if self.series.len() > 1 {
            self.series
                .len()
                .div_ceil(((W - LEFT) / LEGEND_COL).floor() as usize)
        } else {
            0
        };
        let h = TOP + PLOT_H + BOTTOM + legend_rows as f64 * LEGEND_ROW;
        let plot_w = W - LEFT - RIGHT;
        let (x0, y0) = (LEFT, TOP + PLOT_H);
        // x scale
        let xmax_data = all.iter().map(|p| p.0).fold(0.0, f64::max);
        let (xmax, xticks): (f64, Vec<(f64, String)>) = match self.x {
            XKind::Percentile => {
                let decades = (xmax_data - 1e-9).ceil().max(1.0) as u32;
                (
                    decades as f64,
                    (0..=decades)
                        .map(|d| (d as f64, percentile_label(d)))
                        .collect(),
                )
            }
            XKind::Seconds => {
                let m = self.marker.as_ref().map_or(0.0, |m| m.0).max(xmax_data);
                let (top, step) = linear_axis(m);
                let n = (top / step).round() as usize;
                (
                    top,
                    (0..=n)
                        .map(|i| {
                            let v = i as f64 * step;
                            (v, format!("{}s", trim(v)))
                        })
                        .collect(),
                )
            }
        };
        // y scale
        let ymax = all.iter().map(|p| p.1).fold(0.0, f64::max);
        let ymin_pos = all
            .iter()
            .map(|p| p.1)
            .filter(|&y| y > 0.0)
            .fold(f64::INFINITY, f64::min);
        let yscale = if self.y == YKind::Latency && ymin_pos.is_finite() && ymax / ymin_pos >= 100.0
        {
            let (lo, hi) = log_axis(ymin_pos, ymax);
            YScale::Log { lo, hi }
        } else {
            // Headroom, so a flat line does not lie on the frame.
            let (top, step) = linear_axis(ymax * 1.1);
            YScale::Linear { top, step }
        };
        let px = |x: f64| x0 + plot_w * (x / xmax).clamp(0.0, 1.0);
        let py = |y: f64| y0 - PLOT_H * yscale.frac(y).clamp(0.0, 1.0);
        let ylabel = |v: f64| match self.y {
            YKind::Latency => fmt_latency_tick(v),
            YKind::Rate => fmt_rate(v),
        };

        let mut s = String::new();
        let _ = write!(
            s,
            "<svg class=\"plot\" viewBox=\"0 0 {W} {h}\" width=\"{W}\" height=\"{h}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>",
            t = esc(&self.title)
        );
        let _ = write!(
            s,
            "<text class=\"ptitle\" x=\"{LEFT}\" y=\"20\">{}</text>",
            esc(&self.title)
        );
        let _ = write!(
            s,
            "<rect class=\"area\" x=\"{x0}\" y=\"{TOP}\" width=\"{plot_w}\" height=\"{PLOT_H}\"/>"
        );
        for (v, label) in &xticks {
            let x = px(*v);
            let _ = write!(
                s,
                "<line class=\"grid\" x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{y0}\"/><text class=\"tick\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                y0 + 16.0,
                esc(label)
            );
        }
        for v in yscale.ticks() {
            let y = py(v);
            let _ = write!(
                s,
                "<line class=\"grid\" x1=\"{x0}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/><text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                x0 + plot_w,
                x0 - 6.0,
                y + 4.0,
                esc(&ylabel(v))
            );
        }
        let (xtitle, ytitle) = match (self.x, self.y) {
            (XKind::Percentile, _) => ("percentile", "latency"),
            (XKind::Seconds, YKind::Rate) => ("seconds since the window opened", "messages/s"),
            (XKind::Seconds, YKind::Latency) => ("seconds since the window opened", "latency"),
        };
        let _ = write!(
            s,
            "<text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{xtitle}</text><text class=\"axis\" transform=\"translate(16 {:.1}) rotate(-90)\" text-anchor=\"middle\">{ytitle}{}</text>",
            x0 + plot_w / 2.0,
            y0 + 36.0,
            TOP + PLOT_H / 2.0,
            if matches!(yscale, YScale::Log { .. }) {
                " (log scale)"
            } else {
                ""
            }
        );
        if let Some((mx, label)) = &self.marker {
            let x = px(*mx);
            let _ = write!(
                s,
                "<line class=\"marker\" x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{y0}\"/><text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                x - 4.0,
                TOP + 12.0,
                esc(label)
            );
        }
        for (i, (series, pts)) in self.series.iter().zip(&data).enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let dash = if i >= PALETTE.len() {
                " stroke-dasharray=\"6 3\""
            } else {
                ""
            };
            let _ = write!(
                s,
                "<g class=\"series\" data-name=\"{}\" data-points=\"{}\" stroke=\"{color}\" fill=\"{color}\">",
                esc(&series.name),
                pts.len()
            );
            if pts.len() > 1 {
                s.push_str("<polyline fill=\"none\" stroke-width=\"2\"");
                s.push_str(dash);
                s.push_str(" points=\"");
                for (j, &(x, y)) in pts.iter().enumerate() {
                    if j > 0 {
                        s.push(' ');
                    }
                    let _ = write!(s, "{:.1},{:.1}", px(x), py(y));
                }
                s.push_str("\"/>");
            }
            if pts.len() <= DOTS_UP_TO {
                for &(x, y) in pts {
                    let _ = write!(
                        s,
                        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\"/>",
                        px(x),
                        py(y)
                    );
                }
            }
            s.push_str("</g>");
        }
        if all.is_empty() {
            let _ = write!(
                s,
                "<text class=\"nodata\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">no data</text>",
                x0 + plot_w / 2.0,
                TOP + PLOT_H / 2.0
            );
        }
        if legend_rows > 0 {
            let per_row = ((W - LEFT) / LEGEND_COL).floor() as usize;
            for (i, series) in self.series.iter().enumerate() {
                let (row, col) = (i / per_row, i % per_row);
                let x = LEFT + col as f64 * LEGEND_COL;
                let y = TOP + PLOT_H + BOTTOM + row as f64 * LEGEND_ROW + 6.0;
                let color = PALETTE[i % PALETTE.len()];
                let _ = write!(
                    s,
                    "<g class=\"legend\"><line x1=\"{x:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{color}\" stroke-width=\"3\"{}/><text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
                    x + 22.0,
                    if i >= PALETTE.len() {
                        " stroke-dasharray=\"6 3\""
                    } else {
                        ""
                    },
                    x + 28.0,
                    y + 4.0,
                    esc(&series.name)
                );
            }
        }
        s.push_str("</svg>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plot(x: XKind, y: YKind, series: Vec<Series>) -> Plot {
        Plot {
            title: "t".into(),
            x,
            y,
            series,
            marker: None,
        }
    }

    fn one(name: &str, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
        }
    }

    /// The numbers of a `points="..."` attribute or of the circles.
    fn coords(svg: &str) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        for part in svg.split("<circle cx=\"").skip(1) {
            let cx: f64 = part.split('"').next().unwrap().parse().unwrap();
            let cy: f64 = part
                .split("cy=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            out.push((cx, cy));
        }
        out
    }

    #[test]
    fn axes() {
        assert_eq!(linear_axis(0.0), (1.0, 0.2));
        assert_eq!(linear_axis(f64::NAN), (1.0, 0.2));
        assert_eq!(linear_axis(1000.0), (1000.0, 200.0));
        assert_eq!(linear_axis(1001.0), (1500.0, 500.0));
        assert_eq!(linear_axis(550.0), (600.0, 200.0));
        let (top, step) = linear_axis(7.3);
        assert!(top >= 7.3 && step > 0.0);
        assert_eq!(log_axis(50.0, 20_000.0), (1, 5));
        assert_eq!(log_axis(100.0, 100.0), (2, 3));
        assert_eq!(percentile_label(0), "0%");
        assert_eq!(percentile_label(1), "90%");
        assert_eq!(percentile_label(2), "99%");
        assert_eq!(percentile_label(4), "99.99%");
        assert_eq!(percentile_x(0.0), Some(0.0));
        assert!((percentile_x(99.9).unwrap() - 3.0).abs() < 1e-9);
        assert_eq!(percentile_x(100.0), None);
        assert_eq!(fmt_rate(1500.0), "1.5k");
        assert_eq!(fmt_rate(0.0), "0");
        assert_eq!(fmt_rate(2_000_000.0), "2M");
        assert_eq!(fmt_latency_tick(250.0), "250us");
        assert_eq!(fmt_latency_tick(1_500.0), "1.5ms");
        assert_eq!(fmt_latency_tick(2_000_000.0), "2s");
    }

    #[test]
    fn no_data_draws_axes_and_says_so() {
        for (x, y) in [
            (XKind::Percentile, YKind::Latency),
            (XKind::Seconds, YKind::Rate),
        ] {
            let svg = plot(x, y, vec![one("a", vec![])]).svg();
            assert!(svg.contains("no data"), "{svg}");
            assert!(svg.contains("data-points=\"0\""));
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
            let svg = plot(x, y, vec![]).svg();
            assert!(svg.contains("no data") && !svg.contains("NaN"));
        }
    }

    #[test]
    fn zero_messages_per_interval_is_a_flat_line_at_the_bottom() {
        let svg = plot(
            XKind::Seconds,
            YKind::Rate,
            vec![one("a", vec![(0.05, 0.0), (0.15, 0.0), (0.25, 0.0)])],
        )
        .svg();
        let c = coords(&svg);
        assert_eq!(c.len(), 3);
        assert!(c.iter().all(|p| p.1 == TOP + PLOT_H), "{c:?}");
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn one_sample_is_a_dot() {
        // A one-sample curve: percentile 0 and the maximum (100), same value.
        let svg = plot(
            XKind::Percentile,
            YKind::Latency,
            vec![one("a", vec![(0.0, 80.0), (100.0, 80.0)])],
        )
        .svg();
        let c = coords(&svg);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0], c[1]);
        assert_eq!(c[0].0, LEFT);
        assert!(c[0].1 < TOP + PLOT_H && c[0].1 >= TOP, "{c:?}");
        assert!(svg.contains(">90%<"), "the axis shows at least one decade");
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn equal_latencies_are_a_flat_line_inside_the_plot() {
        let pts: Vec<(f64, f64)> = [0.0, 90.0, 99.0, 99.9, 100.0]
            .iter()
            .map(|&p| (p, 500.0))
            .collect();
        let svg = plot(XKind::Percentile, YKind::Latency, vec![one("a", pts)]).svg();
        let c = coords(&svg);
        assert_eq!(c.len(), 5);
        assert!(c.iter().all(|p| p.1 == c[0].1));
        assert!(c[0].1 > TOP && c[0].1 < TOP + PLOT_H, "{c:?}");
        // The maximum sits at the last percentile's x (99.9 % = 3 decades).
        assert_eq!(c[3].0, c[4].0);
        assert_eq!(c[4].0, W - RIGHT);
        assert!(svg.contains(">99.9%<") && !svg.contains("log scale"));
    }

    #[test]
    fn wide_latency_ranges_use_a_log_axis_and_series_get_a_legend() {
        let a = one(
            "fast <one>",
            vec![(0.0, 50.0), (99.0, 90.0), (100.0, 100.0)],
        );
        let b = one("slow & steady", vec![(0.0, 5_000.0), (99.0, 9_000.0)]);
        let svg = plot(XKind::Percentile, YKind::Latency, vec![a, b]).svg();
        assert!(svg.contains("log scale"));
        assert!(svg.contains("fast &lt;one&gt;") && svg.contains("slow &amp; steady"));
        assert!(!svg.contains("<one>"));
        assert_eq!(svg.matches("class=\"legend\"").count(), 2);
        assert_eq!(svg.matches("data-points=\"3\"").count(), 1);
        assert_eq!(svg.matches("data-points=\"2\"").count(), 1);
        for (_, y) in coords(&svg) {
            assert!((TOP..=TOP + PLOT_H).contains(&y));
        }
    }

    #[test]
    fn long_series_are_lines_without_dots_and_the_marker_widens_the_axis() {
        let pts: Vec<(f64, f64)> = (0..100).map(|i| (i as f64 * 0.1, 1000.0)).collect();
        let mut p = plot(XKind::Seconds, YKind::Rate, vec![one("a", pts)]);
        p.marker = Some((20.0, "window end".into()));
        let svg = p.svg();
        assert!(coords(&svg).is_empty());
        assert_eq!(
            svg.split(" points=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .split(' ')
                .count(),
            100
        );
        assert!(svg.contains(">20s<") && svg.contains("window end"));
        assert!(
            svg.contains(&format!("class=\"marker\" x1=\"{:.1}\"", W - RIGHT)),
            "{svg}"
        );
    }
}
