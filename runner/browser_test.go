package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// checkReportInBrowser opens report.html in headless Chromium, as a person would, and finds the
// verdict and a failed check's details. Without Chromium the test is skipped with the reason,
// unless CIPCONFORM_REQUIRE_CHROMIUM=1 (CI sets it), which makes a missing browser a failure.
func checkReportInBrowser(t *testing.T, path string) {
	t.Helper()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CIPCONFORM_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("Chromium is required (CIPCONFORM_REQUIRE_CHROMIUM=1) but not installed: apt-get install chromium")
		}
		t.Skip("Chromium is not installed, so report.html is not checked in a browser: apt-get install chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if _, err := chromedp.Run(bctx, chromedp.Navigate("file://"+path)); err != nil {
		t.Fatalf("chromium cannot open the report: %v", err)
	}
	verdict, err := chromedp.Run(bctx, chromedp.Text("#verdict"))
	if err != nil {
		t.Fatalf("no verdict: %v", err)
	}
	details, err := chromedp.Run(bctx, chromedp.Text("#CIP-CREATE-002"))
	if err != nil {
		t.Fatalf("no CIP-CREATE-002: %v", err)
	}
	open, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.getElementById("CIP-CREATE-002").open`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(verdict, "FAILED") {
		t.Errorf("the verdict shown first is %q", verdict)
	}
	if !open || !strings.Contains(details, "text/plain") || !strings.Contains(details, "reproduce: curl") {
		t.Errorf("the failed check is not expanded with its exchange and curl (open=%v):\n%s", open, details)
	}
}
