//go:build tools

// Package tools pins golangci-lint in its own module so its dependencies stay
// out of eslink's go.mod.
package tools

import _ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
