// Package controllers holds the reconcilers of the ftrack-operator.dev kinds, the session pool
// that keeps one ftrack session per connection, and the bridge that turns ftrack event-hub
// events into reconcile requests.
package controllers
