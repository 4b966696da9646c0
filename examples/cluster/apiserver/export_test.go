package apiserver

import (
	"context"
	"errors"
)

// WaitCRDServed waits until the CRD name is served at generation gen
// (gen 0: not served at all), or ctx ends.
func WaitCRDServed(ctx context.Context, s *Server, name string, gen int64) error {
	s.mu.RLock()
	c := s.crds
	s.mu.RUnlock()
	if c == nil {
		return errors.New("custom resources are not installed")
	}
	for {
		g, ok, changed := c.servedGeneration(name)
		if ok && g == gen || !ok && gen == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

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
