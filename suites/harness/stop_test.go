package harness

import (
	"context"
	"testing"
	"time"
)

func TestOutlivingEndsAGraceAfterItsParent(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out, stop := Outliving(ctx, 50*time.Millisecond)
	defer stop()
	cancel()
	if out.Err() != nil {
		t.Fatal("ended with its parent")
	}
	select {
	case <-out.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("still going 2 s after its parent ended")
	}
	out, stop = Outliving(context.Background(), time.Millisecond)
	stop()
	if out.Err() == nil {
		t.Error("not ended by its cancel")
	}
}
