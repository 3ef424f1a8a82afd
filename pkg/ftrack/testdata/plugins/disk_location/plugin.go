package plugin

import (
	"context"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/event"
)

// Register configures the location studio.disk, files under the "prefix" argument in the
// standard structure, picked before every built-in location: what a studio's location plugin
// does.
func Register(session *ftrack.Session, args map[string]any) error {
	prefix, _ := args["prefix"].(string)
	session.SubscribeLocal(ftrack.TopicConfigureLocation, func(ev event.Event) any {
		ctx, ok := ev.Data["context"].(context.Context)
		if !ok {
			ctx = context.Background()
		}
		disk, err := ftrack.NewDiskAccessor(prefix)
		if err == nil {
			_, err = session.ConfigureLocation(ctx, &ftrack.Location{Name: "studio.disk", Accessor: disk, Structure: ftrack.NewStandardStructure(), Priority: 1})
		}
		if err != nil {
			session.Logger().Error("configuring studio.disk", "error", err)
		}
		return nil
	})
	return nil
}
