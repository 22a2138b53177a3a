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

// benchCopies is the scale benchmark's baseline (bench/scale_bench.py): what the fake clusters take when
// a client applies the copies itself. N Deployments, workload i going to 2 or 3 clusters (alternating)
// out of CLUSTERS, starting at cluster i % CLUSTERS; each copy is one server-side apply to
// SERVER/clusters/root:fake-<c>, PARALLEL applies in flight, TLS with a bearer token, no client-side
// rate limit. Prints "copies <n> seconds <s> copies_per_s <r> errors <e>".
//
// Usage: tmcd-clientgo-check bench-copies SERVER TOKEN CLUSTERS NAMESPACE N PARALLEL
func benchCopies(args []string) {
	if len(args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: bench-copies SERVER TOKEN CLUSTERS NAMESPACE N PARALLEL")
		os.Exit(2)
	}
	clusters, _ := strconv.Atoi(args[2])
	ns := args[3]
	n, _ := strconv.Atoi(args[4])
	parallel, _ := strconv.Atoi(args[5])
	ctx := context.Background()
	cs := make([]*kubernetes.Clientset, clusters)
	for c := range cs {
		cfg := &rest.Config{Host: fmt.Sprintf("%s/clusters/root:fake-%d", args[0], c), BearerToken: args[1],
			TLSClientConfig: rest.TLSClientConfig{Insecure: true}, QPS: -1, UserAgent: "tmcd-bench"}
		var err error
		cs[c], err = kubernetes.NewForConfig(cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
		_, _ = cs[c].CoreV1().Namespaces().Create(ctx, nsObj, metav1.CreateOptions{})
	}
	type job struct{ i, c int }
	jobs := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs, copies := 0, 0
	start := time.Now()
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				name := fmt.Sprintf("d-%d", j.i)
				labels := map[string]string{"pod": name}
				d := appsv1ac.Deployment(name, ns).WithLabels(map[string]string{"app": "scale"}).
					WithSpec(appsv1ac.DeploymentSpec().WithReplicas(0).
						WithSelector(metav1ac.LabelSelector().WithMatchLabels(labels)).
						WithTemplate(corev1ac.PodTemplateSpec().WithLabels(labels).
							WithSpec(corev1ac.PodSpec().WithContainers(corev1ac.Container().
								WithName("c").WithImage("registry.k8s.io/pause:3.9")))))
				_, err := cs[j.c].AppsV1().Deployments(ns).Apply(ctx, d,
					metav1.ApplyOptions{FieldManager: "bench", Force: true})
				mu.Lock()
				if err != nil {
					if errs == 0 {
						fmt.Fprintln(os.Stderr, err)
					}
					errs++
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		for k := 0; k < 2+i%2 && k < clusters; k++ {
			jobs <- job{i, (i + k) % clusters}
			copies++
		}
	}
	close(jobs)
	wg.Wait()
	s := time.Since(start).Seconds()
	fmt.Printf("copies %d seconds %.3f copies_per_s %.1f errors %d\n", copies, s, float64(copies)/s, errs)
}
