//! Our qontract-server (the `qontract-server` crate, not a fake) serving a bundle file on a
//! free loopback port, for tests that run a binary or a GraphQL client against real data.
//! Behind the `bundle-server` feature, so that the crates not needing it do not build the
//! server.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Our qontract-server on a free port of 127.0.0.1, serving the bundle `file` (loaded before
/// this returns; reload it with `state.reload()`). It runs on its own thread and runtime
/// until the test process ends.
///
/// Panics when the bundle cannot be loaded or no port can be bound.
pub fn start_bundle_server(file: &Path) -> (SocketAddr, Arc<qontract_server::AppState>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let file = file.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the bundle server's runtime");
        rt.block_on(async move {
            let state = qontract_server::AppState::new(qontract_server::ServerConfig {
                datafiles_file: file.clone(),
                bundle_ttl: Duration::from_secs(600),
            });
            state
                .reload()
                .unwrap_or_else(|e| panic!("loading the bundle {}: {e}", file.display()));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("binding the bundle server's port");
            tx.send((
                listener.local_addr().expect("the bundle server's address"),
                state.clone(),
            ))
            .expect("the test waits for the bundle server");
            let _ = axum::serve(listener, qontract_server::router(state)).await;
        });
    });
    rx.recv().expect("the bundle server started")
}
