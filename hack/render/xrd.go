package main

import (
	"fmt"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/crossplane-runtime/v2/pkg/xcrd"

	xpv1 "github.com/crossplane/crossplane/apis/v2/apiextensions/v1"
)

// applyXRDDefaults sets the XRD schema's defaults on the XR, as the API server
// would on create. The engine does not do this itself; `crossplane
// composition render --xrd` does it client side (crossplane/cli
// pkg/xr/xrd.go), and so do we.
func applyXRDDefaults(xr, xrdU *unstructured.Unstructured) error {
	// Like the CLI, decode v1 and v2 XRDs alike into the v1 type: it has every
	// field CRD generation needs, scope included.
	xrd := &xpv1.CompositeResourceDefinition{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(xrdU.Object, xrd); err != nil {
		return fmt.Errorf("cannot decode XRD %q: %w", xrdU.GetName(), err)
	}
	crd, err := xcrd.ForCompositeResource(xrd)
	if err != nil {
		return fmt.Errorf("cannot derive CRD from XRD %q: %w", xrd.GetName(), err)
	}

	var version *extv1.CustomResourceDefinitionVersion
	for i, v := range crd.Spec.Versions {
		if crd.Spec.Group+"/"+v.Name == xr.GetAPIVersion() {
			version = &crd.Spec.Versions[i]
			break
		}
	}
	if version == nil || version.Schema == nil || version.Schema.OpenAPIV3Schema == nil {
		return fmt.Errorf("XRD %q has no schema for API version %q", xrd.GetName(), xr.GetAPIVersion())
	}
	internal := &apiextensions.JSONSchemaProps{}
	if err := extv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(version.Schema.OpenAPIV3Schema, internal, nil); err != nil {
		return fmt.Errorf("cannot convert XRD %q schema: %w", xrd.GetName(), err)
	}
	structural, err := schema.NewStructural(internal)
	if err != nil {
		return fmt.Errorf("XRD %q schema is not structural: %w", xrd.GetName(), err)
	}
	structuraldefaulting.Default(xr.Object, structural)
	return nil
}
