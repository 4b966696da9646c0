package client

import (
	"bufio"
	"errors"
	"io"
	"sync"
	"testing"
)

// TestFrameWriterKeepsEveryFrame sends frames from many goroutines and
// checks that each arrives whole, once, and in its sender's order.
func TestFrameWriterKeepsEveryFrame(t *testing.T) {
	pr, pw := io.Pipe()
	fw := newFrameWriter(pw)
	const senders, each = 16, 200
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				payload := []byte{byte(s), byte(i), byte(i >> 8)}
				err := fw.send(uint64(s), frameResult, 16, func(b []byte) []byte { return append(b, payload...) })
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	next := make([]int, senders)
	br := bufio.NewReader(pr)
	for range senders * each {
		f, err := readFrame(br, 16)
		if err != nil {
			t.Fatal(err)
		}
		s := int(f.id)
		if f.typ != frameResult || len(f.payload) != 3 || int(f.payload[0]) != s {
			t.Fatalf("bad frame %+v", f)
		}
		if i := int(f.payload[1]) | int(f.payload[2])<<8; i != next[s] {
			t.Fatalf("sender %d: frame %d arrived when %d was due", s, i, next[s])
		}
		next[s]++
	}
	wg.Wait()
	fw.close()
	<-fw.exit
	pr.Close()
}

func TestFrameWriterRefusesOversizedAndClosed(t *testing.T) {
	pr, pw := io.Pipe()
	fw := newFrameWriter(pw)
	big := func(b []byte) []byte { return append(b, make([]byte, 17)...) }
	if err := fw.send(1, frameResult, 16, big); !errors.Is(err, errFrameTooLarge) {
		t.Fatalf("oversized frame: got %v, want errFrameTooLarge", err)
	}
	if err := fw.send(2, frameResult, 16, nil); err != nil {
		t.Fatal(err)
	}
	// Only the second frame went out: the first left nothing behind.
	f, err := readFrame(bufio.NewReader(pr), 16)
	if err != nil || f.id != 2 || len(f.payload) != 0 {
		t.Fatalf("got %+v, %v; want the empty frame of call 2", f, err)
	}
	fw.close()
	<-fw.exit
	if err := fw.send(3, frameResult, 16, nil); !errors.Is(err, errWriterClosed) {
		t.Fatalf("after close: got %v, want errWriterClosed", err)
	}
	pr.Close()
}
