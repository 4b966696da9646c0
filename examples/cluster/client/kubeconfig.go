package client

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrKubeconfig reports a kubeconfig that cannot be read or used. It wraps
// the reason.
var ErrKubeconfig = errors.New("client: kubeconfig")

// kubeconfig is the part of a kubeconfig file (apiVersion v1, kind
// Config) that the client reads. Unknown fields are ignored, as kubectl
// ignores them.
type kubeconfig struct {
	Clusters []struct {
		Name    string      `yaml:"name"`
		Cluster kubeCluster `yaml:"cluster"`
	} `yaml:"clusters"`
	Users []struct {
		Name string   `yaml:"name"`
		User kubeUser `yaml:"user"`
	} `yaml:"users"`
	Contexts []struct {
		Name    string      `yaml:"name"`
		Context kubeContext `yaml:"context"`
	} `yaml:"contexts"`
	CurrentContext string `yaml:"current-context"`
}

type kubeCluster struct {
	Server                   string `yaml:"server"`
	TLSServerName            string `yaml:"tls-server-name"`
	CertificateAuthority     string `yaml:"certificate-authority"`
	CertificateAuthorityData string `yaml:"certificate-authority-data"`
	InsecureSkipTLSVerify    bool   `yaml:"insecure-skip-tls-verify"`
	dir                      string // of the file it came from
}

type kubeUser struct {
	ClientCertificate     string         `yaml:"client-certificate"`
	ClientCertificateData string         `yaml:"client-certificate-data"`
	ClientKey             string         `yaml:"client-key"`
	ClientKeyData         string         `yaml:"client-key-data"`
	Token                 string         `yaml:"token"`
	TokenFile             string         `yaml:"tokenFile"`
	Exec                  map[string]any `yaml:"exec"`
	AuthProvider          map[string]any `yaml:"auth-provider"`
	dir                   string
}

type kubeContext struct {
	Cluster   string `yaml:"cluster"`
	User      string `yaml:"user"`
	Namespace string `yaml:"namespace"`
}

// merged is the union of one or more kubeconfig files: the first file to
// name a cluster, user or context, or to set current-context, wins, as
// with kubectl's $KUBECONFIG lists.
type merged struct {
	clusters       map[string]kubeCluster
	users          map[string]kubeUser
	contexts       map[string]kubeContext
	currentContext string
}

// LoadKubeconfig reads a kubeconfig and returns the Config of one of its
// contexts: context, or the file's current-context when context is "".
//
// path "" means the files listed in $KUBECONFIG (separated by the OS's
// path-list separator, merged first-wins as kubectl merges them), or
// ~/.kube/config when $KUBECONFIG is empty. It understands server,
// tls-server-name, certificate-authority(-data), insecure-skip-tls-verify,
// client-certificate(-data), client-key(-data), token and tokenFile;
// relative file names are relative to the kubeconfig file. Exec and
// auth-provider credential plugins are not supported and give an error
// rather than a Config without credentials.
//
// Only the connection settings are filled; QPS, Burst, Timeout and the
// rest keep their zero values (the defaults).
func LoadKubeconfig(path, context string) (Config, error) {
	paths, err := kubeconfigPaths(path)
	if err != nil {
		return Config{}, err
	}
	m := merged{clusters: map[string]kubeCluster{}, users: map[string]kubeUser{}, contexts: map[string]kubeContext{}}
	read := 0
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == "" {
				continue // a listed file that does not exist is skipped, as kubectl does
			}
			return Config{}, fmt.Errorf("%w: %w", ErrKubeconfig, err)
		}
		if err := m.add(data, filepath.Dir(p)); err != nil {
			return Config{}, fmt.Errorf("%w: %s: %w", ErrKubeconfig, p, err)
		}
		read++
	}
	if read == 0 {
		return Config{}, fmt.Errorf("%w: none of %s exists", ErrKubeconfig, strings.Join(paths, ", "))
	}
	return m.config(context)
}

// ParseKubeconfig is [LoadKubeconfig] for the content of one file; dir is
// the directory relative file names in it are resolved against.
func ParseKubeconfig(data []byte, dir, context string) (Config, error) {
	m := merged{clusters: map[string]kubeCluster{}, users: map[string]kubeUser{}, contexts: map[string]kubeContext{}}
	if err := m.add(data, dir); err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrKubeconfig, err)
	}
	return m.config(context)
}

func kubeconfigPaths(path string) ([]string, error) {
	if path != "" {
		return []string{path}, nil
	}
	if env := os.Getenv("KUBECONFIG"); env != "" {
		var paths []string
		for _, p := range filepath.SplitList(env) {
			if p != "" {
				paths = append(paths, p)
			}
		}
		if len(paths) > 0 {
			return paths, nil
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, fmt.Errorf("%w: no path, no $KUBECONFIG and no home directory: %w", ErrKubeconfig, err)
	}
	return []string{filepath.Join(home, ".kube", "config")}, nil
}

func (m *merged) add(data []byte, dir string) error {
	var kc kubeconfig
	if err := yaml.Unmarshal(data, &kc); err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	for _, c := range kc.Clusters {
		if _, ok := m.clusters[c.Name]; !ok {
			c.Cluster.dir = dir
			m.clusters[c.Name] = c.Cluster
		}
	}
	for _, u := range kc.Users {
		if _, ok := m.users[u.Name]; !ok {
			u.User.dir = dir
			m.users[u.Name] = u.User
		}
	}
	for _, c := range kc.Contexts {
		if _, ok := m.contexts[c.Name]; !ok {
			m.contexts[c.Name] = c.Context
		}
	}
	if m.currentContext == "" {
		m.currentContext = kc.CurrentContext
	}
	return nil
}

func (m *merged) config(context string) (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%w: %s", ErrKubeconfig, fmt.Sprintf(format, args...))
	}
	if context == "" {
		context = m.currentContext
	}
	if context == "" {
		return bad("no context given and no current-context")
	}
	kctx, ok := m.contexts[context]
	if !ok {
		return bad("context %q not found", context)
	}
	cl, ok := m.clusters[kctx.Cluster]
	if !ok {
		return bad("context %q: cluster %q not found", context, kctx.Cluster)
	}
	if cl.Server == "" {
		return bad("cluster %q has no server", kctx.Cluster)
	}
	cfg := Config{Host: cl.Server, Namespace: kctx.Namespace}
	cfg.TLS.ServerName = cl.TLSServerName
	cfg.TLS.Insecure = cl.InsecureSkipTLSVerify
	var err error
	if cfg.TLS.CAData, err = decodeData("certificate-authority-data", cl.CertificateAuthorityData); err != nil {
		return Config{}, err
	}
	cfg.TLS.CAFile = resolve(cl.dir, cl.CertificateAuthority)
	if kctx.User != "" {
		u, ok := m.users[kctx.User]
		if !ok {
			return bad("context %q: user %q not found", context, kctx.User)
		}
		if len(u.Exec) > 0 || len(u.AuthProvider) > 0 {
			return bad("user %q: exec and auth-provider credential plugins are not supported", kctx.User)
		}
		if cfg.TLS.CertData, err = decodeData("client-certificate-data", u.ClientCertificateData); err != nil {
			return Config{}, err
		}
		if cfg.TLS.KeyData, err = decodeData("client-key-data", u.ClientKeyData); err != nil {
			return Config{}, err
		}
		cfg.TLS.CertFile = resolve(u.dir, u.ClientCertificate)
		cfg.TLS.KeyFile = resolve(u.dir, u.ClientKey)
		cfg.BearerToken = u.Token
		if u.Token == "" {
			cfg.BearerTokenFile = resolve(u.dir, u.TokenFile)
		}
	}
	return cfg, nil
}

func decodeData(field, s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not base64: %w", ErrKubeconfig, field, err)
	}
	return b, nil
}

func resolve(dir, name string) string {
	if name == "" || filepath.IsAbs(name) || dir == "" {
		return name
	}
	return filepath.Join(dir, name)
}
