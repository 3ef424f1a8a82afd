package builtin

import "slices"

// Record is one seeded entity: its entity type and its attributes by API
// name.
//
// Values are JSON values as encoding/json decodes them (string, float64,
// bool, nil, map[string]any). A reference that has no foreign-key column in
// the schema (Status.state) is an entity reference:
// {"__entity_type__": "State", "id": "…"}. Collections are not given on their
// owner: they follow from link records (WorkflowSchemaStatus,
// TaskTypeSchemaType, ProjectSchemaObjectType, SchemaStatus, SchemaType) or
// from the members' foreign keys (Schema.project_schema_id).
type Record struct {
	// Type is the concrete entity type, a schema id.
	Type string
	// Data holds the attributes by API name.
	Data map[string]any
}

// SeedData is the content of a fresh ftrack site.
type SeedData struct {
	// Records lists the entities; a record comes after those it refers to.
	Records []Record
}

// ByType returns the records of entity type typ, in seed order.
func (d SeedData) ByType(typ string) []Record {
	var out []Record
	for _, r := range d.Records {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Find returns the record of type typ whose id is id.
func (d SeedData) Find(typ, id string) (Record, bool) {
	for _, r := range d.Records {
		if r.Type == typ && r.Data["id"] == id {
			return r, true
		}
	}
	return Record{}, false
}

// Seed returns the entities of a fresh site, each with every schema default
// it does not set itself filled in ("{uid}" defaults excepted: every seeded
// entity has a fixed id). Each call returns a new copy.
//
// The seed holds: the five built-in locations; the seven object types with
// the ids their entity types use as object_type_id default; the states
// NOT_STARTED, IN_PROGRESS, DONE and BLOCKED; statuses, task types,
// priorities (DefaultPriorityID is "None"), asset types, note categories,
// user types, security roles, custom attribute types, list categories and
// manager types; and the default project schema DefaultProjectSchemaID: a
// task workflow, an asset version workflow, a task type schema, every object
// type enabled, and own workflows for Shot, AssetBuild and Milestone. A
// Project created with that schema can hold Episodes, Sequences, Shots,
// Folders, AssetBuilds, Milestones and Tasks with valid statuses and types.
//
// Sequence, Episode and Folder are neither statusable nor typeable: the
// server gives them NotStartedStatusID and GenericTypeID.
//
// The API user is not part of the seed.
func Seed() SeedData {
	set := SchemaSet()
	records := seedRecords()
	for i := range records {
		sc, ok := set.Get(records[i].Type)
		if !ok {
			continue // The seed tests reject unknown types.
		}
		for _, name := range sc.PropertyOrder {
			p := sc.Properties[name]
			if _, given := records[i].Data[name]; given || !p.HasDefault {
				continue
			}
			if s, ok := p.Default.(string); ok && s == "{uid}" {
				continue
			}
			records[i].Data[name], _ = p.DefaultValue(nil)
		}
	}
	return SeedData{Records: records}
}

// data builds a record's attributes from alternating names and values.
func data(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		v := kv[i+1]
		if n, ok := v.(int); ok {
			v = float64(n)
		}
		m[kv[i].(string)] = v
	}
	return m
}

// entityRef is the wire form of a reference to a single-key entity.
func entityRef(typ, id string) map[string]any {
	return map[string]any{"__entity_type__": typ, "id": id}
}

type named struct{ id, name string }

type statusDef struct {
	id, name, color, state string
}

var (
	seedStates = []struct{ id, name, short string }{
		{NotStartedStateID, "Not started", "NOT_STARTED"},
		{InProgressStateID, "In progress", "IN_PROGRESS"},
		{DoneStateID, "Done", "DONE"},
		{BlockedStateID, "Blocked", "BLOCKED"},
	}
	seedStatuses = []statusDef{
		{NotStartedStatusID, "Not started", "#CCCCCC", NotStartedStateID},
		{ReadyToStartStatusID, "Ready to start", "#A5B5C5", NotStartedStateID},
		{InProgressStatusID, "In progress", "#3498DB", InProgressStateID},
		{PendingReviewStatusID, "Pending review", "#E67E22", InProgressStateID},
		{NeedsAttentionStatusID, "Needs attention", "#F1C40F", InProgressStateID},
		{ApprovedStatusID, "Approved", "#1CBC90", DoneStateID},
		{DoneStatusID, "Done", "#2ECC71", DoneStateID},
		{OnHoldStatusID, "On hold", "#9B59B6", BlockedStateID},
		{OmittedStatusID, "Omitted", "#E74C3C", BlockedStateID},
	}
	// seedTaskTypes are the types of Tasks, in task type schema order.
	seedTaskTypes = []named{
		{GenericTypeID, "Generic"},
		{PrevisTypeID, "Previs"},
		{LayoutTypeID, "Layout"},
		{ModelingTypeID, "Modeling"},
		{TextureTypeID, "Texture"},
		{LookdevTypeID, "Lookdev"},
		{RiggingTypeID, "Rigging"},
		{AnimationTypeID, "Animation"},
		{TrackingTypeID, "Tracking"},
		{FXTypeID, "FX"},
		{LightingTypeID, "Lighting"},
		{RenderingTypeID, "Rendering"},
		{CompositingTypeID, "Compositing"},
		{EditingTypeID, "Editing"},
	}
	// seedAssetBuildTypes are the types of AssetBuilds.
	seedAssetBuildTypes = []named{
		{CharacterTypeID, "Character"},
		{PropTypeID, "Prop"},
		{EnvironmentTypeID, "Environment"},
	}
	// seedMilestoneTypes are the types of Milestones.
	seedMilestoneTypes = []named{
		{DeliveryTypeID, "Delivery"},
		{ClientReviewTypeID, "Client review"},
	}
)

func seedRecords() []Record {
	var rs []Record
	add := func(typ string, d map[string]any) { rs = append(rs, Record{Type: typ, Data: d}) }

	for _, l := range []struct{ id, name, label string }{
		{OriginLocationID, "ftrack.origin", "Origin"},
		{UnmanagedLocationID, "ftrack.unmanaged", "Unmanaged"},
		{ReviewLocationID, "ftrack.review", "Review"},
		{ConnectLocationID, "ftrack.connect", "Connect"},
		{ServerLocationID, "ftrack.server", "ftrack server"},
	} {
		add("Location", data("id", l.id, "name", l.name, "label", l.label))
	}

	for i, o := range []struct {
		id, name, icon                                              string
		leaf, taskable, typeable, statusable, schedulable, reported bool
	}{
		{FolderObjectTypeID, "Folder", "folder", false, true, false, false, false, false},
		{EpisodeObjectTypeID, "Episode", "episode", false, true, false, false, false, false},
		{SequenceObjectTypeID, "Sequence", "sequence", false, true, false, false, false, false},
		{ShotObjectTypeID, "Shot", "shot", false, true, false, true, false, false},
		{AssetBuildObjectTypeID, "Asset Build", "assetbuild", false, true, true, true, false, false},
		{MilestoneObjectTypeID, "Milestone", "milestone", true, false, true, true, true, false},
		{TaskObjectTypeID, "Task", "task", true, false, true, true, true, true},
	} {
		add("ObjectType", data("id", o.id, "name", o.name, "icon", o.icon, "sort", i,
			"is_leaf", o.leaf, "is_taskable", o.taskable, "is_typeable", o.typeable,
			"is_statusable", o.statusable, "is_schedulable", o.schedulable, "is_time_reportable", o.reported))
	}

	for _, s := range seedStates {
		add("State", data("id", s.id, "name", s.name, "short", s.short))
	}
	for i, s := range seedStatuses {
		add("Status", data("id", s.id, "name", s.name, "color", s.color, "sort", i, "is_active", true,
			"state", entityRef("State", s.state)))
	}

	for i, p := range []struct {
		id, name, color string
		value           int
	}{
		{DefaultPriorityID, "None", "#CCCCCC", 0},
		{LowPriorityID, "Low", "#2ECC71", 1},
		{MediumPriorityID, "Medium", "#F1C40F", 2},
		{HighPriorityID, "High", "#E67E22", 3},
		{UrgentPriorityID, "Urgent", "#E74C3C", 4},
	} {
		add("Priority", data("id", p.id, "name", p.name, "color", p.color, "sort", i, "value", p.value))
	}

	types := slices.Concat(seedTaskTypes, seedAssetBuildTypes, seedMilestoneTypes)
	for i, t := range types {
		add("Type", data("id", t.id, "name", t.name, "color", typeColors[i%len(typeColors)], "sort", i, "is_billable", true))
	}

	// The default project schema and its workflows.
	add("WorkflowSchema", data("id", TaskWorkflowSchemaID, "name", "VFX task workflow"))
	for _, s := range []string{NotStartedStatusID, ReadyToStartStatusID, InProgressStatusID, PendingReviewStatusID,
		NeedsAttentionStatusID, ApprovedStatusID, DoneStatusID, OnHoldStatusID, OmittedStatusID} {
		add("WorkflowSchemaStatus", data("workflow_schema_id", TaskWorkflowSchemaID, "status_id", s))
	}
	add("WorkflowSchema", data("id", VersionWorkflowSchemaID, "name", "VFX version workflow"))
	for _, s := range []string{PendingReviewStatusID, NeedsAttentionStatusID, ApprovedStatusID, OmittedStatusID} {
		add("WorkflowSchemaStatus", data("workflow_schema_id", VersionWorkflowSchemaID, "status_id", s))
	}
	add("TaskTypeSchema", data("id", TaskTypeSchemaID, "name", "VFX task types"))
	for _, t := range seedTaskTypes {
		add("TaskTypeSchemaType", data("task_type_schema_id", TaskTypeSchemaID, "type_id", t.id))
	}
	add("ProjectSchema", data("id", DefaultProjectSchemaID, "name", "VFX",
		"task_workflow_schema_id", TaskWorkflowSchemaID,
		"asset_version_workflow_schema_id", VersionWorkflowSchemaID,
		"task_type_schema_id", TaskTypeSchemaID))
	for _, o := range []string{FolderObjectTypeID, EpisodeObjectTypeID, SequenceObjectTypeID, ShotObjectTypeID,
		AssetBuildObjectTypeID, MilestoneObjectTypeID, TaskObjectTypeID} {
		add("ProjectSchemaObjectType", data("project_schema_id", DefaultProjectSchemaID, "object_type_id", o))
	}
	for _, s := range []struct {
		id, objectType string
		statuses       []string
		types          []named
	}{
		{ShotSchemaID, ShotObjectTypeID,
			[]string{NotStartedStatusID, InProgressStatusID, PendingReviewStatusID, ApprovedStatusID, OnHoldStatusID, OmittedStatusID}, nil},
		{AssetBuildSchemaID, AssetBuildObjectTypeID,
			[]string{NotStartedStatusID, InProgressStatusID, PendingReviewStatusID, ApprovedStatusID, OnHoldStatusID}, seedAssetBuildTypes},
		{MilestoneSchemaID, MilestoneObjectTypeID,
			[]string{NotStartedStatusID, DoneStatusID}, seedMilestoneTypes},
	} {
		add("Schema", data("id", s.id, "project_schema_id", DefaultProjectSchemaID,
			"object_type_id", s.objectType, "type_id", s.objectType))
		for i, st := range s.statuses {
			add("SchemaStatus", data("schema_id", s.id, "status_id", st, "sort", i))
		}
		for i, t := range s.types {
			add("SchemaType", data("schema_id", s.id, "type_id", t.id, "sort", i))
		}
	}

	for _, a := range []struct{ id, name, short string }{
		{UploadAssetTypeID, "Upload", "upload"},
		{GeometryAssetTypeID, "Geometry", "geo"},
		{SceneAssetTypeID, "Scene", "scene"},
		{RigAssetTypeID, "Rig", "rig"},
		{CameraAssetTypeID, "Camera", "cam"},
		{CacheAssetTypeID, "Cache", "cache"},
		{TextureAssetTypeID, "Texture", "tex"},
		{RenderAssetTypeID, "Render", "render"},
		{CompAssetTypeID, "Comp", "comp"},
		{ImageAssetTypeID, "Image", "img"},
		{AudioAssetTypeID, "Audio", "audio"},
		{EditAssetTypeID, "Edit", "edit"},
	} {
		add("AssetType", data("id", a.id, "name", a.name, "short", a.short))
	}
	for i, n := range []struct{ id, name, color string }{
		{DefaultNoteCategoryID, "Default", "#CCCCCC"},
		{InternalNoteCategoryID, "Internal", "#3498DB"},
		{ClientNoteCategoryID, "Client feedback", "#E67E22"},
	} {
		add("NoteCategory", data("id", n.id, "name", n.name, "color", n.color, "sort", i))
	}
	for _, u := range []named{{StandardUserTypeID, "standard"}, {ServiceUserTypeID, "service"}} {
		add("UserType", data("id", u.id, "name", u.name))
	}
	for _, r := range []named{
		{AdministratorSecurityRoleID, "Administrator"},
		{ProjectManagerSecurityRoleID, "Project Manager"},
		{SupervisorSecurityRoleID, "Supervisor"},
		{UserSecurityRoleID, "User"},
		{APISecurityRoleID, "API"},
	} {
		add("SecurityRole", data("id", r.id, "name", r.name))
	}
	for _, c := range []named{
		{TextCustomAttributeTypeID, "text"},
		{NumberCustomAttributeTypeID, "number"},
		{BooleanCustomAttributeTypeID, "boolean"},
		{DateCustomAttributeTypeID, "date"},
		{EnumeratorCustomAttributeTypeID, "enumerator"},
		{DynamicEnumeratorCustomAttributeTypeID, "dynamic enumerator"},
		{ExpressionCustomAttributeTypeID, "expression"},
		{URLCustomAttributeTypeID, "url"},
		{NotificationTypeCustomAttributeTypeID, "notificationtype"},
	} {
		add("CustomAttributeType", data("id", c.id, "name", c.name, "core", true))
	}
	for _, c := range []named{{DefaultListCategoryID, "Default"}, {DailiesListCategoryID, "Dailies"}} {
		add("ListCategory", data("id", c.id, "name", c.name))
	}
	for _, m := range []named{{SupervisorManagerTypeID, "Supervisor"}, {CoordinatorManagerTypeID, "Coordinator"}} {
		add("ManagerType", data("id", m.id, "name", m.name))
	}
	return rs
}

var typeColors = []string{"#1ABC9C", "#3498DB", "#9B59B6", "#E67E22", "#E74C3C", "#F1C40F", "#2ECC71", "#95A5A6"}
