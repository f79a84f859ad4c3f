package esfake

import (
	"bytes"
	"fmt"
	"time"
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
		Name: "node-0", ClusterName: c.st.clusterName, ClusterUUID: c.st.clusterUUID,
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

func handleLicense(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:monitor/xpack/license/get", "monitor", "manage", "all"); err != nil {
		return reply{}, err
	}
	if _, err := c.boolParam("local", false); err != nil {
		return reply{}, err
	}
	if _, err := c.boolParam("accept_enterprise", true); err != nil {
		return reply{}, err
	}
	issue := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"license":{"status":"active","uid":"%s","type":"%s","issue_date":"%s","issue_date_in_millis":%d`,
		"a6e9d8a0-0f7b-4d5c-9a2b-6f1d2c3b4a5e", c.st.license, issue.Format("2006-01-02T15:04:05.000Z"), issue.UnixMilli())
	switch c.st.license {
	case "basic":
		b.WriteString(`,"max_nodes":1000,"max_resource_units":null,"issued_to":"` + c.st.clusterName + `","issuer":"elasticsearch","start_date_in_millis":-1}}`)
	case "trial":
		exp := issue.Add(30 * 24 * time.Hour)
		fmt.Fprintf(&b, `,"expiry_date":"%s","expiry_date_in_millis":%d,"max_nodes":1000,"max_resource_units":null,"issued_to":"%s","issuer":"elasticsearch","start_date_in_millis":-1}}`,
			exp.Format("2006-01-02T15:04:05.000Z"), exp.UnixMilli(), c.st.clusterName)
	default:
		exp := issue.Add(10 * 365 * 24 * time.Hour)
		fmt.Fprintf(&b, `,"expiry_date":"%s","expiry_date_in_millis":%d,"max_nodes":null,"max_resource_units":100,"issued_to":"eslink","issuer":"API","start_date_in_millis":%d}}`,
			exp.Format("2006-01-02T15:04:05.000Z"), exp.UnixMilli(), issue.UnixMilli())
	}
	return ok(b.Bytes()), nil
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
