//! A unified line diff (longest common subsequence; settings files are small), with
//! three lines of context around each change.

/// The diff of `before` and `after`, labelled with `path`; empty when equal.
pub fn unified(path: &str, before: &str, after: &str) -> String {
    if before == after {
        return String::new();
    }
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // Each line: (tag, text), tag ' ', '-' or '+'.
    let mut lines: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            lines.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            lines.push(('-', a[i]));
            i += 1;
        } else {
            lines.push(('+', b[j]));
            j += 1;
        }
    }
    const CONTEXT: usize = 3;
    let changed: Vec<usize> = (0..lines.len()).filter(|&k| lines[k].0 != ' ').collect();
    let mut out = format!("--- {path}\n+++ {path} (after)\n");
    let mut shown_to = 0;
    for &k in &changed {
        let from = k.saturating_sub(CONTEXT).max(shown_to);
        if from > shown_to || shown_to == 0 && from > 0 {
            out.push_str("@@\n");
        }
        let to = (k + CONTEXT + 1).min(lines.len());
        for (tag, text) in &lines[from.max(shown_to)..to] {
            out.push(*tag);
            out.push_str(text);
            out.push('\n');
        }
        shown_to = shown_to.max(to);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_shown_with_context() {
        let d = unified("f", "a\nb\nc\n", "a\nB\nc\nd\n");
        assert_eq!(d, "--- f\n+++ f (after)\n a\n-b\n+B\n c\n+d\n");
        assert_eq!(unified("f", "x", "x"), "");
    }
}
