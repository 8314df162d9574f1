//! `package`: stages a runnable function app. The Functions host only discovers function
//! folders directly under its script root, so the repository's `functions/<name>/` folders
//! are laid out next to `host.json` and the binary in `DIR/functionapp/`.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What to stage.
#[derive(Debug, Clone)]
pub struct PackageOptions {
    /// Output directory (`dist`).
    pub out: PathBuf,
    /// Also write `DIR/functionapp.zip`.
    pub zip: bool,
    /// Stage this binary instead of building the release binary.
    pub binary: Option<PathBuf>,
    /// Cargo target triple to build for (e.g. `x86_64-unknown-linux-musl`).
    pub target: Option<String>,
    /// The repository root (holds `host.json` and `functions/`).
    pub root: PathBuf,
}

/// Why packaging failed.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Not run from the repository.
    #[error("{0} has no host.json and functions/ folder: run `anaplan-functions package` from the repository root")]
    NotARepository(String),
    /// host.json is unusable.
    #[error("host.json: {0}")]
    HostJson(String),
    /// `cargo build` failed.
    #[error("cargo build --release failed ({0})")]
    Build(String),
    /// File system trouble.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: String,
        /// What.
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> PackageError + '_ {
    move |source| PackageError::Io { path: path.display().to_string(), source }
}

/// What was staged.
#[derive(Debug)]
pub struct Staged {
    /// `DIR/functionapp`.
    pub app: PathBuf,
    /// `DIR/functionapp.zip`, when asked for.
    pub zip: Option<PathBuf>,
    /// The function folders staged.
    pub functions: Vec<String>,
}

/// Stages the app.
pub fn package(opts: &PackageOptions) -> Result<Staged, PackageError> {
    let root = &opts.root;
    let host_json = root.join("host.json");
    let functions_dir = root.join("functions");
    if !host_json.is_file() || !functions_dir.is_dir() {
        return Err(PackageError::NotARepository(root.display().to_string()));
    }
    let host: serde_json::Value = serde_json::from_slice(&fs::read(&host_json).map_err(io_err(&host_json))?)
        .map_err(|e| PackageError::HostJson(e.to_string()))?;
    let exe_name = host
        .pointer("/customHandler/description/defaultExecutablePath")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty() && !s.contains('/') && !s.contains('\\'))
        .ok_or_else(|| {
            PackageError::HostJson("customHandler.description.defaultExecutablePath must name the binary".into())
        })?
        .to_owned();

    let binary = match &opts.binary {
        Some(b) => b.clone(),
        None => build_release(root, opts.target.as_deref())?,
    };

    let app = opts.out.join("functionapp");
    if app.exists() {
        fs::remove_dir_all(&app).map_err(io_err(&app))?;
    }
    fs::create_dir_all(&app).map_err(io_err(&app))?;
    copy(&host_json, &app.join("host.json"))?;

    let mut functions = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(&functions_dir)
        .map_err(io_err(&functions_dir))?
        .filter_map(Result::ok)
        .filter(|e| e.path().join("function.json").is_file())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let dir = app.join(&name);
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        copy(&entry.path().join("function.json"), &dir.join("function.json"))?;
        functions.push(name);
    }

    let staged_binary = app.join(&exe_name);
    copy(&binary, &staged_binary)?;
    set_executable(&staged_binary)?;

    // For `func start` on the staged folder only: Core Tools reads local.settings.json from
    // the script root. It never goes into the zip (it is not for Azure).
    let local = root.join("local.settings.json");
    if local.is_file() {
        copy(&local, &app.join("local.settings.json"))?;
    }

    let zip = if opts.zip {
        let path = opts.out.join("functionapp.zip");
        write_zip(&app, &path, &exe_name, &functions)?;
        Some(path)
    } else {
        None
    };
    Ok(Staged { app, zip, functions })
}

fn build_release(root: &Path, target: Option<&str>) -> Result<PathBuf, PackageError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    // The deployed binary leaves the Anaplan emulator out (the default `emulator` feature,
    // which only `demo` and `emulator` need): smaller, and no fault-injection controls in
    // production. Both builds share the target directory's dependencies.
    cmd.current_dir(root).args([
        "build",
        "--release",
        "--locked",
        "--no-default-features",
        "--bin",
        env!("CARGO_PKG_NAME"),
    ]);
    if let Some(t) = target {
        cmd.args(["--target", t]);
    }
    // Under `cargo run -- package`, cargo hands this process the variables that describe
    // the running crate (CARGO_MANIFEST_DIR, CARGO_PKG_*...). Inherited by the nested build,
    // they reach build scripts that watch them (ring does), so the outer and the inner
    // build kept invalidating each other and rebuilt the dependency tree each run. The
    // user's own cargo configuration (CARGO_HOME, CARGO_TARGET_DIR, CARGO_PROFILE_*...) stays.
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_by_cargo_for_the_crate) {
            cmd.env_remove(&name);
        }
    }
    let status = cmd.status().map_err(|e| PackageError::Build(e.to_string()))?;
    if !status.success() {
        return Err(PackageError::Build(status.to_string()));
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let mut path = target_dir;
    if let Some(t) = target {
        path.push(t);
    }
    Ok(path.join("release").join(env!("CARGO_PKG_NAME")))
}

/// Variables cargo sets for a crate it builds or runs, as opposed to configuration.
fn set_by_cargo_for_the_crate(name: &str) -> bool {
    const EXACT: [&str; 7] = [
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_RUSTC_CURRENT_DIR",
    ];
    const PREFIXES: [&str; 4] = ["CARGO_PKG_", "CARGO_BIN_EXE_", "CARGO_CFG_", "CARGO_FEATURE_"];
    EXACT.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

fn copy(from: &Path, to: &Path) -> Result<(), PackageError> {
    fs::copy(from, to).map(|_| ()).map_err(io_err(from))
}

fn set_executable(path: &Path) -> Result<(), PackageError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).map_err(io_err(path))?;
    }
    let _ = path;
    Ok(())
}

fn write_zip(app: &Path, zip_path: &Path, exe_name: &str, functions: &[String]) -> Result<(), PackageError> {
    use zip::write::SimpleFileOptions;
    let file = fs::File::create(zip_path).map_err(io_err(zip_path))?;
    let mut zip = zip::ZipWriter::new(file);
    let plain =
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).unix_permissions(0o644);
    let exec = plain.unix_permissions(0o755);
    let mut entries: Vec<(String, SimpleFileOptions)> = vec![("host.json".into(), plain), (exe_name.to_owned(), exec)];
    entries.extend(functions.iter().map(|f| (format!("{f}/function.json"), plain)));
    for (name, options) in entries {
        let source = app.join(&name);
        let bytes = fs::read(&source).map_err(io_err(&source))?;
        let zip_err = |e: zip::result::ZipError| PackageError::Io {
            path: zip_path.display().to_string(),
            source: io::Error::other(e),
        };
        zip.start_file(name.as_str(), options).map_err(zip_err)?;
        zip.write_all(&bytes).map_err(io_err(zip_path))?;
    }
    zip.finish().map_err(|e| PackageError::Io { path: zip_path.display().to_string(), source: io::Error::other(e) })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nested_build_drops_what_cargo_set_for_this_crate_and_keeps_configuration() {
        for name in ["CARGO_MANIFEST_DIR", "CARGO_PKG_VERSION", "CARGO_PKG_NAME", "CARGO_CRATE_NAME", "CARGO_BIN_NAME"]
        {
            assert!(set_by_cargo_for_the_crate(name), "{name} is removed");
        }
        for name in ["CARGO", "CARGO_HOME", "CARGO_TARGET_DIR", "CARGO_PROFILE_RELEASE_LTO", "CARGO_BUILD_JOBS", "PATH"]
        {
            assert!(!set_by_cargo_for_the_crate(name), "{name} is kept");
        }
    }

    #[test]
    fn stages_host_json_functions_and_an_executable_binary_and_zips_them() {
        let out = tempfile::tempdir().unwrap();
        let fake_binary = out.path().join("built");
        fs::write(&fake_binary, b"\x7fELF not really").unwrap();
        let staged = package(&PackageOptions {
            out: out.path().join("dist"),
            zip: true,
            binary: Some(fake_binary),
            target: None,
            root: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        })
        .unwrap();
        assert!(staged.app.join("host.json").is_file());
        for f in crate::functions::FUNCTIONS.iter().map(|f| f.name) {
            assert!(staged.app.join(f).join("function.json").is_file(), "{f}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(staged.app.join("anaplan-functions")).unwrap().permissions().mode();
            assert_eq!(mode & 0o111, 0o111);
        }
        let zip_path = staged.zip.unwrap();
        let mut archive = zip::ZipArchive::new(fs::File::open(zip_path).unwrap()).unwrap();
        let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
        assert!(names.contains(&"host.json".to_owned()));
        assert!(names.contains(&"get-view-data/function.json".to_owned()));
        assert!(!names.iter().any(|n| n.contains("local.settings")), "{names:?}");
        let exe = archive.by_name("anaplan-functions").unwrap();
        assert_eq!(exe.unix_mode().unwrap() & 0o755, 0o755);
    }

    #[test]
    fn refuses_to_run_outside_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        let e = package(&PackageOptions {
            out: dir.path().join("dist"),
            zip: false,
            binary: Some(dir.path().join("x")),
            target: None,
            root: dir.path().to_owned(),
        })
        .unwrap_err();
        assert!(e.to_string().contains("repository root"), "{e}");
    }
}
