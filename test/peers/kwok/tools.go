//go:build tools

// Package tools pins kwok (fake kubelets and Nodes for the test clusters) as a module dependency
// so that build.sh builds it from the Go module proxy at the version in go.mod.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
