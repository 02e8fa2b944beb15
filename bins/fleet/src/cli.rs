//! The command line: every command and flag of `fleet`, parsed by clap. Values the API
//! checks itself (computer names, paths) stay strings here, so that its message is the
//! one a user sees; values with a fixed spelling (topics, statuses) are checked here.

use clap::{Args, Parser, Subcommand, ValueEnum};
use model::{SessionStatus, Topic};
use std::path::PathBuf;

/// `fleet`: the command-line client and live terminal view of a fleetcache daemon.
#[derive(Debug, Parser)]
#[command(
    name = "fleet",
    version,
    about = "fleetcache client: the sessions, projects and todos of a fleet of computers",
    after_help = "Start a daemon with `fleetd` (or `cargo run -p daemon` in the fleetcache \
                  repository). Exit codes: 0 done, 1 the daemon refused or failed, 2 no \
                  daemon or bad options."
)]
pub struct Cli {
    /// Where the daemon is.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Print the API's JSON exactly as the daemon answered, instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How to reach the daemon: its Unix socket (the default) or its TCP listener.
#[derive(Debug, Clone, Default, Args)]
pub struct ConnectionArgs {
    /// The daemon's Unix socket [default: as fleetd: $XDG_RUNTIME_DIR/fleetcache/fleetd.sock,
    /// else /tmp/fleetcache-$UID/fleetd.sock]
    #[arg(long, env = "FLEET_SOCKET", value_name = "PATH", global = true)]
    pub socket: Option<PathBuf>,
    /// The daemon's TCP listener instead of its socket, e.g. http://127.0.0.1:7878
    #[arg(long, env = "FLEET_URL", value_name = "URL", global = true)]
    pub url: Option<String>,
    /// A file holding the bearer token of the TCP listener (with --url)
    #[arg(long, env = "FLEET_TOKEN_FILE", value_name = "PATH", global = true)]
    pub token_file: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the computers of the fleet, online and offline.
    Computers,
    /// List agent sessions, newest activity first.
    Sessions {
        /// Only this computer's sessions.
        #[arg(long, value_name = "NAME")]
        computer: Option<String>,
    },
    /// List projects with a summary of their todos.
    Projects {
        /// Only this computer's projects.
        #[arg(long, value_name = "NAME")]
        computer: Option<String>,
    },
    /// List todos of the projects' roadmaps.
    Todos {
        /// Only this computer's todos.
        #[arg(long, value_name = "NAME")]
        computer: Option<String>,
        /// Only the todos of the project at this path (made absolute).
        #[arg(long, value_name = "PATH")]
        project: Option<String>,
    },
    /// Create, change or end a session (of any computer: writes to another are forwarded to it).
    #[command(subcommand)]
    Session(SessionCommand),
    /// Drop the cached data and pull it again from its owners (in the background).
    Refresh {
        /// Only this computer's data.
        #[arg(long, value_name = "NAME")]
        computer: Option<String>,
        /// Only this topic (repeatable).
        #[arg(long = "topic", value_name = "TOPIC")]
        topics: Vec<TopicArg>,
    },
    /// Print the WebSocket stream as JSON lines, one frame a line, until stopped.
    Events {
        /// Subscribe to this topic (repeatable) [default: all three]
        #[arg(long = "topic", value_name = "TOPIC")]
        topics: Vec<TopicArg>,
        /// Only these computers (repeatable) [default: all]
        #[arg(long = "computer", value_name = "NAME")]
        computers: Vec<String>,
    },
    /// The live terminal view: sessions, preparation and computers, updated as they change.
    Watch,
    /// Record one agent event on this computer's daemon (run by the agents' hooks;
    /// always exits 0, within 200 ms, spooling what the daemon cannot take now).
    #[command(subcommand)]
    Hook(HookCommand),
    /// Add fleet's hooks to an agent's settings, or take them out.
    #[command(subcommand)]
    Hooks(HooksCommand),
    /// Run a command (or notify-send) for every session that starts waiting for a person,
    /// anywhere in the fleet, once per wait.
    Notify {
        /// The command to run, through `sh -c`, with FLEET_COMPUTER, FLEET_SESSION_ID,
        /// FLEET_TITLE, FLEET_MESSAGE and FLEET_AGENT set [default: notify-send when
        /// installed, else a line on stdout]
        #[arg(long, value_name = "CMD")]
        exec: Option<String>,
        /// Only these computers (repeatable) [default: all]
        #[arg(long = "computer", value_name = "NAME")]
        computers: Vec<String>,
        /// Also for the sessions already waiting when it starts.
        #[arg(long)]
        existing: bool,
    },
    /// Print a shell completion script to stdout, e.g. `fleet completions bash >
    /// ~/.local/share/bash-completion/completions/fleet`.
    Completions {
        /// The shell.
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
        /// The program to complete.
        #[arg(value_name = "PROGRAM", default_value = "fleet")]
        program: ProgramArg,
    },
    /// Write the man pages of fleet, of each of its commands (fleet-<command>.1) and of
    /// fleetd into a directory, and print their paths.
    Man {
        /// The directory, created if missing, e.g. ~/.local/share/man/man1.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
}

/// A program of fleetcache, as typed after `fleet completions SHELL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgramArg {
    /// This client.
    Fleet,
    /// The daemon.
    Fleetd,
}

/// `fleet hook ...`.
#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// A Claude Code hook event, as JSON on stdin.
    Claude,
    /// A Codex CLI `notify` event, as JSON in the last argument (else on stdin).
    Codex {
        /// What Codex passes; only the last is read.
        #[arg(
            value_name = "JSON",
            trailing_var_arg = true,
            allow_hyphen_values = true
        )]
        args: Vec<String>,
    },
    /// A Gemini CLI hook event, as JSON on stdin (prints `{}` on stdout).
    Gemini,
    /// Deliver the events spooled while the daemon was away.
    Flush {
        /// Keep trying until the spool is empty (or FLEET_HOOK_DRAIN_PATIENCE_S pass).
        #[arg(long)]
        wait: bool,
    },
}

/// `fleet hooks ...`.
#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Merge fleet's hook entries into the agent's settings (a backup is kept).
    Install(HooksArgs),
    /// Take fleet's hook entries out of the agent's settings (a backup is kept).
    Uninstall(HooksArgs),
}

/// What `fleet hooks install|uninstall` works on.
#[derive(Debug, Clone, Args)]
pub struct HooksArgs {
    /// The agent.
    pub agent: crate::hook::Agent,
    /// Print the change as a diff and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The settings file [default: ~/.claude/settings.json, ~/.codex/config.toml or
    /// ~/.gemini/settings.json]
    #[arg(long, value_name = "PATH")]
    pub settings: Option<PathBuf>,
    /// The fleet program the hooks run [default: this fleet's absolute path]
    #[arg(long, value_name = "PATH")]
    pub program: Option<String>,
}

/// `fleet session ...`.
#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Create a session on this computer, or on another with --computer.
    New {
        /// What a person calls it.
        #[arg(long)]
        title: String,
        /// The project directory it works in (made absolute).
        #[arg(long, value_name = "PATH")]
        project: Option<String>,
        /// The agent running it, e.g. claude.
        #[arg(long)]
        agent: Option<String>,
        /// Its initial status [default: active]
        #[arg(long)]
        status: Option<StatusArg>,
        /// The computer to start it on [default: this one]; another computer must
        /// accept remote writes (fleetd --allow-remote-writes).
        #[arg(long, value_name = "NAME")]
        computer: Option<String>,
    },
    /// Change a session of any computer of the fleet.
    #[command(arg_required_else_help = true)]
    Update {
        /// The session's id.
        id: String,
        /// New status.
        #[arg(long)]
        status: Option<StatusArg>,
        /// New title.
        #[arg(long)]
        title: Option<String>,
        /// The last thing a person typed into it.
        #[arg(long, value_name = "TEXT")]
        input: Option<String>,
        /// The last thing it answered.
        #[arg(long, value_name = "TEXT")]
        output: Option<String>,
    },
    /// End a session of any computer of the fleet (it is closed, then removed).
    End {
        /// The session's id.
        id: String,
    },
}

/// A topic as typed on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TopicArg {
    /// Agent sessions.
    Sessions,
    /// Projects and their todos.
    Preparation,
    /// The computers of the fleet.
    Computers,
}

impl From<TopicArg> for Topic {
    fn from(t: TopicArg) -> Self {
        match t {
            TopicArg::Sessions => Topic::Sessions,
            TopicArg::Preparation => Topic::Preparation,
            TopicArg::Computers => Topic::Computers,
        }
    }
}

/// A session status as typed on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    /// Working.
    Active,
    /// Open but doing nothing.
    Idle,
    /// Waiting for a person's input.
    Waiting,
    /// Ended.
    Closed,
}

impl From<StatusArg> for SessionStatus {
    fn from(s: StatusArg) -> Self {
        match s {
            StatusArg::Active => SessionStatus::Active,
            StatusArg::Idle => SessionStatus::Idle,
            StatusArg::Waiting => SessionStatus::Waiting,
            StatusArg::Closed => SessionStatus::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_go_anywhere() {
        let cli = Cli::try_parse_from(["fleet", "sessions", "--json", "--socket", "/s"]).unwrap();
        assert!(cli.json);
        assert_eq!(cli.connection.socket, Some(PathBuf::from("/s")));
        let cli = Cli::try_parse_from([
            "fleet",
            "events",
            "--topic",
            "sessions",
            "--topic",
            "computers",
        ])
        .unwrap();
        let Command::Events { topics, .. } = cli.command else {
            panic!("not events");
        };
        assert_eq!(topics, [TopicArg::Sessions, TopicArg::Computers]);
    }

    #[test]
    fn bad_values_are_usage_errors() {
        assert!(Cli::try_parse_from(["fleet", "events", "--topic", "weather"]).is_err());
        assert!(
            Cli::try_parse_from(["fleet", "session", "update", "x", "--status", "asleep"]).is_err()
        );
    }
}
