package ftracktest

import (
	"fmt"
	"net/http"
)

// apiError is ftrack's single error object plus the HTTP status strict
// mode answers with.
type apiError struct {
	Exception string
	Content   string
	Status    int
}

func (e *apiError) Error() string { return e.Exception + ": " + e.Content }

func (e *apiError) body() map[string]any {
	return map[string]any{"exception": e.Exception, "content": e.Content, "error_code": nil}
}

func validationError(format string, args ...any) *apiError {
	return &apiError{Exception: "ValidationError", Content: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func duplicateError(format string, args ...any) *apiError {
	return &apiError{Exception: "DuplicateEntryError", Content: "DuplicateEntryError: " + fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func notFoundError(format string, args ...any) *apiError {
	return &apiError{Exception: "NoResultFoundError", Content: fmt.Sprintf(format, args...), Status: http.StatusNotFound}
}

func serverError(format string, args ...any) *apiError {
	return &apiError{Exception: "ServerError", Content: fmt.Sprintf(format, args...), Status: http.StatusInternalServerError}
}

var errInvalidCredentials = &apiError{
	Exception: "InvalidCredentialsError",
	Content:   "The supplied API key is not valid. Check that the ftrack-user and ftrack-api-key headers name an API user and its key.",
	Status:    http.StatusUnauthorized,
}
