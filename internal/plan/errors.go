package plan

import "fmt"

// SpecError is a problem of an FtrackEntity's spec: retrying cannot help until the spec (or
// the server's schema) changes. Reason is a condition reason; Message tells the user what to
// change and never holds a credential.
type SpecError struct {
	Reason  string
	Message string
}

// Error implements error.
func (e *SpecError) Error() string { return e.Message }

// Errorf returns a SpecError with reason and a formatted message.
func Errorf(reason, format string, args ...any) *SpecError {
	return &SpecError{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Wait says that the object cannot go on yet, for a reason that may pass without a change
// of its spec: an entity to adopt that does not exist yet, a custom attribute configuration
// not created yet. Reason is a condition reason.
type Wait struct {
	Reason  string
	Message string
}

// Error implements error.
func (w *Wait) Error() string { return w.Message }
