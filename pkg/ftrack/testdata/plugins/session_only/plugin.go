package plugin

import "github.com/ftrack-operator/ftrack-operator/pkg/ftrack"

// Register takes the session only: plugin arguments are culled.
func Register(session *ftrack.Session) {
	session.Logger().Info("plugin registered", "plugin", "session_only", "user", session.APIUser())
}
