package ftracktest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Stop stops serving as a server going down for a restart would: it stops accepting
// connections, waits for the /api requests in flight (or until ctx ends), and closes every
// event hub connection. Unlike Close it keeps the data, the users and the fault settings;
// Start serves them again on the same address. While stopped, clients get connection errors.
//
// Stop, Start and Restart must not be called concurrently with each other or with Close.
func (s *Server) Stop(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	s.hub.DropAll()
	return err
}

// Start serves again, on the address of the first start, after Stop. It retries for up to
// two seconds while the port is still held by the system.
func (s *Server) Start() error {
	addr := s.ln.Addr().String()
	var (
		ln  net.Listener
		err error
	)
	deadline := time.Now().Add(2 * time.Second)
	for {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ftracktest: listen again on %s: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond) // the port is released asynchronously
	}
	old := s.http
	srv := &http.Server{Handler: old.Handler, ReadHeaderTimeout: old.ReadHeaderTimeout}
	s.http, s.ln = srv, ln
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("ftracktest: serve", "err", err)
		}
	}()
	return nil
}

// Restart stops the server and serves again on the same address with the same data after
// down, as a server restart that keeps its database: event hub clients are disconnected and
// must reconnect, requests sent while it is down fail.
func (s *Server) Restart(ctx context.Context, down time.Duration) error {
	if err := s.Stop(ctx); err != nil {
		return err
	}
	if down > 0 {
		t := time.NewTimer(down)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(ctx.Err(), s.Start())
		case <-t.C:
		}
	}
	return s.Start()
}
