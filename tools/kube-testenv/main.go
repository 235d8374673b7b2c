// kube-testenv is rampart's local control plane for tests and the demo: a real kube-apiserver
// (Kubernetes v1.36, built from the Go modules of Kubernetes) with etcd embedded in the same
// process, plus kubectl, in one multi-call binary.
//
//	kube-testenv apiserver --data-dir DIR --port PORT [extra kube-apiserver flags]
//	kube-testenv kubectl ARGS...        (or call the binary through a symlink named kubectl)
//
// `apiserver` writes into DIR a CA, a serving certificate for 127.0.0.1, a service-account key,
// a static token file with an admin user (group system:masters) and DIR/kubeconfig, then starts
// etcd on free loopback ports and the API server on 127.0.0.1:PORT. Nothing listens beyond
// loopback. The process runs until it gets SIGTERM/SIGINT.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	_ "time/tzdata" // CronJob time zones, as upstream's main does

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	if filepath.Base(os.Args[0]) == "kubectl" {
		runKubectl(os.Args)
		return
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kube-testenv apiserver|kubectl ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "kubectl":
		runKubectl(append([]string{"kubectl"}, os.Args[2:]...))
	case "apiserver":
		os.Exit(runAPIServer(os.Args[2:]))
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}

func runKubectl(args []string) {
	os.Args = args
	logs.GlogSetter(kubectlcmd.GetLogVerbosity(os.Args)) //nolint:errcheck
	command := kubectlcmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		kubectlutil.CheckErr(err)
	}
}

func runAPIServer(args []string) int {
	fs := flag.NewFlagSet("apiserver", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "", "directory for etcd data, certificates and the kubeconfig")
	port := fs.Int("port", 0, "secure port of the API server on 127.0.0.1")
	exitWithParent := fs.Bool("exit-with-parent", true, "exit when the process that started us exits (no leaked servers after a killed test run)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dataDir == "" || *port == 0 {
		fmt.Fprintln(os.Stderr, "--data-dir and --port are required")
		return 2
	}
	if *exitWithParent {
		go watchParent(os.Getppid())
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	pki, err := writePKI(dir, *port)
	if err != nil {
		return fail(err)
	}
	etcdURL, stopEtcd, err := startEtcd(filepath.Join(dir, "etcd"))
	if err != nil {
		return fail(err)
	}
	defer stopEtcd()

	flags := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", *port),
		"--tls-cert-file=" + pki.serverCert,
		"--tls-private-key-file=" + pki.serverKey,
		"--client-ca-file=" + pki.caCert,
		"--token-auth-file=" + pki.tokenFile,
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--service-account-issuer=https://127.0.0.1/",
		"--service-account-key-file=" + pki.saKey,
		"--service-account-signing-key-file=" + pki.saKey,
		"--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--enable-priority-and-fairness=false",
		"--v=0",
	}
	command := app.NewAPIServerCommand()
	command.SetArgs(append(flags, fs.Args()...))
	return cli.Run(command)
}

// watchParent exits the process once its parent is gone (we get re-parented).
func watchParent(parent int) {
	for range time.Tick(time.Second) {
		if os.Getppid() != parent {
			fmt.Fprintln(os.Stderr, "kube-testenv: parent exited; stopping")
			os.Exit(0)
		}
	}
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "kube-testenv:", err)
	return 1
}

// freePort asks the kernel for an unused loopback port. The tiny race between closing the
// listener and etcd binding it is acceptable for a test control plane.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startEtcd(dir string) (string, func(), error) {
	clientPort, err := freePort()
	if err != nil {
		return "", nil, err
	}
	peerPort, err := freePort()
	if err != nil {
		return "", nil, err
	}
	clientURL, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", clientPort))
	peerURL, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", peerPort))
	cfg := embed.NewConfig()
	cfg.Name = "kube-testenv"
	cfg.Dir = dir
	cfg.UnsafeNoFsync = true // test data; durability is not the point, speed is
	cfg.LogLevel = "error"
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return "", nil, fmt.Errorf("embedded etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		return "", nil, fmt.Errorf("embedded etcd not ready after 60s")
	}
	return clientURL.String(), e.Close, nil
}

type pkiFiles struct {
	caCert, serverCert, serverKey, saKey, tokenFile string
}

// writePKI creates the CA, serving certificate, service-account key, admin token and kubeconfig.
// Existing files are reused so that a restarted server keeps the same identity and clients keep
// working across the restart.
func writePKI(dir string, port int) (pkiFiles, error) {
	p := pkiFiles{
		caCert:     filepath.Join(dir, "ca.crt"),
		serverCert: filepath.Join(dir, "apiserver.crt"),
		serverKey:  filepath.Join(dir, "apiserver.key"),
		saKey:      filepath.Join(dir, "sa.key"),
		tokenFile:  filepath.Join(dir, "tokens.csv"),
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if _, err := os.Stat(kubeconfig); err == nil {
		return p, rewriteKubeconfigPort(dir, port)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return p, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kube-testenv-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return p, err
	}
	caParsed, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return p, err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caParsed, &srvKey.PublicKey, caKey)
	if err != nil {
		return p, err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return p, err
	}
	if err := writePEM(p.caCert, "CERTIFICATE", caDER); err != nil {
		return p, err
	}
	if err := writePEM(p.serverCert, "CERTIFICATE", srvDER); err != nil {
		return p, err
	}
	if err := writeECKey(p.serverKey, srvKey); err != nil {
		return p, err
	}
	if err := writeECKey(p.saKey, saKey); err != nil {
		return p, err
	}
	token := randomToken()
	if err := os.WriteFile(p.tokenFile, []byte(token+`,admin,admin-uid,"system:masters"`+"\n"), 0o600); err != nil {
		return p, err
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token), 0o600); err != nil {
		return p, err
	}
	return p, writeKubeconfig(dir, port, token)
}

func rewriteKubeconfigPort(dir string, port int) error {
	token, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		return err
	}
	return writeKubeconfig(dir, port, strings.TrimSpace(string(token)))
}

func writeKubeconfig(dir string, port int, token string) error {
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: kube-testenv
  cluster:
    server: https://127.0.0.1:%d
    certificate-authority: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: kube-testenv
  context:
    cluster: kube-testenv
    user: admin
    namespace: default
current-context: kube-testenv
`, port, filepath.Join(dir, "ca.crt"), token)
	tmp := filepath.Join(dir, "kubeconfig.tmp")
	if err := os.WriteFile(tmp, []byte(kc), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "kubeconfig"))
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func writePEM(path, kind string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600)
}

func writeECKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return writePEM(path, "EC PRIVATE KEY", der)
}
