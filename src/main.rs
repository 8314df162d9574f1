//! The `anaplan-functions` command line: thin; the library does the work.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[cfg(feature = "emulator")]
use anaplan_emulator::{Emulator, EmulatorConfig, Launch};
use anaplan_functions::auth_commands::{self, Grant, LoginOptions};
use anaplan_functions::config::Settings;
use anaplan_functions::local_settings;
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
    /// Settings come from the environment (what `func start` sets from
    /// local.settings.json, or the Function App's app settings), and with --settings FILE
    /// also from that file's Values.
    Serve(ServeArgs),
    /// Build the release binary (without the emulator: `demo` and `emulator` are not in it)
    /// and stage a deployable function app in DIR/functionapp/.
    Package(PackageArgs),
    /// Onboard and check Anaplan credentials.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Print the Logic Apps custom-connector definition (Swagger 2.0 JSON), generated from
    /// the functions' declarations (infra/connector/apiDefinition.swagger.json is this output;
    /// infra/connector/groups/ and infra/connector-oauth/ hold the variants).
    Openapi(OpenapiArgs),
    /// Run a strict local Anaplan with a seeded demo tenant (OAuth, legacy token service,
    /// Integration API). Prints `READY http://127.0.0.1:<port>` once it answers, then the
    /// demo credentials (JSON) or, with --state-dir, writes them to DIR/credentials.json.
    /// Stops on Ctrl-C or SIGTERM.
    #[cfg(feature = "emulator")]
    #[command(long_about = EMULATOR_ABOUT)]
    Emulator(EmulatorArgs),
    /// The main job with no tenant and no Azure: the emulator and `serve` wired to it, and
    /// one ready-to-paste curl line per function. Stops both on Ctrl-C or SIGTERM.
    #[cfg(feature = "emulator")]
    #[command(long_about = DEMO_ABOUT)]
    Demo(DemoArgs),
}

#[cfg(feature = "emulator")]
const EMULATOR_ABOUT: &str = "Run a strict local Anaplan with a seeded demo tenant.

One port serves Anaplan's OAuth service (/oauth/token, /oauth/device/code), the legacy token \
service (/token/authenticate, /token/refresh) and the Integration API (/2/0/...: workspaces, \
models, views and large read requests, processes, exports, imports, files, chunks, dumps). \
It refuses what Anaplan refuses, in Anaplan's error shapes (no or wrong token, expired token, \
spent refresh token, malformed id, chunk out of range, more than 1,000,000 cells, unknown \
request).

Once it answers it prints `READY http://127.0.0.1:<port>` on stdout. Without --state-dir the \
next line is the demo credentials as JSON ({\"clientId\", \"clientSecret\", \"refreshToken\", \
\"username\", \"password\", \"scimApiKey\", \"certificate\"}: the certificate user's PEM \
certificate and key, as ANAPLAN_CERTIFICATE takes them); with --state-dir they are written to DIR/credentials.json, and \
the OAuth client and the live tokens are kept in DIR, so restarting with the same DIR keeps \
a running `serve` or `func start` working. The README lists the tenant's workspaces, models, \
views, processes, exports and imports. Stops on Ctrl-C or SIGTERM.";

#[cfg(feature = "emulator")]
const DEMO_ABOUT: &str = "The main job with no tenant and no Azure.

Starts the emulator (see `anaplan-functions emulator --help`) on a free port and `serve` on \
--port, wired to it with OAuth (the client and first refresh token the emulator issued, \
rotation on; the rotated token lives in a temporary file removed on exit), or with \
`--auth certificate` with the emulator's demo certificate user (a v2 certificate login). \
Prints one ready-to-paste curl line per function, then serves until Ctrl-C or SIGTERM, which \
stops both.

Needs no settings, no Azurite and no `func`. No storage account is configured, so \
Idempotency-Key and Blob transfers (destination=blob, source=blob) answer a problem that says \
how to add one.";

#[cfg(feature = "emulator")]
#[derive(Args)]
struct EmulatorArgs {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Keep the OAuth client, the demo password and live tokens here between runs, and
    /// write credentials.json here.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Limit every connection to this many bytes per second in each direction, like a slow
    /// link (0: no limit; `POST /_emulator/speed-cap?bytesPerSecond=N` changes it later).
    #[arg(long, value_name = "BYTES_PER_SEC", default_value_t = 0)]
    speed_cap: u64,
}

#[cfg(feature = "emulator")]
#[derive(Args)]
struct DemoArgs {
    /// Port of the functions on 127.0.0.1.
    #[arg(long, default_value_t = 7071)]
    port: u16,
    /// How the functions log in to the emulator: `oauth` (its OAuth client and refresh
    /// token) or `certificate` (its demo certificate user).
    #[arg(long, value_enum, default_value_t = anaplan_functions::demo::DemoAuth::Oauth)]
    auth: anaplan_functions::demo::DemoAuth,
}

#[derive(Subcommand)]
enum AuthCommand {
    /// Obtain an Anaplan refresh token (--device for the device grant, or --redirect-uri URL
    /// for the authorization code with a pasted redirect address) and store it in Key Vault
    /// (KEY_VAULT_URI), or print the settings.
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
    #[arg(long, value_name = "URL")]
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
    /// Also read settings from the Values of this local.settings.json (as `func start`
    /// does); a variable set in the environment wins over the file.
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
}

#[derive(Args)]
struct OpenapiArgs {
    /// Only this group's operations (a connector per role): all, integration (model data and
    /// actions), users (users, access and audit) or cloudworks. The dropdowns' list-objects
    /// comes along with users and cloudworks.
    #[arg(long, default_value = "all", value_name = "NAME", value_parser = ["all", "integration", "users", "cloudworks"])]
    group: String,
    /// How connections authenticate: functionKey (the connection asks for a function key) or
    /// anaplanOAuth (each connection signs in to Anaplan; the key is an internal header).
    #[arg(long, default_value = "functionKey", value_name = "AUTH", value_parser = ["functionKey", "anaplanOAuth"])]
    auth: String,
    /// For a Power Platform connector (paconn): with anaplanOAuth, no internal key header (the
    /// setheader policy of infra/connector-oauth/power-platform/apiProperties.json sends it).
    #[arg(long)]
    power_platform: bool,
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
        Command::Openapi(args) => {
            use anaplan_functions::machinery::declare::Group;
            use anaplan_functions::machinery::openapi::{ConnectorAuth, Variant};
            use std::io::Write;
            let variant = Variant {
                group: Group::from_name(&args.group),
                auth: ConnectorAuth::from_name(&args.auth).unwrap_or_default(),
                power_platform: args.power_platform,
            };
            let mut out = std::io::stdout().lock();
            match out
                .write_all(anaplan_functions::functions::connector_definition_for(variant).as_bytes())
                .and_then(|_| out.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(format!("cannot write the definition: {e}")),
            }
        }
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => emulator(args),
        #[cfg(feature = "emulator")]
        Command::Demo(args) => demo(args),
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
    let file_values = match &args.settings {
        Some(path) => match local_settings::values(path) {
            Ok(v) => v,
            Err(e) => return fail(e),
        },
        None => Default::default(),
    };
    let settings = match Settings::from_lookup(|k| std::env::var(k).ok().or_else(|| file_values.get(k).cloned())) {
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

#[cfg(feature = "emulator")]
fn emulator(args: EmulatorArgs) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async {
        let launch = Launch { port: args.port, state_dir: args.state_dir.clone() };
        let emulator =
            match Emulator::launch(EmulatorConfig { speed_cap: args.speed_cap, ..EmulatorConfig::default() }, &launch)
                .await
            {
                Ok(e) => e,
                Err(e) => return fail(e.to_string()),
            };
        // Listening before READY: a caller may send SIGTERM as soon as it reads the line.
        let stop = anaplan_functions::shutdown::listen();
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let mut lines = format!("READY {}\n", emulator.base_url());
            if args.state_dir.is_none() {
                match serde_json::to_string(&emulator.credentials()) {
                    Ok(json) => lines.push_str(&format!("{json}\n")),
                    Err(e) => return fail(format!("cannot write the credentials: {e}")),
                }
            }
            if let Err(e) = out.write_all(lines.as_bytes()).and_then(|_| out.flush()) {
                return fail(format!("cannot write to stdout: {e}"));
            }
        }
        stop.await;
        ExitCode::SUCCESS
    })
}

#[cfg(feature = "emulator")]
fn demo(args: DemoArgs) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    let mut out = std::io::stdout();
    match runtime.block_on(anaplan_functions::demo::run(args.port, args.auth, &mut out)) {
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
            let grant = match (args.device, args.redirect_uri) {
                (false, Some(redirect_uri)) => Grant::Code { redirect_uri },
                (true, _) => Grant::Device,
                (false, None) => {
                    eprintln!(
                        "anaplan-functions: auth login needs a grant: --device (the device grant, with a client created for it) or --redirect-uri URL (the authorization code, with a pasted redirect address)"
                    );
                    return ExitCode::from(2);
                }
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
