// Package event is the ftrack event hub client: the Event type, the
// subscription and target expression language shared with the emulator, and
// Hub, a socket.io 0.9 over WebSocket connection to the server's event hub
// with subscriptions, replies, local dispatch and automatic reconnection.
package event
