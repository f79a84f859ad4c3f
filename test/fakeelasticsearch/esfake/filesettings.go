package esfake

import (
	"fmt"
)

// fileSettings is the file-based settings state a node reports in its
// cluster metadata (reserved_state.file_settings): the version of the
// settings file it applied last and, when one failed, that version's error.
type fileSettings struct {
	version      int64
	errorVersion int64
	errorKind    string
}

// SetFileSettingsApplied stands for the node applying the file-based
// settings file of version (ECK writes the version into settings.json).
func (s *Server) SetFileSettingsApplied(version int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.fileSettings.version = version
	s.st.fileSettings.errorVersion, s.st.fileSettings.errorKind = 0, ""
}

// SetFileSettingsFailed stands for the node failing to apply the file of
// version, with ES's error kind (parsing, validation or transient).
func (s *Server) SetFileSettingsFailed(version int64, kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.fileSettings.errorVersion, s.st.fileSettings.errorKind = version, kind
}

// handleClusterState answers GET /_cluster/state/metadata with the only
// part of the metadata the fake models, the file-based settings state. With
// filter_path=metadata.reserved_state.file_settings it returns exactly that
// path, and {} when no file was ever applied, as ES's filtering does.
func handleClusterState(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:monitor/state", "monitor", "manage", "all"); err != nil {
		return reply{}, err
	}
	if m := c.params["metric"]; m != "metadata" {
		return reply{}, illegalArg("the fake serves only the metadata metric of the cluster state, not [%s]", m)
	}
	fs := c.st.fileSettings
	if fs.version == 0 && fs.errorVersion == 0 {
		if c.param("filter_path") != "" {
			return ok([]byte(`{}`)), nil
		}
		return ok(fmt.Appendf(nil, `{"cluster_name":%s,"metadata":{"reserved_state":{}}}`, mustJSON(c.st.clusterName))), nil
	}
	body := fmt.Sprintf(`"file_settings":{"version":%d,"handlers":["cluster_settings","cluster_secrets"]`, fs.version)
	if fs.errorVersion != 0 {
		body += fmt.Sprintf(`,"errors":{"version":%d,"error_kind":%q,"errors":["failed to apply file settings"]}`, fs.errorVersion, fs.errorKind)
	}
	body += "}"
	if c.param("filter_path") != "" {
		return ok([]byte(`{"metadata":{"reserved_state":{` + body + `}}}`)), nil
	}
	return ok(fmt.Appendf(nil, `{"cluster_name":%s,"metadata":{"reserved_state":{%s}}}`, mustJSON(c.st.clusterName), body)), nil
}
