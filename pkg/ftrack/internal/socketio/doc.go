// Package socketio encodes and decodes socket.io 0.9 packets, the framing the
// ftrack event hub uses over WebSocket text frames.
package socketio
