//! The `anaplan-functions` command line: thin; the library does the work.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use anaplan_functions::auth_commands::{self, Grant, LoginOptions};
use anaplan_functions::config::Settings;
use anaplan_functions::package::{PackageOptions, package};
use anaplan_functions::{startup, telemetry};

/// Anaplan actions for Azure Logic Apps, as an Azure Functions custom handler.
#[derive(Parser)]
#[command(name = "anaplan-functions", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the custom handler (the Functions host starts this; it also runs standalone).
    Serve(ServeArgs),
    /// Build the release binary and stage a deployable function app in DIR/functionapp/.
    Package(PackageArgs),
    /// Onboard and check Anaplan credentials.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Print the Logic Apps custom-connector definition (Swagger 2.0 JSON), generated from
    /// the functions' declarations (infra/connector/apiDefinition.swagger.json is this output).
    Openapi,
}

#[derive(Subcommand)]
enum AuthCommand {
    /// Obtain an Anaplan refresh token (device grant, or authorization code with a pasted
    /// redirect address) and store it in Key Vault (KEY_VAULT_URI), or print the settings.
    Login(LoginArgs),
    /// Obtain an access token with the configured credentials, call Anaplan, and say who
    /// it is and when the token expires. Exit code 0 only when all of that worked.
    Check,
}

#[derive(Args)]
struct LoginArgs {
    /// Use the device grant (a client created for the device grant; no client secret).
    #[arg(long, conflicts_with = "redirect_uri")]
    device: bool,
    /// Use the authorization-code grant with this redirect URI (one registered on the
    /// client; Anaplan refuses localhost).
    #[arg(long, value_name = "URL", required_unless_present = "device")]
    redirect_uri: Option<String>,
    /// The OAuth client id (default: ANAPLAN_CLIENT_ID, or anaplan-client-id in the vault).
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    /// Port when FUNCTIONS_CUSTOMHANDLER_PORT is not set (the host sets it). Default 7071.
    #[arg(long)]
    port: Option<u16>,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
}

#[derive(Args)]
struct PackageArgs {
    /// Output directory; the app is staged in DIR/functionapp/.
    #[arg(long, default_value = "dist", value_name = "DIR")]
    out: PathBuf,
    /// Also write DIR/functionapp.zip for zip deploy / one-deploy.
    #[arg(long)]
    zip: bool,
    /// Stage this already-built binary instead of running `cargo build --release`.
    #[arg(long, value_name = "PATH")]
    binary: Option<PathBuf>,
    /// Build for this target triple (e.g. x86_64-unknown-linux-musl).
    #[arg(long, value_name = "TRIPLE", conflicts_with = "binary")]
    target: Option<String>,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(args) => serve(args),
        Command::Auth(cmd) => auth(cmd),
        Command::Openapi => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match out
                .write_all(anaplan_functions::functions::openapi::connector_definition().as_bytes())
                .and_then(|_| out.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(format!("cannot write the definition: {e}")),
            }
        }
        Command::Package(args) => {
            let root = match std::env::current_dir() {
                Ok(d) => d,
                Err(e) => return fail(format!("cannot read the current directory: {e}")),
            };
            let opts = PackageOptions { out: args.out, zip: args.zip, binary: args.binary, target: args.target, root };
            match package(&opts) {
                Ok(staged) => {
                    println!("staged {} ({})", staged.app.display(), staged.functions.join(", "));
                    if let Some(z) = staged.zip {
                        println!("wrote {}", z.display());
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e.to_string()),
            }
        }
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    // The host's port wins: it is the only one the host will call.
    let port = match std::env::var("FUNCTIONS_CUSTOMHANDLER_PORT") {
        Ok(v) if !v.trim().is_empty() => match v.trim().parse::<u16>() {
            Ok(p) => p,
            Err(_) => return fail(format!("setting FUNCTIONS_CUSTOMHANDLER_PORT: expected a port number, got {v:?}")),
        },
        _ => args.port.unwrap_or(7071),
    };
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => return fail(e.to_string()),
    };
    telemetry::init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(startup::serve(settings, args.bind, port)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e.to_string()),
    }
}

fn auth(cmd: AuthCommand) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    let mut out = std::io::stdout();
    let outcome = match cmd {
        AuthCommand::Login(args) => {
            let grant = match args.redirect_uri {
                Some(redirect_uri) if !args.device => Grant::Code { redirect_uri },
                _ => Grant::Device,
            };
            let options = LoginOptions { grant, client_id: args.client_id };
            let mut input = std::io::stdin().lock();
            runtime.block_on(auth_commands::login(options, &mut out, &mut input))
        }
        AuthCommand::Check => match Settings::from_env() {
            Ok(settings) => runtime.block_on(auth_commands::check(&settings, &mut out)),
            Err(e) => Err(e.to_string()),
        },
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("anaplan-functions: {e}");
            ExitCode::from(1)
        }
    }
}

fn fail(message: String) -> ExitCode {
    eprintln!("anaplan-functions: {message}");
    ExitCode::from(2)
}
