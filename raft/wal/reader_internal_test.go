package wal

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"testing"
	"time"
)

// imageFile is a read-only [File] over a segment image.
type imageFile struct{ *bytes.Reader }

var errReadOnly = errors.New("read-only image")

func (f imageFile) WriteAt([]byte, int64) (int, error) { return 0, errReadOnly }
func (f imageFile) Close() error                       { return nil }
func (f imageFile) Sync() error                        { return errReadOnly }
func (f imageFile) Truncate(int64) error               { return errReadOnly }
func (f imageFile) Allocate(int64) error               { return errReadOnly }
func (f imageFile) Stat() (fs.FileInfo, error)         { return imageInfo(f.Size()), nil }

type imageInfo int64

func (i imageInfo) Name() string       { return "image" }
func (i imageInfo) Size() int64        { return int64(i) }
func (i imageInfo) Mode() fs.FileMode  { return 0o600 }
func (i imageInfo) ModTime() time.Time { return time.Time{} }
func (i imageInfo) IsDir() bool        { return false }
func (i imageInfo) Sys() any           { return nil }

func readerOver(t *testing.T, img []byte) *segmentReader {
	t.Helper()
	r := newSegmentReader()
	if err := r.reset(imageFile{bytes.NewReader(img)}, "image", 1); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestFindRecordAcrossBlocks places the only valid record after a bad one
// at every offset near the edges of the blocks findRecord scans, with a
// payload that fits in a block or spans several, among zeros or garbage:
// findRecord must find exactly it, and nothing when it is damaged.
func TestFindRecordAcrossBlocks(t *testing.T) {
	const bad = 64 // the bad record's offset; the scan starts at bad+8
	rng := rand.New(rand.NewPCG(3, 4))
	var at []int64
	for _, edge := range []int64{0, int64(scanBlock), 2 * int64(scanBlock)} {
		for d := int64(-3 * recAlign); d <= 3*recAlign; d += recAlign {
			if p := bad + recAlign + edge + d; p > bad {
				at = append(at, p)
			}
		}
	}
	// Garbage: random bytes, odd so that a would-be header's n and ^n
	// never match.
	garbage := make([]byte, 4*scanBlock)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32()) | 1
	}
	for _, filler := range []string{"zeros", "garbage"} {
		for _, n := range []int{0, 100, scanBlock + 300} {
			payload := garbage[:n]
			for _, p := range at {
				name := fmt.Sprintf("%s/payload=%d/at=%d", filler, n, p)
				rec := FrameRecord(byte(recBatch), 1, p, payload)
				img := make([]byte, p+int64(len(rec))+int64(scanBlock)/2)
				if filler == "garbage" {
					copy(img, garbage)
				}
				copy(img[p:], rec)
				if got, ok, err := readerOver(t, img).findRecord(bad); err != nil || !ok || got != p {
					t.Errorf("%s: findRecord = %d, %v, %v; want %d", name, got, ok, err, p)
				}
				// Damage the payload's last byte, or the CRC if there is
				// no payload.
				damage := p + headerSize + int64(n) - 1
				if n == 0 {
					damage = p + 12
				}
				img[damage] ^= 0x40
				if got, ok, err := readerOver(t, img).findRecord(bad); err != nil || ok {
					t.Errorf("%s, damaged: findRecord = %d, %v, %v; want nothing", name, got, ok, err)
				}
			}
		}
	}
}

// TestSegmentReaderReadsEveryRecord reads back records of sizes around the
// reader's buffer size, laid end to end.
func TestSegmentReaderReadsEveryRecord(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var img []byte
	var want [][]byte
	for _, n := range []int{0, 1, 7, 8, 9, scanBlock - headerSize - 1, scanBlock - headerSize, scanBlock, 3*scanBlock + 5, 100, 0} {
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = byte(rng.Uint32())
		}
		want = append(want, payload)
		img = append(img, FrameRecord(byte(recBatch), 1, int64(len(img)), payload)...)
	}
	end := int64(len(img))
	img = append(img, make([]byte, 2*scanBlock+3)...)
	r := readerOver(t, img)
	for i, w := range want {
		typ, got, _, bad, err := r.next()
		if err != nil || bad != badNone || typ != recBatch || !bytes.Equal(got, w) {
			t.Fatalf("record %d (%d bytes): type %d, %d bytes, bad %q, err %v", i, len(w), typ, len(got), bad, err)
		}
	}
	if r.off != end {
		t.Fatalf("after the records the reader is at %d, want %d", r.off, end)
	}
	if _, _, _, bad, err := r.next(); err != nil || bad != badZero {
		t.Fatalf("past the records: bad %q, err %v; want %q", bad, err, badZero)
	}
	if zero, err := r.zeroFrom(end); err != nil || !zero {
		t.Fatalf("zeroFrom(%d) = %v, %v; want true", end, zero, err)
	}
	img[len(img)-1] = 1
	if zero, err := readerOver(t, img).zeroFrom(end); err != nil || zero {
		t.Fatalf("zeroFrom(%d) with a byte set at the very end = %v, %v; want false", end, zero, err)
	}
}
