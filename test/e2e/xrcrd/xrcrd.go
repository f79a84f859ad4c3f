// Package xrcrd turns eslink's XRDs into the CRDs Crossplane would serve for
// them, so the end-to-end tests can store links in a real API server without
// running Crossplane core. Crossplane's own conversion (internal/xcrd) cannot
// be imported; this keeps the XRD's schema verbatim and adds the machinery
// fields Crossplane adds, as objects that preserve unknown fields.
package xrcrd

import (
	"fmt"
	"os"

	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// xrd is the subset of CompositeResourceDefinition (v1 and v2) read here.
type xrd struct {
	APIVersion string `json:"apiVersion"`
	Spec       struct {
		Group      string                               `json:"group"`
		Names      extv1.CustomResourceDefinitionNames  `json:"names"`
		ClaimNames *extv1.CustomResourceDefinitionNames `json:"claimNames,omitempty"`
		Scope      string                               `json:"scope,omitempty"`
		Versions   []struct {
			Name   string `json:"name"`
			Schema struct {
				OpenAPIV3Schema extv1.JSONSchemaProps `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

// FromFile reads an XRD and returns the CRDs for its composite resource and,
// for a legacy XRD, its claim.
func FromFile(path string) ([]*extv1.CustomResourceDefinition, error) {
	b, err := os.ReadFile(path) // A path inside the repository.
	if err != nil {
		return nil, fmt.Errorf("cannot read XRD: %w", err)
	}
	x := &xrd{}
	if err := yaml.Unmarshal(b, x); err != nil {
		return nil, fmt.Errorf("cannot parse XRD %s: %w", path, err)
	}
	if len(x.Spec.Versions) != 1 {
		return nil, fmt.Errorf("XRD %s: want exactly one version", path)
	}
	legacy := x.APIVersion == "apiextensions.crossplane.io/v1" || x.Spec.Scope == "LegacyCluster"
	schema := x.Spec.Versions[0].Schema.OpenAPIV3Schema
	version := x.Spec.Versions[0].Name

	var machinery []string
	scope := extv1.NamespaceScoped
	if legacy {
		scope = extv1.ClusterScoped
		machinery = []string{"claimRef", "compositionRef", "compositionRevisionRef", "compositionSelector", "compositionUpdatePolicy", "writeConnectionSecretToRef"}
	} else if x.Spec.Scope == "Cluster" {
		scope = extv1.ClusterScoped
	}
	xr := crd(x.Spec.Group, version, x.Spec.Names, scope, withMachinery(schema, legacy, machinery, "resourceRefs"))
	out := []*extv1.CustomResourceDefinition{xr}
	if legacy && x.Spec.ClaimNames != nil {
		claimMachinery := []string{"compositionRef", "compositionRevisionRef", "compositionSelector", "compositionUpdatePolicy", "compositeDeletePolicy", "resourceRef", "writeConnectionSecretToRef"}
		out = append(out, crd(x.Spec.Group, version, *x.Spec.ClaimNames, extv1.NamespaceScoped, withMachinery(schema, true, claimMachinery, "")))
	}
	return out, nil
}

func crd(group, version string, names extv1.CustomResourceDefinitionNames, scope extv1.ResourceScope, schema extv1.JSONSchemaProps) *extv1.CustomResourceDefinition {
	return &extv1.CustomResourceDefinition{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition"},
		ObjectMeta: metav1.ObjectMeta{Name: names.Plural + "." + group},
		Spec: extv1.CustomResourceDefinitionSpec{
			Group: group,
			Names: names,
			Scope: scope,
			Versions: []extv1.CustomResourceDefinitionVersion{{
				Name: version, Served: true, Storage: true,
				Schema:       &extv1.CustomResourceValidation{OpenAPIV3Schema: &schema},
				Subresources: &extv1.CustomResourceSubresources{Status: &extv1.CustomResourceSubresourceStatus{}},
			}},
		},
	}
}

func withMachinery(in extv1.JSONSchemaProps, legacy bool, specFields []string, listField string) extv1.JSONSchemaProps {
	s := *in.DeepCopy()
	preserve := true
	obj := extv1.JSONSchemaProps{Type: "object", XPreserveUnknownFields: &preserve}
	spec := s.Properties["spec"]
	if spec.Properties == nil {
		spec.Properties = map[string]extv1.JSONSchemaProps{}
	}
	if legacy {
		for _, f := range specFields {
			spec.Properties[f] = obj
		}
		if listField != "" {
			spec.Properties[listField] = extv1.JSONSchemaProps{Type: "array", Items: &extv1.JSONSchemaPropsOrArray{Schema: &obj}}
		}
	} else {
		spec.Properties["crossplane"] = obj
	}
	s.Properties["spec"] = spec
	status := s.Properties["status"]
	if status.Properties == nil {
		status.Properties = map[string]extv1.JSONSchemaProps{}
	}
	status.Type = "object"
	status.Properties["conditions"] = extv1.JSONSchemaProps{Type: "array", Items: &extv1.JSONSchemaPropsOrArray{Schema: &obj}}
	status.Properties["crossplane"] = obj
	s.Properties["status"] = status
	return s
}
