//! [`Redis`]: a connected fred client whose connection task is owned by the
//! value (aborted on drop), for the bench's own Redis work: the naive
//! reader, the raw floors, the fake peer and the command counters.

use anyhow::Context as _;
use fred::clients::Client;
use fred::interfaces::ClientLike as _;
use fred::types::ConnectHandle;
use fred::types::config::Config;

/// One fred client with its own connection.
pub struct Redis {
    /// The client; clone it freely (clones share the connection).
    pub client: Client,
    handle: ConnectHandle,
}

impl Redis {
    /// Connects to `url` and waits for the connection.
    ///
    /// # Errors
    /// When the URL is bad or the server can't be reached.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let config = Config::from_url(url).with_context(|| format!("bad Redis URL {url}"))?;
        let client = Client::new(config, None, None, None);
        let handle = client
            .init()
            .await
            .with_context(|| format!("connect to {url}"))?;
        Ok(Self { client, handle })
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.handle.abort();
    }
}
