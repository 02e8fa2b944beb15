//! Small pieces of drawing shared by the tabs and the status line: the cursor marker,
//! the two text styles, and lines cut or laid out to a width in terminal columns.

use crate::text::{truncate, width};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

/// The marker of the selected row; every row is indented by its width.
pub const CURSOR: &str = "▶ ";
/// Columns taken by [`CURSOR`].
pub const CURSOR_WIDTH: usize = 2;
/// Dimmed: stale data, labels, hints.
pub fn dim() -> Style {
    Style::new().add_modifier(Modifier::DIM)
}

/// Bold: names, titles, the selected row.
pub fn bold() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}
/// Spans cut to `max` columns in total.
pub fn clip(spans: Vec<Span<'static>>, max: usize) -> Vec<Span<'static>> {
    let mut out = Vec::with_capacity(spans.len());
    let mut used = 0;
    for s in spans {
        let w = width(&s.content);
        if used + w <= max {
            used += w;
            out.push(s);
            continue;
        }
        let room = max - used;
        if room > 0 {
            out.push(Span::styled(truncate(&s.content, room), s.style));
        }
        break;
    }
    out
}

/// The columns `spans` take.
pub fn spans_width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(|s| width(&s.content)).sum()
}

/// `left` then `right` at the right edge of `max` columns; `left` is cut to make room.
pub fn left_right(
    left: Vec<Span<'static>>,
    right: Vec<Span<'static>>,
    max: usize,
) -> Line<'static> {
    let right_width = spans_width(&right);
    if right_width + 1 > max {
        return Line::from(clip(left, max));
    }
    let mut spans = clip(left, max - right_width - 1);
    let gap = max - right_width - spans_width(&spans);
    spans.push(Span::raw(" ".repeat(gap)));
    spans.extend(right);
    Line::from(spans)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_styles_and_width() {
        let spans = vec![Span::raw("abc"), Span::styled("defgh", bold())];
        let out = clip(spans, 6);
        assert_eq!(spans_width(&out), 6);
        assert_eq!(out[1].content, "de…");
        assert_eq!(out[1].style, bold());
        let line = left_right(vec![Span::raw("left side")], vec![Span::raw("R")], 8);
        assert_eq!(line.to_string(), "left … R");
    }
}
