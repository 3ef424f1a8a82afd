// Package eventhub is the server side of the ftrack event hub: the
// socket.io 0.9 handshake and WebSocket endpoint, per-socket subscriptions
// and event routing, as the emulator in pkg/ftrack/ftracktest serves it.
package eventhub
