package builtin

// contextImmutable are the attributes no Context can change once created.
var contextImmutable = []string{"id", "_link", "link", "thumbnail_url", "created_by_id", "created_by", "created_at"}

// contextProps are the properties every Context has; projectID is the
// project_id column, which only TypedContext maps to the showid column.
func contextProps(projectID []prop) []prop {
	return group(
		datetime("created_at"),
		array("managers", "Manager"),
		ref("created_by", "User", al("createdBy")),
		uid(),
		array("timelogs", "Timelog"),
		str("_link", al("_api_link")),
		array("children", "Context"),
		str("parent_id", asFK),
		projectID,
		ref("thumbnail", "Component"),
		array("scopes", "Scope"),
		ref("parent", "Context"),
		fk("thumbnail_id", "Component", al("thumbid")),
		array("appointments", "Appointment", al("context_appointments")),
		str("link", al("_api_link")),
		str("name", def("")),
		array("assets", "Asset"),
		array("notes", "Note"),
		array("assignments", "Appointment", al("context_assignments")),
		object("thumbnail_url"),
		array("allocations", "Appointment", al("context_allocations")),
		customAttributes("ContextCustomAttributeValue"),
		fk("created_by_id", "User", al("created_by")),
		str("context_type"),
	)
}

// typedContextProps are the properties of TypedContext and its subtypes. A
// subtype passes its object type id, which becomes the object_type_id
// default, and gets the default priority.
func typedContextProps(objectTypeID string) []prop {
	var priorityDefault, objectTypeDefault []opt
	if objectTypeID != "" {
		priorityDefault = []opt{def(DefaultPriorityID)}
		objectTypeDefault = []opt{def(objectTypeID)}
	}
	return group(
		contextProps(fk("project_id", "Project", al("showid"))),
		number("sort"),
		fk("type_id", "Type", al("typeid")),
		fk("priority_id", "Priority", append(priorityDefault, al("priorityid"))...),
		array("status_changes", "StatusChange"),
		array("incoming_links", "TypedContextLink", al("predecessors")),
		array("ancestors", "TypedContext"),
		datetime("start_date", al("startdate")),
		datetime("end_date", al("enddate")),
		fk("status_id", "Status", al("statusid")),
		ref("priority", "Priority"),
		ref("type", "Type"),
		metadata(),
		ref("status", "Status"),
		ref("object_type", "ObjectType", al("objectType")),
		str("description"),
		array("descendants", "TypedContext"),
		number("bid"),
		array("lists", "TypedContextList", al("_lists")),
		number("time_logged"),
		number("bid_time_logged_difference"),
		ref("project", "Project", al("show")),
		fk("object_type_id", "ObjectType", append(objectTypeDefault, al("object_typeid"))...),
		array("outgoing_links", "TypedContextLink", al("successors")),
	)
}

var typedContextRequired = []string{"bid", "status_id", "type_id", "priority_id", "object_type_id", "sort", "context_type", "id", "name"}

// typedContext defines a concrete TypedContext subtype. Its immutable
// attributes are the object type, the computed times, extra, and the
// Context ones.
func typedContext(id, objectTypeID string, extra ...string) *entityDef {
	imm := []string{"object_type_id", "object_type", "bid_time_logged_difference", "time_logged"}
	imm = append(imm, extra...)
	imm = append(imm, contextImmutable...)
	return entity(id, "id").
		classified("Task", "object_typeid", objectTypeID).
		req(typedContextRequired...).
		imm(imm...).
		comp("time_logged", "bid_time_logged_difference", "thumbnail_url").
		proj("context_type", "id", "name").
		sys("showid", "context_type").
		with(typedContextProps(objectTypeID))
}

// componentProps are the properties of every Component; idOpts completes
// the id property.
func componentProps(idOpts ...opt) []prop {
	return group(
		ref("container", "ContainerComponent"),
		str("name", def("main")),
		array("component_locations", "ComponentLocation"),
		str("file_type", al("filetype")),
		fk("container_id", "ContainerComponent"),
		fk("version_id", "AssetVersion"),
		ref("version", "AssetVersion"),
		str("system_type"),
		integer("size", def(0)),
		uid(idOpts...),
		metadata(),
	)
}

func component(id string, extra ...[]prop) *entityDef {
	e := entity(id, "id").
		req("system_type", "name", "id").
		proj("id", "system_type").
		sys("system_type", "version_id")
	if id == "Component" {
		e.with(componentProps())
	} else {
		e.with(componentProps(asFK))
	}
	return e.with(extra...)
}

// customAttributeValue defines a typed custom attribute value; withProject
// tells whether the server also projects its project_id.
func customAttributeValue(id string, withProject bool) *entityDef {
	sys := []string{"entity_id", "key", "_casted_value"}
	if withProject {
		sys = append(sys, "project_id")
	}
	return entity(id, "configuration_id", "entity_id").
		proj("configuration_id", "entity_id", "key").
		sys(sys...).
		with(
			str("entity_id", asFK),
			ref("configuration", "CustomAttributeConfiguration", al("register")),
			fk("configuration_id", "CustomAttributeConfiguration", al("register_id")),
			variable("value", al("casted_value")),
			str("key"),
		)
}

// listDef defines List or one of its subtypes; items is the item type of a
// subtype, "" for List.
func listDef(id, systemType, items, itemsColumn string) *entityDef {
	e := entity(id, "id").
		req("id", "is_open", "category_id", "project_id").
		sys("showid").
		with(
			ref("category", "ListCategory", al("type")),
			fk("category_id", "ListCategory", al("typeid")),
			fk("user_id", "User", al("userid")),
			str("name", def("")),
			customAttributes("ListCustomAttributeValue"),
			ref("project", "Project", al("show")),
			datetime("date"),
			boolean("is_open", def(true), al("isopen")),
			str("system_type", def(systemType), al("entity")),
			ref("owner", "User", al("user")),
			fk("project_id", "Project", al("showid")),
			uid(al("listid")),
		)
	if items != "" {
		e.classified("List", "entity", systemType).imm("type", "id")
		e.with(array("items", items, al(itemsColumn)))
	}
	return e
}

// statusChange defines StatusChange or a subtype with a typed parent.
func statusChange(id, parent string) *entityDef {
	e := entity(id, "id")
	if parent == "" {
		e.alias("Trac")
	}
	e.with(
		ref("status", "Status"),
		fk("user_id", "User", al("userid")),
		fk("status_id", "Status"),
		str("parent_type"),
		str("parent_id"),
		ref("user", "User"),
		ref("from_status", "Status"),
		datetime("date"),
		fk("from_status_id", "Status"),
		str("id", al("tracid")),
	)
	if parent != "" {
		e.with(ref("parent", parent))
	}
	return e
}

// definitions returns every built-in entity type, in the order served.
func definitions() []*entityDef {
	return []*entityDef{
		// Contexts: projects and the typed contexts below them.
		entity("Context", "id").
			req("context_type", "id", "name").
			imm(contextImmutable...).
			comp("thumbnail_url").
			proj("context_type", "id", "name").
			sys("context_type").
			with(contextProps(str("project_id", asFK))),
		entity("Project", "id").
			alias("Show").
			req("is_global", "status", "project_schema_id", "context_type", "id", "name").
			imm(contextImmutable...).
			comp("thumbnail_url").
			proj("context_type", "id", "name").
			sys("context_type").
			with(
				contextProps(str("project_id", asFK)),
				str("color"),
				str("full_name", al("fullname")),
				ref("disk", "Disk"),
				fk("disk_id", "Disk", al("diskid")),
				array("user_security_role_projects", "UserSecurityRoleProject", al("user_role_projects")),
				datetime("start_date", al("startdate")),
				datetime("end_date", al("enddate")),
				ref("project_schema", "ProjectSchema", al("projectscheme")),
				fk("project_schema_id", "ProjectSchema", al("projectschemeid")),
				metadata(),
				str("status"),
				array("descendants", "TypedContext"),
				boolean("is_private", def(false), al("private")),
				boolean("is_global", def(false), al("isglobal")),
				str("root"),
			),
		entity("TypedContext", "id").
			alias("Task").
			req(typedContextRequired...).
			imm(append([]string{"time_logged", "bid_time_logged_difference"}, contextImmutable...)...).
			comp("time_logged", "bid_time_logged_difference", "thumbnail_url").
			proj("context_type", "id", "name").
			sys("showid", "context_type").
			with(typedContextProps("")),
		typedContext("Episode", EpisodeObjectTypeID, "type_id", "type", "status_id", "status", "bid", "start_date", "end_date"),
		typedContext("Sequence", SequenceObjectTypeID, "type_id", "type", "status_id", "status", "bid", "start_date", "end_date"),
		typedContext("Shot", ShotObjectTypeID, "type_id", "type", "bid", "start_date", "end_date"),
		typedContext("Folder", FolderObjectTypeID, "type_id", "type", "status_id", "status", "bid", "start_date", "end_date"),
		typedContext("AssetBuild", AssetBuildObjectTypeID, "bid", "start_date", "end_date"),
		typedContext("Milestone", MilestoneObjectTypeID, "start_date"),
		typedContext("Task", TaskObjectTypeID),
		entity("Scope", "id").
			req("name", "id").
			with(str("name"), uid()),
		entity("Disk", "id").
			req("id", "name").
			with(
				str("name"),
				str("unix"),
				str("windows"),
				array("projects", "Project", al("shows")),
				uid(al("diskid")),
			),

		// Workflow: states, statuses, types, priorities and project schemas.
		entity("State", "id").
			alias("StatusType").
			with(uid(al("typeid")), str("name"), str("short")),
		entity("Status", "id").
			alias("TaskStatus").
			req("id", "is_active").
			with(
				uid(al("statusid")),
				str("name"),
				str("color"),
				integer("sort", def(0)),
				boolean("is_active", al("isactive")),
				ref("state", "State", al("statustype")),
				array("tasks", "Task"),
			),
		entity("Type", "id").
			alias("TaskType").
			req("id", "color", "sort", "is_billable").
			with(
				uid(al("typeid")),
				str("name"),
				str("color", def("#510100")),
				integer("sort", def(0)),
				boolean("is_billable", def(true), al("isbillable")),
				array("tasks", "Task"),
				array("task_type_schemas", "TaskTypeSchema", al("schemes")),
			),
		entity("Priority", "id").
			alias("PriorityType").
			with(
				uid(al("priorityid")),
				str("name"),
				str("color"),
				integer("sort", def(0)),
				number("value", def(0)),
				array("tasks", "Task"),
			),
		entity("ObjectType", "id").
			req("id", "name", "icon", "sort", "is_time_reportable", "is_taskable", "is_typeable", "is_statusable", "is_schedulable").
			with(
				uid(al("typeid")),
				str("name"),
				str("icon", def("default")),
				integer("sort", def(0)),
				boolean("is_leaf", def(false), al("isleaf")),
				boolean("is_taskable", def(true), al("istaskable")),
				boolean("is_typeable", def(true), al("istypeable")),
				boolean("is_statusable", def(true), al("isstatusable")),
				boolean("is_schedulable", def(false), al("isschedulable")),
				boolean("is_time_reportable", def(false), al("istimereportable")),
				array("tasks", "Task"),
				array("project_schemas", "ProjectSchema"),
			),
		entity("ProjectSchema", "id").
			alias("ProjectScheme").
			with(
				uid(al("schemeid")),
				str("name"),
				fk("task_workflow_schema_id", "WorkflowSchema", al("taskworkflowid")),
				ref("task_workflow_schema", "WorkflowSchema", al("taskworkflow")),
				ref("_task_workflow", "WorkflowSchema", al("taskworkflow")),
				fk("asset_version_workflow_schema_id", "WorkflowSchema", al("versionworkflowid")),
				ref("asset_version_workflow_schema", "WorkflowSchema", al("versionworkflow")),
				ref("_version_workflow", "WorkflowSchema", al("versionworkflow")),
				fk("task_type_schema_id", "TaskTypeSchema", al("tasktypeschemeid")),
				ref("task_type_schema", "TaskTypeSchema", al("tasktypescheme")),
				ref("_task_type_schema", "TaskTypeSchema", al("tasktypescheme")),
				array("task_workflow_schema_overrides", "ProjectSchemaOverride", al("overrides")),
				array("_overrides", "ProjectSchemaOverride", al("overrides")),
				array("object_type_schemas", "Schema", al("schemas")),
				array("_schemas", "Schema", al("schemas")),
				array("object_types", "ObjectType"),
				array("task_templates", "TaskTemplate", al("templates")),
			),
		entity("ProjectSchemaObjectType", "object_type_id", "project_schema_id").
			with(
				fk("object_type_id", "ObjectType"),
				ref("object_type", "ObjectType"),
				fk("project_schema_id", "ProjectSchema"),
				ref("project_schema", "ProjectSchema"),
			),
		entity("ProjectSchemaOverride", "id").
			alias("ProjectSchemeOverride").
			with(
				uid(al("overrideid")),
				fk("project_schema_id", "ProjectSchema", al("projectschemeid")),
				fk("workflow_schema_id", "WorkflowSchema", al("workflowschemeid")),
				ref("workflow_schema", "WorkflowSchema", al("workflowscheme")),
				fk("type_id", "Type", al("typeid")),
			),
		entity("WorkflowSchema", "id").
			alias("WorkflowScheme").
			with(
				uid(al("schemeid")),
				str("name", def("Workflow Name")),
				array("statuses", "Status"),
				array("overrides", "ProjectSchemaOverride"),
			),
		entity("WorkflowSchemaStatus", "workflow_schema_id", "status_id").
			with(
				fk("workflow_schema_id", "WorkflowSchema", al("schemeid")),
				fk("status_id", "Status", al("statusid")),
			),
		entity("TaskTypeSchema", "id").
			alias("TaskTypeScheme").
			with(
				uid(al("schemeid")),
				str("name", def("TaskType Schema Name")),
				array("types", "Type"),
			),
		entity("TaskTypeSchemaType", "task_type_schema_id", "type_id").
			with(
				fk("task_type_schema_id", "TaskTypeSchema", al("schemeid")),
				fk("type_id", "Type", al("typeid")),
			),
		entity("Schema", "id").
			req("id", "type_id", "project_schema_id").
			with(
				uid(),
				fk("project_schema_id", "ProjectSchema", al("projectschemeid")),
				fk("object_type_id", "ObjectType", al("typeid")),
				fk("type_id", "ObjectType", al("typeid")),
				array("statuses", "SchemaStatus"),
				array("types", "SchemaType"),
			),
		entity("SchemaStatus", "status_id", "schema_id").
			with(
				fk("schema_id", "Schema", al("schemaid")),
				fk("status_id", "Status", al("statusid")),
				ref("task_status", "Status", al("taskstatus")),
				integer("sort", def(0)),
			),
		entity("SchemaType", "type_id", "schema_id").
			with(
				fk("schema_id", "Schema", al("schemaid")),
				fk("type_id", "Type", al("typeid")),
				ref("task_type", "Type", al("tasktype")),
				integer("sort", def(0)),
			),
		entity("TaskTemplate", "id").
			req("id", "name", "project_schema_id").
			proj("id", "name").
			with(
				uid(),
				str("name"),
				fk("project_schema_id", "ProjectSchema", al("projectschemeid")),
				ref("project_schema", "ProjectSchema", al("schema")),
				array("items", "TaskTemplateItem"),
			),
		entity("TaskTemplateItem", "id").
			req("id", "template_id", "task_type_id").
			with(
				uid(),
				fk("template_id", "TaskTemplate"),
				ref("template", "TaskTemplate"),
				fk("task_type_id", "Type", al("tasktype_id")),
				ref("task_type", "Type", al("taskType")),
			),

		// People: resources, users, groups and their roles.
		entity("Resource", "id").
			req("resource_type", "id").
			sys("resource_type").
			with(
				uid(),
				str("resource_type"),
				array("assignments", "Appointment", al("resource_assignments")),
				array("appointments", "Appointment", al("resource_appointments")),
				array("allocations", "Appointment", al("resource_allocations")),
			),
		entity("User", "id").
			req("username", "is_active", "resource_type", "id").
			imm("resource_type", "thumbnail_url", "id").
			comp("thumbnail_url").
			sys("resource_type").
			with(
				uid(),
				str("resource_type", def("user")),
				str("username"),
				str("first_name", al("firstname")),
				str("last_name", al("lastname")),
				str("email"),
				boolean("is_active", al("isactive")),
				boolean("is_otp_enabled", al("otp_enabled")),
				boolean("is_totp_enabled", al("totp_enabled")),
				boolean("require_details_update"),
				// Only format and alias_for, as the server sends it: the Python
				// client builds no attribute for it.
				mk("user_type_id", fragment{Format: "foreign_key"}, []opt{al("typeid")}),
				ref("user_type", "UserType", al("type")),
				fk("thumbnail_id", "Component", al("thumbid")),
				ref("thumbnail", "Component"),
				object("thumbnail_url"),
				array("memberships", "Membership", al("user_memberships")),
				array("user_security_roles", "UserSecurityRole", al("userRoles")),
				array("timelogs", "Timelog"),
				array("assignments", "Appointment", al("resource_assignments")),
				array("appointments", "Appointment", al("resource_appointments")),
				array("allocations", "Appointment", al("resource_allocations")),
				metadata(),
				customAttributes("UserCustomAttributeValue"),
			),
		entity("UserType", "id").
			imm("id", "name").
			with(uid(al("typeid")), str("name")),
		entity("Group", "id").
			req("name", "local", "resource_type", "id").
			imm("resource_type", "link", "id").
			sys("resource_type").
			with(
				uid(),
				str("resource_type", def("group")),
				str("name", def("")),
				boolean("local"),
				str("link", al("api_link")),
				fk("parent_id", "Group", al("group_id")),
				ref("parent", "Group"),
				array("children", "Group"),
				array("memberships", "Membership", al("group_memberships")),
				array("assignments", "Appointment", al("resource_assignments")),
				array("appointments", "Appointment", al("resource_appointments")),
				array("allocations", "Appointment", al("resource_allocations")),
			),
		entity("Membership", "id").
			req("group_id", "user_id", "id").
			with(
				uid(),
				fk("user_id", "User"),
				ref("user", "User", al("membership_user")),
				fk("group_id", "Group"),
				ref("group", "Group", al("membership_group")),
			),
		entity("SecurityRole", "id").
			alias("Auth_Role").
			proj("id", "name").
			with(
				uid(al("roleid")),
				str("name"),
				str("type", asFK, al("typeid")),
				array("user_security_roles", "UserSecurityRole", al("userRoles")),
			),
		entity("UserSecurityRole", "id").
			alias("Auth_UserRole").
			proj("id", "user_id", "security_role_id").
			with(
				uid(),
				fk("user_id", "User", al("userid")),
				ref("user", "User"),
				fk("security_role_id", "SecurityRole", al("roleid")),
				ref("security_role", "SecurityRole", al("role")),
				boolean("is_all_projects", al("isallprojects")),
				boolean("is_all_open_projects", al("isallprojects")),
				array("user_security_role_projects", "UserSecurityRoleProject", al("user_role_projects")),
			),
		entity("UserSecurityRoleProject", "id").
			alias("UserRoleProject").
			proj("id", "user_security_role_id", "project_id").
			with(
				uid(),
				fk("user_security_role_id", "UserSecurityRole", al("user_role_id")),
				ref("user_security_role", "UserSecurityRole", al("user_role")),
				fk("project_id", "Project"),
				ref("project", "Project"),
			),
		entity("ManagerType", "id").
			with(uid(al("typeid")), str("name")),
		entity("Manager", "id").
			with(
				uid(al("managerid")),
				fk("user_id", "User", al("userid")),
				ref("user", "User"),
				fk("context_id", "Context"),
				ref("context", "Context"),
				fk("type_id", "ManagerType", al("typeid")),
				ref("type", "ManagerType"),
			),
		entity("Appointment", "id").
			req("id", "type", "resource_id", "context_id").
			with(
				uid(),
				str("type"),
				fk("resource_id", "Resource"),
				ref("resource", "Resource", al("appointment_resource")),
				fk("context_id", "Context"),
				ref("context", "Context", al("appointment_context")),
			),
		entity("Timelog", "id").
			req("comment", "start", "duration", "id").
			sys("user_id", "context_id").
			with(
				uid(),
				str("name"),
				str("comment", def("")),
				datetime("start"),
				number("duration"),
				number("time_zone_offset"),
				fk("user_id", "User"),
				ref("user", "User"),
				fk("context_id", "Context"),
				ref("context", "Context"),
			),
		entity("Timer", "id").
			req("comment", "start", "user_id", "id").
			with(
				uid(),
				str("name"),
				str("comment", def("")),
				datetime("start"),
				fk("user_id", "User"),
				ref("user", "User"),
				fk("context_id", "Context"),
				ref("context", "Context"),
			),

		// Publishing: assets, versions, components and locations.
		entity("AssetType", "id").
			req("id", "name", "short").
			with(
				uid(al("typeid")),
				str("name"),
				str("short"),
				str("component", def("main")),
				array("assets", "Asset"),
			),
		entity("Asset", "id").
			comp("latest_version").
			sys("context_id").
			with(
				uid(al("assetid")),
				str("name"),
				fk("context_id", "Context"),
				ref("parent", "Context"),
				fk("type_id", "AssetType", al("typeid")),
				ref("type", "AssetType"),
				array("versions", "AssetVersion"),
				ref("latest_version", "AssetVersion"),
				metadata(),
				customAttributes("AssetCustomAttributeValue"),
			),
		entity("AssetVersion", "id").
			req("id", "is_published", "status_id").
			imm("id", "_link", "link", "is_latest_version", "thumbnail_url").
			comp("thumbnail_url").
			sys("assetid").
			with(
				uid(al("versionid")),
				integer("version"),
				str("comment", def("")),
				datetime("date"),
				boolean("is_published", def(true), al("ispublished")),
				boolean("is_latest_version"),
				str("_link", al("_api_link")),
				str("link", al("_api_link")),
				fk("asset_id", "Asset", al("assetid")),
				ref("asset", "Asset"),
				fk("task_id", "Task", al("taskid")),
				ref("task", "Task"),
				fk("status_id", "Status", al("statusid")),
				ref("status", "Status"),
				fk("user_id", "User", al("userid")),
				ref("user", "User"),
				fk("thumbnail_id", "Component", al("thumbid")),
				ref("thumbnail", "Component"),
				object("thumbnail_url"),
				array("components", "Component"),
				array("notes", "Note"),
				array("status_changes", "StatusChange"),
				array("incoming_links", "AssetVersionLink", al("incoming_links")),
				array("outgoing_links", "AssetVersionLink", al("outgoing_links")),
				array("uses_versions", "AssetVersion", al("usesversions")),
				array("used_in_versions", "AssetVersion", al("usedinversions")),
				array("lists", "AssetVersionList", al("_lists")),
				metadata(),
				customAttributes("AssetVersionCustomAttributeValue"),
			),
		component("Component"),
		component("FileComponent"),
		component("SequenceComponent", integer("padding", def(0)), array("members", "Component")).
			req("system_type", "name", "id", "padding"),
		component("ContainerComponent", array("members", "Component")),
		entity("Location", "id").
			req("name", "id").
			with(
				uid(),
				str("name"),
				str("label"),
				array("location_components", "ComponentLocation"),
			),
		entity("ComponentLocation", "id").
			comp("url").
			sys("location_id", "component_id").
			with(
				uid(),
				fk("component_id", "Component"),
				ref("component", "Component"),
				fk("location_id", "Location"),
				ref("location", "Location"),
				str("resource_identifier", al("resourceIdentifier")),
				object("url"),
			),
		entity("Job", "id").
			req("id", "status", "type").
			imm("id", "type").
			with(
				uid(al("jobid")),
				str("type", def("api_job")),
				str("status", def("queued"), enum("queued", "running", "done", "failed")),
				mk("data", fragment{Type: "string", Format: "json"}, nil),
				datetime("created_at"),
				datetime("finished_at"),
				fk("user_id", "User", al("userid")),
				ref("user", "User"),
				array("job_components", "JobComponent"),
			),
		entity("JobComponent", "component_id", "job_id").
			imm("component_id", "job_id", "url").
			comp("url").
			with(
				fk("component_id", "Component"),
				ref("component", "Component"),
				fk("job_id", "Job"),
				ref("job", "Job"),
				object("url"),
			),

		// Notes.
		entity("NoteCategory", "id").
			alias("NoteCategory").
			with(uid(al("categoryid")), str("name"), str("color"), integer("sort", def(0))),
		entity("NoteLabel", "id").
			alias("NoteCategory").
			with(uid(al("categoryid")), str("name"), str("color"), integer("sort", def(0))),
		entity("Note", "id").
			req("id", "user_id").
			with(
				uid(al("noteid")),
				str("content", al("text")),
				datetime("date"),
				fk("user_id", "User", al("userid")),
				ref("author", "User", al("user")),
				str("parent_id"),
				str("parent_type", tableTransform),
				fk("category_id", "NoteCategory", al("categoryid")),
				ref("category", "NoteCategory"),
				fk("in_reply_to_id", "Note", al("noteparentid")),
				ref("in_reply_to", "Note", al("noteparent")),
				array("replies", "Note", al("notes")),
				boolean("is_todo", def(false)),
				datetime("completed_at"),
				fk("completed_by_id", "User"),
				ref("completed_by", "User"),
				datetime("thread_activity", al("triggerdate")),
				array("recipients", "Recipient", al("note_recipients")),
				array("note_components", "NoteComponent"),
				array("note_label_links", "NoteLabelLink"),
				metadata(),
			),
		entity("NoteComponent", "component_id", "note_id").
			imm("component_id", "note_id", "thumbnail_url", "url").
			comp("thumbnail_url", "url").
			with(
				fk("component_id", "Component"),
				ref("component", "Component"),
				fk("note_id", "Note"),
				ref("note", "Note"),
				object("url"),
				object("thumbnail_url"),
			),
		entity("NoteLabelLink", "note_id", "label_id").
			with(
				fk("note_id", "Note"),
				ref("note", "Note"),
				fk("label_id", "NoteLabel"),
			),
		entity("Recipient", "note_id", "resource_id").
			with(
				fk("note_id", "Note"),
				ref("note", "Note", al("recipient_note")),
				fk("resource_id", "Resource"),
				ref("recipient", "Resource", al("recipient_resource")),
				ref("user", "User"),
				str("text_mentioned"),
			),

		// Custom attributes and metadata.
		entity("CustomAttributeType", "id").
			req("id", "core").
			with(
				uid(al("typeid")),
				str("name"),
				boolean("core", def(false)),
				str("form_config", al("formconfig")),
				array("custom_attribute_configurations", "CustomAttributeConfiguration", al("variables")),
			),
		entity("CustomAttributeGroup", "id").
			alias("AttributeGroup").
			proj("id", "name").
			with(
				uid(al("groupid")),
				str("name"),
				array("custom_attribute_configurations", "CustomAttributeConfiguration", al("registers")),
			),
		entity("CustomAttributeConfiguration", "id").
			alias("Variable_Register").
			req("id", "core", "config").
			sys("write_permissionid", "permissionid", "topid").
			with(
				uid(al("registerid")),
				str("key"),
				str("label"),
				str("config"),
				boolean("core", def(false)),
				integer("sort", def(0)),
				variable("default", def(""), al("casted_default")),
				boolean("is_hierarchical", def(false), al("ishierarchical")),
				str("entity_type", al("entity")),
				str("object_type_id", al("entity_key")),
				ref("object_type", "ObjectType", al("object_type")),
				str("project_id", al("topid")),
				fk("type_id", "CustomAttributeType", al("typeid")),
				ref("type", "CustomAttributeType"),
				fk("group_id", "CustomAttributeGroup", al("groupid")),
				ref("group", "CustomAttributeGroup"),
				array("values", "CustomAttributeValue"),
				array("read_security_roles", "SecurityRole", al("read_roles")),
				array("write_security_roles", "SecurityRole", al("write_roles")),
			),
		entity("CustomAttributeValue", "configuration_id", "entity_id").
			alias("Variable_Value").
			with(
				str("entity_id", al("entityid")),
				ref("configuration", "CustomAttributeConfiguration", al("register")),
				fk("configuration_id", "CustomAttributeConfiguration", al("registerid")),
				variable("value", al("casted_value")),
			),
		customAttributeValue("ContextCustomAttributeValue", true),
		customAttributeValue("AssetCustomAttributeValue", true),
		customAttributeValue("AssetVersionCustomAttributeValue", true),
		customAttributeValue("UserCustomAttributeValue", false),
		customAttributeValue("ListCustomAttributeValue", true),
		customAttributeValue("ListObjectCustomAttributeValue", false),
		entity("Metadata", "parent_id", "key").
			alias("Meta").
			req("parent_id", "key", "value", "parent_type").
			proj("parent_id", "key", "value", "parent_type").
			with(
				str("parent_id", al("meta_id")),
				str("parent_type", al("meta_type"), tableTransform),
				str("key", al("variable")),
				str("value"),
			),

		// Lists, links and status history.
		entity("ListCategory", "id").
			alias("ListType").
			with(uid(al("typeid")), str("name"), array("lists", "List")),
		listDef("List", "task", "", ""),
		listDef("TypedContextList", "task", "Task", "_task_items"),
		listDef("AssetVersionList", "assetversion", "AssetVersion", "_asset_version_items"),
		entity("ListObject", "id").
			req("id", "entity_id", "list_id").
			proj("id", "entity_id", "list_id").
			with(
				uid(),
				str("entity_id", al("entityid")),
				fk("list_id", "List", al("listid")),
				ref("list", "List"),
				customAttributes("ListObjectCustomAttributeValue"),
			),
		entity("TypedContextLink", "id").
			alias("Dependency").
			req("id", "from_id", "to_id").
			proj("id", "from_id", "to_id").
			with(
				uid(al("dependencyid")),
				fk("from_id", "TypedContext"),
				ref("from", "TypedContext", al("fromTask")),
				fk("to_id", "TypedContext"),
				ref("to", "TypedContext", al("toTask")),
				metadata(),
			),
		entity("AssetVersionLink", "id").
			req("id", "from_id", "to_id").
			proj("id", "from_id", "to_id").
			with(
				uid(),
				fk("from_id", "AssetVersion", al("linkedversionid")),
				ref("from", "AssetVersion", al("linked_version")),
				fk("to_id", "AssetVersion", al("versionid")),
				ref("to", "AssetVersion", al("version")),
				metadata(),
			),
		statusChange("StatusChange", ""),
		statusChange("TypedContextStatusChange", "TypedContext"),
		statusChange("AssetVersionStatusChange", "AssetVersion"),
	}
}
