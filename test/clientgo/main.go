// tmcd-clientgo-check drives a Kubernetes API with client-go as applications do: typed clients
// (protobuf bodies), strategic merge patch, the scale subresource, dry-run, apply configurations
// (server-side apply with a conflict), the dynamic client and a shared informer. It runs against tmcd
// and against a real kube-apiserver in test/e2e/test_kubectl_parity.py and must pass on both.
//
// Usage: tmcd-clientgo-check KUBECONFIG NAMESPACE
//
//	tmcd-clientgo-check bench-apply ... (bench.go; bench/apply_bench.sh)
//	tmcd-clientgo-check bench-copies ... (bench.go; bench/scale_bench.py)
//	tmcd-clientgo-check bench-direct ... (bench.go; bench/sync_bench.py)
//	tmcd-clientgo-check bench-list ... (benchlist.go; bench/kcp_cache_bench.py)
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
)

func check(name string, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL %s: %v\n", name, err)
		os.Exit(1)
	}
	fmt.Printf("ok %s\n", name)
}

func expect(name string, cond bool, format string, args ...any) {
	if !cond {
		check(name, fmt.Errorf(format, args...))
	}
	check(name, nil)
}

// The benchmarks' baselines (bench.go, benchlist.go), by their first argument.
var benches = map[string]func(args []string){
	"bench-apply": benchApply, "bench-copies": benchCopies, "bench-direct": benchDirect, "bench-list": benchList,
}

func main() {
	if len(os.Args) > 1 {
		if bench, ok := benches[os.Args[1]]; ok {
			bench(os.Args[2:])
			return
		}
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: tmcd-clientgo-check KUBECONFIG NAMESPACE")
		os.Exit(2)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Args[1])
	check("kubeconfig", err)
	// What kubectl and most controllers do: protobuf bodies for built-in kinds.
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	check("clientset", err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := os.Args[2]

	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		metav1.CreateOptions{})
	check("typed create namespace (protobuf)", err)

	// A shared informer sees objects created after it synced.
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	seen := make(chan string, 16)
	_, err = factory.Core().V1().ConfigMaps().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { seen <- obj.(*corev1.ConfigMap).Name },
	})
	check("informer handler", err)
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		expect("informer sync "+typ.String(), ok, "cache did not sync")
	}

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Labels: map[string]string{"app": "x"}},
		Data: map[string]string{"a": "1"}, BinaryData: map[string][]byte{"bin": {0, 255}}}
	created, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{FieldManager: "go-create"})
	check("typed create configmap (protobuf)", err)
	expect("binary data round trip", string(created.BinaryData["bin"]) == string([]byte{0, 255}), "got %v",
		created.BinaryData)
	select {
	case name := <-seen:
		for name == "kube-root-ca.crt" {
			name = <-seen
		}
		expect("informer add event", name == "cfg", "got %q", name)
	case <-time.After(30 * time.Second):
		check("informer add event", fmt.Errorf("no event within 30s"))
	}

	_, err = cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "dry"}},
		metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	check("dry-run create", err)
	_, err = cs.CoreV1().ConfigMaps(ns).Get(ctx, "dry", metav1.GetOptions{})
	expect("dry-run stored nothing", apierrors.IsNotFound(err), "get after dry-run: %v", err)

	replicas := int32(1)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{
		Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27",
				Env: []corev1.EnvVar{{Name: "A", Value: "1"}}}}}}}}
	_, err = cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
	check("typed create deployment (protobuf)", err)
	smp := `{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"B","value":"2"}]}]}}}}`
	patched, err := cs.AppsV1().Deployments(ns).Patch(ctx, "web", types.StrategicMergePatchType, []byte(smp),
		metav1.PatchOptions{})
	check("strategic merge patch", err)
	expect("env merged by name", len(patched.Spec.Template.Spec.Containers[0].Env) == 2, "env %v",
		patched.Spec.Template.Spec.Containers[0].Env)

	scale, err := cs.AppsV1().Deployments(ns).GetScale(ctx, "web", metav1.GetOptions{})
	check("get scale", err)
	expect("scale selector", scale.Status.Selector == "app=web", "selector %q", scale.Status.Selector)
	// The server's deployment controller may write the Deployment between the read and the write:
	// retry on a conflict with a fresh read, as client-go users do (retry.RetryOnConflict).
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s, err := cs.AppsV1().Deployments(ns).GetScale(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		s.Spec.Replicas = 3
		_, err = cs.AppsV1().Deployments(ns).UpdateScale(ctx, "web", s, metav1.UpdateOptions{})
		return err
	})
	check("update scale", err)
	got, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	check("get deployment", err)
	expect("scaled", *got.Spec.Replicas == 3, "replicas %d", *got.Spec.Replicas)

	ac := corev1ac.ConfigMap("applied", ns).WithData(map[string]string{"k": "1"})
	_, err = cs.CoreV1().ConfigMaps(ns).Apply(ctx, ac, metav1.ApplyOptions{FieldManager: "team-a"})
	check("apply configuration (create)", err)
	other := corev1ac.ConfigMap("applied", ns).WithData(map[string]string{"k": "2"})
	_, err = cs.CoreV1().ConfigMaps(ns).Apply(ctx, other, metav1.ApplyOptions{FieldManager: "team-b"})
	expect("apply conflict", apierrors.IsConflict(err), "want a conflict, got %v", err)
	res, err := cs.CoreV1().ConfigMaps(ns).Apply(ctx, other, metav1.ApplyOptions{FieldManager: "team-b", Force: true})
	check("apply with force", err)
	expect("forced value", res.Data["k"] == "2", "data %v", res.Data)

	dyn, err := dynamic.NewForConfig(cfg)
	check("dynamic client", err)
	list, err := dyn.Resource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}).
		Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: ""})
	check("dynamic list", err)
	expect("dynamic list items", len(list.Items) == 1 && list.Items[0].GetName() == "web", "items %d",
		len(list.Items))

	err = cs.CoreV1().ConfigMaps(ns).Delete(ctx, "cfg", metav1.DeleteOptions{})
	check("typed delete", err)
	fmt.Println("all checks passed")
}
