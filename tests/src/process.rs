//! A child process whose output goes to files and which is killed on drop.
//!
//! Shared by the daemon and Redis fixtures. The same command can be launched again
//! (restart); each launch appends to the same log files after a marker line.

use std::cell::Cell;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process};
use tokio::time::Instant;

/// How to run the process: program, arguments, environment and where its output goes.
#[derive(Debug, Clone)]
pub(crate) struct CommandSpec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub envs: Vec<(OsString, OsString)>,
    pub env_remove: Vec<OsString>,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

/// A launched (or stopped) process built from a [`CommandSpec`].
#[derive(Debug)]
pub(crate) struct Supervised {
    label: String,
    spec: CommandSpec,
    child: Option<Child>,
    last_exit: Option<ExitStatus>,
    launches: u32,
    /// Lines of each log to print when dropped during a panic.
    tail_on_panic: usize,
    /// Log sizes when a tail was last rendered, so a drop during the panic that already
    /// shows that tail does not print it again.
    tail_rendered_at: Cell<Option<u64>>,
}

impl Supervised {
    pub(crate) fn new(label: impl Into<String>, spec: CommandSpec, tail_on_panic: usize) -> Self {
        Self {
            label: label.into(),
            spec,
            child: None,
            last_exit: None,
            launches: 0,
            tail_on_panic,
            tail_rendered_at: Cell::new(None),
        }
    }

    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// Starts the process. A still running previous launch is killed first.
    pub(crate) fn launch(&mut self) -> io::Result<()> {
        self.kill();
        self.launches += 1;
        let marker = format!("==== {}: launch {} ====\n", self.label, self.launches);
        let stdout = open_log(&self.spec.stdout, &marker)?;
        let stderr = open_log(&self.spec.stderr, &marker)?;
        let mut command = Command::new(&self.spec.program);
        command
            .args(&self.spec.args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        for key in &self.spec.env_remove {
            command.env_remove(key);
        }
        for (key, value) in &self.spec.envs {
            command.env(key, value);
        }
        self.child = Some(command.spawn()?);
        self.last_exit = None;
        Ok(())
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The exit status if the process has exited (reaping it), `None` while it runs or
    /// when it was never launched.
    pub(crate) fn exit_status(&mut self) -> Option<ExitStatus> {
        if let Some(child) = &mut self.child {
            match child.try_wait() {
                Ok(Some(status)) => {
                    self.child = None;
                    self.last_exit = Some(status);
                }
                Ok(None) => return None,
                Err(e) => panic!("cannot poll {}: {e}", self.label),
            }
        }
        self.last_exit
    }

    pub(crate) fn is_running(&mut self) -> bool {
        self.exit_status().is_none() && self.child.is_some()
    }

    /// SIGKILL and reap; returns the exit status if there was a process.
    pub(crate) fn kill(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        // Fails only when it already exited, which `wait` then reports.
        let _ = child.kill();
        let status = child
            .wait()
            .unwrap_or_else(|e| panic!("cannot reap {}: {e}", self.label));
        self.last_exit = Some(status);
        Some(status)
    }

    /// Sends `signal` to the running process.
    pub(crate) fn signal(&self, signal: Signal) -> io::Result<()> {
        match &self.child {
            Some(child) => kill_process(Pid::from_child(child), signal).map_err(io::Error::from),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} is not running", self.label),
            )),
        }
    }

    /// Polls until the process exits; `None` if it still runs after `timeout`.
    pub(crate) async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                return Some(status);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20).min(deadline - now)).await;
        }
    }

    /// The whole stderr and stdout logs, stderr first.
    pub(crate) fn logs(&self) -> String {
        let mut out = read_lossy(&self.spec.stderr);
        let stdout = read_lossy(&self.spec.stdout);
        if self.spec.stdout != self.spec.stderr && !stdout.is_empty() {
            out.push_str(&stdout);
        }
        out
    }

    /// The last `lines` lines of stderr and of stdout, labelled, for failure messages.
    pub(crate) fn log_tail(&self, lines: usize) -> String {
        self.tail_rendered_at.set(Some(self.log_size()));
        let mut out = String::new();
        let mut streams = vec![("stderr", &self.spec.stderr)];
        if self.spec.stdout != self.spec.stderr {
            streams.push(("stdout", &self.spec.stdout));
        }
        for (name, path) in streams {
            let text = read_lossy(path);
            let all: Vec<&str> = text.lines().collect();
            let start = all.len().saturating_sub(lines);
            out.push_str(&format!(
                "--- {} {name} ({}, last {} of {} lines) ---\n",
                self.label,
                path.display(),
                all.len() - start,
                all.len()
            ));
            for line in &all[start..] {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if std::thread::panicking()
            && self.launches > 0
            && self.tail_rendered_at.get() != Some(self.log_size())
        {
            eprintln!("{}", self.log_tail(self.tail_on_panic));
        }
        self.kill();
    }
}

impl Supervised {
    fn log_size(&self) -> u64 {
        [&self.spec.stderr, &self.spec.stdout]
            .iter()
            .filter_map(|path| std::fs::metadata(path).ok())
            .map(|meta| meta.len())
            .sum()
    }
}

fn open_log(path: &PathBuf, marker: &str) -> io::Result<File> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(marker.as_bytes())?;
    Ok(file)
}

fn read_lossy(path: &PathBuf) -> String {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}
