package esfake

import (
	"bytes"
	"fmt"
	"net/http"
	"time"
)

// licenseLayout is how License renders dates (issue_date, expiry_date).
const licenseLayout = "2006-01-02T15:04:05.000Z"

// trialDuration is LicenseSettings.NON_BASIC_SELF_GENERATED_LICENSE_DURATION.
const trialDuration = 30 * 24 * time.Hour

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
	st := c.st
	issue := st.licenseIssued.UTC()
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"license":{"status":"active","uid":"%s","type":"%s","issue_date":"%s","issue_date_in_millis":%d`,
		st.licenseUID, st.license, issue.Format(licenseLayout), issue.UnixMilli())
	switch st.license {
	case "basic":
		b.WriteString(`,"max_nodes":1000,"max_resource_units":null,"issued_to":`)
		b.Write(mustJSON(st.clusterName))
		b.WriteString(`,"issuer":"elasticsearch","start_date_in_millis":-1}}`)
	case "trial":
		exp := issue.Add(trialDuration)
		fmt.Fprintf(&b, `,"expiry_date":"%s","expiry_date_in_millis":%d,"max_nodes":1000,"max_resource_units":null,"issued_to":%s,"issuer":"elasticsearch","start_date_in_millis":-1}}`,
			exp.Format(licenseLayout), exp.UnixMilli(), mustJSON(st.clusterName))
	default:
		exp := issue.Add(10 * 365 * 24 * time.Hour)
		fmt.Fprintf(&b, `,"expiry_date":"%s","expiry_date_in_millis":%d,"max_nodes":null,"max_resource_units":100,"issued_to":"eslink","issuer":"API","start_date_in_millis":%d}}`,
			exp.Format(licenseLayout), exp.UnixMilli(), issue.UnixMilli())
	}
	return ok(b.Bytes()), nil
}

// setLicense installs a self-generated license of type typ.
func (sh *shared) setLicense(typ string) {
	sh.license, sh.licenseUID, sh.licenseIssued = typ, randomUUID(), sh.clock()
	sh.stateVersion++
}

func startTrialParams(version) []string {
	return []string{"acknowledge", "type", "master_timeout", "timeout"}
}

// startTrialAck is StartTrialClusterTask's acknowledgement header.
const startTrialAck = "This API initiates a free 30-day trial for all platinum features. By starting this trial, you agree that it is subject to the terms and conditions at https://www.elastic.co/legal/trial_license/. To begin your free trial, call /start_trial again and specify the \"acknowledge=true\" parameter."

// handleStartTrial answers POST /_license/start_trial like
// RestPostStartTrialLicense and StartTrialClusterTask: one trial per
// cluster; without acknowledge=true nothing changes.
func handleStartTrial(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:admin/xpack/license/start_trial", "manage", "all"); err != nil {
		return reply{}, err
	}
	ack, err := c.boolParam("acknowledge", false)
	if err != nil {
		return reply{}, err
	}
	if t := c.param("type"); t != "" && t != "trial" {
		return reply{}, errf(http.StatusNotImplemented, "esfake_unsupported", "the fake starts trials of type [trial] only, not [%s]", t)
	}
	switch {
	case !ack:
		body := fmt.Sprintf(`{"acknowledged":false,"trial_was_started":false,"error_message":"Operation failed: Needs acknowledgement.","acknowledge":{"message":%s,"security":["With a trial license, X-Pack security features are available, but are not enabled by default."]}}`,
			mustJSON(startTrialAck))
		return ok([]byte(body)), nil
	case !c.st.trialUsed:
		c.st.trialUsed = true
		c.st.setLicense("trial")
		return ok([]byte(`{"acknowledged":true,"trial_was_started":true,"type":"trial"}`)), nil
	default:
		return reply{status: http.StatusForbidden, body: []byte(`{"acknowledged":true,"trial_was_started":false,"error_message":"Operation failed: Trial was already activated."}`)}, nil
	}
}

func startBasicParams(version) []string { return []string{"acknowledge", "master_timeout", "timeout"} }

// startBasicAck is StartBasicClusterTask's acknowledgement header.
const startBasicAck = "This license update requires acknowledgement. To acknowledge the license, please read the following messages and call /start_basic again, this time with the \"acknowledge=true\" parameter:"

// handleStartBasic answers POST /_license/start_basic like
// StartBasicClusterTask. Going down from another license needs
// acknowledge=true; the per-feature acknowledgement messages Elasticsearch
// lists are left out.
func handleStartBasic(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:admin/xpack/license/start_basic", "manage", "all"); err != nil {
		return reply{}, err
	}
	ack, err := c.boolParam("acknowledge", false)
	if err != nil {
		return reply{}, err
	}
	switch {
	case c.st.license == "basic":
		return reply{status: http.StatusForbidden, body: []byte(`{"acknowledged":true,"basic_was_started":false,"error_message":"Operation failed: Current license is basic."}`)}, nil
	case !ack:
		body := fmt.Sprintf(`{"acknowledged":false,"basic_was_started":false,"error_message":"Operation failed: Needs acknowledgement.","acknowledge":{"message":%s}}`, mustJSON(startBasicAck))
		return ok([]byte(body)), nil
	}
	c.st.setLicense("basic")
	return ok([]byte(`{"acknowledged":true,"basic_was_started":true}`)), nil
}

func putLicenseParams(version) []string { return []string{"acknowledge", "master_timeout", "timeout"} }

// handlePutLicense answers PUT/POST /_license. The fake cannot verify
// Elastic's license signatures, so every license is one whose signature
// does not verify: LicenseService answers license_status invalid and
// keeps the license it has.
func handlePutLicense(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:admin/xpack/license/put", "manage", "all"); err != nil {
		return reply{}, err
	}
	if _, err := c.boolParam("acknowledge", false); err != nil {
		return reply{}, err
	}
	_, fs, serr, err := c.bodyFields("license")
	if err != nil {
		return reply{}, err
	}
	if serr != nil {
		return reply{}, serr
	}
	found := false
	for _, f := range fs {
		found = found || f.key == "license" || f.key == "licenses"
	}
	if !found {
		return reply{}, parseExc("failed to parse licenses expected a license object")
	}
	return ok([]byte(`{"acknowledged":true,"license_status":"invalid"}`)), nil
}

// handleDeleteLicense answers DELETE /_license: the cluster falls back to
// a self-generated basic license.
func handleDeleteLicense(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:admin/xpack/license/delete", "manage", "all"); err != nil {
		return reply{}, err
	}
	c.st.setLicense("basic")
	return ok([]byte(`{"acknowledged":true}`)), nil
}
