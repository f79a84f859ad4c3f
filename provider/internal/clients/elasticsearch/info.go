package elasticsearch

import "context"

// ClusterUUID returns the cluster_uuid of GET /: Elasticsearch generates it
// when the cluster first forms, and a cluster answers with its own. ECK
// records the same value on the cluster's Elasticsearch object, so the two
// tell whether a client reaches that cluster. It is read on every call: a
// cached answer would outlive a change of what the URL reaches.
func (c *Client) ClusterUUID(ctx context.Context) (string, error) {
	const op = "read the cluster's uuid"
	res, err := c.es.Info(c.es.Info.WithContext(ctx))
	if err != nil {
		return "", classifyTransport(c.url, op, err)
	}
	var info struct {
		ClusterUUID string `json:"cluster_uuid"`
	}
	if err := decode(res, c.url, op, &info); err != nil {
		return "", err
	}
	if info.ClusterUUID == "_na_" {
		// What a node answers before the cluster formed.
		return "", nil
	}
	return info.ClusterUUID, nil
}
