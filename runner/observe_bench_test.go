package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cipconform/cipconform/fixtures/embedded"
)

// BenchmarkProxyOverhead measures the latency the observing proxy adds to a client's requests:
// 10 connections at once send GET machineactions/{id} (the reference answers a documented 404)
// straight to the reference, then the same through the proxy, which judges every exchange. It
// reports the median of each ("direct-p50-ms", "proxy-p50-ms") and their difference
// ("p50-overhead-ms"; the goal: under 1 ms on loopback).
func BenchmarkProxyOverhead(b *testing.B) {
	target, err := embedded.Start(embedded.Options{PerMinute: -1, PerHour: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer target.Close()
	up, _ := url.Parse(target.APIBaseURL)
	o := newObserver(up, nil, target.APIBaseURL, false, b.TempDir(), io.Discard, io.Discard)
	front := httptest.NewServer(o)
	defer front.Close()
	const conns = 10
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	path := "/api/machineactions/24c7c9b9-4b1f-4c2b-9a1d-6f3e8b2a7c10"
	origin := up.Scheme + "://" + up.Host
	measure := func(base string) time.Duration {
		var mu sync.Mutex
		var took []time.Duration
		var wg sync.WaitGroup
		per := max(b.N/conns, 20)
		for range conns {
			wg.Go(func() {
				mine := make([]time.Duration, 0, per)
				for range per {
					req, _ := http.NewRequest("GET", base+path, nil)
					req.Header.Set("Authorization", "Bearer "+target.Tokens.APIReader)
					start := time.Now()
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mine = append(mine, time.Since(start))
				}
				mu.Lock()
				took = append(took, mine...)
				mu.Unlock()
			})
		}
		wg.Wait()
		slices.Sort(took)
		return took[len(took)/2]
	}
	measure(origin) // warm both paths' connections
	measure(front.URL)
	b.ResetTimer()
	direct := measure(origin)
	proxied := measure(front.URL)
	b.StopTimer()
	o.judging.Wait()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(direct), "direct-p50-ms")
	b.ReportMetric(ms(proxied), "proxy-p50-ms")
	b.ReportMetric(ms(proxied-direct), "p50-overhead-ms")
}
