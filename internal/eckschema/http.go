package eckschema

import "fmt"

// ECK's conventions for a cluster's HTTP layer, which the provider reaches
// a cluster through when a provider config names no URL of its own
// (pkg/apis/elasticsearch/v1/name.go, pkg/controller/common/certificates).

// ElasticUser is the superuser ECK creates for every cluster; its password
// is in ElasticUserSecret.
const ElasticUser = "elastic"

// ElasticUserSecret is the Secret in which ECK keeps the password of
// ElasticUser, under the key ElasticUser.
func ElasticUserSecret(name string) string { return name + "-es-elastic-user" }

// HTTPCertsPublicSecret is the Secret in which ECK publishes the CA of a
// cluster's HTTP layer, key ca.crt, when the layer uses TLS.
func HTTPCertsPublicSecret(name string) string { return name + "-es-http-certs-public" }

// HTTPURL is the https URL of the Service ECK creates for a cluster's HTTP
// layer, on port 9200.
func HTTPURL(name, namespace string) string {
	return fmt.Sprintf("https://%s-es-http.%s.svc:9200", name, namespace)
}
