// Package ftrack is a Go client for the ftrack server API, modelled on the
// Session of the official Python client: one Session holds the credentials,
// the server's schemas, an identity map of generic entities, the recorded
// create/update/delete operations that Commit sends as one batch, a layered
// cache, plugins and the event hub.
package ftrack
