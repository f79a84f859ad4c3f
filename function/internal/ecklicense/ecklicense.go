// Package ecklicense decides whether the ECK operator runs with an enterprise
// or trial license, from the Secrets ECK reads its operator license from.
//
// ECK without such a license ignores spec.remoteClusters and only emits an
// event on the Elasticsearch object, so the function checks it up front to
// say so on the link instead.
package ecklicense

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Labels and keys of ECK's operator license Secrets.
const (
	// LabelScope selects operator license Secrets, with value ScopeOperator.
	LabelScope = "license.k8s.elastic.co/scope"
	// ScopeOperator is the value of LabelScope on operator licenses.
	ScopeOperator = "operator"
	// DataKey holds the license JSON in the Secret.
	DataKey = "license"
)

// enterpriseTypes are the license types that enable ECK's enterprise
// features, remote clusters among them.
var enterpriseTypes = []string{"enterprise", "enterprise_trial", "trial"}

// license is the part of ECK's license JSON the check needs.
type license struct {
	License struct {
		UID                string `json:"uid"`
		Type               string `json:"type"`
		StartDateInMillis  int64  `json:"start_date_in_millis"`
		ExpiryDateInMillis int64  `json:"expiry_date_in_millis"`
	} `json:"license"`
}

// Result is the outcome of a check.
type Result struct {
	// Valid is true when at least one Secret holds a usable license.
	Valid bool
	// Reasons says, per Secret, why it was not usable. It never contains
	// license content beyond type and dates.
	Reasons []string
}

// Check looks for a valid enterprise or trial license among the Secrets.
//
// Elastic signs licenses and ECK verifies the signature with a public key
// compiled into the operator. The function cannot do that without ECK's
// code, so it checks what it can (type and validity window): a forged
// license still passes here, and ECK then ignores it silently as before.
func Check(secrets []*unstructured.Unstructured, now time.Time) Result {
	var r Result
	for _, s := range secrets {
		reason := checkSecret(s, now)
		if reason == "" {
			return Result{Valid: true}
		}
		r.Reasons = append(r.Reasons, fmt.Sprintf("Secret %s/%s: %s", s.GetNamespace(), s.GetName(), reason))
	}
	return r
}

func checkSecret(s *unstructured.Unstructured, now time.Time) string {
	raw, err := secretValue(s, DataKey)
	if err != nil {
		return err.Error()
	}
	var l license
	if err := json.Unmarshal(raw, &l); err != nil {
		return fmt.Sprintf("key %q is not a license JSON document", DataKey)
	}
	if !slices.Contains(enterpriseTypes, l.License.Type) {
		return fmt.Sprintf("license type %q does not enable enterprise features (need enterprise or trial)", l.License.Type)
	}
	ms := now.UnixMilli()
	if l.License.StartDateInMillis > ms {
		return fmt.Sprintf("license starts at %s", time.UnixMilli(l.License.StartDateInMillis).UTC().Format(time.RFC3339))
	}
	if l.License.ExpiryDateInMillis <= ms {
		return fmt.Sprintf("license expired at %s", time.UnixMilli(l.License.ExpiryDateInMillis).UTC().Format(time.RFC3339))
	}
	return ""
}

// secretValue reads key from data (base64, as the API server returns it)
// or from stringData (as written in manifests).
func secretValue(s *unstructured.Unstructured, key string) ([]byte, error) {
	if v, ok, _ := unstructured.NestedString(s.Object, "data", key); ok {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("data.%s is not valid base64", key)
		}
		return b, nil
	}
	if v, ok, _ := unstructured.NestedString(s.Object, "stringData", key); ok {
		return []byte(v), nil
	}
	return nil, fmt.Errorf("no %q key", key)
}
