package retry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/internal/model"
)

func TestScheduleWaits(t *testing.T) {
	var got []time.Duration
	for n := 1; n <= 7; n++ {
		got = append(got, Graph.Wait(n))
	}
	want := []time.Duration{1, 2, 4, 8, 16, 16, 16}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("Graph waits %v, want 1 2 4 8 16 16 16 s", got)
		}
	}
	if w := Replication.Wait(2); w != 1250*time.Millisecond {
		t.Errorf("Replication second wait %v, want 1.25s", w)
	}
	if w := Replication.Wait(40); w != 10*time.Second {
		t.Errorf("Replication cap %v, want 10s", w)
	}
}

var errBusy = errors.New("busy")

func TestLoopRetriesReportsAndStops(t *testing.T) {
	var events []model.Event
	l := Loop{Schedule: Schedule{Name: "t", First: 20 * time.Millisecond, Factor: 2, Bound: 2 * time.Second}, What: "thing", OnWait: func(e model.Event) { events = append(events, e) }}
	calls := 0
	out, err := l.Run(context.Background(), func(context.Context, int) error {
		calls++
		if calls < 3 {
			return errBusy
		}
		return nil
	}, func(error) Verdict { return Verdict{Retry: true, Why: "the test", Code: "X1"} })
	if err != nil || out.Attempts != 3 || len(events) != 2 {
		t.Fatalf("err %v attempts %d events %v", err, out.Attempts, events)
	}
	if e := events[0]; e.Action != "thing" || e.Attempt != 2 || e.Code != "X1" || e.Wait <= 0 || e.Wait > 20*time.Millisecond || !errors.Is(e.Err, errBusy) {
		t.Errorf("first wait %+v", e)
	}
	// Not retryable: one attempt.
	calls = 0
	_, err = l.Run(context.Background(), func(context.Context, int) error { calls++; return errBusy }, func(error) Verdict { return Verdict{} })
	if calls != 1 || !errors.Is(err, errBusy) {
		t.Errorf("calls %d err %v", calls, err)
	}
}

func TestLoopBoundAndRetryAfter(t *testing.T) {
	l := Loop{Schedule: Schedule{First: 50 * time.Millisecond, Factor: 1, Bound: 300 * time.Millisecond}, What: "x"}
	start := time.Now()
	out, err := l.Run(context.Background(), func(context.Context, int) error { return errBusy }, func(error) Verdict { return Verdict{Retry: true} })
	var gave *GaveUpError
	if !errors.As(err, &gave) || !errors.Is(err, errBusy) || out.Attempts < 4 {
		t.Fatalf("err %v attempts %d", err, out.Attempts)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("bound not kept: %v", d)
	}
	// A Retry-After beyond what is left ends the loop at once.
	calls := 0
	_, err = l.Run(context.Background(), func(context.Context, int) error { calls++; return errBusy }, func(error) Verdict { return Verdict{Retry: true, After: time.Hour} })
	if calls != 1 || !errors.As(err, &gave) {
		t.Errorf("Retry-After beyond the bound: calls %d err %v", calls, err)
	}
}

func TestLoopStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	l := Loop{Schedule: Schedule{First: time.Hour, Bound: 2 * time.Hour}, What: "x", OnWait: func(model.Event) { cancel() }}
	start := time.Now()
	_, err := l.Run(ctx, func(context.Context, int) error { return errBusy }, func(error) Verdict { return Verdict{Retry: true} })
	if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Fatalf("cancel: %v after %v", err, time.Since(start))
	}
}
