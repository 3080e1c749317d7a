package observe

import (
	"context"
	"strings"
	"testing"
)

// BenchmarkJudge: what the proxy spends judging one exchange, off the request's path but on
// the same CPU: a poll of an action that is not there (404) and a collection (201).
func BenchmarkJudge(b *testing.B) {
	created := strings.NewReplacer("STATUS", "Pending", "CREATED", "2025-03-04T10:11:12.1234567Z").Replace(action)
	for _, tc := range []struct {
		name string
		ex   Exchange
	}{
		{"get-404", exchange("GET", "/api/machineactions/24c7c9b9-4b1f-4c2b-9a1d-6f3e8b2a7c10", "", 404, `{"error":{"code":"NotFound","message":"no such machine action"}}`)},
		{"collect-201", exchange("POST", "/api/machines/m1/collectInvestigationPackage", `{"Comment":"c"}`, 201, created)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			l := NewLog(nil)
			b.ReportAllocs()
			for b.Loop() {
				if r := l.Add(context.Background(), tc.ex); r.Outcome != "passed" {
					b.Fatalf("%s: %s %s", tc.name, r.Outcome, r.Message)
				}
			}
		})
	}
}
