//! `exos keys` and `exos tokens`: create, list and revoke credentials in the data folder.

use std::path::Path;

use clap::Subcommand;
use exos_store::{CredentialKind, DuckOptions, DuckStore, Store};

/// An action on keys or tokens.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Create one and print its secret once.
    Create {
        /// A label to recognise it by.
        #[arg(long, default_value = "default")]
        name: String,
        /// Role of an API token: admin or viewer (ignored for ingest keys).
        #[arg(long, default_value = "viewer")]
        role: String,
    },
    /// List ids, labels and state (never secrets).
    List,
    /// Revoke one by id.
    Revoke { id: String },
}

/// Runs the action on the store in `data_dir`.
pub fn run(kind: CredentialKind, action: Action, data_dir: &Path) -> anyhow::Result<()> {
    let store = DuckStore::open(data_dir, &DuckOptions::default())?;
    let noun = match kind {
        CredentialKind::IngestKey => "ingest key",
        _ => "API token",
    };
    match action {
        Action::Create { name, role } => {
            if kind == CredentialKind::ApiToken && role != "admin" && role != "viewer" {
                anyhow::bail!("invalid role {role:?}: use admin or viewer");
            }
            let role = if kind == CredentialKind::ApiToken {
                role
            } else {
                String::new()
            };
            let (id, secret) = exos_server::auth::create_secret(&store, kind, &name, &role)?;
            println!("id: {id}");
            println!("{noun}: {secret}");
        }
        Action::List => {
            for credential in store.credentials()?.into_iter().filter(|c| c.kind == kind) {
                let state = if credential.revoked {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{state}",
                    credential.id, credential.name, credential.role
                );
            }
        }
        Action::Revoke { id } => {
            if !store.revoke_credential(kind, &id)? {
                anyhow::bail!("no active {noun} with id {id:?}; see `list`");
            }
            println!("revoked {noun} {id}");
        }
    }
    store.checkpoint()?;
    Ok(())
}
