//! The `berth` command line: `berth serve`, `berth user create`.

use std::process::ExitCode;

use berth_shared::auth::Role;
use berth_shared::users::CreateUserRequest;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::config::{Config, DatabaseArgs};
use crate::{accounts, server, store};

#[derive(Debug, Parser)]
#[command(
    name = "berth",
    version,
    about = "Self-hosted compute sessions on Docker engines"
)]
struct Cli {
    /// Log filter (tracing's env-filter syntax), e.g. `info` or `berth_api=debug`.
    #[arg(long, env = "BERTH_LOG", default_value = "info", global = true)]
    log: String,
    /// Log lines as `text` (for people) or `json` (one object per line,
    /// with the request's span and its `request_id`, for a log pipeline).
    #[arg(long, env = "BERTH_LOG_FORMAT", default_value = "text", global = true, value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (API, web UI, scheduler).
    Serve(Box<Config>),
    /// Manage user accounts directly in the database.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user (its password is generated and printed when not given).
    Create {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Email address (unique).
        #[arg(long)]
        email: String,
        /// Full name.
        #[arg(long, default_value = "")]
        name: String,
        /// Role: user, admin or superadmin.
        #[arg(long, default_value = "user", value_parser = parse_role)]
        role: Role,
        /// Password; read from BERTH_USER_PASSWORD, else generated.
        #[arg(long, env = "BERTH_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Project to join (repeatable); `default` when none.
        #[arg(long = "project")]
        projects: Vec<String>,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("unknown role {s:?}: use user, admin or superadmin"))
}

/// Parses the command line and runs it; the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // what the server writes (database, uploads before they are handed to
    // the session's user) is its own account's alone
    // SAFETY: umask only sets this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    let filter = EnvFilter::try_new(&cli.log).unwrap_or_else(|_| EnvFilter::new("info"));
    if cli.log_format == "json" {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("berth: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        match cli.command {
            Command::Serve(config) => server::run(*config).await,
            Command::User { command } => run_user(command).await,
        }
    });
    // blocking work a container can hold (a read of a FIFO, an engine that
    // hangs) must not hold the exit: the grace was `serve`'s
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("berth: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run_user(command: UserCommand) -> Result<(), server::StartError> {
    let UserCommand::Create {
        db,
        email,
        name,
        role,
        password,
        projects,
    } = command;
    let store = store::Store::open(&db).await?;
    let generated = password.is_none();
    let password = password.unwrap_or_else(accounts::secrets::generate_password);
    let req = CreateUserRequest {
        email,
        password: password.clone(),
        full_name: name,
        role,
        projects,
    };
    let user = accounts::create_user(&store, &req).await?;
    println!(
        "created {} ({}) access key {}",
        user.email,
        user.role.as_str(),
        user.access_key
    );
    if generated {
        println!("password: {password}");
    }
    Ok(())
}
