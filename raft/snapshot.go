package raft

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

	"github.com/governor-io/governor/store/mvcc"
)

// A snapshot's data is the member table followed by the engine's own
// snapshot:
//
//	"GVRAFTS1" uvarint(len(members JSON)) members JSON  engine snapshot
//
// The member table rides along because the membership entries that built
// it are compacted away with the log.
const snapMagic = "GVRAFTS1"

// maxMembersJSON bounds the member table read from a snapshot.
const maxMembersJSON = 16 << 20

// writeSnapshot writes a snapshot of members and view.
func writeSnapshot(w io.Writer, members []Member, view *mvcc.View) error {
	js, err := json.Marshal(members)
	if err != nil {
		return err
	}
	hdr := append([]byte(snapMagic), binary.AppendUvarint(nil, uint64(len(js)))...)
	if _, err := w.Write(append(hdr, js...)); err != nil {
		return err
	}
	_, err = view.WriteTo(w)
	return err
}

func readSnapshot(r io.Reader, engine *mvcc.Engine) ([]Member, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, len(snapMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != snapMagic {
		return nil, fmt.Errorf("%w: bad snapshot header", ErrCorruptEntry)
	}
	n, err := binary.ReadUvarint(br)
	if err != nil || n > maxMembersJSON {
		return nil, fmt.Errorf("%w: bad snapshot member table", ErrCorruptEntry)
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(br, js); err != nil {
		return nil, fmt.Errorf("%w: short snapshot member table", ErrCorruptEntry)
	}
	var members []Member
	if err := json.Unmarshal(js, &members); err != nil {
		return nil, fmt.Errorf("%w: snapshot member table: %v", ErrCorruptEntry, err)
	}
	if err := engine.Restore(br); err != nil {
		return nil, err
	}
	return members, nil
}
