package ftrack_test

import (
	"context"
	"fmt"
	"log"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest/builtin"
)

// Example opens a session on an emulated server, creates a project and a
// task, commits them in one batch and queries them back.
func Example() {
	srv, err := ftracktest.NewServer(ftracktest.WithUser("jane", "jane-api-key"))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx := context.Background()
	session, err := ftrack.NewSession(ctx,
		ftrack.WithServerURL(srv.URL),
		ftrack.WithAPIUser("jane"),
		ftrack.WithAPIKey("jane-api-key"),
		ftrack.WithoutSchemaCache(),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()

	projectSchema, err := session.Get(ctx, "ProjectSchema", builtin.DefaultProjectSchemaID)
	if err != nil {
		log.Fatal(err)
	}
	project, err := session.Create("Project", map[string]any{
		"name": "spring", "full_name": "Spring commercial", "project_schema": projectSchema,
	})
	if err != nil {
		log.Fatal(err)
	}
	task, err := session.Create("Task", map[string]any{"name": "compositing", "parent": project})
	if err != nil {
		log.Fatal(err)
	}
	if err := task.Set("description", "Final comp"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("pending operations:", len(session.Operations()))
	fmt.Println("batch size:", len(session.PendingBatch()))

	if err := session.Commit(ctx); err != nil {
		log.Fatal(err)
	}

	result, err := session.Query(`select name, description, parent.name from Task where parent.name is "spring"`)
	if err != nil {
		log.Fatal(err)
	}
	tasks, err := result.All(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tasks {
		parent, _ := t.Get("parent")
		fmt.Println(t.MustGet("name"), "-", t.MustGet("description"), "in", parent.(*ftrack.Entity).MustGet("name"))
		fmt.Println("same instance as created:", t == task)
	}
	// Output:
	// pending operations: 5
	// batch size: 2
	// compositing - Final comp in spring
	// same instance as created: true
}
