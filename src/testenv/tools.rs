//! The deployment tools of the install tests, from the Go module tools/deploy-tools: helm
//! (v3, built from its Go module), health-check (kstatus and Argo CD's health Lua) and ocipack
//! (the container image without a container engine). Built once per version of the module's
//! sources into `$RAMPART_CACHE/deploy-tools/<hash>/`, like kube-testenv.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::build::{BuildError, build_once, cache_dir, go_build, tool_dir};

/// The helm release the module builds (its go.mod pins it).
pub const HELM_VERSION: &str = "v3.22.0";

/// What helm assumes about a cluster it does not talk to (`helm template`, `helm lint`):
/// the Kubernetes minor of its client-go, as helm's own Makefile stamps it.
const HELM_KUBE_MINOR: &str = "37";

const BINARIES: [&str; 3] = ["helm", "health-check", "ocipack"];

/// The built tools.
#[derive(Clone, Debug)]
pub struct DeployTools {
    dir: PathBuf,
}

impl DeployTools {
    pub fn helm(&self) -> PathBuf {
        self.dir.join("helm")
    }
    pub fn health_check(&self) -> PathBuf {
        self.dir.join("health-check")
    }
    pub fn ocipack(&self) -> PathBuf {
        self.dir.join("ocipack")
    }
}

fn ldflags() -> String {
    let mut flags = format!("-s -w -X helm.sh/helm/v3/internal/version.version={HELM_VERSION}");
    for pkg in ["pkg/chartutil", "pkg/lint/rules"] {
        flags.push_str(&format!(
            " -X helm.sh/helm/v3/{pkg}.k8sVersionMajor=1 -X helm.sh/helm/v3/{pkg}.k8sVersionMinor={HELM_KUBE_MINOR}"
        ));
    }
    flags
}

/// Hash of go.mod, go.sum, every .go file (by relative path) and the link flags.
fn sources_hash(dir: &Path) -> Result<String, BuildError> {
    let mut files = Vec::new();
    collect_sources(dir, dir, &mut files)?;
    files.sort();
    let mut h = Sha256::new();
    for rel in files {
        let path = dir.join(&rel);
        let bytes = fs::read(&path).map_err(|e| BuildError::Io(path.display().to_string(), e))?;
        h.update(rel.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    h.update(ldflags().as_bytes());
    Ok(hex::encode(&h.finalize()[..8]))
}

fn collect_sources(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), BuildError> {
    let entries = fs::read_dir(dir).map_err(|e| BuildError::Io(dir.display().to_string(), e))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_sources(root, &path, out)?;
        } else if let Some(name) = path.file_name().and_then(|n| n.to_str())
            && (name.ends_with(".go") || name == "go.mod" || name == "go.sum")
        {
            let rel = path.strip_prefix(root).expect("under root");
            out.push(rel.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

/// The tools, building them first when this version of the module has not been built here.
pub fn deploy_tools() -> Result<DeployTools, BuildError> {
    let src = tool_dir("deploy-tools")?;
    let dir = cache_dir().join("deploy-tools").join(sources_hash(&src)?);
    let done = dir.join(".complete");
    build_once(
        &dir,
        &done,
        &format!("helm {HELM_VERSION}, health-check, ocipack"),
        |log| {
            let staging = dir.join("staging");
            let _ = fs::remove_dir_all(&staging);
            fs::create_dir_all(&staging)
                .map_err(|e| BuildError::Io(staging.display().to_string(), e))?;
            // `-o DIR/` with several packages writes one binary per package into DIR.
            let mut out = staging.clone().into_os_string();
            out.push("/");
            go_build(
                &src,
                &ldflags(),
                &["helm.sh/helm/v3/cmd/helm", "./health-check", "./ocipack"],
                Path::new(&out),
                log,
            )?;
            for name in BINARIES {
                let (from, to) = (staging.join(name), dir.join(name));
                fs::rename(&from, &to).map_err(|e| BuildError::Io(to.display().to_string(), e))?;
            }
            let _ = fs::remove_dir(&staging);
            fs::write(&done, HELM_VERSION)
                .map_err(|e| BuildError::Io(done.display().to_string(), e))
        },
    )?;
    Ok(DeployTools { dir })
}
