//! `rampart run` as an operator's user meets it: the help documents every flag and its
//! environment variable, and bad flags, an unreachable API server, a missing CRD and missing
//! permissions end the process at once with a message that says what is wrong.

use std::process::{Command, Output, Stdio};

use clap::CommandFactory;
use rampart::operator::RunOptions;
use rampart::testenv::{TestApiServer, free_port};

use crate::harness::{RAMPART, env, impersonating_kubeconfig, text};

/// Run `rampart run <args>` with only KUBECONFIG (if given) in its environment.
fn run(args: &[&str], kubeconfig: Option<&std::path::Path>) -> Output {
    let home = tempfile::tempdir().expect("temp home");
    let mut cmd = Command::new(RAMPART);
    cmd.arg("run")
        .args(args)
        .env_clear()
        // No ~/.kube/config to fall back on.
        .env("HOME", home.path())
        .stdin(Stdio::null());
    if let Some(k) = kubeconfig {
        cmd.env("KUBECONFIG", k);
    }
    cmd.output().expect("rampart runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[derive(clap::Parser)]
struct Run {
    #[command(flatten)]
    opts: RunOptions,
}

#[test]
fn every_run_flag_has_help_and_an_environment_variable() {
    let command = Run::command();
    let help = Command::new(RAMPART)
        .args(["run", "--help"])
        .output()
        .expect("rampart run --help");
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let mut checked = 0;
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if long == "help" {
            continue;
        }
        let env_var = arg
            .get_env()
            .unwrap_or_else(|| panic!("--{long} has no environment variable"))
            .to_string_lossy()
            .into_owned();
        assert!(arg.get_help().is_some(), "--{long} has no help text");
        // A hidden flag is for tests (`--health-clock-offset-seconds`): documented in the code,
        // kept out of the help users read.
        if arg.is_hide_set() {
            assert!(!help.contains(&format!("--{long}")), "--{long} is hidden");
            continue;
        }
        assert!(
            help.contains(&format!("--{long}")),
            "--{long} missing from --help:\n{help}"
        );
        assert!(
            help.contains(&format!("[env: {env_var}=")),
            "{env_var} missing from --help:\n{help}"
        );
        checked += 1;
    }
    assert!(checked >= 6, "{checked} flags");
    // KUBECONFIG is where the connection comes from; the help says so.
    let top = Command::new(RAMPART)
        .arg("--help")
        .output()
        .expect("rampart --help");
    assert!(String::from_utf8_lossy(&top.stdout).contains("KUBECONFIG"));
}

#[test]
fn bad_flags_are_refused_before_anything_starts() {
    for (args, named) in [
        (&["--concurrency=many"][..], "--concurrency"),
        (&["--metrics-addr=nowhere"][..], "--metrics-addr"),
        (&["--log-format=xml"][..], "--log-format"),
        (&["--no-such-flag"][..], "--no-such-flag"),
    ] {
        let out = run(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let err = stderr(&out);
        assert!(err.contains(named), "{args:?} names {named}: {err}");
        assert!(
            err.contains("Usage:") || err.contains("--help"),
            "points at the usage: {err}"
        );
    }
}

#[test]
fn no_kubeconfig_and_no_cluster_is_a_clear_error() {
    let out = run(&["--metrics-addr=127.0.0.1:0"], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stderr(&out).contains("KUBECONFIG"), "{}", text(&out));
}

#[test]
fn an_unreachable_api_server_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster: {{server: 'https://127.0.0.1:{}', insecure-skip-tls-verify: true}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: c\n  context: {{cluster: gone, user: u}}\ncurrent-context: c\n",
            free_port()
        ),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = run(&["--metrics-addr=127.0.0.1:0"], Some(&kubeconfig));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains("cannot reach the Kubernetes API server"),
        "{err}"
    );
    assert!(
        started.elapsed().as_secs() < 30,
        "gives up promptly: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_missing_crd_is_a_clear_error() {
    // A server of its own: this binary's shared server has the CRDs.
    let bare = TestApiServer::start().await.expect("bare API server");
    let out = run(
        &["--metrics-addr=127.0.0.1:0"],
        Some(&bare.kubeconfig_path()),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("CRD is not installed"), "{err}");
    assert!(err.contains(".rampart.dev"), "names the CRD: {err}");
}

#[test]
fn missing_permissions_are_named_at_start_up() {
    env();
    let kubeconfig = impersonating_kubeconfig("system:serviceaccount:default:nobody");
    let out = run(&["--metrics-addr=127.0.0.1:0"], Some(&kubeconfig));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    // The API server's refusal names the user and the resource; an operator can act on it.
    assert!(err.contains("forbidden"), "{err}");
    assert!(
        err.contains("system:serviceaccount:default:nobody"),
        "{err}"
    );
}

/// Test harnesses and `rampart demo` start the operator with `--exit-with-parent`, so that a
/// killed or panicking run leaves no operator behind. Here its parent is a shell that waits
/// for a line on stdin and then exits.
#[tokio::test]
async fn with_exit_with_parent_an_orphaned_operator_stops() {
    use std::io::BufRead;
    let env = env();
    let port = free_port();
    let mut shell = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" run --exit-with-parent $$ --metrics-addr "127.0.0.1:$1" >/dev/null 2>&1 & echo $!; read _"#)
        .arg(RAMPART)
        .arg(port.to_string())
        .env("KUBECONFIG", env.server.kubeconfig_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let mut pid = String::new();
    std::io::BufReader::new(shell.stdout.take().unwrap())
        .read_line(&mut pid)
        .expect("the operator's pid");
    let pid = pid.trim().to_string();
    // Gone, or a zombie its new parent has not reaped yet.
    let alive = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(") ")
                .next()
                .is_some_and(|rest| !rest.starts_with('Z'))
        })
    };
    rampart::vendor::tls::install_crypto_provider();
    let http = reqwest::Client::new();
    let readyz = format!("http://127.0.0.1:{port}/readyz");
    crate::harness::eventually(
        "the operator to serve /readyz while its parent lives",
        || async {
            http.get(&readyz)
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success())
        },
        &|| format!("operator alive: {}", alive()),
    )
    .await;
    drop(shell.stdin.take());
    shell.wait().expect("the shell exits");
    crate::harness::eventually(
        "the orphaned operator to exit",
        || async { (!alive()).then_some(()) },
        &|| format!("pid {pid} still running"),
    )
    .await;
}
