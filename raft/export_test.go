package raft

// EntryRefusalKind is the first byte of a refusal entry's data, for tests
// that watch the log go by.
const EntryRefusalKind = entryRefusal
