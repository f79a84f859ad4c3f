package fn

import (
	"testing"

	"google.golang.org/protobuf/types/known/structpb"
	"sigs.k8s.io/yaml"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
)

// obj parses YAML into a protobuf struct.
func obj(t testing.TB, y string) *structpb.Struct {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatalf("bad YAML fixture: %v\n%s", err, y)
	}
	return resource.MustStructJSON(string(j))
}

// required wraps objects as a resolved required resource; none means
// Crossplane found nothing.
func required(items ...*structpb.Struct) *fnv1.Resources {
	r := &fnv1.Resources{Items: []*fnv1.Resource{}}
	for _, i := range items {
		r.Items = append(r.Items, &fnv1.Resource{Resource: i})
	}
	return r
}
