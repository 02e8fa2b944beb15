//! [`Skips`]: this crate counts what it skips on disk (a project directory,
//! README or roadmap it cannot use, a roadmap line that is not an item, a
//! stored session row it cannot read) next to the warning that names the
//! path and why. The count is the daemon's
//! `fleet_dropped_inputs_total{source="disk",reason="skipped"}`.

use model::Metrics;
use std::sync::Arc;

/// The `source` label of what this crate drops.
pub const SOURCE: &str = "disk";

/// The `reason` label of what this crate drops.
pub const REASON: &str = "skipped";

/// Where skips are counted: the daemon's metrics, or nowhere (the default,
/// for tests and tools that only read). Cheap to clone.
#[derive(Clone, Default)]
pub struct Skips(Option<Arc<Metrics>>);

impl Skips {
    /// Skips counted in `metrics`.
    pub fn counted_in(metrics: Arc<Metrics>) -> Self {
        Self(Some(metrics))
    }

    /// Counts one skipped file, directory, line or row (its warning is
    /// logged by the caller, once).
    pub(crate) fn skipped(&self) {
        if let Some(m) = &self.0 {
            m.dropped(SOURCE, REASON);
        }
    }
}

impl std::fmt::Debug for Skips {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Skips(counted)"
        } else {
            "Skips(not counted)"
        })
    }
}

/// Every handle is the same for comparisons: where skips are counted is
/// not part of a configuration's value.
impl PartialEq for Skips {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Skips {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ProjectsConfig, scan_all};

    #[test]
    fn skipped_paths_and_lines_are_counted_in_the_daemons_metric() {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("proj");
        std::fs::create_dir_all(project.join("todos")).unwrap();
        std::fs::create_dir_all(project.join(".git")).unwrap();
        std::fs::write(project.join("todos/roadmap.md"), "- [ ] good\n- [?] bad\n").unwrap();
        let metrics = Arc::new(Metrics::new());
        let cfg = ProjectsConfig {
            projects: vec![project, tmp.path().join("missing")],
            roots: vec![],
            skips: Skips::counted_in(metrics.clone()),
        };
        let (projects, todos) = scan_all("alpha", &cfg);
        assert_eq!(projects.len(), 1);
        assert_eq!(todos[0].1.len(), 1);
        assert!(
            metrics
                .render()
                .contains(r#"fleet_dropped_inputs_total{source="disk",reason="skipped"} 2"#),
            "the missing project and the bad roadmap line: {}",
            metrics.render()
        );
        let uncounted = ProjectsConfig {
            skips: Skips::default(),
            ..cfg
        };
        let before = metrics.render();
        scan_all("alpha", &uncounted);
        assert_eq!(
            metrics.render(),
            before,
            "the default handle counts nowhere"
        );
    }
}
