//! What a scenario hands back, and how it is shown: a human table per
//! scenario (aligned columns on stdout) and one final markdown table of
//! every result beside its baseline, its goal, and whether it was reached.

use std::fmt::Write as _;

/// An aligned text table with a title.
#[derive(Debug, Clone)]
pub struct Table {
    title: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column headers.
    pub fn new(title: impl Into<String>, headers: &[&str]) -> Self {
        Self {
            title: title.into(),
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are blank, extra ones are kept.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// The table as aligned text.
    pub fn render(&self) -> String {
        let columns = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.headers.len()])
            .max()
            .unwrap_or(0);
        let mut widths = vec![0usize; columns];
        for line in std::iter::once(&self.headers).chain(&self.rows) {
            for (i, cell) in line.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = format!("\n{}\n", self.title);
        let render_line = |out: &mut String, line: &[String]| {
            let mut text = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = line.get(i).map_or("", String::as_str);
                let pad = width.saturating_sub(cell.chars().count());
                text.push_str("  ");
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        render_line(&mut out, &self.headers);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        render_line(&mut out, &rule);
        for row in &self.rows {
            render_line(&mut out, row);
        }
        out
    }
}

/// Whether a goal of the issue was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The result meets the goal.
    Reached,
    /// The result misses the goal.
    Missed,
    /// A measurement without a goal of its own (context for another row).
    Info,
    /// Measured with `--quick`: sizes or durations below the goal's, so no
    /// verdict is given.
    Quick,
}

impl Verdict {
    /// `Reached` when `ok`, else `Missed`.
    pub fn from_bool(ok: bool) -> Self {
        if ok { Self::Reached } else { Self::Missed }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Reached => "yes",
            Self::Missed => "**no**",
            Self::Info => "-",
            Self::Quick => "(quick run)",
        }
    }
}

/// One line of the final table.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The scenario, e.g. `read`.
    pub scenario: &'static str,
    /// What was measured, e.g. `GET /v1/sessions, 1,000 sessions, p99`.
    pub metric: String,
    /// fleetcache's number.
    pub result: String,
    /// The baseline's number, measured in the same run.
    pub baseline: String,
    /// result/baseline or baseline/result, as the goal states it.
    pub ratio: String,
    /// The goal for this line.
    pub goal: String,
    /// Whether the goal was reached.
    pub verdict: Verdict,
}

/// Everything one scenario produced.
#[derive(Debug, Clone)]
pub struct ScenarioReport {
    /// The scenario's name.
    pub name: &'static str,
    /// Human tables, printed as the scenario ends.
    pub tables: Vec<Table>,
    /// Lines of the final table.
    pub outcomes: Vec<Outcome>,
    /// Remarks printed under the tables (sizes, caveats).
    pub notes: Vec<String>,
}

impl ScenarioReport {
    /// An empty report for scenario `name`.
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            tables: Vec::new(),
            outcomes: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The tables and notes as text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for table in &self.tables {
            out.push_str(&table.render());
        }
        for note in &self.notes {
            let _ = writeln!(out, "  note: {note}");
        }
        out
    }

    /// Marks every verdict as [`Verdict::Quick`] (a smoke run proves
    /// nothing about the goals).
    pub fn mark_quick(&mut self) {
        for o in &mut self.outcomes {
            if o.verdict != Verdict::Info {
                o.verdict = Verdict::Quick;
            }
        }
    }
}

/// The final markdown table of every outcome, in scenario order.
pub fn markdown(outcomes: &[Outcome]) -> String {
    let mut out = String::from(
        "| scenario | measurement | fleetcache | baseline (same run) | ratio | goal | reached |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for o in outcomes {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            o.scenario,
            escape(&o.metric),
            escape(&o.result),
            escape(&o.baseline),
            escape(&o.ratio),
            escape(&o.goal),
            o.verdict.label()
        );
    }
    out
}

fn escape(cell: &str) -> String {
    cell.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let mut t = Table::new("T", &["a", "long header"]);
        t.row(["value", "x"]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "T");
        assert_eq!(lines[2], "  a      long header");
        assert_eq!(lines[4], "  value  x");
    }

    #[test]
    fn markdown_escapes_pipes() {
        let md = markdown(&[Outcome {
            scenario: "read",
            metric: "a|b".into(),
            result: "1".into(),
            baseline: "2".into(),
            ratio: "2x".into(),
            goal: "g".into(),
            verdict: Verdict::Missed,
        }]);
        assert!(md.contains("| read | a\\|b | 1 | 2 | 2x | g | **no** |"));
    }
}
