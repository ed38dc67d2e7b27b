//! The server: OTLP receivers, the HTTP API, and the writer that feeds the store.
//!
//! `serve` binds three listeners (UI/API, OTLP/HTTP, OTLP/gRPC), runs them until
//! a shutdown signal, then stops accepting, drains the ingest queue into the
//! store and checkpoints it, within a deadline. Handlers compute nothing
//! themselves: they decode, authorize, enqueue or forward SQL to the store.

pub mod admin;
pub mod analytics_api;
pub mod api;
pub mod auth;
pub mod config;
pub mod docs;
pub mod funnels_api;
pub mod ingest;
pub mod ocpm_api;
pub mod openapi;
pub mod otlp_grpc;
pub mod otlp_http;
pub mod paths_api;
pub mod process_api;
pub mod replay_api;
pub mod replay_worker;
pub mod session;
pub mod state;
pub mod telemetry;
pub mod tls;
pub mod web;
pub mod workspaces;
pub mod writer;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;

use exos_store::Store;
use tokio::net::TcpListener;

pub use config::ServerConfig;
use state::AppState;

/// The addresses the server actually bound (useful when asked for port 0).
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub http: SocketAddr,
    pub otlp_http: SocketAddr,
    pub otlp_grpc: SocketAddr,
}

/// Runs the server until `shutdown` resolves, then drains and closes.
///
/// `on_ready` is called once all three listeners are bound.
pub async fn serve(
    config: ServerConfig,
    store: Arc<dyn Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(Bound),
) -> anyhow::Result<()> {
    let (queue, jobs) = exos_ingest::bounded(config.queue_bytes);
    let writer = writer::spawn(
        store.clone(),
        jobs,
        writer::WriterSettings {
            max_rows: config.batch_max_rows,
            max_wait: config.batch_max_wait,
            delay: config.write_delay,
            threads: config.writer_threads,
        },
    );
    let http = bind(config.http_addr, "HTTP API").await?;
    let otlp_http = bind(config.otlp_http_addr, "OTLP/HTTP").await?;
    let otlp_grpc = bind(config.otlp_grpc_addr, "OTLP/gRPC").await?;
    let bound = Bound {
        http: http.local_addr()?,
        otlp_http: otlp_http.local_addr()?,
        otlp_grpc: otlp_grpc.local_addr()?,
    };
    let auth_store = store.clone();
    let auth_config = config.clone();
    let auth = tokio::task::spawn_blocking(move || {
        auth::Auth::new(
            auth_store,
            auth_config.lockout.clone(),
            auth_config.tls.is_some(),
            auth_config.session_lifetime,
        )
    })
    .await??;
    let tls = match &config.tls {
        Some(files) => Some(tls::acceptor(files)?),
        None => None,
    };
    let state = AppState {
        auth: Arc::new(auth),
        store: store.clone(),
        queue: queue.clone(),
        config: Arc::new(config.clone()),
        metrics: telemetry::install(),
        bound,
        // The embedded store has one writer, this process, so the replay worker
        // can keep sessions in memory and be fed by ingest.
        dirty_sessions: replay_worker::DirtySessions::new(
            store.dialect() == exos_store::Dialect::DuckDb,
        ),
        process_cache: Arc::default(),
    };
    let replay_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let replay = replay_worker::spawn(
        store.clone(),
        state.dirty_sessions.clone(),
        config.replay.clone(),
        replay_stop.clone(),
    );

    let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
    let stopped = |stop: &tokio::sync::broadcast::Sender<()>| {
        let mut receiver = stop.subscribe();
        async move {
            let _ = receiver.recv().await;
        }
    };
    let app = api::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let api_task = match tls {
        None => tokio::spawn(
            axum::serve(http, app)
                .with_graceful_shutdown(stopped(&stop))
                .into_future(),
        ),
        Some(acceptor) => tokio::spawn(
            axum::serve(
                axum::serve::ListenerExt::tap_io(tls::TlsListener::new(http, acceptor), |_| {}),
                app,
            )
            .with_graceful_shutdown(stopped(&stop))
            .into_future(),
        ),
    };
    let otlp_http_task = tokio::spawn(
        axum::serve(otlp_http, otlp_http::router(state.clone()))
            .with_graceful_shutdown(stopped(&stop))
            .into_future(),
    );
    let grpc_incoming = tokio_stream_from(otlp_grpc);
    let grpc_routes = otlp_grpc::routes(state.clone());
    let grpc_stop = stopped(&stop);
    let otlp_grpc_task = tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_routes(grpc_routes)
            .serve_with_incoming_shutdown(grpc_incoming, grpc_stop)
            .await
    });
    tracing::info!(http = %bound.http, otlp_http = %bound.otlp_http, otlp_grpc = %bound.otlp_grpc, "exos serving");
    on_ready(bound);

    shutdown.await;
    tracing::info!("shutdown requested: no longer accepting requests, draining the ingest queue");
    let _ = stop.send(());
    let deadline = config.shutdown_timeout;
    let servers = async {
        let _ = api_task.await;
        let _ = otlp_http_task.await;
        let _ = otlp_grpc_task.await;
    };
    if tokio::time::timeout(deadline, servers).await.is_err() {
        tracing::warn!(
            ?deadline,
            "servers did not stop in time; closing with requests still open"
        );
    }
    queue.close();
    drop(queue);
    drop(state);
    let drained = tokio::task::spawn_blocking(move || writer.join());
    match tokio::time::timeout(deadline, drained).await {
        Ok(_) => {}
        Err(_) => tracing::error!(
            ?deadline,
            "ingest queue did not drain in time; unwritten requests were not acknowledged"
        ),
    }
    replay_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = tokio::task::spawn_blocking(move || replay.join()).await;
    let checkpoint = tokio::task::spawn_blocking(move || store.checkpoint()).await?;
    if let Err(error) = checkpoint {
        tracing::error!(%error, "checkpoint at shutdown failed; the write-ahead log will be replayed at next start");
    }
    tracing::info!("exos stopped");
    Ok(())
}

async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|error| {
        anyhow::anyhow!(
            "cannot listen for {what} on {addr}: {error}; pick another address with its flag"
        )
    })
}

fn tokio_stream_from(listener: TcpListener) -> tonic::transport::server::TcpIncoming {
    tonic::transport::server::TcpIncoming::from(listener)
}
