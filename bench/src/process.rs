//! A child process the bench started: output to log files in its own temp
//! dir, SIGKILL on drop, and what `/proc` says about it (RSS, CPU time).

use anyhow::Context as _;
use rustix::process::{Pid, Signal, kill_process};
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;
use tempfile::TempDir;

/// A running child process, killed (SIGKILL) and reaped on drop.
#[derive(Debug)]
pub struct Proc {
    label: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Proc {
    /// Starts `program` with `args` and `envs` (on top of the bench's own
    /// environment minus `FLEET_*`), stdout and stderr both into
    /// `dir/<log_name>`.
    ///
    /// # Errors
    /// When the log file cannot be created or the program cannot be started.
    pub fn spawn(
        label: impl Into<String>,
        program: &Path,
        args: &[OsString],
        envs: &[(&str, OsString)],
        dir: &TempDir,
        log_name: &str,
    ) -> anyhow::Result<Self> {
        let label = label.into();
        let log = dir.path().join(log_name);
        let out = File::create(&log).with_context(|| format!("create {}", log.display()))?;
        let err = out.try_clone().context("duplicate a log file handle")?;
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("FLEET_") {
                command.env_remove(key);
            }
        }
        for (key, value) in envs {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .with_context(|| format!("start {} ({})", label, program.display()))?;
        Ok(Self {
            label,
            child: Some(child),
            log,
        })
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Its label, for messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The exit status if it has exited (reaping it), `None` while it runs.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => {
                self.child = None;
                Some(status)
            }
            Ok(None) | Err(_) => None,
        }
    }

    /// SIGTERM, then waits up to `patience` for the exit; SIGKILL after it.
    pub async fn terminate(&mut self, patience: Duration) {
        let Some(child) = &self.child else {
            return;
        };
        // Fails only when it is gone already; the wait below reaps it.
        let _ = kill_process(Pid::from_child(child), Signal::TERM);
        let deadline = tokio::time::Instant::now() + patience;
        while tokio::time::Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.kill();
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Fails only when it already exited; `wait` reaps it either way.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The last `lines` lines of its log, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        let start = all.len().saturating_sub(lines);
        format!(
            "--- {} log ({}) ---\n{}",
            self.label,
            self.log.display(),
            all[start..].join("\n")
        )
    }

    /// Resident memory now (`VmRSS` of `/proc/<pid>/status`), in bytes.
    ///
    /// # Errors
    /// When the process is gone or the file has no `VmRSS` line.
    pub fn rss_bytes(&self) -> anyhow::Result<u64> {
        let pid = self.pid().context("process not running")?;
        rss_of(pid)
    }

    /// User plus system CPU time used so far (`/proc/<pid>/stat`).
    ///
    /// # Errors
    /// When the process is gone or the file cannot be parsed.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        let pid = self.pid().context("process not running")?;
        cpu_time_of(pid)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `VmRSS` of process `pid`, in bytes.
///
/// # Errors
/// When `/proc/<pid>/status` cannot be read or has no `VmRSS` line.
pub fn rss_of(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("read /proc/{pid}/status"))?;
    parse_vm_rss(&status).with_context(|| format!("no VmRSS in /proc/{pid}/status"))
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// User plus system CPU time of process `pid`.
///
/// # Errors
/// When `/proc/<pid>/stat` cannot be read or parsed.
pub fn cpu_time_of(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("read /proc/{pid}/stat"))?;
    let ticks = parse_cpu_ticks(&stat).with_context(|| format!("parse /proc/{pid}/stat"))?;
    let per_sec = rustix::param::clock_ticks_per_second().max(1);
    Ok(Duration::from_secs_f64(ticks as f64 / per_sec as f64))
}

/// utime + stime (fields 14 and 15), counted after the `)` that closes the
/// command name (which may itself hold spaces).
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14, index 11 here.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// CPU time used by this process (the bench itself) so far.
///
/// # Errors
/// As [`cpu_time_of`].
pub fn own_cpu_time() -> anyhow::Result<Duration> {
    cpu_time_of(std::process::id())
}

/// Raises this process's open-files soft limit to its hard limit (1,000
/// WebSocket clients need more than the usual 1,024); children inherit it.
///
/// # Errors
/// When the limit cannot be set.
pub fn raise_open_files_limit() -> anyhow::Result<()> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        setrlimit(Resource::Nofile, limit).context("setrlimit NOFILE")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        assert_eq!(
            parse_vm_rss("Name:\tx\nVmRSS:\t  1234 kB\nVmSwap: 0 kB\n"),
            Some(1234 * 1024)
        );
        let stat = "42 (a b) S 1 2 3 4 5 6 7 8 9 10 100 23 0 0";
        assert_eq!(parse_cpu_ticks(stat), Some(123));
        assert!(own_cpu_time().is_ok());
    }
}
