//! Builds the kube-testenv binary (kube-apiserver + embedded etcd + kubectl, from the Go module
//! in tools/kube-testenv) once per version of its sources, into a stable cache directory, so a
//! warm machine starts tests in seconds and a cold one builds it once.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// Kubernetes version the module builds; stamped into `/version`.
pub const KUBERNETES_VERSION: &str = "v1.36.3";

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot find tools/kube-testenv (set RAMPART_SOURCE_DIR to the repository root)")]
    NoSources,
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("go build of kube-testenv failed (exit {status}); see {log}")]
    Go { status: String, log: String },
}

/// Root of rampart's caches: `$RAMPART_CACHE`, else `$HOME/.cache/rampart`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("RAMPART_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("rampart")
}

/// The repository's tools/kube-testenv directory.
pub fn source_dir() -> Result<PathBuf, BuildError> {
    tool_dir("kube-testenv")
}

/// The repository's `tools/<name>` directory (a Go module).
pub fn tool_dir(name: &str) -> Result<PathBuf, BuildError> {
    let candidates = [
        std::env::var_os("RAMPART_SOURCE_DIR").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
        std::env::current_dir().ok(),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|root| root.join("tools").join(name))
        .find(|d| d.join("go.mod").is_file())
        .ok_or(BuildError::NoSources)
}

fn sources_hash(dir: &Path) -> Result<String, BuildError> {
    let mut h = Sha256::new();
    for name in ["go.mod", "go.sum", "main.go"] {
        let path = dir.join(name);
        let bytes = fs::read(&path).map_err(|e| BuildError::Io(path.display().to_string(), e))?;
        h.update(name.as_bytes());
        h.update(&bytes);
    }
    Ok(hex::encode(&h.finalize()[..8]))
}

/// Path of the kube-testenv binary, building it first when this version of the sources has
/// not been built on this machine.
pub fn ensure_binary() -> Result<PathBuf, BuildError> {
    let src = source_dir()?;
    let out_dir = cache_dir().join("kube-testenv").join(sources_hash(&src)?);
    let binary = out_dir.join("kube-testenv");
    let ldflags = format!(
        "-s -w -X k8s.io/component-base/version.gitVersion={v} -X k8s.io/component-base/version.gitMajor=1 \
         -X k8s.io/component-base/version.gitMinor=36 -X k8s.io/client-go/pkg/version.gitVersion={v}",
        v = KUBERNETES_VERSION
    );
    let what = format!("kube-testenv ({KUBERNETES_VERSION})");
    build_once(&out_dir, &binary, &what, |log| {
        let tmp = out_dir.join("kube-testenv.tmp");
        go_build(&src, &ldflags, &["."], &tmp, log)?;
        // The symlink first: `binary` existing is the sign that everything is in place.
        let kubectl = out_dir.join("kubectl");
        let _ = fs::remove_file(&kubectl);
        std::os::unix::fs::symlink(&binary, &kubectl)
            .map_err(|e| BuildError::Io(kubectl.display().to_string(), e))?;
        fs::rename(&tmp, &binary).map_err(|e| BuildError::Io(binary.display().to_string(), e))
    })?;
    Ok(binary)
}

/// Run `build` once per `out_dir` on this machine; `done` existing means it ran. Concurrent
/// callers (parallel test binaries) wait on a file lock instead of building twice. `build`
/// gets the path of its log.
pub fn build_once(
    out_dir: &Path,
    done: &Path,
    what: &str,
    build: impl FnOnce(&Path) -> Result<(), BuildError>,
) -> Result<(), BuildError> {
    if done.exists() {
        return Ok(());
    }
    fs::create_dir_all(out_dir).map_err(|e| BuildError::Io(out_dir.display().to_string(), e))?;
    let lock_path = out_dir.join(".lock");
    let lock =
        File::create(&lock_path).map_err(|e| BuildError::Io(lock_path.display().to_string(), e))?;
    lock.lock()
        .map_err(|e| BuildError::Io(lock_path.display().to_string(), e))?;
    if done.exists() {
        return Ok(());
    }
    let log = out_dir.join("build.log");
    eprintln!(
        "building {what} into {}; log: {}",
        out_dir.display(),
        log.display()
    );
    build(&log)
}

/// `go build` of `packages` in the module `src`, without cgo and with reproducible paths,
/// into `output` (a file for one package, a directory for several), logging to `log`.
pub fn go_build(
    src: &Path,
    ldflags: &str,
    packages: &[&str],
    output: &Path,
    log: &Path,
) -> Result<(), BuildError> {
    let io = |e| BuildError::Io(log.display().to_string(), e);
    let file = File::create(log).map_err(io)?;
    let status = Command::new("go")
        .args(["build", "-trimpath", "-ldflags", ldflags, "-o"])
        .arg(output)
        .args(packages)
        .current_dir(src)
        .env("CGO_ENABLED", "0")
        .stdout(file.try_clone().map_err(io)?)
        .stderr(file)
        .status()
        .map_err(|e| BuildError::Io("go build".into(), e))?;
    if !status.success() {
        return Err(BuildError::Go {
            status: status.to_string(),
            log: log.display().to_string(),
        });
    }
    Ok(())
}

/// The kubectl symlink next to the binary.
pub fn kubectl_path() -> Result<PathBuf, BuildError> {
    Ok(ensure_binary()?.with_file_name("kubectl"))
}
