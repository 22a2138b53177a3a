package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
)

// benchList is the kcp cache benchmark's baseline (bench/kcp_cache_bench.py): a paged LIST (limit=PAGE)
// of every PATH under SERVER, the paths side by side as tmcd's informers list them, over client-go's
// transport (TLS, bearer token, no client-side rate limit), each page decoded into unstructured
// objects as the dynamic client and an informer's list decode it. Prints
// "objects <n> bytes <b> seconds <s>", bytes being the pages' bodies.
//
// Usage: tmcd-clientgo-check bench-list SERVER TOKEN PAGE PATH [PATH]...
func benchList(args []string) {
	needArgs(len(args) >= 4, "bench-list SERVER TOKEN PAGE PATH [PATH]...")
	page, _ := strconv.Atoi(args[2])
	hc, err := rest.HTTPClientFor(benchConfig(args[0], args[1]))
	failOn("http client", err)
	var mu sync.Mutex
	var wg sync.WaitGroup
	objects, bytes := 0, 0
	start := time.Now()
	for _, path := range args[3:] {
		wg.Add(1)
		go func(path string) {
			defer wg.Done()
			n, b, err := listPaged(hc, args[0]+path, page)
			failOn("list "+path, err)
			mu.Lock()
			objects, bytes = objects+n, bytes+b
			mu.Unlock()
		}(path)
	}
	wg.Wait()
	fmt.Printf("objects %d bytes %d seconds %.3f\n", objects, bytes, time.Since(start).Seconds())
}

// listPaged follows continue tokens until the list is complete; returns the items and body bytes.
func listPaged(hc *http.Client, base string, page int) (int, int, error) {
	objects, bytes, cont := 0, 0, ""
	for {
		u := base + "?limit=" + strconv.Itoa(page)
		if cont != "" {
			u += "&continue=" + url.QueryEscape(cont)
		}
		resp, err := hc.Get(u)
		if err != nil {
			return objects, bytes, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return objects, bytes, err
		}
		if resp.StatusCode != http.StatusOK {
			return objects, bytes, fmt.Errorf("%s: %s", resp.Status, body)
		}
		var list unstructured.UnstructuredList
		if err := list.UnmarshalJSON(body); err != nil {
			return objects, bytes, err
		}
		objects += len(list.Items)
		bytes += len(body)
		if cont = list.GetContinue(); cont == "" {
			return objects, bytes, nil
		}
	}
}

// failOn exits on an error, printing nothing otherwise (check prints a line per success).
func failOn(what string, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
		os.Exit(1)
	}
}
