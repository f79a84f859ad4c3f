package esfake

import (
	"bytes"
	"fmt"
)

func handleRoot(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:monitor/main", "monitor", "manage", "all"); err != nil {
		return reply{}, err
	}
	v := c.st.ver
	body := mustJSON(struct {
		Name        string `json:"name"`
		ClusterName string `json:"cluster_name"`
		ClusterUUID string `json:"cluster_uuid"`
		Version     struct {
			Number        string `json:"number"`
			BuildFlavor   string `json:"build_flavor"`
			BuildType     string `json:"build_type"`
			BuildHash     string `json:"build_hash"`
			BuildDate     string `json:"build_date"`
			BuildSnapshot bool   `json:"build_snapshot"`
			Lucene        string `json:"lucene_version"`
			MinWire       string `json:"minimum_wire_compatibility_version"`
			MinIndex      string `json:"minimum_index_compatibility_version"`
		} `json:"version"`
		Tagline string `json:"tagline"`
	}{
		Name: c.st.nodeName, ClusterName: c.st.clusterName, ClusterUUID: c.st.clusterUUID,
		Version: struct {
			Number        string `json:"number"`
			BuildFlavor   string `json:"build_flavor"`
			BuildType     string `json:"build_type"`
			BuildHash     string `json:"build_hash"`
			BuildDate     string `json:"build_date"`
			BuildSnapshot bool   `json:"build_snapshot"`
			Lucene        string `json:"lucene_version"`
			MinWire       string `json:"minimum_wire_compatibility_version"`
			MinIndex      string `json:"minimum_index_compatibility_version"`
		}{v.raw, "default", "docker", "0000000000000000000000000000000000000000", "2025-01-01T00:00:00.000Z", false, v.luceneVersion(), v.minWireCompat(), v.minIndexCompat()},
		Tagline: "You Know, for Search",
	})
	return ok(body), nil
}

func handleAuthenticate(c *call) (reply, *esError) {
	p := c.who
	var b bytes.Buffer
	b.WriteString(`{"username":`)
	b.Write(mustJSON(p.user.Name))
	b.WriteString(`,"roles":`)
	if p.key != nil {
		b.WriteString(`[]`)
	} else {
		b.Write(mustJSON(p.user.Roles))
	}
	b.WriteString(`,"full_name":null,"email":null,"metadata":{},"enabled":true`)
	if p.key != nil {
		b.WriteString(`,"authentication_realm":{"name":"_es_api_key","type":"_es_api_key"},"lookup_realm":{"name":"_es_api_key","type":"_es_api_key"},"authentication_type":"api_key","api_key":{"id":`)
		b.Write(mustJSON(p.key.id))
		b.WriteString(`,"name":`)
		b.Write(mustJSON(p.key.name))
		b.WriteString(`}}`)
		return ok(b.Bytes()), nil
	}
	fmt.Fprintf(&b, `,"authentication_realm":{"name":%q,"type":%q},"lookup_realm":{"name":%q,"type":%q},"authentication_type":"realm"}`,
		p.realm, p.realmType, p.realm, p.realmType)
	return ok(b.Bytes()), nil
}
