//! `rampart simulate <vendor>`: one vendor simulator served on its own, for people who build
//! tools or pipelines around these vendors and want to try them without the vendor (and for
//! tests that drive a simulator with the vendor's own client, such as tools/cbr-conformance).
//!
//! On start it prints, one `key=value` a line, where it listens and the credentials it accepts,
//! then a line `ready`; it serves until interrupted (SIGINT or SIGTERM). Each vendor is a
//! subcommand with its own flags for the state it starts with; an unknown vendor is reported
//! with the list of those there are. `rampart demo` starts its simulators with the same
//! starters (`vendors`).

pub mod vendors;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::loopback_pki::{LoopbackPki, PkiError};
use super::tls_listener::TlsIdentity;
use vendors::{Login, SeedRule, SeedVault};

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
    /// RuBackup's REST API (§8 of its document).
    Rubackup(RuBackupOptions),
    /// Cyber Backup 18.5's API, with plans that deploy and run on their own.
    CyberBackup(CyberBackupOptions),
    /// Ideco NGFW's firewall API.
    Ideco(IdecoOptions),
    /// The RS server (TRS) inventory with its Keystone.
    RsServer(RsServerOptions),
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

impl ServeOptions {
    /// Plain HTTP on a free loopback port (the demo's and the tests' choice).
    pub fn loopback() -> ServeOptions {
        ServeOptions {
            listen: "127.0.0.1:0".parse().expect("loopback"),
            tls_root_out: None,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct RuBackupOptions {
    #[command(flatten)]
    pub serve: ServeOptions,
    /// An administrator the login accepts, as NAME:PASSWORD; repeat for more.
    #[arg(long = "user", value_name = "NAME:PASSWORD", value_parser = Login::parse,
          default_value = "rubackup:rubackup-sim-password")]
    pub users: Vec<Login>,
}

#[derive(clap::Args, Debug)]
pub struct CyberBackupOptions {
    #[command(flatten)]
    pub serve: ServeOptions,
    /// An administrator `/idp/token` accepts, as NAME:PASSWORD; repeat for more.
    #[arg(long = "user", value_name = "NAME:PASSWORD", value_parser = Login::parse,
          default_value = "admin:admin-password")]
    pub users: Vec<Login>,
    /// Seconds a plan takes to deploy to its devices.
    #[arg(long, default_value_t = 2)]
    pub deploy_seconds: i64,
    /// Seconds a plan's run takes.
    #[arg(long, default_value_t = 5)]
    pub run_seconds: i64,
}

#[derive(clap::Args, Debug)]
pub struct IdecoOptions {
    #[command(flatten)]
    pub serve: ServeOptions,
    /// The administrator the login accepts.
    #[arg(long = "user", value_name = "NAME:PASSWORD", value_parser = Login::parse,
          default_value = "admin:ideco-sim-password")]
    pub user: Login,
    /// A person's rule in the Forward section, by its comment (`COMMENT:disabled` to start it
    /// switched off); repeat for more, in order.
    #[arg(long = "rule", value_name = "COMMENT[:disabled]", value_parser = parse_rule)]
    pub rules: Vec<SeedRule>,
}

#[derive(clap::Args, Debug)]
pub struct RsServerOptions {
    #[command(flatten)]
    pub serve: ServeOptions,
    /// The Keystone user, who also owns one volume in the project.
    #[arg(long = "user", value_name = "NAME:PASSWORD", value_parser = Login::parse,
          default_value = "backup-reader:rs-sim-password")]
    pub user: Login,
    /// The project's name.
    #[arg(long, default_value = "desktops")]
    pub project: String,
    /// A server in the project; repeat for more.
    #[arg(long = "server", value_name = "NAME")]
    pub servers: Vec<String>,
}

fn parse_rule(spec: &str) -> Result<SeedRule, String> {
    let (comment, enabled) = match spec.rsplit_once(':') {
        Some((comment, "disabled")) => (comment, false),
        _ => (spec, true),
    };
    if comment.is_empty() {
        return Err("empty comment".into());
    }
    Ok(SeedRule {
        comment: comment.into(),
        enabled,
    })
}

#[derive(clap::Args, Debug)]
pub struct CbrOptions {
    #[command(flatten)]
    pub serve: ServeOptions,
    /// How many reads (GETs, or lists that show it) a deleted vault answers as `deleting`
    /// before it is gone.
    #[arg(long, default_value_t = 2)]
    pub deleting_reads: u32,
    /// How many reads (GETs, or lists that show one of its backups or tasks) a restore point
    /// stays `protecting`, or a restore `restoring`, before it finishes; 0 finishes at once.
    #[arg(long, default_value_t = 2)]
    pub progress_reads: u32,
    /// A vault to start with, as NAME[:OBJECT_TYPE[:SIZE_GB]] (server and 100 by default);
    /// repeat for more.
    #[arg(long = "vault", value_name = "SPEC", value_parser = parse_vault)]
    pub vaults: Vec<SeedVault>,
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
    #[error("cannot seed the simulator: {0}")]
    Seed(String),
    #[error("no simulator of a vendor named {name:?}; there are: {}", known.join(", "))]
    UnknownVendor { name: String, known: Vec<String> },
}

/// Serve the chosen simulator until SIGINT or SIGTERM.
pub async fn run(options: SimulateOptions) -> Result<(), SimulateError> {
    let running = match options.vendor {
        SimulatedVendor::HuaweiCbr(o) => {
            let reads = (o.deleting_reads, o.progress_reads);
            serving(vendors::huawei_cbr(&o.serve, reads, &o.vaults).await?)?
        }
        SimulatedVendor::Rubackup(o) => serving(vendors::rubackup(&o.serve, &o.users).await?)?,
        SimulatedVendor::CyberBackup(o) => serving(
            vendors::cyber_backup(&o.serve, &o.users, o.deploy_seconds, o.run_seconds).await?,
        )?,
        SimulatedVendor::Ideco(o) => serving(vendors::ideco(&o.serve, &o.user, &o.rules).await?)?,
        SimulatedVendor::RsServer(o) => {
            serving(vendors::rs_server(&o.serve, &o.user, &o.project, &o.servers).await?)?
        }
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

/// Announce a started simulator; the box keeps it serving until dropped.
fn serving<S: Send + 'static>(
    started: vendors::Started<S>,
) -> Result<Box<dyn Send>, SimulateError> {
    announce(&started.lines)?;
    Ok(Box::new(started.sim))
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
            "--progress-reads",
            "0",
            "--vault",
            "a",
            "--vault",
            "b:disk:40",
        ])
        .unwrap();
        let SimulatedVendor::HuaweiCbr(o) = cli.simulate.vendor else {
            panic!("huawei-cbr is a vendor")
        };
        assert_eq!((o.deleting_reads, o.progress_reads), (3, 0));
        assert_eq!(o.vaults[1].object_type, "disk");
        assert_eq!((o.vaults[0].size, o.vaults[1].size), (100, 40));
        assert_eq!(
            vendors(),
            [
                "huawei-cbr",
                "rubackup",
                "cyber-backup",
                "ideco",
                "rs-server"
            ]
        );
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
            "no simulator of a vendor named \"acme-backup\"; there are: huawei-cbr, rubackup, cyber-backup, ideco, rs-server"
        );
    }

    #[test]
    fn each_vendor_takes_its_logins_and_seeds() {
        let cli = Cli::try_parse_from(["simulate", "rubackup"]).unwrap();
        let SimulatedVendor::Rubackup(o) = cli.simulate.vendor else {
            panic!("rubackup is a vendor")
        };
        assert_eq!(o.users, [Login::new("rubackup", "rubackup-sim-password")]);
        let cli = Cli::try_parse_from([
            "simulate",
            "ideco",
            "--user",
            "root:pw",
            "--rule",
            "allow dns",
            "--rule",
            "marker:disabled",
        ])
        .unwrap();
        let SimulatedVendor::Ideco(o) = cli.simulate.vendor else {
            panic!("ideco is a vendor")
        };
        assert_eq!(o.user, Login::new("root", "pw"));
        assert_eq!(
            o.rules.iter().map(|r| r.enabled).collect::<Vec<_>>(),
            [true, false]
        );
        assert_eq!(o.rules[1].comment, "marker");
        assert!(Cli::try_parse_from(["simulate", "cyber-backup", "--user", "nopassword"]).is_err());
        let cli = Cli::try_parse_from(["simulate", "rs-server", "--server", "a", "--server", "b"])
            .unwrap();
        let SimulatedVendor::RsServer(o) = cli.simulate.vendor else {
            panic!("rs-server is a vendor")
        };
        assert_eq!(o.servers, ["a", "b"]);
    }

    /// Every starter serves at the URL it announces (an HTTP answer of any status comes back
    /// while the simulator lives), and announces a login for it.
    #[tokio::test]
    async fn every_starter_serves_where_it_says() {
        async fn serves(lines: &[(&'static str, String)]) {
            let get = |key: &str| {
                lines
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.clone())
            };
            let url = get("url").expect("a url is announced");
            assert!(get("password").is_some(), "{lines:?}");
            crate::vendor::tls::install_crypto_provider();
            let answer = reqwest::get(format!("{url}/")).await;
            assert!(answer.is_ok(), "{url} does not answer: {answer:?}");
        }
        let serve = ServeOptions::loopback();
        let admin = Login::new("admin", "pw");
        let cbr = vendors::huawei_cbr(&serve, (1, 2), &[]).await.unwrap();
        serves(&cbr.lines).await;
        let rb = vendors::rubackup(&serve, std::slice::from_ref(&admin))
            .await
            .unwrap();
        serves(&rb.lines).await;
        let cyber = vendors::cyber_backup(&serve, std::slice::from_ref(&admin), 1, 1)
            .await
            .unwrap();
        serves(&cyber.lines).await;
        let rule = SeedRule {
            comment: "people's".into(),
            enabled: false,
        };
        let ngfw = vendors::ideco(&serve, &admin, &[rule]).await.unwrap();
        serves(&ngfw.lines).await;
        assert_eq!(
            ngfw.sim
                .1
                .ids(crate::api::vendors::ideco::IdecoSection::Forward)
                .len(),
            1
        );
        let rs = vendors::rs_server(&serve, &admin, "p", &["s".into()])
            .await
            .unwrap();
        serves(&rs.lines).await;
    }
}
