//! The container image, built without a container engine (scripts/image: a static release
//! binary packed by ocipack): OCI layout, entrypoint, non-root user, no shell, a static binary,
//! its size (written for the README), and, where the test may chroot, the image's file system
//! running the operator against the test API server.

use std::path::{Path, PathBuf};
use std::process::Command;

use kube::api::Api;
use rampart::api::ProviderConfig;
use rampart::testenv::build::cache_dir;
use rampart::testenv::free_port;
use serde_json::Value;

use crate::harness::{
    ENTRYPOINT_ARGS, Operator, create_namespace, env, has_condition, shared_scope, suffix, text,
    tools, wait_for,
};

const REPO: &str = env!("CARGO_MANIFEST_DIR");
/// A registry would report more than this only if something unexpected got in.
const MAX_IMAGE_BYTES: u64 = 40 * 1024 * 1024;

fn build_image(out: &Path) {
    let mut cmd = Command::new(format!("{REPO}/scripts/image"));
    // Without the variables cargo sets for a test process: a nested cargo seeing them
    // fingerprints the build differently and rebuilds what scripts/test just built.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let ours = key == "CARGO_HOME" || key == "CARGO_TARGET_DIR";
        if (key.starts_with("CARGO") && !ours) || key == "LD_LIBRARY_PATH" {
            cmd.env_remove(&*key);
        }
    }
    let result = cmd
        .arg(out)
        .env("OCIPACK", tools().ocipack())
        .output()
        .expect("scripts/image runs");
    assert!(result.status.success(), "scripts/image: {}", text(&result));
}

fn blob(layout: &Path, digest: &str) -> PathBuf {
    let (algo, hex) = digest.split_once(':').expect("digest");
    layout.join("blobs").join(algo).join(hex)
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("blob")).expect("JSON blob")
}

fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().expect("command runs");
    assert!(out.status.success(), "{cmd:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// True when the ELF file has no program interpreter (nothing to load: statically linked).
fn is_static_elf(path: &Path) -> bool {
    let b = std::fs::read(path).expect("binary");
    assert_eq!(&b[..4], b"\x7fELF", "an ELF file");
    assert_eq!(b[4], 2, "64-bit");
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(b[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    const PT_INTERP: u32 = 3;
    (0..phnum).all(|i| {
        let o = phoff + i * phentsize;
        u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) != PT_INTERP
    })
}

#[tokio::test]
async fn image_is_static_non_root_without_a_shell() {
    let dir = cache_dir().join("image");
    std::fs::create_dir_all(&dir).unwrap();
    let tar = dir.join("rampart-oci.tar");
    build_image(&tar);

    let layout = tempfile::tempdir().unwrap();
    sh(Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(layout.path()));
    let layout = layout.path();
    assert_eq!(
        json(&layout.join("oci-layout"))["imageLayoutVersion"],
        "1.0.0"
    );
    let index = json(&layout.join("index.json"));
    let desc = &index["manifests"][0];
    assert_eq!(
        desc["annotations"]["org.opencontainers.image.ref.name"],
        env!("CARGO_PKG_VERSION")
    );
    let manifest = json(&blob(layout, desc["digest"].as_str().unwrap()));
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "one layer, from scratch");
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    let config = json(&blob(
        layout,
        manifest["config"]["digest"].as_str().unwrap(),
    ));
    let mut entrypoint = vec!["/rampart"];
    entrypoint.extend_from_slice(ENTRYPOINT_ARGS);
    assert_eq!(
        config["config"]["Entrypoint"],
        serde_json::json!(entrypoint)
    );
    assert!(config["config"]["Cmd"].is_null());
    assert_eq!(config["config"]["User"], "65532:65532");
    assert_eq!(
        (config["os"].as_str(), config["architecture"].as_str()),
        (Some("linux"), Some("amd64"))
    );

    let layer = blob(layout, layers[0]["digest"].as_str().unwrap());
    let listing = sh(Command::new("tar").arg("-tvzf").arg(&layer));
    let names: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    for expected in [
        "rampart",
        "etc/passwd",
        "etc/group",
        "etc/ssl/certs/ca-certificates.crt",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} in the layer:\n{listing}"
        );
    }
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("bin/") || n.ends_with("/sh") || n.starts_with("usr/bin")),
        "no shell or tools:\n{listing}"
    );
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("-rwxr-xr-x") && l.ends_with(" rampart"))
    );

    let rootfs = tempfile::tempdir().unwrap();
    sh(Command::new("tar")
        .arg("-xzf")
        .arg(&layer)
        .arg("-C")
        .arg(rootfs.path()));
    assert!(
        is_static_elf(&rootfs.path().join("rampart")),
        "statically linked"
    );

    let size: u64 = layers
        .iter()
        .map(|l| l["size"].as_u64().unwrap())
        .sum::<u64>()
        + manifest["config"]["size"].as_u64().unwrap()
        + desc["size"].as_u64().unwrap();
    let binary = std::fs::metadata(rootfs.path().join("rampart"))
        .unwrap()
        .len();
    let report = format!(
        "image (compressed, as a registry stores it): {:.1} MiB\nbinary (static, uncompressed): {:.1} MiB\n",
        size as f64 / 1048576.0,
        binary as f64 / 1048576.0
    );
    std::fs::write(dir.join("size.txt"), &report).unwrap();
    eprintln!("{report}(written to {})", dir.join("size.txt").display());
    assert!(size < MAX_IMAGE_BYTES, "{report}");

    if is_root() {
        runs_in_its_own_file_system(rootfs.path()).await;
    } else {
        eprintln!("not root: skipping the chroot run of the image's file system");
    }
}

fn which(program: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{program} not on PATH"))
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
}

/// The image's files alone (plus /etc/hosts, /dev and a kubeconfig, as a container runtime
/// provides them), as user 65532: the operator starts, resolves `localhost`, talks TLS to the API server and
/// reconciles.
async fn runs_in_its_own_file_system(rootfs: &Path) {
    let _scope = shared_scope().await;
    let env = env();
    // Resolved here: the operator's own environment is cleared, PATH included.
    let chroot_bin = which("chroot");
    let chroot = |args: &[&str]| {
        let mut c = Command::new(&chroot_bin);
        c.arg("--userspec=65532:65532")
            .arg(rootfs)
            .arg("/rampart")
            .args(args);
        c
    };
    assert!(sh(&mut chroot(&["--version"])).contains(env!("CARGO_PKG_VERSION")));

    use base64::Engine;
    let ca = std::fs::read(env.server.data_dir.join("ca.crt")).unwrap();
    let token = std::fs::read_to_string(env.server.data_dir.join("token")).unwrap();
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster: {{server: 'https://localhost:{}', certificate-authority-data: {}}}\nusers:\n- name: admin\n  user: {{token: {}}}\ncontexts:\n- name: t\n  context: {{cluster: t, user: admin}}\ncurrent-context: t\n",
        env.server.port,
        base64::engine::general_purpose::STANDARD.encode(ca),
        token.trim()
    );
    std::fs::write(rootfs.join("etc/hosts"), "127.0.0.1 localhost\n").unwrap();
    // The device nodes every container runtime provides (the static binary's random numbers
    // come from /dev/urandom).
    std::fs::create_dir_all(rootfs.join("dev")).unwrap();
    for (name, minor) in [("null", "3"), ("random", "8"), ("urandom", "9")] {
        let node = rootfs.join("dev").join(name);
        sh(Command::new("mknod")
            .args(["-m", "666"])
            .arg(&node)
            .args(["c", "1", minor]));
    }
    std::fs::write(rootfs.join("kubeconfig"), kubeconfig).unwrap();

    let ns = create_namespace("image");
    let port = free_port();
    let mut cmd = chroot(&[]);
    cmd.env_clear()
        .env("KUBECONFIG", "/kubeconfig")
        .env("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt");
    cmd.args(ENTRYPOINT_ARGS)
        .arg(format!("--metrics-addr=127.0.0.1:{port}"))
        .arg(format!("--namespace={ns}"));
    let log = env
        .server
        .data_dir
        .join(format!("operator-image-{}.log", suffix()));
    let operator = Operator::spawn_command(cmd, port, log).await;
    env.apply(&ns, &crate::rbac::unreachable_cbr(free_port()));
    let pcs: Api<ProviderConfig> = Api::namespaced(env.client().await, &ns);
    let log = || format!("operator log:\n{}", operator.log());
    wait_for(&pcs, "cbr", has_condition("Ready", "False"), &log).await;
}
