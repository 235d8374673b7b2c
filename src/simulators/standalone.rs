//! `rampart simulate <vendor>`: one vendor simulator served on its own, for people who build
//! tools or pipelines around these vendors and want to try them without the vendor (and for
//! tests that drive a simulator with the vendor's own client, such as tools/cbr-conformance).
//!
//! On start it prints, one `key=value` a line, where it listens and the credentials it accepts,
//! then a line `ready`; it serves until interrupted (SIGINT or SIGTERM). Each vendor is a
//! subcommand with its own flags for the state it starts with; a vendor without a standalone
//! simulator yet is reported by the argument parser with the list of those there are.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::huawei_cbr::{CbrSim, CbrSimConfig};
use super::loopback_pki::{LoopbackPki, PkiError};
use super::tls_listener::TlsIdentity;

#[derive(clap::Args, Debug)]
#[command(subcommand_value_name = "VENDOR", subcommand_help_heading = "Vendors")]
pub struct SimulateOptions {
    #[command(subcommand)]
    pub vendor: SimulatedVendor,
}

#[derive(clap::Subcommand, Debug)]
pub enum SimulatedVendor {
    /// Huawei Cloud Backup and Recovery (CBR) v3 and its IAM token call, on one address.
    HuaweiCbr(CbrOptions),
    /// Any other name: reported with the list of vendors there are.
    #[command(external_subcommand)]
    Unknown(Vec<String>),
}

/// The vendors `simulate` serves, by subcommand name.
pub fn vendors() -> Vec<String> {
    use clap::Subcommand;
    SimulatedVendor::augment_subcommands(clap::Command::new("simulate"))
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect()
}

/// Where and how every simulator serves.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeOptions {
    /// Address to serve on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Serve HTTPS with a certificate from a private CA made at start-up (valid for 127.0.0.1,
    /// ::1 and localhost), and write that CA's root certificate (PEM) to this file.
    #[arg(long, value_name = "FILE")]
    pub tls_root_out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct CbrOptions {
    #[command(flatten)]
    pub serve: ServeOptions,
    /// How many reads (GETs, or lists that show it) a deleted vault answers as `deleting`
    /// before it is gone.
    #[arg(long, default_value_t = 2)]
    pub deleting_reads: u32,
    /// A vault to start with, as NAME[:OBJECT_TYPE[:SIZE_GB]] (server and 100 by default);
    /// repeat for more.
    #[arg(long = "vault", value_name = "SPEC", value_parser = parse_vault)]
    pub vaults: Vec<SeedVault>,
}

/// A vault the CBR simulator starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedVault {
    pub name: String,
    pub object_type: String,
    pub size: i64,
}

fn parse_vault(spec: &str) -> Result<SeedVault, String> {
    let mut parts = spec.split(':');
    let name = parts.next().filter(|n| !n.is_empty()).ok_or("empty name")?;
    let object_type = parts.next().unwrap_or("server");
    if !["server", "disk", "turbo"].contains(&object_type) {
        return Err(format!(
            "object type {object_type} is not server, disk or turbo"
        ));
    }
    let size = match parts.next() {
        Some(s) => s.parse().map_err(|_| format!("size {s} is not a number"))?,
        None => 100,
    };
    if parts.next().is_some() {
        return Err("expected NAME[:OBJECT_TYPE[:SIZE_GB]]".into());
    }
    Ok(SeedVault {
        name: name.into(),
        object_type: object_type.into(),
        size,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("cannot serve on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    #[error("cannot make the TLS certificates: {0}")]
    Pki(#[from] PkiError),
    #[error("cannot write {0}: {1}")]
    Write(String, std::io::Error),
    #[error("waiting for a signal: {0}")]
    Signal(std::io::Error),
    #[error("no simulator of a vendor named {name:?}; there are: {}", known.join(", "))]
    UnknownVendor { name: String, known: Vec<String> },
}

/// Serve the chosen simulator until SIGINT or SIGTERM.
pub async fn run(options: SimulateOptions) -> Result<(), SimulateError> {
    let running = match options.vendor {
        SimulatedVendor::HuaweiCbr(o) => huawei_cbr(o).await?,
        SimulatedVendor::Unknown(words) => {
            return Err(SimulateError::UnknownVendor {
                name: words.into_iter().next().unwrap_or_default(),
                known: vendors(),
            });
        }
    };
    stopped().await?;
    drop(running);
    Ok(())
}

/// A fresh private CA when TLS is asked for, its root written where the user said.
fn tls_identity(serve: &ServeOptions) -> Result<Option<TlsIdentity>, SimulateError> {
    let Some(path) = &serve.tls_root_out else {
        return Ok(None);
    };
    crate::vendor::tls::install_crypto_provider();
    let pki = LoopbackPki::generate()?;
    std::fs::write(path, pki.root_pem())
        .map_err(|e| SimulateError::Write(path.display().to_string(), e))?;
    Ok(Some(pki.identity()))
}

/// Print what a client needs, `ready` last, and flush it so a parent process can read it.
fn announce(lines: &[(&str, String)]) -> Result<(), SimulateError> {
    let mut out = std::io::stdout().lock();
    let mut text = String::new();
    for (key, value) in lines {
        text.push_str(&format!("{key}={value}\n"));
    }
    text.push_str("ready\n");
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| SimulateError::Write("standard output".into(), e))
}

/// Start the CBR simulator; the returned box keeps it serving until dropped.
async fn huawei_cbr(o: CbrOptions) -> Result<Box<dyn Send>, SimulateError> {
    let config = CbrSimConfig {
        deleting_reads: o.deleting_reads,
        ..CbrSimConfig::default()
    };
    let user = config.users[0].clone();
    let (project_name, project_id) = config.projects[0].clone();
    let (access_key, secret_key) = config.access_keys[0].clone();
    let listen = o.serve.listen;
    let sim = match tls_identity(&o.serve)? {
        Some(identity) => CbrSim::start_tls(config, listen, identity).await,
        None => CbrSim::start(config, listen).await,
    }
    .map_err(|e| SimulateError::Listen(listen, e))?;
    for v in &o.vaults {
        sim.console()
            .insert_vault(&project_id, &v.name, &v.object_type, v.size);
    }
    let token = sim.console().issue_token(&project_id);
    announce(&[
        ("vendor", "huawei-cbr".into()),
        ("url", sim.url()),
        ("iam_url", sim.url()),
        ("project_name", project_name),
        ("project_id", project_id),
        ("domain_name", user.domain),
        ("domain_id", user.domain_id),
        ("username", user.name),
        ("password", user.password),
        ("access_key", access_key),
        ("secret_key", secret_key),
        ("token", token),
    ])?;
    Ok(Box::new(sim))
}

/// SIGINT or SIGTERM.
async fn stopped() -> Result<(), SimulateError> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(SimulateError::Signal)?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.map_err(SimulateError::Signal),
        _ = term.recv() => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        simulate: SimulateOptions,
    }

    #[test]
    fn vendors_are_subcommands_with_their_own_flags() {
        let cli = Cli::try_parse_from([
            "simulate",
            "huawei-cbr",
            "--listen",
            "127.0.0.1:0",
            "--deleting-reads",
            "3",
            "--vault",
            "a",
            "--vault",
            "b:disk:40",
        ])
        .unwrap();
        let SimulatedVendor::HuaweiCbr(o) = cli.simulate.vendor else {
            panic!("huawei-cbr is a vendor")
        };
        assert_eq!(o.deleting_reads, 3);
        assert_eq!(o.vaults[1].object_type, "disk");
        assert_eq!((o.vaults[0].size, o.vaults[1].size), (100, 40));
        assert_eq!(vendors(), ["huawei-cbr"]);
        let cli = Cli::try_parse_from(["simulate", "acme-backup", "--listen", "x"]).unwrap();
        let SimulatedVendor::Unknown(words) = cli.simulate.vendor else {
            panic!("acme-backup is no vendor")
        };
        assert_eq!(words[0], "acme-backup");
        assert!(
            parse_vault("x:tape").is_err() && parse_vault(":server").is_err(),
            "bad vault specs are refused"
        );
    }

    #[tokio::test]
    async fn an_unknown_vendor_is_reported_with_the_known_ones() {
        let options = SimulateOptions {
            vendor: SimulatedVendor::Unknown(vec!["acme-backup".into()]),
        };
        let message = run(options).await.unwrap_err().to_string();
        assert_eq!(
            message,
            "no simulator of a vendor named \"acme-backup\"; there are: huawei-cbr"
        );
    }
}
