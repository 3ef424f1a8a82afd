package ftrack

// eventHub is the session's handle on the server's event hub.
type eventHub struct {
	s *Session
}

func newEventHub(s *Session) *eventHub { return &eventHub{s: s} }

// connectInBackground starts connecting to the event hub.
func (h *eventHub) connectInBackground() {
	h.s.logger.Warn("ftrack: event hub client not available in this build; local events only")
}

func (h *eventHub) close() {}
