package kv

import "context"

// OpGet returns an Op that reads one key.
func OpGet(key string) Op { return Op{Type: OpRange, Key: key} }

// OpGetRange returns an Op that reads the keys in [key, end).
func OpGetRange(key, end string) Op { return Op{Type: OpRange, Key: key, End: end} }

// OpPutKV returns an Op that writes value at key.
func OpPutKV(key string, value []byte) Op { return Op{Type: OpPut, Key: key, Value: value} }

// OpDeleteKey returns an Op that deletes one key.
func OpDeleteKey(key string) Op { return Op{Type: OpDelete, Key: key} }

// OpDeleteRange returns an Op that deletes the keys in [key, end).
func OpDeleteRange(key, end string) Op { return Op{Type: OpDelete, Key: key, End: end} }

// Get reads one key at the current revision. It returns nil and the
// revision read when the key does not exist.
func Get(ctx context.Context, k KV, key string) (*KeyValue, int64, error) {
	resp, err := k.Range(ctx, RangeRequest{Key: key})
	if err != nil {
		return nil, 0, err
	}
	if len(resp.KVs) == 0 {
		return nil, resp.Revision, nil
	}
	return &resp.KVs[0], resp.Revision, nil
}

// Put writes value at key unconditionally and returns the new revision.
func Put(ctx context.Context, k KV, key string, value []byte) (int64, error) {
	resp, err := k.Txn(ctx, TxnRequest{Success: []Op{OpPutKV(key, value)}})
	if err != nil {
		return 0, err
	}
	return resp.Revision, nil
}

// Delete deletes the keys in [key, end) (key alone when end is "") and
// returns how many it deleted and the revision after the delete.
func Delete(ctx context.Context, k KV, key, end string) (int64, int64, error) {
	resp, err := k.Txn(ctx, TxnRequest{Success: []Op{OpDeleteRange(key, end)}})
	if err != nil {
		return 0, 0, err
	}
	return resp.Responses[0].Delete.Deleted, resp.Revision, nil
}
