package wal

// FrameRecord frames payload as a record of type typ at offset off of
// segment seq, for tests that build segments by hand.
func FrameRecord(typ byte, seq uint64, off int64, payload []byte) []byte {
	buf := append(beginRecord(nil), payload...)
	frame, _ := finishRecord(buf, recordType(typ), seq, off)
	return frame
}

// SegmentHeaderPayload encodes the payload of a first segment's header.
func SegmentHeaderPayload(seq uint64, meta []byte) []byte {
	return encodeSegHeader(nil, segHeader{seq: seq, meta: meta})
}
