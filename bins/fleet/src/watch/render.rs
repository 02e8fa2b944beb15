//! Drawing the view: [`render`] turns an [`App`] into one frame. Pure (it reads the
//! app's "now", never the clock), so the same state always draws the same screen.
//!
//! Layout, top to bottom: the tab bar, the tab's content, the filter line (while a
//! filter is typed or set) and the status line (connection state, a notice or a
//! summary, and the keys when there is room).

use crate::age::span;
use crate::text::{one_line, width};
use crate::watch::app::{App, Connection, Tab};
use crate::watch::content::{render_computers, render_preparation, render_sessions};
use crate::watch::spans::{bold, clip, dim, left_right, spans_width};
use model::Topic;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draws `app` on the whole frame.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let filter_line = app.is_editing() || !app.filter_text().is_empty();
    let [tabs, content, filter, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(u16::from(filter_line)),
        Constraint::Length(1),
    ])
    .areas(area);
    render_tabs(app, frame, tabs);
    if !app.fleet().is_loaded(app.tab().topic()) {
        let text = match app.connection() {
            Connection::Disconnected { .. } => "no data yet: the daemon is not connected",
            _ => "waiting for the daemon's data…",
        };
        frame.render_widget(Paragraph::new(Span::styled(text, dim())), content);
    } else {
        match app.tab() {
            Tab::Sessions => render_sessions(app, frame, content),
            Tab::Preparation => render_preparation(app, frame, content),
            Tab::Computers => render_computers(app, frame, content),
        }
    }
    if filter_line {
        render_filter(app, frame, filter);
    }
    render_status(app, frame, status);
}

/// The text of a drawn buffer, one line per row, wide characters counted once.
pub fn screen_text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut skip = 0;
        let mut line = String::new();
        for x in area.left()..area.right() {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buffer[(x, y)].symbol();
            skip = width(symbol).saturating_sub(1);
            line.push_str(symbol);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn render_tabs(app: &App, frame: &mut Frame, area: Rect) {
    let fleet = app.fleet();
    let wide = area.width >= 60;
    let mut spans = Vec::new();
    for tab in Tab::ALL {
        let count = match tab {
            Tab::Sessions => fleet.sessions().count().to_string(),
            Tab::Preparation => fleet.projects().len().to_string(),
            Tab::Computers => {
                let online = fleet.computers().iter().filter(|c| c.online).count();
                format!("{online}/{}", fleet.computers().len())
            }
        };
        let label = if wide && fleet.is_loaded(tab.topic()) {
            format!(" {} {} {count} ", tab.index() + 1, tab.title())
        } else {
            format!(" {} {} ", tab.index() + 1, tab.title())
        };
        let style = if tab == app.tab() {
            bold().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        spans.push(Span::styled(label, style));
        if wide {
            spans.push(Span::raw(" "));
        }
    }
    let line = if area.width >= 80 {
        left_right(
            spans,
            vec![Span::styled("fleet watch", dim())],
            usize::from(area.width),
        )
    } else {
        Line::from(clip(spans, usize::from(area.width)))
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn render_filter(app: &App, frame: &mut Frame, area: Rect) {
    let spans = if app.is_editing() {
        vec![
            Span::styled("/", bold()),
            Span::raw(app.filter_text().to_owned()),
            Span::styled("█", Style::new().add_modifier(Modifier::SLOW_BLINK)),
            Span::styled("  Enter keeps · Esc clears", dim()),
        ]
    } else {
        vec![
            Span::styled("filter: ", dim()),
            Span::styled(app.filter_text().to_owned(), bold()),
            Span::styled("  / edits · Esc clears", dim()),
        ]
    };
    frame.render_widget(
        Paragraph::new(Line::from(clip(spans, usize::from(area.width)))),
        area,
    );
}

fn connection_spans(app: &App) -> Vec<Span<'static>> {
    let now = app.now();
    match app.connection() {
        Connection::Connecting => vec![Span::styled(
            "◌ connecting…",
            Style::new().fg(Color::Yellow),
        )],
        Connection::Connected { .. } => {
            let mut spans = vec![Span::styled(
                "● connected",
                Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
            )];
            if let Some(name) = app.fleet().self_name() {
                spans.push(Span::raw(format!(" to {name}")));
            }
            spans
        }
        Connection::Disconnected {
            since,
            reason,
            retry_at,
        } => {
            let retry = match retry_at {
                Some(at) => format!(
                    " · retry in {}",
                    span(at.as_millis() - now.as_millis() + 999)
                ),
                None => " · reconnecting…".into(),
            };
            vec![
                Span::styled(
                    "✕ disconnected",
                    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                ),
                Span::raw(format!(
                    " for {}{retry}",
                    span(now.as_millis() - since.as_millis())
                )),
                Span::styled(format!(" · {}", one_line(reason)), dim()),
            ]
        }
    }
}

fn summary(app: &App) -> String {
    let fleet = app.fleet();
    let online = fleet.computers().iter().filter(|c| c.online).count();
    let sessions = fleet.sessions().count();
    let mut text = format!(
        "{online}/{} online · {sessions} session{}",
        fleet.computers().len(),
        if sessions == 1 { "" } else { "s" }
    );
    if app.ignored() > 0 {
        text.push_str(&format!(" · {} frames ignored", app.ignored()));
    }
    text
}

fn render_status(app: &App, frame: &mut Frame, area: Rect) {
    let max = usize::from(area.width);
    let mut left = connection_spans(app);
    let waiting = crate::watch::view::waiting(app.fleet()).len();
    if waiting > 0 {
        left.push(Span::styled(
            format!(
                " · ⚑ {waiting} need{} you",
                if waiting == 1 { "s" } else { "" }
            ),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ));
    }
    let disconnected = matches!(app.connection(), Connection::Disconnected { .. });
    match app.notice() {
        Some(notice) => left.push(Span::styled(
            format!(" · {notice}"),
            Style::new().fg(Color::Yellow),
        )),
        None if !disconnected && app.fleet().is_loaded(Topic::Computers) => {
            left.push(Span::styled(format!(" · {}", summary(app)), dim()));
        }
        None => {}
    }
    let hints = "Tab view · / filter · r refresh · m bell · q quit";
    let line = if spans_width(&left) + 2 + width(hints) <= max {
        left_right(left, vec![Span::styled(hints, dim())], max)
    } else {
        Line::from(clip(left, max))
    };
    frame.render_widget(Paragraph::new(line), area);
}
