//! `fleet watch`: the live terminal view.
//!
//! - [`app`]: the state machine ([`app::App`]): data, tab, cursor, filter, connection.
//! - [`fleet`]: the mirror of the daemon's data, changed by snapshots and events.
//! - [`view`]: what each tab lists after the filter (shared by keys and drawing).
//! - [`render`]: draws an app on a ratatui frame (the tab bar, filter and status lines;
//!   each tab's content in [`content`], shared pieces in [`spans`]); pure.
//! - [`io`]: the loop that feeds the app from the WebSocket, the keys and a one-second
//!   timer, reconnecting with [`backoff`], and draws after every change.
//! - [`terminal`]: the real terminal (raw mode, alternate screen), restored on exit.

pub mod app;
pub mod backoff;
pub mod content;
pub mod fleet;
pub mod io;
pub mod render;
pub mod spans;
pub mod terminal;
pub mod view;
