//! The `lowcode-emu` command line: serve, check, routes; import, proxy and diff against a live tenant.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use lowcode_emu::{platforms, Emulator, Scenario};

/// mimalloc instead of the system allocator: requests allocate and free many small objects across
/// threads, which glibc's malloc serves slowly (a fifth of a create's CPU went to `_int_malloc`) and
/// fragments under churn.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// An in-memory, API-compatible emulator of low-code platform REST APIs
/// (Jiandaoyun 简道云, Alibaba Yida 宜搭, Huawei Astro Zero and OMFlow).
///
/// Point your client's base URL at the emulator instead of the platform: same paths, envelopes,
/// error codes and paging. Seed it from a TOML scenario, inspect every request under /__emu/.
#[derive(Parser)]
#[command(name = "lowcode-emu", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a scenario (the embedded demo when --scenario is absent).
    ///
    /// Example: lowcode-emu serve --scenario scenarios/retry-demo.toml --port 9000
    Serve {
        /// Scenario TOML file.
        #[arg(long, env = "LOWCODE_EMU_SCENARIO")]
        scenario: Option<PathBuf>,
        /// Address to bind; keep loopback unless inside a container.
        #[arg(long, env = "LOWCODE_EMU_HOST", default_value = "127.0.0.1")]
        host: String,
        /// Port to bind (0 = any free port).
        #[arg(long, env = "LOWCODE_EMU_PORT", default_value_t = 8080)]
        port: u16,
        /// Load state from FILE at start (when it exists); save it atomically on shutdown (SIGINT,
        /// SIGTERM) and on POST /__emu/state/save.
        #[arg(long, env = "LOWCODE_EMU_STATE_FILE", value_name = "FILE")]
        state_file: Option<PathBuf>,
        /// Let scenarios sent to PUT /__emu/scenario include files and read records_file from DIR
        /// (and below it) only. Without it they can read no file at all.
        #[arg(long, env = "LOWCODE_EMU_SCENARIO_DIR", value_name = "DIR")]
        scenario_dir: Option<PathBuf>,
        /// Require this token on every /__emu/ call but health (header x-emu-admin-token or
        /// Authorization: Bearer). Set it whenever --host is not loopback.
        #[arg(long, env = "LOWCODE_EMU_ADMIN_TOKEN", value_name = "TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
        /// On SIGINT/SIGTERM: save the state file, let in-flight requests finish for at most this many
        /// milliseconds, then save again.
        #[arg(long, env = "LOWCODE_EMU_DRAIN_MS", value_name = "MS", default_value_t = 3000)]
        drain_ms: u64,
        /// With --state-file, also save every SECONDS, so a SIGKILL loses at most that much.
        #[arg(long, env = "LOWCODE_EMU_SAVE_EVERY", value_name = "SECONDS")]
        save_every: Option<f64>,
        /// Most namespaces (x-emu-namespace worlds) at once, the default one included; past it a call
        /// naming a new one gets HTTP 429 until DELETE /__emu/namespaces/<name> or POST /__emu/reset.
        #[arg(long, env = "LOWCODE_EMU_MAX_NAMESPACES", value_name = "N", default_value_t = lowcode_emu::shared::DEFAULT_MAX_NAMESPACES)]
        max_namespaces: usize,
        /// Log format.
        #[arg(long, env = "LOWCODE_EMU_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
        /// Once connections are accepted, write FILE with one JSON object: base_url, admin_url,
        /// dashboard_url, each platform's URL, the pid, the scenario, the version. Written atomically
        /// (a reader never sees half of it) and removed on shutdown. With --port 0 this is how a test
        /// harness learns the port.
        #[arg(long, env = "LOWCODE_EMU_READY_FILE", value_name = "FILE")]
        ready_file: Option<PathBuf>,
        /// Print that JSON object as the only line on stdout, instead of the banner.
        #[arg(long)]
        ready_json: bool,
    },
    /// Validate a scenario file without serving; errors name file, line, key and what was expected.
    Check {
        /// Scenario TOML file.
        file: PathBuf,
    },
    /// Print the JSON Schema of scenario files (for editor validation: taplo, VS Code Even Better TOML).
    ///
    /// Example: lowcode-emu export-schema > scenario.schema.json
    ExportSchema,
    /// Exit 0 when an emulator answers GET /__emu/health (a container HEALTHCHECK needs no curl).
    ///
    /// Example: lowcode-emu health --port 8080
    Health {
        /// Host of the running emulator.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Port of the running emulator.
        #[arg(long, env = "LOWCODE_EMU_PORT", default_value_t = 8080)]
        port: u16,
    },
    /// Print the admin API's OpenAPI 3.1 document (also served at /__emu/openapi.json).
    ///
    /// Example: lowcode-emu openapi > admin-api.openapi.json
    Openapi,
    /// Read a live tenant through its public API and write a scenario that serves the same schema.
    ///
    /// Jiandaoyun: apps, forms, widgets (subforms included); Yida: apps, forms, components (DingTalk
    /// Open API); Astro Zero: custom objects, fields, picklists; OMFlow: the flows named by --api-path,
    /// their fields as its list API shows them. --records N adds a sample of each form's records and
    /// the people they name. Calls are paced (--rate) and retried with back-off on the platform's
    /// rate-limit answers; the file is written whole or not at all, so a rerun is safe.
    ///
    /// Example: lowcode-emu import jiandaoyun --base-url https://api.jiandaoyun.com --api-key $KEY --records 20 -o tenant.toml
    Import {
        /// jiandaoyun, yida, astrozero or omflow.
        platform: String,
        /// The tenant's API base URL (https://api.jiandaoyun.com, https://api.dingtalk.com, your Astro Zero domain, your OMFlow server).
        #[arg(long)]
        base_url: String,
        /// The scenario file to write.
        #[arg(short, long, default_value = "imported.toml")]
        output: PathBuf,
        /// Only these apps (ids or names; Yida app types). Default: every app the credentials see.
        #[arg(long, value_delimiter = ',')]
        apps: Vec<String>,
        /// Sample up to N records of each form or object (0: schema only).
        #[arg(long, default_value_t = 0, value_name = "N")]
        records: usize,
        /// Also import every member and department (Jiandaoyun).
        #[arg(long)]
        directory: bool,
        /// Write the credentials used into the scenario (default: placeholders).
        #[arg(long)]
        include_keys: bool,
        /// Replace people's names and ids, free text and phone numbers with generated values.
        #[arg(long)]
        anonymize: bool,
        /// Requests per second at most.
        #[arg(long, default_value_t = 5.0)]
        rate: f64,
        /// Jiandaoyun: the API key.
        #[arg(long, env = "LOWCODE_EMU_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
        /// Yida: the DingTalk app key (for POST /v1.0/oauth2/accessToken).
        #[arg(long, env = "LOWCODE_EMU_APP_KEY")]
        app_key: Option<String>,
        /// Yida: the DingTalk app secret.
        #[arg(long, env = "LOWCODE_EMU_APP_SECRET", hide_env_values = true)]
        app_secret: Option<String>,
        /// Yida: the apps' system token: one for all, or APP_TYPE=TOKEN (repeat or comma-separate).
        #[arg(long, env = "LOWCODE_EMU_SYSTEM_TOKEN", hide_env_values = true, value_delimiter = ',')]
        system_token: Vec<String>,
        /// Yida: the user id the calls are made as.
        #[arg(long)]
        user_id: Option<String>,
        /// Yida: the corp id (to list the organisation's apps when --apps is not given).
        #[arg(long)]
        corp_id: Option<String>,
        /// Astro Zero: the OAuth client id.
        #[arg(long, env = "LOWCODE_EMU_CLIENT_ID")]
        client_id: Option<String>,
        /// Astro Zero: the OAuth client secret.
        #[arg(long, env = "LOWCODE_EMU_CLIENT_SECRET", hide_env_values = true)]
        client_secret: Option<String>,
        /// OMFlow: the security code.
        #[arg(long, env = "LOWCODE_EMU_SECURITY", hide_env_values = true)]
        security: Option<String>,
        /// OMFlow: the flows to import by their API path (comma-separated; OMFlow's API cannot list them).
        #[arg(long, value_delimiter = ',')]
        api_path: Vec<String>,
    },
    /// Forward one platform's traffic to a real tenant and record every request and answer.
    ///
    /// Point your client at the proxy instead of the tenant: answers come back unchanged; each
    /// exchange is appended to --record as one JSON line, credentials redacted. Replay it with `diff`.
    ///
    /// Example: lowcode-emu proxy --upstream https://api.jiandaoyun.com --port 9100 --record run.jsonl
    Proxy {
        /// The tenant's base URL.
        #[arg(long)]
        upstream: String,
        /// The recording (JSON lines; appended to).
        #[arg(long, default_value = "recording.jsonl")]
        record: PathBuf,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Port to bind (0 = any free port; the first line printed names it).
        #[arg(long, default_value_t = 9100)]
        port: u16,
        /// Largest request or answer body passed through.
        #[arg(long, default_value_t = 32 << 20, value_name = "BYTES")]
        max_body_bytes: usize,
        /// Exchanges recorded at most (later traffic passes unrecorded).
        #[arg(long, default_value_t = 100_000, value_name = "N")]
        max_exchanges: u64,
    },
    /// Replay a recording against the emulator and report where its answers differ in shape.
    ///
    /// Compares status, keys, value types, and the platform's error codes, messages and echoed
    /// paging fields; ids and times differ legitimately and are not compared. Exit status: 0 no
    /// differences, 1 differences, 2 the recording or scenario could not be read.
    ///
    /// Example: lowcode-emu diff run.jsonl --scenario tenant.toml --ignore '$.data[].updateTime'
    Diff {
        /// A recording written by `lowcode-emu proxy`.
        recording: PathBuf,
        /// The scenario to serve (default: the embedded demo).
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Leave out a key path (glob; `ROUTE:PATH` for one route only). Repeatable.
        #[arg(long, value_name = "PATH")]
        ignore: Vec<String>,
        /// Leave out a route (id glob, e.g. `yida.openapi.*`). Repeatable.
        #[arg(long, value_name = "ROUTE")]
        ignore_route: Vec<String>,
        /// table (for people) or json (for CI).
        #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
        format: DiffFormat,
    },
    /// List every emulated route (platform, method, path, route id).
    Routes {
        /// Also list each platform's named errors usable in fault rules.
        #[arg(long)]
        errors: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum DiffFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Prints a banner line; a closed stdout (`serve | head -1`) must not take the server down.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

fn init_logs(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("LOWCODE_EMU_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: logs piped to a file or a CI log stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> ExitCode {
    no_transparent_huge_pages();
    let cli = Cli::parse();
    match cli.command {
        Command::Check { file } => match Scenario::check_file(&file) {
            Ok(s) => {
                say!("ok: {}", summary(&s));
                ExitCode::SUCCESS
            }
            Err(errors) => {
                for e in &errors.0 {
                    eprintln!("error: {e}");
                }
                if errors.0.len() > 1 {
                    eprintln!("{} problems", errors.0.len());
                }
                ExitCode::FAILURE
            }
        },
        Command::Health { host, port } => match probe_health(&host, port) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("unhealthy: {e}");
                ExitCode::FAILURE
            }
        },
        Command::ExportSchema => {
            say!("{}", serde_json::to_string_pretty(&lowcode_emu::scenario::json_schema()).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Command::Openapi => {
            say!("{}", serde_json::to_string_pretty(&lowcode_emu::openapi::document()).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Command::Routes { errors } => {
            for r in platforms::all_routes() {
                say!("{:<12} {:<6} {:<58} {}", r.platform, r.method.as_str(), r.pattern, r.id);
            }
            if errors {
                for p in platforms::PLATFORMS {
                    say!("\n{} errors (fault rules: error = \"<name>\"):", p.name);
                    for e in (p.error_names)() {
                        say!("  {e}");
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Command::Import {
            platform,
            base_url,
            output,
            apps,
            records,
            directory,
            include_keys,
            anonymize,
            rate,
            api_key,
            app_key,
            app_secret,
            system_token,
            user_id,
            corp_id,
            client_id,
            client_secret,
            security,
            api_path,
        } => {
            let Some(def) = platforms::by_name(&platform) else {
                eprintln!("error: unknown platform {platform:?}; expected one of {}", platforms::names().join(", "));
                return ExitCode::from(2);
            };
            let mut credentials = std::collections::BTreeMap::new();
            let given = [
                ("api-key", api_key),
                ("app-key", app_key),
                ("app-secret", app_secret),
                ("system-token", (!system_token.is_empty()).then(|| system_token.join(","))),
                ("user-id", user_id),
                ("corp-id", corp_id),
                ("client-id", client_id),
                ("client-secret", client_secret),
                ("security", security),
                ("api-path", (!api_path.is_empty()).then(|| api_path.join(","))),
            ];
            for (flag, value) in given {
                if let Some(v) = value {
                    credentials.insert(flag.to_owned(), v);
                }
            }
            if !(rate.is_finite() && rate > 0.0) {
                eprintln!("error: --rate expects a positive number of requests per second, got {rate}");
                return ExitCode::from(2);
            }
            let options = lowcode_emu::tools::import::ImportOptions {
                base_url,
                credentials,
                apps,
                records,
                directory,
                include_keys,
                anonymize,
                rate,
                ..Default::default()
            };
            match lowcode_emu::tools::import::run(def, options, &output) {
                Ok(s) => {
                    let counts: Vec<String> = s.counts.iter().map(|(what, n)| format!("{n} {what}")).collect();
                    say!(
                        "imported {platform}: {}, {} people in {} calls ({} retried after rate limits) → {}",
                        counts.join(", "),
                        s.users,
                        s.calls,
                        s.retries,
                        output.display()
                    );
                    for n in &s.notes {
                        say!("  note: {n}");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Proxy { upstream, record, host, port, max_body_bytes, max_exchanges } => {
            init_logs(LogFormat::Text);
            let Some(runtime) = runtime() else { return ExitCode::FAILURE };
            let options = lowcode_emu::tools::proxy::ProxyOptions {
                upstream: upstream.clone(),
                record: record.clone(),
                max_body_bytes,
                max_exchanges,
                ..Default::default()
            };
            runtime.block_on(async move {
                let stop_requested = shutdown_signal();
                let listener = match tokio::net::TcpListener::bind(format!("{host}:{port}")).await {
                    Ok(l) => l,
                    Err(e) => {
                        eprintln!("error: cannot listen on {host}:{port}: {e}");
                        return ExitCode::FAILURE;
                    }
                };
                let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
                say!("lowcode-emu proxy at http://{addr} → {upstream}, recording to {}   (Ctrl-C to stop)", record.display());
                let (stop, rx) = tokio::sync::watch::channel(false);
                let task = tokio::spawn(lowcode_emu::tools::proxy::run(listener, options, rx));
                stop_requested.await;
                let _ = stop.send(true);
                match task.await {
                    Ok(Ok(n)) => {
                        say!("recorded {n} exchanges to {}", record.display());
                        ExitCode::SUCCESS
                    }
                    Ok(Err(e)) => {
                        eprintln!("error: {e}");
                        ExitCode::FAILURE
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        ExitCode::FAILURE
                    }
                }
            })
        }
        Command::Diff { recording, scenario, ignore, ignore_route, format } => {
            let exchanges = match lowcode_emu::tools::recording::read(&recording) {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let scenario = match scenario {
                Some(path) => match Scenario::from_file(&path) {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(2);
                    }
                },
                None => Scenario::demo(),
            };
            let Some(runtime) = runtime() else { return ExitCode::from(2) };
            let options = lowcode_emu::tools::diff::DiffOptions { ignore, ignore_routes: ignore_route };
            match runtime.block_on(lowcode_emu::tools::diff::run(scenario, &exchanges, &options)) {
                Ok(report) => {
                    match format {
                        DiffFormat::Table => say!("{}", report.table().trim_end()),
                        DiffFormat::Json => say!("{}", serde_json::to_string_pretty(&report.json()).unwrap_or_default()),
                    }
                    if report.differing == 0 {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(e) => {
                    eprintln!("error: cannot start the emulator: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Serve {
            scenario,
            host,
            port,
            state_file,
            scenario_dir,
            admin_token,
            drain_ms,
            save_every,
            max_namespaces,
            log_format,
            ready_file,
            ready_json,
        } => {
            init_logs(log_format);
            let scenario = match scenario {
                Some(path) => match Scenario::from_file(&path) {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::FAILURE;
                    }
                },
                None => Scenario::demo(),
            };
            let Some(runtime) = runtime() else { return ExitCode::FAILURE };
            let save_every = match save_every {
                Some(s) if !(s.is_finite() && s > 0.0) => {
                    eprintln!("error: --save-every expects a positive number of seconds, got {s}");
                    return ExitCode::FAILURE;
                }
                s => s.map(Duration::from_secs_f64),
            };
            let options = lowcode_emu::Options {
                addr: format!("{host}:{port}"),
                state_file,
                scenario_dir,
                admin_token,
                drain: Duration::from_millis(drain_ms),
                save_every,
                max_namespaces,
            };
            runtime.block_on(serve(scenario, &host, options, Ready { file: ready_file, json: ready_json }))
        }
    }
}

/// Transparent huge pages off for this process (Linux), unless `MIMALLOC_ALLOW_THP` says otherwise.
/// mimalloc asks for huge pages, and the kernel zeroes a huge page whole on its first touch: as the
/// store grows, every 2 MiB of new records stalled the request that touched them for 5–10 ms, which
/// was the whole p99 of every write route (creates: p99 10 ms → 3 ms with 4 KiB pages, whose faults
/// spread the same zeroing thinly). The flag is checked at fault time, so arenas mimalloc mapped
/// before `main` are covered too.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: PR_SET_THP_DISABLE takes integers only and touches no memory of ours; a failure
        // (an old kernel) leaves huge pages on, which is only slower.
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
}

/// The runtime `serve`, `proxy` and `diff` run on; `None` (said on stderr) when the process cannot
/// have one. Multi-threaded, unless the process may use one CPU only (a one-core container, a server
/// pinned with `taskset`): there a single worker would only add the cost of handing every task
/// through the multi-threaded scheduler's queues, and the current-thread scheduler runs the same tasks
/// with less of it.
fn runtime() -> Option<tokio::runtime::Runtime> {
    let one_cpu = std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
    let mut builder = if one_cpu { tokio::runtime::Builder::new_current_thread() } else { tokio::runtime::Builder::new_multi_thread() };
    match builder.enable_all().build() {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            None
        }
    }
}

fn summary(s: &Scenario) -> String {
    let mut parts = vec![format!("scenario {:?}", s.name), format!("{} users", s.doc.users.len())];
    parts.extend(platforms::PLATFORMS.iter().filter_map(|p| (p.summary)(s)));
    parts.join(", ")
}

/// The admin API needs a token when others can reach it: any host that is not a loopback address.
fn exposed_without_token(host: &str, token: Option<&str>) -> bool {
    let loopback = host == "localhost" || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    !loopback && token.is_none_or(str::is_empty)
}

/// How `serve` tells a harness it is ready: a file, a JSON line, or (neither) the human banner only.
struct Ready {
    file: Option<PathBuf>,
    json: bool,
}

/// What a harness needs once the server accepts connections.
fn ready_info(emu: &Emulator, platforms: &[&'static str], scenario: &str) -> serde_json::Value {
    let base = emu.base_url();
    let urls: serde_json::Map<String, serde_json::Value> =
        platforms.iter().map(|p| ((*p).to_owned(), serde_json::json!(emu.platform_url(p)))).collect();
    serde_json::json!({
        "base_url": base,
        "admin_url": format!("{base}/__emu"),
        "dashboard_url": format!("{base}/__emu/ui"),
        "port": emu.addr().port(),
        "platforms": urls,
        "pid": std::process::id(),
        "scenario": scenario,
        "version": env!("CARGO_PKG_VERSION"),
    })
}

/// Writes `info` to `path` atomically: a temporary file beside it, then a rename.
fn write_ready_file(path: &std::path::Path, info: &serde_json::Value) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, format!("{info}\n"))?;
    std::fs::rename(&tmp, path)
}

async fn serve(scenario: Scenario, host: &str, options: lowcode_emu::Options, ready: Ready) -> ExitCode {
    let stop_requested = shutdown_signal();
    let banner_info = banner(&scenario);
    let name = scenario.name.clone();
    let state_file = options.state_file.clone();
    let addr = options.addr.clone();
    let exposed = exposed_without_token(host, options.admin_token.as_deref());
    let platforms: Vec<&'static str> = scenario.platforms();
    let emu = match Emulator::start_with(scenario, options).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot start on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let base = emu.base_url();
    let info = ready_info(&emu, &platforms, &name);
    if let Some(path) = &ready.file {
        if let Err(e) = write_ready_file(path, &info) {
            eprintln!("error: cannot write the ready file {}: {e}", path.display());
            let _ = emu.stop().await;
            return ExitCode::FAILURE;
        }
    }
    if ready.json {
        say!("{info}");
    } else {
        human_banner(&emu, &name, &banner_info, &platforms, state_file.as_deref(), host, exposed);
    }
    tracing::info!(base = %base, scenario = %name, "ready");
    stop_requested.await;
    tracing::info!("shutting down: draining in-flight requests");
    if let Some(path) = &ready.file {
        let _ = std::fs::remove_file(path);
    }
    match emu.stop().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The banner a person reads: URLs, credentials and a request to paste per platform, the dashboard.
fn human_banner(
    emu: &Emulator,
    name: &str,
    banner_info: &str,
    platforms: &[&'static str],
    state_file: Option<&std::path::Path>,
    host: &str,
    exposed: bool,
) {
    let base = emu.base_url();
    say!("lowcode-emu {} serving scenario {name:?} at {base}", env!("CARGO_PKG_VERSION"));
    say!("{}", banner_info.replace("{BASE}", &base));
    for p in platforms {
        let url = emu.platform_url(p);
        if url != base {
            say!("{p}: also on its own port: {url}");
        }
    }
    if let Some(f) = state_file {
        say!("state file: {} (saved on shutdown and POST /__emu/state/save)", f.display());
    }
    say!("dashboard: {base}/__emu/ui");
    say!("admin: {base}/__emu/health · {base}/__emu/requests · {base}/__emu/routes   (Ctrl-C to stop)");
    if exposed {
        say!("warning: listening on {host} with no --admin-token: anyone who can reach this port can reset, read and replace all data");
        tracing::warn!(host = %host, "admin API exposed without a token (set --admin-token or LOWCODE_EMU_ADMIN_TOKEN)");
    }
}

/// Each platform's credentials and a request to paste; `{BASE}` stands for the base URL.
fn banner(s: &Scenario) -> String {
    platforms::PLATFORMS.iter().flat_map(|p| (p.banner)(&s.doc.platforms)).collect::<Vec<_>>().join("\n")
}

/// One bounded HTTP/1.1 GET of `/__emu/health`; healthy means status 200.
fn probe_health(host: &str, port: u16) -> Result<(), String> {
    use std::io::{Read, Write};
    use std::net::{TcpStream, ToSocketAddrs};
    use std::time::Duration;
    let addr = (host, port).to_socket_addrs().map_err(|e| e.to_string())?.next().ok_or("no address")?;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| format!("{addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(2))).map_err(|e| e.to_string())?;
    s.write_all(format!("GET /__emu/health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).map_err(|e| e.to_string())?;
    if head.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(format!("answered {:?}", String::from_utf8_lossy(&head)))
    }
}

/// Registers SIGTERM/SIGINT handlers now and returns the wait. Registering before the banner is
/// printed matters: a supervisor (or a test) that signals as soon as it reads the banner must get a
/// graceful drain, not the default action of the signal.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, Signal, SignalKind};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            async fn wait(s: Option<Signal>) {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! { _ = wait(term) => {}, _ = wait(int) => {} }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_loopback_hosts_may_go_without_an_admin_token() {
        for host in ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"] {
            assert!(!super::exposed_without_token(host, None), "{host}");
        }
        for host in ["0.0.0.0", "::", "192.0.2.10", "example.test"] {
            assert!(super::exposed_without_token(host, None), "{host}");
            assert!(super::exposed_without_token(host, Some("")), "{host}");
            assert!(!super::exposed_without_token(host, Some("t")), "{host}");
        }
    }
}
