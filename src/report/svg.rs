//! Inline SVG charts for the HTML report: a line chart over days and a horizontal
//! bar chart. Coordinates are computed here, so the page needs no script and no
//! network. Values arrive as `f64`, used only for drawing; the numbers printed
//! beside the charts come from the exact decimals of the report.

use std::fmt::Write as _;

use super::html::escape;

/// Chart width in SVG units; the page scales it to the column width.
const WIDTH: f64 = 560.0;
const LINE_HEIGHT: f64 = 220.0;
const MARGIN_LEFT: f64 = 52.0;
const MARGIN_RIGHT: f64 = 16.0;
const MARGIN_TOP: f64 = 14.0;
const MARGIN_BOTTOM: f64 = 34.0;
/// Maximum number of points that still get a dot each.
const MAX_DOTS: usize = 45;
/// Minimum horizontal room one x-axis label needs.
const LABEL_ROOM: f64 = 56.0;

/// A horizontal reference line, such as the objective.
pub struct Reference<'a> {
    pub value: f64,
    pub label: &'a str,
}

/// One series over evenly spaced points; `None` leaves a gap (a day with no data).
pub struct LineChart<'a> {
    pub title: &'a str,
    pub x_labels: &'a [String],
    pub values: &'a [Option<f64>],
    pub y_min: f64,
    pub y_max: f64,
    pub y_format: &'a dyn Fn(f64) -> String,
    pub reference: Option<Reference<'a>>,
    pub color: &'a str,
    /// Fills the area between the line and zero.
    pub area: bool,
}

impl LineChart<'_> {
    pub fn render(&self) -> String {
        let mut svg = open_svg(self.title, LINE_HEIGHT);
        let plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
        let plot_height = LINE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
        let span = if self.y_max > self.y_min { self.y_max - self.y_min } else { 1.0 };
        let y = |value: f64| MARGIN_TOP + plot_height * (1.0 - (value - self.y_min) / span);
        let count = self.values.len().max(1);
        let step = if count > 1 { plot_width / (count - 1) as f64 } else { 0.0 };
        let x =
            |index: usize| if count > 1 { MARGIN_LEFT + step * index as f64 } else { MARGIN_LEFT + plot_width / 2.0 };

        for tick in ticks(self.y_min, self.y_max) {
            let _ = write!(
                svg,
                r##"<line x1="{MARGIN_LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" class="grid"/><text x="{:.1}" y="{:.1}" class="axis" text-anchor="end">{}</text>"##,
                WIDTH - MARGIN_RIGHT,
                y(tick),
                y(tick),
                MARGIN_LEFT - 6.0,
                y(tick) + 4.0,
                escape(&(self.y_format)(tick))
            );
        }
        let every = ((LABEL_ROOM / step.max(1.0)).ceil() as usize).max(1);
        for (index, label) in self.x_labels.iter().enumerate() {
            let last = index + 1 == self.x_labels.len();
            if index % every != 0 && !(last && index % every > every / 2) {
                continue;
            }
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" class="axis" text-anchor="middle">{}</text>"##,
                x(index),
                LINE_HEIGHT - MARGIN_BOTTOM + 16.0,
                escape(label)
            );
        }
        if self.area && self.y_min < 0.0 && self.y_max > 0.0 {
            let _ = write!(
                svg,
                r##"<line x1="{MARGIN_LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" class="zero"/>"##,
                WIDTH - MARGIN_RIGHT,
                y(0.0),
                y(0.0)
            );
        }
        if let Some(reference) = &self.reference {
            let _ = write!(
                svg,
                r##"<line x1="{MARGIN_LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" class="reference"/><text x="{:.1}" y="{:.1}" class="reference-label" text-anchor="end">{}</text>"##,
                WIDTH - MARGIN_RIGHT,
                y(reference.value),
                y(reference.value),
                WIDTH - MARGIN_RIGHT - 2.0,
                y(reference.value) + 14.0,
                escape(reference.label)
            );
        }
        self.render_series(&mut svg, &x, &y);
        svg.push_str("</svg>");
        svg
    }

    fn render_series(&self, svg: &mut String, x: &dyn Fn(usize) -> f64, y: &dyn Fn(f64) -> f64) {
        let baseline = y(0.0_f64.clamp(self.y_min, self.y_max));
        for run in runs_of_values(self.values) {
            let points: Vec<String> = run.iter().map(|&(i, v)| format!("{:.1},{:.1}", x(i), y(v))).collect();
            if self.area && run.len() > 1 {
                let first = x(run[0].0);
                let last = x(run[run.len() - 1].0);
                let _ = write!(
                    svg,
                    r##"<polygon points="{first:.1},{baseline:.1} {} {last:.1},{baseline:.1}" fill="{}" opacity="0.15"/>"##,
                    points.join(" "),
                    self.color
                );
            }
            if run.len() > 1 {
                let _ = write!(
                    svg,
                    r##"<polyline points="{}" fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round"/>"##,
                    points.join(" "),
                    self.color
                );
            }
            // Dots mark single days while they are far enough apart to tell; an
            // isolated day always gets one, since it has no line.
            if self.values.len() <= MAX_DOTS || run.len() == 1 {
                for &(i, v) in &run {
                    let _ =
                        write!(svg, r##"<circle cx="{:.1}" cy="{:.1}" r="2.6" fill="{}"/>"##, x(i), y(v), self.color);
                }
            }
        }
    }
}

/// Consecutive points that have values, with their indices.
fn runs_of_values(values: &[Option<f64>]) -> Vec<Vec<(usize, f64)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for (index, value) in values.iter().enumerate() {
        match value {
            Some(value) => current.push((index, *value)),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// Four or five round tick values from `min` to `max`.
fn ticks(min: f64, max: f64) -> Vec<f64> {
    if max <= min {
        return vec![min];
    }
    let raw = (max - min) / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(raw);
    let mut value = (min / step).ceil() * step;
    let mut ticks = Vec::new();
    while value <= max + step * 1e-9 {
        ticks.push(if value.abs() < step * 1e-9 { 0.0 } else { value });
        value += step;
    }
    ticks
}

/// Rounds a lower bound down and an upper bound up to tick steps, so a line never
/// touches the frame.
pub fn nice_range(min: f64, max: f64) -> (f64, f64) {
    if max <= min {
        return (min - 1.0, max + 1.0);
    }
    let raw = (max - min) / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(raw);
    ((min / step).floor() * step, (max / step).ceil() * step)
}

/// One bar of a bar chart.
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// Printed at the end of the bar.
    pub text: String,
    pub color: &'static str,
}

/// Horizontal bars scaled to `max`, one row per bar.
pub fn bar_chart(title: &str, bars: &[Bar], max: f64) -> String {
    const ROW: f64 = 26.0;
    let label_width = bars.iter().map(|bar| bar.label.chars().count()).max().unwrap_or(4) as f64 * 7.0 + 12.0;
    let label_width = label_width.clamp(80.0, 260.0);
    let height = ROW * bars.len().max(1) as f64 + 8.0;
    let mut svg = open_svg(title, height);
    // Room after the longest bar for its value text, at about 6.5 units per character.
    let text_room = bars.iter().map(|bar| bar.text.chars().count()).max().unwrap_or(0) as f64 * 6.5 + 12.0;
    let bar_room = (WIDTH - label_width - text_room).max(60.0);
    for (index, bar) in bars.iter().enumerate() {
        let top = 4.0 + ROW * index as f64;
        let width = if max > 0.0 { (bar.value / max).clamp(0.0, 1.0) * bar_room } else { 0.0 };
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" class="bar-label" text-anchor="end">{}</text><rect x="{label_width:.1}" y="{:.1}" width="{:.1}" height="16" rx="2" fill="{}"/><text x="{:.1}" y="{:.1}" class="bar-value">{}</text>"##,
            label_width - 8.0,
            top + 13.0,
            escape(&truncate(&bar.label, 36)),
            top + 1.0,
            width.max(1.0),
            bar.color,
            label_width + width.max(1.0) + 6.0,
            top + 13.0,
            escape(&bar.text)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn open_svg(title: &str, height: f64) -> String {
    format!(
        r##"<svg viewBox="0 0 {WIDTH} {height:.0}" width="100%" role="img" aria-label="{}"><title>{}</title>"##,
        escape(title),
        escape(title)
    )
}

/// At most `max` characters, with an ellipsis when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(ticks(0.0, 100.0), vec![0.0, 25.0, 50.0, 75.0, 100.0]);
        assert_eq!(ticks(80.0, 100.0), vec![80.0, 85.0, 90.0, 95.0, 100.0]);
    }

    #[test]
    fn gaps_split_the_series() {
        let runs = runs_of_values(&[Some(1.0), None, Some(2.0), Some(3.0)]);
        assert_eq!(runs, vec![vec![(0, 1.0)], vec![(2, 2.0), (3, 3.0)]]);
    }
}
