//! The client every function that changes a cluster takes. Only the context guard
//! (`cluster::guard`) creates one, after checking which cluster it talks to.

/// A kube-rs client for a context that passed the guard.
#[derive(Clone)]
pub struct GuardedClient {
    client: kube::Client,
    context: String,
    server: String,
}

impl GuardedClient {
    /// For the guard only.
    pub(crate) fn new(client: kube::Client, context: String, server: String) -> Self {
        GuardedClient {
            client,
            context,
            server,
        }
    }

    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    pub fn context(&self) -> &str {
        &self.context
    }

    /// The API server this client talks to (for messages).
    pub fn server(&self) -> &str {
        &self.server
    }
}
