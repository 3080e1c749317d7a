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
// straight to the reference, then the same through the proxy, which judges every exchange.
// That is done in rounds, direct and proxied one after the other, each direct round once the
// judging of the round before is done (so that it neither slows the direct round nor escapes
// being measured at all), so that a machine whose speed drifts during the benchmark weighs on
// both alike. It reports the median latency of each ("direct-p50-ms", "proxy-p50-ms") and the
// median over the rounds of the difference of the two ("p50-overhead-ms"; the goal: under
// 1 ms on loopback). -benchtime 3000x or more: fewer requests make a noisy median.
func BenchmarkProxyOverhead(b *testing.B) {
	target, err := embedded.Start(embedded.Options{PerMinute: -1, PerHour: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer target.Close()
	up, _ := url.Parse(target.APIBaseURL)
	o := newObserver(up, nil, target.APIBaseURL, false, b.TempDir(), io.Discard, io.Discard)
	defer o.close()
	front := httptest.NewServer(o)
	defer front.Close()
	const conns, rounds = 10, 10
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	path := "/api/machineactions/24c7c9b9-4b1f-4c2b-9a1d-6f3e8b2a7c10"
	origin := up.Scheme + "://" + up.Host
	// measure sends per requests on each connection at once and returns every latency.
	measure := func(base string, per int) []time.Duration {
		var mu sync.Mutex
		var took []time.Duration
		var wg sync.WaitGroup
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
		return took
	}
	median := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[len(d)/2]
	}
	measure(origin, 20) // warm both paths' connections
	measure(front.URL, 20)
	o.drain()
	per := max(b.N/conns/rounds, 10)
	var direct, proxied []time.Duration
	var overheads []time.Duration
	b.ResetTimer()
	for range rounds {
		d := measure(origin, per)
		p := measure(front.URL, per)
		o.drain()
		overheads = append(overheads, median(p)-median(d))
		direct, proxied = append(direct, d...), append(proxied, p...)
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(median(direct)), "direct-p50-ms")
	b.ReportMetric(ms(median(proxied)), "proxy-p50-ms")
	b.ReportMetric(ms(median(overheads)), "p50-overhead-ms")
}
