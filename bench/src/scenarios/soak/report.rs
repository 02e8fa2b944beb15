//! The soak's tables (faults, daemons) and its lines of the final markdown
//! table.

use super::faults::Fault;
use super::{CONVERGENCE_BOUND, Outcome};
use crate::report::{Outcome as Line, ScenarioReport, Table, Verdict};
use crate::stats::Human;
use std::sync::atomic::Ordering;

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn line(
    metric: impl Into<String>,
    result: impl Into<String>,
    goal: &str,
    verdict: Verdict,
) -> Line {
    Line {
        scenario: "soak",
        metric: metric.into(),
        result: result.into(),
        baseline: "-".into(),
        ratio: "-".into(),
        goal: goal.into(),
        verdict,
    }
}

/// The report of one soak run.
pub fn build(o: &Outcome) -> ScenarioReport {
    let mut r = ScenarioReport::new("soak");
    let mut faults = Table::new(
        "soak: faults (convergence = every watcher and owner holds every write acknowledged before the fault ended)",
        &[
            "#",
            "at",
            "fault",
            "lasted",
            "caches converged",
            "missing at bound",
        ],
    );
    for (i, f) in o.faults.iter().enumerate() {
        let detail = match f.fault {
            Fault::RedisStall(d) => format!("{} ({} s)", f.fault.kind(), d.as_secs()),
            Fault::WriterKill(w) => format!("{} (#{})", f.fault.kind(), w + 1),
            _ => f.fault.kind().to_owned(),
        };
        let missing = if f.convergence.missing.is_empty() {
            "-".to_owned()
        } else {
            f.convergence
                .missing
                .iter()
                .map(|(n, c)| format!("{n}: {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        faults.row([
            (i + 1).to_string(),
            Human(f.at).to_string(),
            detail,
            Human(f.lasted).to_string(),
            f.convergence.took.map_or_else(
                || format!("no (> {})", Human(CONVERGENCE_BOUND)),
                |t| Human(t).to_string(),
            ),
            missing,
        ]);
    }
    r.tables.push(faults);

    let mut daemons = Table::new(
        "soak: daemons (/proc/<pid>/status VmRSS, /proc/<pid>/fd)",
        &[
            "daemon",
            "role",
            "starts",
            "RSS start",
            "RSS end",
            "growth",
            "fds start",
            "fds end",
        ],
    );
    for (name, role, starts, start, end) in &o.usage {
        let (rss_end, growth, fds_end) = match end {
            Some(e) => (
                mib(e.rss),
                format!(
                    "{:+.1} MiB",
                    (e.rss as f64 - start.rss as f64) / (1024.0 * 1024.0)
                ),
                e.fds.to_string(),
            ),
            None => ("?".into(), "?".into(), "?".into()),
        };
        daemons.row([
            name.clone(),
            (*role).to_owned(),
            starts.to_string(),
            mib(start.rss),
            rss_end,
            growth,
            start.fds.to_string(),
            fds_end,
        ]);
    }
    r.tables.push(daemons);

    let w = o.writes;
    r.outcomes.push(line(
        format!("run: {} min asked, seed {}", o.minutes, o.seed),
        format!(
            "{} ran; {} writes acknowledged ({} creates, {} updates, {} ends), {} not",
            Human(o.ran),
            w.creates + w.updates + w.ends,
            w.creates,
            w.updates,
            w.ends,
            w.failed
        ),
        "-",
        Verdict::Info,
    ));
    for kind in Fault::KINDS {
        let n = o.faults.iter().filter(|f| f.fault.kind() == kind).count();
        r.outcomes.push(line(
            format!("faults: {kind}"),
            n.to_string(),
            "-",
            Verdict::Info,
        ));
    }
    let lost: u64 = o.last.missing.iter().map(|(_, n)| n).sum();
    let lost_detail = if o.last.missing.is_empty() {
        String::new()
    } else {
        format!(
            " ({})",
            o.last
                .missing
                .iter()
                .map(|(n, c)| format!("{n}: {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    r.outcomes.push(line(
        "changes lost: acknowledged writes a cache never caught up with (after the run, summed over daemons)",
        format!("{lost}{lost_detail}"),
        "0",
        Verdict::from_bool(lost == 0 && o.last.took.is_some()),
    ));
    let unconverged: Vec<_> = o
        .faults
        .iter()
        .filter(|f| f.convergence.took.is_none())
        .collect();
    let missing_at_bound: u64 = unconverged
        .iter()
        .map(|f| f.convergence.total_missing())
        .sum();
    r.outcomes.push(line(
        format!(
            "faults after which the caches did not converge within {}",
            Human(CONVERGENCE_BOUND)
        ),
        format!(
            "{} of {} ({missing_at_bound} acknowledged changes missing at the bounds)",
            unconverged.len(),
            o.faults.len()
        ),
        "0",
        Verdict::from_bool(unconverged.is_empty()),
    ));
    let worst = o
        .faults
        .iter()
        .filter_map(|f| f.convergence.took.map(|t| (t, f.fault.kind())))
        .max_by_key(|(t, _)| *t);
    r.outcomes.push(line(
        "worst convergence after a fault (its end to all caches holding every acknowledged write)",
        worst.map_or_else(
            || "-".to_owned(),
            |(t, kind)| format!("{} ({kind})", Human(t)),
        ),
        &format!("< {}", Human(CONVERGENCE_BOUND)),
        if unconverged.is_empty() {
            Verdict::Info
        } else {
            Verdict::Missed
        },
    ));
    let differ: usize = o.differ.iter().map(|(_, n)| n).sum();
    r.outcomes.push(line(
        "after the run: sessions whose id or rev differ between a watcher and the owner",
        format!(
            "{differ} ({})",
            o.differ
                .iter()
                .map(|(n, c)| format!("{n}: {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "0",
        Verdict::from_bool(differ == 0),
    ));
    for (name, _, starts, start, end) in &o.usage {
        let text = match end {
            Some(e) => format!(
                "RSS {} -> {}, fds {} -> {}{}",
                mib(start.rss),
                mib(e.rss),
                start.fds,
                e.fds,
                if *starts > 1 {
                    format!(" ({} starts: end is the last process)", starts)
                } else {
                    String::new()
                }
            ),
            None => "not running at the end".to_owned(),
        };
        r.outcomes.push(line(
            format!("{name}: memory and open files"),
            text,
            "-",
            Verdict::Info,
        ));
    }
    r.notes.push(format!(
        "WebSocket clients: {} connections, {} subscriptions answered by a replay from `since`, {} by a snapshot, {} connections failed or closed by the daemon",
        o.ws.connects.load(Ordering::Relaxed),
        o.ws.replays.load(Ordering::Relaxed),
        o.ws.snapshots.load(Ordering::Relaxed),
        o.ws.failures.load(Ordering::Relaxed),
    ));
    r.notes.push(format!(
        "{} sessions left out of the checks as uncertain (an end whose answer never came); polls that failed are retried, not counted as missing ({} after faults, {} after the run)",
        o.uncertain,
        o.faults.iter().map(|f| f.convergence.failed_polls).sum::<u64>(),
        o.last.failed_polls
    ));
    r
}
