//! The content of each tab: the Sessions and Preparation lists (grouped by computer,
//! with the cursor kept in view) and the Computers table. Pure, like all drawing.

use crate::age::{ago, span};
use crate::load;
use crate::text::{base_name, fit, one_line, truncate, width};
use crate::watch::app::{App, Tab};
use crate::watch::spans::{CURSOR, CURSOR_WIDTH, bold, clip, dim, left_right, spans_width};
use crate::watch::view::{
    self, Group, PrepRow, SessionRow, TodoCounts, is_dimmed, todo_status_box,
};
use model::{Computer, Project, Session, SessionStatus, Timestamp, Todo, TodoStatus};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Cell, HighlightSpacing, List, ListItem, ListState, Paragraph, Row, Table, TableState,
};

/// Width of the status column of a session line.
const STATUS_WIDTH: usize = 7;
/// Width of the age column of a session line (`just now`, `59m ago`).
const AGE_WIDTH: usize = 8;

fn status_style(status: SessionStatus) -> Style {
    match status {
        SessionStatus::Active => Style::new().fg(Color::Green),
        SessionStatus::Waiting => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        SessionStatus::Idle => Style::new().fg(Color::Blue),
        SessionStatus::Closed => Style::new().fg(Color::DarkGray),
    }
}

fn group_line(group: &Group<'_>, noun: &str, now: Timestamp, max: usize) -> Line<'static> {
    let mut spans = vec![Span::styled(group.name.to_owned(), bold())];
    match group.computer {
        Some(c) if c.online => {
            spans.push(Span::styled("  ● online", Style::new().fg(Color::Green)))
        }
        Some(c) => {
            spans.push(Span::styled(
                "  ○ offline",
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ));
            spans.push(Span::styled(
                format!(" · last seen {}", ago(c.last_seen, now)),
                dim(),
            ));
        }
        None => spans.push(Span::styled("  ? unknown computer", dim())),
    }
    if group.computer.is_some_and(|c| c.is_self) {
        spans.push(Span::styled(" · this computer", dim()));
    }
    let plural = if group.count == 1 { "" } else { "s" };
    spans.push(Span::styled(
        format!(" · {} {noun}{plural}", group.count),
        dim(),
    ));
    Line::from(clip(spans, max))
}

fn session_item(s: &Session, now: Timestamp, max: usize) -> ListItem<'static> {
    let dimmed = is_dimmed(s);
    let base = if dimmed { dim() } else { Style::new() };
    let age = format!("{:>AGE_WIDTH$}", ago(s.last_activity, now));
    let mut right: Vec<Span<'static>> = Vec::new();
    if max >= 72 {
        let project = s.project_path.as_deref().map_or("-", base_name);
        right.push(Span::styled(fit(project, 16), base.fg(Color::Cyan)));
        right.push(Span::raw("  "));
    }
    if max >= 52 {
        right.push(Span::styled(fit(&s.agent, 10), base.fg(Color::Magenta)));
        right.push(Span::raw("  "));
    }
    right.push(Span::styled(age, base));
    let mut left = vec![
        Span::styled(
            fit(s.status.as_str(), STATUS_WIDTH),
            status_style(s.status).patch(base),
        ),
        Span::raw(" "),
    ];
    let tag = if s.stale { " [stale]" } else { "" };
    let title_room = max
        .saturating_sub(STATUS_WIDTH + 1 + spans_width(&right) + 1)
        .saturating_sub(width(tag));
    left.push(Span::styled(
        truncate(&one_line(&s.title), title_room),
        if dimmed { base } else { bold() },
    ));
    if s.stale {
        left.push(Span::styled(
            tag,
            Style::new().fg(Color::Yellow).add_modifier(Modifier::DIM),
        ));
    }
    let mut lines = vec![left_right(left, right, max)];
    let indent = STATUS_WIDTH + 1;
    for (label, text) in [("in", &s.last_input), ("out", &s.last_output)] {
        if let Some(text) = text.as_deref().map(one_line).filter(|t| !t.is_empty()) {
            let spans = vec![
                Span::styled(format!("{label:>STATUS_WIDTH$} "), dim()),
                Span::styled(truncate(&text, max.saturating_sub(indent)), base),
            ];
            lines.push(Line::from(spans));
        }
    }
    ListItem::new(lines)
}

/// Draws rows as a list whose cursor (the `cursor`-th selectable row) stays in view.
fn render_list(
    frame: &mut Frame,
    area: Rect,
    items: Vec<ListItem<'static>>,
    selected: Option<usize>,
) {
    let list = List::new(items)
        .highlight_symbol(CURSOR)
        .highlight_spacing(HighlightSpacing::Always)
        .highlight_style(bold());
    let mut state = ListState::default().with_selected(selected);
    frame.render_stateful_widget(list, area, &mut state);
}

fn nothing_matches(app: &App, frame: &mut Frame, area: Rect, what: &str) {
    let text = if app.filter().is_empty() {
        format!("no {what} yet")
    } else {
        format!("no {what} match “{}”", app.filter_text().trim())
    };
    frame.render_widget(Paragraph::new(Span::styled(text, dim())), area);
}

/// Draws the "needs you" band: every waiting session of the fleet, oldest wait first,
/// with its computer, how long it has waited and what it asks; returns the area left.
fn render_needs_you(app: &App, frame: &mut Frame, area: Rect) -> Rect {
    let waits = view::waiting(app.fleet());
    if waits.is_empty() || area.height < 4 {
        return area;
    }
    let max = usize::from(area.width);
    let shown = waits
        .len()
        .min(usize::from(area.height / 2).saturating_sub(1))
        .max(1);
    let now = app.now();
    let style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
    let mut lines = vec![Line::from(clip(
        vec![
            Span::styled(format!("⚑ needs you ({})", waits.len()), style),
            Span::styled(
                if app.is_muted() {
                    "  · bell muted (m)"
                } else {
                    "  · m mutes the bell"
                },
                dim(),
            ),
        ],
        max,
    ))];
    for s in waits.iter().take(shown) {
        let waited = span(now.as_millis() - s.last_activity.as_millis());
        let asks = s.last_output.as_deref().map(one_line).unwrap_or_default();
        let left = vec![
            Span::styled(
                format!("  {} ", fit(&s.computer, 10)),
                bold().fg(Color::Cyan),
            ),
            Span::styled(truncate(&one_line(&s.title), 32), bold()),
            Span::styled(format!("  waited {waited}"), Style::new().fg(Color::Yellow)),
            Span::styled(format!("  {asks}"), Style::new()),
        ];
        lines.push(Line::from(clip(left, max)));
    }
    if waits.len() > shown {
        lines.push(Line::from(Span::styled(
            format!("  … and {} more", waits.len() - shown),
            dim(),
        )));
    }
    let height = u16::try_from(lines.len() + 1)
        .unwrap_or(u16::MAX)
        .min(area.height);
    let [band, rest] =
        ratatui::layout::Layout::vertical([Constraint::Length(height), Constraint::Min(0)])
            .areas(area);
    frame.render_widget(Paragraph::new(lines), band);
    rest
}

/// Draws the Sessions tab: the "needs you" band, then the sessions by computer.
pub fn render_sessions(app: &App, frame: &mut Frame, area: Rect) {
    let area = render_needs_you(app, frame, area);
    let rows = view::session_rows(app.fleet(), &app.filter());
    if rows.is_empty() {
        return nothing_matches(app, frame, area, "sessions");
    }
    let max = usize::from(area.width).saturating_sub(CURSOR_WIDTH);
    let now = app.now();
    let selected = selected_row(
        rows.iter().map(SessionRow::selectable),
        app.cursor(Tab::Sessions),
    );
    let items = rows
        .iter()
        .map(|row| match row {
            SessionRow::Group(g) => ListItem::new(group_line(g, "session", now, max)),
            SessionRow::Session(s) => session_item(s, now, max),
            SessionRow::Empty => ListItem::new(Span::styled("  no sessions", dim())),
        })
        .collect();
    render_list(frame, area, items, selected);
}

/// The list index of the `cursor`-th selectable row.
fn selected_row(selectable: impl Iterator<Item = bool>, cursor: usize) -> Option<usize> {
    selectable
        .enumerate()
        .filter(|(_, s)| *s)
        .nth(cursor)
        .map(|(i, _)| i)
}

fn counts_text(c: &TodoCounts, wide: bool) -> String {
    if c.total() == 0 {
        return "no todos".into();
    }
    if !wide {
        return format!("{}/{} done", c.done, c.total());
    }
    let parts: Vec<String> = [
        (c.in_progress, "in progress"),
        (c.ready, "ready"),
        (c.pending, "pending"),
        (c.done, "done"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    parts.join(" · ")
}

fn project_line(p: &Project, counts: &TodoCounts, max: usize) -> Line<'static> {
    let left = vec![
        Span::styled(p.name.clone(), bold().fg(Color::Cyan)),
        Span::styled(format!("  {}", p.path), dim()),
    ];
    let right = vec![Span::styled(counts_text(counts, max >= 60), dim())];
    left_right(left, right, max)
}

fn todo_style(status: TodoStatus) -> Style {
    match status {
        TodoStatus::Pending => Style::new(),
        TodoStatus::Ready => Style::new().fg(Color::Cyan),
        TodoStatus::InProgress => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        TodoStatus::Done => Style::new().fg(Color::Green).add_modifier(Modifier::DIM),
    }
}

fn todo_line(t: &Todo, max: usize) -> Line<'static> {
    let style = todo_style(t.status);
    let mut left = vec![
        Span::raw("  "),
        Span::styled(todo_status_box(t.status), style),
        Span::raw(" "),
        Span::styled(t.slug.clone(), style),
    ];
    if let Some(d) = t
        .description
        .as_deref()
        .map(one_line)
        .filter(|d| !d.is_empty())
    {
        left.push(Span::styled(format!("  {d}"), dim()));
    }
    let flags: Vec<&str> = [(t.has_requirements, "req"), (t.has_impl_plan, "plan")]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, f)| *f)
        .collect();
    let right = if flags.is_empty() || max < 40 {
        Vec::new()
    } else {
        vec![Span::styled(flags.join(" "), dim())]
    };
    left_right(left, right, max)
}

/// Draws the Preparation tab.
pub fn render_preparation(app: &App, frame: &mut Frame, area: Rect) {
    let rows = view::preparation_rows(app.fleet(), &app.filter());
    if rows.is_empty() {
        return nothing_matches(app, frame, area, "projects");
    }
    let max = usize::from(area.width).saturating_sub(CURSOR_WIDTH);
    let now = app.now();
    let selected = selected_row(
        rows.iter().map(PrepRow::selectable),
        app.cursor(Tab::Preparation),
    );
    let items = rows
        .iter()
        .map(|row| match row {
            PrepRow::Group(g) => ListItem::new(group_line(g, "project", now, max)),
            PrepRow::Project(p, counts) => ListItem::new(project_line(p, counts, max)),
            PrepRow::Todo(t) => ListItem::new(todo_line(t, max)),
            PrepRow::Empty => ListItem::new(Span::styled("  no projects", dim())),
        })
        .collect();
    render_list(frame, area, items, selected);
}

/// The cells of a computer's row, as text; the state is the second.
fn computer_texts(app: &App, c: &Computer, narrow: bool, full: bool) -> Vec<String> {
    let now = app.now();
    let name = if c.is_self {
        format!("{} (self)", c.name)
    } else {
        c.name.clone()
    };
    let state = if c.online {
        "● online"
    } else {
        "○ offline"
    };
    let sessions = app.fleet().sessions_of(&c.name).len().to_string();
    // This computer's record is as of the snapshot: its daemon is the one answering.
    let seen = if c.is_self {
        "now".to_owned()
    } else {
        ago(c.last_seen, now)
    };
    if narrow {
        return vec![name, state.into(), seen, sessions];
    }
    let up = if c.online {
        span(now.as_millis() - c.started_at.as_millis())
    } else {
        "-".into()
    };
    let projects = app.fleet().projects_of(&c.name).len().to_string();
    let mut texts = vec![name, state.into()];
    if full {
        texts.extend([c.host.clone(), c.user.clone(), c.version.clone()]);
    }
    texts.extend([
        up,
        seen,
        load::load(c),
        load::memory(c),
        load::disk(c),
        load::writes(c),
        sessions,
        projects,
    ]);
    texts
}

/// Draws the Computers tab.
pub fn render_computers(app: &App, frame: &mut Frame, area: Rect) {
    let computers = view::computer_rows(app.fleet(), &app.filter());
    if computers.is_empty() {
        return nothing_matches(app, frame, area, "computers");
    }
    let narrow = area.width < 70;
    // Host, user and version only where there is room for them too.
    let full = area.width >= 130;
    let header: Vec<&str> = if narrow {
        vec!["NAME", "STATE", "SEEN", "SESS"]
    } else {
        let mut h = vec!["NAME", "STATE"];
        if full {
            h.extend(["HOST", "USER", "VERSION"]);
        }
        h.extend([
            "UP",
            "LAST SEEN",
            "LOAD",
            "MEMORY",
            "DISK",
            "WRITES",
            "SESSIONS",
            "PROJECTS",
        ]);
        h
    };
    let texts: Vec<Vec<String>> = computers
        .iter()
        .map(|c| computer_texts(app, c, narrow, full))
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in &texts {
        for (w, t) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(t));
        }
    }
    let constraints: Vec<Constraint> = widths
        .iter()
        .map(|w| Constraint::Length(u16::try_from(*w).unwrap_or(u16::MAX)))
        .collect();
    let rows = computers.iter().zip(texts).map(|(c, row)| {
        let cells = row.into_iter().enumerate().map(|(i, text)| {
            let style = match (i, c.online) {
                (1, true) => Style::new().fg(Color::Green),
                (1, false) => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                _ => Style::new(),
            };
            Cell::from(Span::styled(text, style))
        });
        let row = Row::new(cells);
        if c.online { row } else { row.style(dim()) }
    });
    let table = Table::new(rows, constraints)
        .header(Row::new(header.iter().map(|h| Cell::from(*h))).style(bold()))
        .column_spacing(if narrow { 1 } else { 2 })
        .highlight_symbol(CURSOR)
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(bold());
    let mut state = TableState::default().with_selected(Some(app.cursor(Tab::Computers)));
    frame.render_stateful_widget(table, area, &mut state);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selected_row_skips_headers() {
        let rows = [false, true, true, false, true];
        assert_eq!(selected_row(rows.into_iter(), 0), Some(1));
        assert_eq!(selected_row(rows.into_iter(), 2), Some(4));
        assert_eq!(selected_row(rows.into_iter(), 3), None);
    }
}
