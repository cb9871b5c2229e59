package pgtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/embedded"
	"github.com/jackc/pgx/v5"
)

// TLSServer is a PostgreSQL cluster of its own for transport tests: it
// listens on TCP on every address of the machine, with TLS, and a
// certificate signed by a CA generated for it. The certificate names the
// host "localhost" and RemoteAddr, and nothing else (not 127.0.0.1).
type TLSServer struct {
	Port int
	// CA is the PEM certificate of the CA that signed the server's
	// certificate, and CAFile a file holding it.
	CA, CAFile string
	// OtherCA is the PEM certificate of an unrelated CA, and OtherCAFile a
	// file holding it.
	OtherCA, OtherCAFile string
	// RemoteAddr is an address of this machine other than a loopback one,
	// or "" when it has none.
	RemoteAddr string
	// Role (neither superuser nor exempt from row-level security) owns
	// Database, and may connect from any address with Password.
	Role, Password, Database string
}

// StartTLSServer initialises and starts a TLSServer in a temporary
// directory; it is stopped and removed when t ends.
func StartTLSServer(t *testing.T) *TLSServer {
	t.Helper()
	ctx := context.Background()
	s := &TLSServer{Role: "takaro_tls", Password: "takaro-tls-password", Database: "takaro_tls", RemoteAddr: nonLoopbackAddr()}
	// The server runs as the postgres user when the tests run as root, so
	// the directories must be traversable, and the key its own.
	dir, err := os.MkdirTemp("", "takaro-tls-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ca, caKey := newCA(t, "takaro test CA")
	other, _ := newCA(t, "unrelated test CA")
	s.CA, s.OtherCA = string(certPEM(ca)), string(certPEM(other))
	s.CAFile, s.OtherCAFile = writeFile(t, dir, "ca.crt", s.CA), writeFile(t, dir, "other-ca.crt", s.OtherCA)
	certFile, keyFile := s.serverCertificate(t, dir, ca, caKey)
	if port, err := freePort(); err != nil {
		t.Fatal(err)
	} else {
		s.Port = port
	}
	cluster, err := embedded.Ensure(ctx, embedded.Options{
		Dir: filepath.Join(dir, "cluster"),
		Settings: map[string]string{
			"listen_addresses": "*",
			"port":             strconv.Itoa(s.Port),
			"ssl":              "on",
			"ssl_cert_file":    certFile,
			"ssl_key_file":     keyFile,
			"fsync":            "off",
		},
		// initdb's lines trust loopback connections; from anywhere else,
		// a password.
		HBA: []string{"host all all all scram-sha-256"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(context.Background()); err != nil {
			t.Errorf("stop the TLS test cluster: %v", err)
		}
	})
	admin, err := pgx.Connect(ctx, fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=postgres sslmode=disable", s.Port, embedded.Superuser))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(ctx) }()
	for _, q := range []string{
		fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s' NOSUPERUSER NOBYPASSRLS", s.Role, s.Password),
		fmt.Sprintf("CREATE DATABASE %s OWNER %s", s.Database, s.Role),
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// ConnConfig returns settings that reach the server at host as Role,
// without TLS; callers set SSL and CA.
func (s *TLSServer) ConnConfig(host string) postgres.ConnConfig {
	return postgres.ConnConfig{Host: host, Port: s.Port, User: s.Role, Password: s.Password, Database: s.Database}
}

// URL returns a connection string that reaches the server at host as
// Role, with extra keywords such as "sslmode=verify-full sslrootcert=...".
func (s *TLSServer) URL(host, extra string) string {
	return fmt.Sprintf("host=%s port=%d user=%s password=%s dbname=%s %s", host, s.Port, s.Role, s.Password, s.Database, extra)
}

// serverCertificate writes the server's certificate, signed by ca, and its
// key, readable only by the cluster's owner, and returns their paths.
func (s *TLSServer) serverCertificate(t *testing.T, dir string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(s.RemoteAddr); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = writeFile(t, dir, "server.crt", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = filepath.Join(dir, "server.key")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	// PostgreSQL refuses a key file that others may read; it must belong
	// to the user the server runs as.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(keyFile, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}

func newCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// writeFile writes a file that everyone may read and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// freePort returns a TCP port that nothing listens on at the moment.
func freePort() (int, error) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// nonLoopbackAddr returns an address of this machine that is not a
// loopback or link-local one, preferring IPv4, or "" when there is none.
func nonLoopbackAddr() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	var v6 string
	for _, a := range addrs {
		ipNet, ok := a.(*net.IPNet)
		if !ok || ipNet.IP.IsLoopback() || ipNet.IP.IsLinkLocalUnicast() || !ipNet.IP.IsGlobalUnicast() {
			continue
		}
		if ipNet.IP.To4() != nil {
			return ipNet.IP.String()
		}
		if v6 == "" {
			v6 = ipNet.IP.String()
		}
	}
	return v6
}
