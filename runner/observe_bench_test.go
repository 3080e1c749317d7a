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

// BenchmarkProxyOverhead measures the latency the observing proxy adds to a client's requests
// (issue 14's goal: a p50 under 1 ms at 10 concurrent connections). 10 connections at once
// send GET machineactions/{id} (the reference answers a documented 404 after verifying the
// token) three ways: straight to the reference ("direct"), through the same reverse proxy
// with neither tap nor judge ("forward", the yardstick: what any HTTP hop costs), and through
// the observing proxy, which judges every exchange ("proxy"). It reports each one's median
// latency and, as the medians over the rounds of the differences, "p50-overhead-ms" (proxy
// minus direct: the goal) and "p50-judging-ms" (proxy minus forward: what observing costs
// beyond forwarding).
//
// The rounds alternate the three ways, each in turn first, second and last (a machine whose
// speed drifts then weighs on all alike), and the judging of a proxied round is waited for
// before the next way's (so that it neither slows another way nor escapes being measured).
//
// rtt is how long the upstream takes to answer beyond its own work: 0s puts the clients, the
// upstream and the proxy on the same cores with nothing to wait for, so that the overhead
// measured there is mostly the extra CPU of a saturated machine shared out among the 10
// connections (the "forward" yardstick shows how much of it any hop costs); 5ms stands for an
// upstream a short network hop away (the real service is tens to hundreds of milliseconds
// away). -benchtime 3600x or more: fewer requests make a noisy median.
func BenchmarkProxyOverhead(b *testing.B) {
	for _, rtt := range []time.Duration{0, 5 * time.Millisecond} {
		b.Run("rtt="+rtt.String(), func(b *testing.B) { benchmarkProxyOverhead(b, rtt) })
	}
}

func benchmarkProxyOverhead(b *testing.B, rtt time.Duration) {
	opts := embedded.Options{PerMinute: -1, PerHour: -1}
	if rtt > 0 {
		opts.Fault.Wrap = func(next http.Handler, _ embedded.Kit) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(rtt)
				next.ServeHTTP(w, r)
			})
		}
	}
	target, err := embedded.Start(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer target.Close()
	up, _ := url.Parse(target.APIBaseURL)
	o := newObserver(up, nil, target.APIBaseURL, false, b.TempDir(), io.Discard, io.Discard)
	defer o.close()
	observing := httptest.NewServer(o)
	defer observing.Close()
	// The yardstick: another observer's reverse proxy served on its own, so that no request
	// is tapped or judged; its transport and buffers are set up as the observing proxy's.
	plain := newObserver(up, nil, target.APIBaseURL, false, b.TempDir(), io.Discard, io.Discard)
	defer plain.close()
	forwarding := httptest.NewServer(plain.proxy)
	defer forwarding.Close()

	const conns, rounds = 10, 12 // rounds: a multiple of the 3 ways, for each order as often
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
					if resp.StatusCode != http.StatusNotFound {
						b.Errorf("%s: status %d, want the reference's 404", base, resp.StatusCode)
						return
					}
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
		if len(d) == 0 {
			return 0
		}
		d = slices.Clone(d)
		slices.Sort(d)
		return d[len(d)/2]
	}
	for _, base := range []string{origin, forwarding.URL, observing.URL} {
		measure(base, 20) // warm each way's connections
	}
	o.drain()
	per := max(b.N/conns/rounds, 10)
	ways := []string{origin, forwarding.URL, observing.URL}
	took := make([][]time.Duration, len(ways)) // every latency of each way
	var overheads, judging []time.Duration
	b.ResetTimer()
	for round := range rounds {
		var p50 [3]time.Duration
		for k := range ways {
			way := (round + k) % len(ways)
			lat := measure(ways[way], per)
			if ways[way] == observing.URL {
				o.drain()
			}
			p50[way] = median(lat)
			took[way] = append(took[way], lat...)
		}
		overheads = append(overheads, p50[2]-p50[0])
		judging = append(judging, p50[2]-p50[1])
	}
	b.StopTimer()
	direct, forwarded, proxied := took[0], took[1], took[2]
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(median(direct)), "direct-p50-ms")
	b.ReportMetric(ms(median(forwarded)), "forward-p50-ms")
	b.ReportMetric(ms(median(proxied)), "proxy-p50-ms")
	b.ReportMetric(ms(median(overheads)), "p50-overhead-ms")
	b.ReportMetric(ms(median(judging)), "p50-judging-ms")
}
