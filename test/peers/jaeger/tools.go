//go:build tools

// Package tools pins the Jaeger command build.sh builds.
package tools

import (
	_ "github.com/jaegertracing/jaeger/cmd/jaeger"
)
