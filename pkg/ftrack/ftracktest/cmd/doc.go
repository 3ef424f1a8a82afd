// Package cmd runs the ftrack emulator of package ftracktest as a standalone
// server, for the "ftrack-operator emulator" command.
package cmd
