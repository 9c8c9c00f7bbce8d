//! Charts for reports people would rather look at than read: simulation results,
//! forecasts, staffing requirements. One shape serves them all: panels stacked vertically,
//! each with line series over a shared x axis of intervals, written as SVG.
//!
//! Rendering uses plotters' SVG backend only (no fonts are loaded; text is SVG text).

use std::path::Path;

use plotters::prelude::*;

/// One line of a panel.
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    /// `(x, y)` points; x is in interval units (0 is the start of the first interval).
    pub points: Vec<(f64, f64)>,
    pub color: RGBColor,
    /// Drawn thin and pale (confidence bands, history behind a forecast).
    pub faint: bool,
}

/// One panel: a caption, a y axis and its series.
#[derive(Clone, Debug)]
pub struct Panel {
    pub caption: String,
    pub y_label: String,
    /// The top of the y axis; `None` fits the data with 10 % headroom.
    pub y_max: Option<f64>,
    pub series: Vec<Series>,
}

/// The colours series take in turn.
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Writes `panels`, stacked, to an SVG file. `x_end` is the number of intervals and
/// `x_label` names an interval.
pub fn render(path: &Path, panels: &[Panel], x_end: f64, x_label: &dyn Fn(f64) -> String) -> Result<(), String> {
    let height = 60 + 330 * panels.len() as u32;
    let root = SVGBackend::new(path, (1000, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let areas = root.split_evenly((panels.len().max(1), 1));
    for (panel, area) in panels.iter().zip(areas) {
        let y_max = panel.y_max.unwrap_or_else(|| {
            let top = panel.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(0.0, f64::max);
            (top * 1.1).max(1.0)
        });
        let mut chart = ChartBuilder::on(&area)
            .caption(&panel.caption, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..x_end.max(1.0), 0f64..y_max)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_label_formatter(&|x| x_label(*x))
            .y_desc(panel.y_label.as_str())
            .draw()
            .map_err(|e| e.to_string())?;
        let mut labelled = false;
        for series in &panel.series {
            let style = if series.faint { series.color.mix(0.4).stroke_width(1) } else { series.color.stroke_width(2) };
            let drawn =
                chart.draw_series(LineSeries::new(series.points.iter().copied(), style)).map_err(|e| e.to_string())?;
            if !series.faint {
                let color = series.color;
                drawn
                    .label(series.name.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
                labelled = true;
            }
        }
        if labelled {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| e.to_string())?;
        }
    }
    root.present().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_panels_with_their_captions_and_series() {
        let path = std::env::temp_dir().join(format!("sb-charts-test-{}.svg", std::process::id()));
        let panel = |caption: &str| Panel {
            caption: caption.into(),
            y_label: "calls".into(),
            y_max: None,
            series: vec![Series {
                name: "offered".into(),
                points: vec![(0.5, 3.0), (1.5, 5.0), (2.5, 4.0)],
                color: PALETTE[0],
                faint: false,
            }],
        };
        render(&path, &[panel("first panel"), panel("second panel")], 3.0, &|x| format!("t{x}")).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..60.min(svg.len())]);
        assert!(svg.contains("first panel") && svg.contains("second panel") && svg.contains("offered"));
        // Each panel's series is one thick line of three points, in the first palette colour.
        let lines: Vec<&str> =
            svg.lines().filter(|l| l.contains("<polyline") && l.contains("stroke-width=\"2\"")).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines.iter().all(|l| l.contains("#1F77B4") && l.matches(',').count() == 3), "{lines:?}");
    }
}
