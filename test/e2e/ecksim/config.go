package ecksim

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/eslink/eslink/internal/eckschema"
)

// Paths in the Elasticsearch container, as ECK mounts them
// (pkg/controller/elasticsearch/volume/names.go).
const (
	configDir                = "/usr/share/elasticsearch/config"
	transportCertsMountPath  = configDir + "/transport-certs"
	remoteCAsMountPath       = configDir + "/transport-remote-certs"
	fileSettingsMountPath    = configDir + "/operator"
	transportCertsVolumeName = "elastic-internal-transport-certificates"
	remoteCAsVolumeName      = "elastic-internal-remote-certificate-authorities"
	fileSettingsVolumeName   = "file-settings"
	elasticsearchContainer   = "elasticsearch"
)

// eckConfig is the configuration ECK derives for a node set
// (settings/merged_config.go: baseConfig and xpackConfig), flat keys. The
// remote cluster server block appears with spec.remoteClusterServer.enabled,
// the remote cluster client block when an entry of spec.remoteClusters has
// an apiKey (HasRemoteClusterAPIKey).
func eckConfig(esName string, ver eckschema.Version, rcsEnabled, rcClientEnabled bool) map[string]any {
	podCert := transportCertsMountPath + "/${POD_NAME}.tls.crt"
	podKey := transportCertsMountPath + "/${POD_NAME}.tls.key"
	cas := []any{transportCertsMountPath + "/ca.crt", remoteCAsMountPath + "/ca.crt"}
	cfg := map[string]any{
		"node.name":            "${POD_NAME}",
		"cluster.name":         esName,
		"network.publish_host": "${POD_IP}",
		"http.publish_host":    "${POD_NAME}.${HEADLESS_SERVICE_NAME}.${NAMESPACE}.svc",
		"network.host":         "0",
		"cluster.routing.allocation.awareness.attributes": "k8s_node_name",
		"node.attr.k8s_node_name":                         "${NODE_NAME}",
		"path.data":                                       "/usr/share/elasticsearch/data",
		"path.logs":                                       "/usr/share/elasticsearch/logs",
		"discovery.seed_providers":                        "file",
		"discovery.seed_hosts":                            []any{},

		"xpack.security.enabled":                               "true",
		"xpack.security.authc.reserved_realm.enabled":          "false",
		"xpack.security.transport.ssl.verification_mode":       "certificate",
		"xpack.security.http.ssl.enabled":                      "true",
		"xpack.security.http.ssl.key":                          configDir + "/http-certs/tls.key",
		"xpack.security.http.ssl.certificate":                  configDir + "/http-certs/tls.crt",
		"xpack.security.http.ssl.certificate_authorities":      configDir + "/http-certs/ca.crt",
		"xpack.security.transport.ssl.enabled":                 "true",
		"xpack.security.transport.ssl.key":                     podKey,
		"xpack.security.transport.ssl.certificate":             podCert,
		"xpack.security.transport.ssl.certificate_authorities": cas,
		"xpack.security.authc.realms.file.file1.order":         "-100",
		"xpack.security.authc.realms.native.native1.order":     "-99",
		"xpack.license.upload.types":                           []any{"trial", "enterprise"},
	}
	if !ver.Less(eckschema.Version{Major: 8, Minor: 2}) {
		cfg["readiness.port"] = "8080"
	}
	if rcsEnabled {
		cfg["remote_cluster_server.enabled"] = "true"
		cfg["remote_cluster.publish_host"] = "${POD_NAME}.${HEADLESS_SERVICE_NAME}.${NAMESPACE}.svc"
		cfg["remote_cluster.host"] = "0"
		cfg["xpack.security.remote_cluster_server.ssl.key"] = podKey
		cfg["xpack.security.remote_cluster_server.ssl.certificate"] = podCert
		cfg["xpack.security.remote_cluster_server.ssl.certificate_authorities"] = cas
	}
	if rcClientEnabled {
		cfg["xpack.security.remote_cluster_client.ssl.enabled"] = "true"
		cfg["xpack.security.remote_cluster_client.ssl.certificate_authorities"] = cas
	}
	return cfg
}

// mergeConfig merges the user's nodeSets[].config over ECK's as ECK does
// (common/settings/canonical_config.go: ucfg with PathSep(".") and
// AppendValues): keys are compared as dotted paths, whether written nested
// or dotted; the user's scalars replace ECK's; lists are appended to ECK's.
func mergeConfig(eck, user map[string]any) (map[string]any, error) {
	out := map[string]any{}
	if err := flatten("", eck, out); err != nil {
		return nil, err
	}
	flatUser := map[string]any{}
	if err := flatten("", user, flatUser); err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(flatUser) {
		v := flatUser[k]
		if ul, isList := v.([]any); isList {
			if el, eckList := out[k].([]any); eckList {
				out[k] = append(append([]any{}, el...), ul...)
				continue
			}
		}
		// A scalar replaces a subtree of ECK's and the other way round,
		// as with nested YAML objects.
		for ek := range out {
			if len(ek) > len(k) && ek[:len(k)+1] == k+"." || len(k) > len(ek) && k[:len(ek)+1] == ek+"." {
				delete(out, ek)
			}
		}
		out[k] = v
	}
	return out, nil
}

func flatten(prefix string, v any, out map[string]any) error {
	m, isMap := v.(map[string]any)
	if !isMap {
		if prefix == "" {
			return fmt.Errorf("configuration is not an object but %T", v)
		}
		out[prefix] = v
		return nil
	}
	for k, sub := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if err := flatten(key, sub, out); err != nil {
			return err
		}
	}
	return nil
}

// nodeSettings turns merged configuration values into elasticsearch.yml
// values: strings and lists of strings.
func nodeSettings(cfg map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(cfg))
	for k, v := range cfg {
		if l, isList := v.([]any); isList {
			strs := make([]string, 0, len(l))
			for _, e := range l {
				s, err := scalarString(k, e)
				if err != nil {
					return nil, err
				}
				strs = append(strs, s)
			}
			out[k] = strs
			continue
		}
		s, err := scalarString(k, v)
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
}

func scalarString(key string, v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case bool:
		return strconv.FormatBool(t), nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case int:
		return strconv.Itoa(t), nil
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("setting [%s] has a value of type %T that elasticsearch.yml cannot hold", key, v)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
