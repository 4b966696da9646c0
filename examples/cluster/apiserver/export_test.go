package apiserver

import "context"

// WaitCRDsSynced waits until the CRD controller has reconciled the CRDs
// of its first list.
func WaitCRDsSynced(ctx context.Context, s *Server) error {
	s.mu.RLock()
	c := s.crds
	s.mu.RUnlock()
	select {
	case <-c.synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
