package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
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
	needArgs(len(args) == 6, "bench-apply SERVER TOKEN NAMESPACE PREFIX N PARALLEL")
	n, _ := strconv.Atoi(args[4])
	parallel, _ := strconv.Atoi(args[5])
	cs, err := kubernetes.NewForConfig(benchConfig(args[0], args[1]))
	check("clientset", err)
	ns, prefix := args[2], args[3]
	ctx := context.Background()
	phase := func(name string, apply func(i int) error) {
		start := time.Now()
		errs := inParallel(name, n, parallel, apply)
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

// inParallel runs do(0) .. do(n-1) on `parallel` goroutines and returns how many failed; the first
// error is printed, labelled `name`.
func inParallel(name string, n, parallel int, do func(i int) error) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := 0
	next := make(chan int)
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := do(i); err != nil {
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
	return errs
}

// benchCopies is the scale benchmark's baseline (bench/scale_bench.py): what the fake clusters take when
// a client applies the copies itself. N Deployments, workload i going to 2 or 3 clusters (alternating)
// out of CLUSTERS, starting at cluster i % CLUSTERS; each copy is one server-side apply to
// SERVER/clusters/root:fake-<c>, PARALLEL applies in flight, TLS with a bearer token, no client-side
// rate limit. Prints "copies <n> seconds <s> copies_per_s <r> errors <e>".
//
// Usage: tmcd-clientgo-check bench-copies SERVER TOKEN CLUSTERS NAMESPACE N PARALLEL
func benchCopies(args []string) {
	needArgs(len(args) == 6, "bench-copies SERVER TOKEN CLUSTERS NAMESPACE N PARALLEL")
	clusters, _ := strconv.Atoi(args[2])
	n, _ := strconv.Atoi(args[4])
	parallel, _ := strconv.Atoi(args[5])
	cs := make([]*kubernetes.Clientset, clusters)
	for c := range cs {
		cs[c] = copyClient(fmt.Sprintf("%s/clusters/root:fake-%d", args[0], c), args[1], args[3])
	}
	var jobs []copyJob
	for i := 0; i < n; i++ {
		for k := 0; k < 2+i%2 && k < clusters; k++ {
			jobs = append(jobs, copyJob{fmt.Sprintf("d-%d", i), (i + k) % clusters})
		}
	}
	applyCopies(cs, args[3], "scale", jobs, parallel)
}

// benchDirect is the sync benchmark's baseline (bench/sync_bench.py): N Deployments d-0000 .. d-<N-1>,
// each server-side applied to every SERVER (its own bearer token, TLS), PARALLEL applies in flight in
// all, no client-side rate limit: what tmcd does for the same workloads, minus tmcd. Prints the same
// line as bench-copies.
//
// Usage: tmcd-clientgo-check bench-direct NAMESPACE N PARALLEL SERVER TOKEN [SERVER TOKEN]...
func benchDirect(args []string) {
	needArgs(len(args) >= 5 && len(args)%2 == 1, "bench-direct NAMESPACE N PARALLEL SERVER TOKEN [SERVER TOKEN]...")
	n, _ := strconv.Atoi(args[1])
	parallel, _ := strconv.Atoi(args[2])
	var cs []*kubernetes.Clientset
	for k := 3; k < len(args); k += 2 {
		cs = append(cs, copyClient(args[k], args[k+1], args[0]))
	}
	var jobs []copyJob
	for i := 0; i < n; i++ {
		for c := range cs {
			jobs = append(jobs, copyJob{fmt.Sprintf("d-%04d", i), c})
		}
	}
	applyCopies(cs, args[0], "bench", jobs, parallel)
}

type copyJob struct {
	name    string
	cluster int
}

// copyClient is a client-go clientset for one cluster (TLS, bearer token, no client-side rate limit),
// with namespace ns created there.
func copyClient(host, token, ns string) *kubernetes.Clientset {
	cs, err := kubernetes.NewForConfig(benchConfig(host, token))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	_, _ = cs.CoreV1().Namespaces().Create(context.Background(), nsObj, metav1.CreateOptions{})
	return cs
}

// applyCopies server-side applies one Deployment (replicas 0, label app=APP) per job, PARALLEL in
// flight, and prints "copies <n> seconds <s> copies_per_s <r> errors <e>".
func applyCopies(cs []*kubernetes.Clientset, ns, app string, jobs []copyJob, parallel int) {
	ctx := context.Background()
	start := time.Now()
	errs := inParallel("copies", len(jobs), parallel, func(x int) error {
		j := jobs[x]
		labels := map[string]string{"pod": j.name}
		d := appsv1ac.Deployment(j.name, ns).WithLabels(map[string]string{"app": app}).
			WithSpec(appsv1ac.DeploymentSpec().WithReplicas(0).
				WithSelector(metav1ac.LabelSelector().WithMatchLabels(labels)).
				WithTemplate(corev1ac.PodTemplateSpec().WithLabels(labels).
					WithSpec(corev1ac.PodSpec().WithContainers(corev1ac.Container().
						WithName("c").WithImage("registry.k8s.io/pause:3.9")))))
		_, err := cs[j.cluster].AppsV1().Deployments(ns).Apply(ctx, d, metav1.ApplyOptions{FieldManager: "bench", Force: true})
		return err
	})
	s := time.Since(start).Seconds()
	fmt.Printf("copies %d seconds %.3f copies_per_s %.1f errors %d\n", len(jobs), s, float64(len(jobs))/s, errs)
}

// benchConfig is every baseline's client configuration: TLS (the peers' self-signed certificates), a
// bearer token, no client-side rate limit.
func benchConfig(host, token string) *rest.Config {
	return &rest.Config{Host: host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		QPS: -1, UserAgent: "tmcd-bench"}
}

// needArgs exits with the usage line unless ok.
func needArgs(ok bool, usage string) {
	if !ok {
		fmt.Fprintln(os.Stderr, "usage: "+usage)
		os.Exit(2)
	}
}
