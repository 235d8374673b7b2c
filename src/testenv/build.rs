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
    let candidates = [
        std::env::var_os("RAMPART_SOURCE_DIR").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
        std::env::current_dir().ok(),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|root| root.join("tools").join("kube-testenv"))
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
/// not been built on this machine. Concurrent callers (parallel test binaries) wait on a file
/// lock instead of building twice.
pub fn ensure_binary() -> Result<PathBuf, BuildError> {
    let src = source_dir()?;
    let out_dir = cache_dir().join("kube-testenv").join(sources_hash(&src)?);
    let binary = out_dir.join("kube-testenv");
    if binary.is_file() {
        return Ok(binary);
    }
    fs::create_dir_all(&out_dir).map_err(|e| BuildError::Io(out_dir.display().to_string(), e))?;
    let lock_path = out_dir.join(".lock");
    let lock =
        File::create(&lock_path).map_err(|e| BuildError::Io(lock_path.display().to_string(), e))?;
    lock.lock()
        .map_err(|e| BuildError::Io(lock_path.display().to_string(), e))?;
    if binary.is_file() {
        return Ok(binary);
    }
    let log_path = out_dir.join("build.log");
    let log =
        File::create(&log_path).map_err(|e| BuildError::Io(log_path.display().to_string(), e))?;
    let ldflags = format!(
        "-s -w -X k8s.io/component-base/version.gitVersion={v} -X k8s.io/component-base/version.gitMajor=1 \
         -X k8s.io/component-base/version.gitMinor=36 -X k8s.io/client-go/pkg/version.gitVersion={v}",
        v = KUBERNETES_VERSION
    );
    let tmp = out_dir.join("kube-testenv.tmp");
    eprintln!(
        "building kube-testenv ({KUBERNETES_VERSION}) into {}; log: {}",
        out_dir.display(),
        log_path.display()
    );
    let status = Command::new("go")
        .args(["build", "-trimpath", "-ldflags", &ldflags, "-o"])
        .arg(&tmp)
        .arg(".")
        .current_dir(&src)
        .env("CGO_ENABLED", "0")
        .stdout(
            log.try_clone()
                .map_err(|e| BuildError::Io(log_path.display().to_string(), e))?,
        )
        .stderr(log)
        .status()
        .map_err(|e| BuildError::Io("go build".into(), e))?;
    if !status.success() {
        return Err(BuildError::Go {
            status: status.to_string(),
            log: log_path.display().to_string(),
        });
    }
    fs::rename(&tmp, &binary).map_err(|e| BuildError::Io(binary.display().to_string(), e))?;
    let kubectl = out_dir.join("kubectl");
    let _ = fs::remove_file(&kubectl);
    std::os::unix::fs::symlink(&binary, &kubectl)
        .map_err(|e| BuildError::Io(kubectl.display().to_string(), e))?;
    Ok(binary)
}

/// The kubectl symlink next to the binary.
pub fn kubectl_path() -> Result<PathBuf, BuildError> {
    Ok(ensure_binary()?.with_file_name("kubectl"))
}
