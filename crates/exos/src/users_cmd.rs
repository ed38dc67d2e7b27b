//! `exos users`: add, list, remove users and set their passwords in the data folder.

use std::io::BufRead;
use std::path::Path;

use clap::Subcommand;
use exos_server::admin;
use exos_store::credentials::random_text;
use exos_store::{DuckOptions, DuckStore, Store};

/// An action on users.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Add a user; prints a generated password unless --password-stdin is given.
    Add {
        name: String,
        /// admin (manages users, keys and all workspace items) or viewer.
        #[arg(long, default_value = "viewer")]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (prints a generated one unless --password-stdin); ends their sessions.
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List user names and roles.
    List,
    /// Remove a user and end their sessions.
    Remove { name: String },
}

fn password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((random_text(24), true));
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok((line.trim_end_matches(['\r', '\n']).to_string(), false))
}

/// Runs the action on the store in `data_dir`.
pub fn run(action: Action, data_dir: &Path) -> anyhow::Result<()> {
    let store = DuckStore::open(data_dir, &DuckOptions::default())?;
    match action {
        Action::Add {
            name,
            role,
            password_stdin,
        } => {
            let (password, generated) = password(password_stdin)?;
            admin::add_user(&store, &name, &password, &role)?;
            println!("added {role} {name}");
            if generated {
                println!("password: {password}");
            }
        }
        Action::Passwd {
            name,
            password_stdin,
        } => {
            let (password, generated) = password(password_stdin)?;
            admin::set_password(&store, &name, &password)?;
            println!("password of {name} changed; their sessions are ended");
            if generated {
                println!("password: {password}");
            }
        }
        Action::List => {
            for user in admin::list_users(&store)? {
                println!("{}\t{}", user.name, user.role);
            }
        }
        Action::Remove { name } => {
            admin::remove_user(&store, &name)?;
            println!("removed {name}");
        }
    }
    store.checkpoint()?;
    Ok(())
}
