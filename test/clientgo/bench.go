package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// benchApply times server-side apply the way controllers issue it: N ConfigMaps created by apply
// (manager a), re-applied unchanged by a, extended by manager b (shared object, new field), and taken
// over by b with force (a field a owns), PARALLEL requests in flight, over TLS with a bearer token.
// Prints one line per phase: "<phase> <seconds> <ops/s> <errors>".
//
// Usage: tmcd-clientgo-check bench-apply SERVER TOKEN NAMESPACE PREFIX N PARALLEL
func benchApply(args []string) {
	if len(args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: bench-apply SERVER TOKEN NAMESPACE PREFIX N PARALLEL")
		os.Exit(2)
	}
	n, _ := strconv.Atoi(args[4])
	parallel, _ := strconv.Atoi(args[5])
	cfg := &rest.Config{Host: args[0], BearerToken: args[1], TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		QPS: -1, UserAgent: "tmcd-bench"}
	cs, err := kubernetes.NewForConfig(cfg)
	check("clientset", err)
	ns, prefix := args[2], args[3]
	ctx := context.Background()
	phase := func(name string, apply func(i int) error) {
		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		errs := 0
		next := make(chan int)
		for w := 0; w < parallel; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					if err := apply(i); err != nil {
						mu.Lock()
						if errs == 0 {
							fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
						}
						errs++
						mu.Unlock()
					}
				}
			}()
		}
		for i := 0; i < n; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		s := time.Since(start).Seconds()
		fmt.Printf("%s %.3f %.1f %d\n", name, s, float64(n)/s, errs)
	}
	name := func(i int) string { return fmt.Sprintf("%s-%d", prefix, i) }
	apply := func(i int, manager string, data map[string]string, force bool) error {
		ac := corev1ac.ConfigMap(name(i), ns).WithData(data)
		_, err := cs.CoreV1().ConfigMaps(ns).Apply(ctx, ac, metav1.ApplyOptions{FieldManager: manager, Force: force})
		return err
	}
	phase("create", func(i int) error { return apply(i, "a", map[string]string{"k": "1", "a": "x"}, false) })
	phase("reapply", func(i int) error { return apply(i, "a", map[string]string{"k": "1", "a": "x"}, false) })
	phase("second-manager", func(i int) error { return apply(i, "b", map[string]string{"b": "y"}, false) })
	phase("force", func(i int) error { return apply(i, "b", map[string]string{"b": "y", "k": "2"}, true) })
	for i := 0; i < n; i++ {
		_ = cs.CoreV1().ConfigMaps(ns).Delete(ctx, name(i), metav1.DeleteOptions{})
	}
}
