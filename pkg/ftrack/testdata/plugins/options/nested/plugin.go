package plugin

import (
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
)

// Options receives the plugin arguments it names.
type Options struct {
	Record   func(string)
	Greeting string `ftrack:"greeting"`
}

// Register subscribes to the session's ready event.
func Register(session *ftrack.Session, opts Options) error {
	session.SubscribeLocal(ftrack.TopicSessionReady, func(e event.Event) any {
		opts.Record("ready:" + opts.Greeting)
		return nil
	})
	return nil
}
