package builtin

// Fixed ids of the seeded entities. Ids that an ftrack server or the official
// clients also fix (locations, object types, the default priority, the
// Not started status) have their real values; the others are this package's
// own, stable across releases.

// States: the four workflow states of every status.
const (
	// NotStartedStateID is the id of the State Not started.
	NotStartedStateID = "6dd21033-2dfb-4081-bb25-20857ed6b275"
	// InProgressStateID is the id of the State In progress.
	InProgressStateID = "1cc73f03-8997-434c-98dd-a02af6707a65"
	// DoneStateID is the id of the State Done.
	DoneStateID = "085b4a71-441c-41da-98e6-cea19a3cd21c"
	// BlockedStateID is the id of the State Blocked.
	BlockedStateID = "c3caed29-596e-44c7-8e97-6133b870bbfb"
)

// Statuses.
const (
	// ReadyToStartStatusID is the id of the Status Ready to start.
	ReadyToStartStatusID = "7e2ee949-1c60-4b88-b245-2124bde36efc"
	// InProgressStatusID is the id of the Status In progress.
	InProgressStatusID = "ac6ac0aa-a599-421d-9356-0d7ecb554184"
	// PendingReviewStatusID is the id of the Status Pending review.
	PendingReviewStatusID = "34b8c927-e809-447e-96ad-81d00ba719ca"
	// NeedsAttentionStatusID is the id of the Status Needs attention.
	NeedsAttentionStatusID = "6c0b251c-e399-491d-ae31-90014a7bd673"
	// ApprovedStatusID is the id of the Status Approved.
	ApprovedStatusID = "32ce9beb-c75a-49d4-b766-2d907c10f4f3"
	// OnHoldStatusID is the id of the Status On hold.
	OnHoldStatusID = "d98dcfa5-c08e-46f0-988e-062e33b5c2e9"
	// OmittedStatusID is the id of the Status Omitted.
	OmittedStatusID = "0029432d-7366-4426-bc02-0d36c0977e48"
	// DoneStatusID is the id of the Status Done.
	DoneStatusID = "b8f64105-dd0b-488a-94c8-eb0ecf74bb0d"
)

// Task types.
const (
	// GenericTypeID is the id of the Type Generic.
	GenericTypeID = "f9638108-3593-4a1e-b9ab-2498810efc77"
	// AnimationTypeID is the id of the Type Animation.
	AnimationTypeID = "d35c2866-99fa-4229-b529-33a1eb6481c8"
	// CompositingTypeID is the id of the Type Compositing.
	CompositingTypeID = "f5dfa256-194d-493c-a9b9-0e927a2e5109"
	// ModelingTypeID is the id of the Type Modeling.
	ModelingTypeID = "f9583200-ddbd-4691-ac3a-e892243a2b5a"
	// RiggingTypeID is the id of the Type Rigging.
	RiggingTypeID = "a2bd70b8-c85a-472a-8645-7e0296643fc4"
	// LightingTypeID is the id of the Type Lighting.
	LightingTypeID = "315f2ae7-86de-4b31-8e0d-23cd2d35843d"
	// FXTypeID is the id of the Type FX.
	FXTypeID = "ceccce24-c7c6-46d1-aaa5-ebd137a88e65"
	// LayoutTypeID is the id of the Type Layout.
	LayoutTypeID = "ae2e2954-3293-4d02-a9f4-62966fac2486"
	// RenderingTypeID is the id of the Type Rendering.
	RenderingTypeID = "79d4842e-83c5-49b8-b146-eddf4fe255e6"
	// TextureTypeID is the id of the Type Texture.
	TextureTypeID = "08c2d05c-7473-4571-87a1-3e16d1299682"
	// TrackingTypeID is the id of the Type Tracking.
	TrackingTypeID = "3005f43b-2b59-4a38-8c1e-4e390f1091f6"
	// EditingTypeID is the id of the Type Editing.
	EditingTypeID = "9cfa6f00-c655-4c7e-9718-7654561ac393"
	// LookdevTypeID is the id of the Type Lookdev.
	LookdevTypeID = "5bd781e9-ed41-488a-af6f-d38e657d35ac"
	// PrevisTypeID is the id of the Type Previs.
	PrevisTypeID = "66c5eff0-6023-4f6f-94f0-67f6efd5b725"
	// CharacterTypeID is the id of the Type Character.
	CharacterTypeID = "cf2e296f-63ed-4078-9c9b-625aa835592b"
	// PropTypeID is the id of the Type Prop.
	PropTypeID = "7c8db691-e0f3-43ec-a4d8-3764f6b923c3"
	// EnvironmentTypeID is the id of the Type Environment.
	EnvironmentTypeID = "ea7d5808-a14c-49f7-821c-79d6408082fd"
	// DeliveryTypeID is the id of the Type Delivery.
	DeliveryTypeID = "e8fcbba3-8484-4394-8a31-e52780a82814"
	// ClientReviewTypeID is the id of the Type Client review.
	ClientReviewTypeID = "d02b61d8-421f-4577-a754-9266600910ea"
)

// Priorities other than the default.
const (
	// UrgentPriorityID is the id of the Priority Urgent.
	UrgentPriorityID = "46a40261-b1b5-4753-b1be-61b0ae3747de"
	// HighPriorityID is the id of the Priority High.
	HighPriorityID = "98105e5a-a7fc-4bf8-aa0b-d93ed36e097a"
	// MediumPriorityID is the id of the Priority Medium.
	MediumPriorityID = "df40dc90-7820-4950-9f69-a0fa03dec35e"
	// LowPriorityID is the id of the Priority Low.
	LowPriorityID = "c1d9830f-14f1-40d1-a28a-8abe2fb074da"
)

// Asset types.
const (
	// UploadAssetTypeID is the id of the AssetType Upload.
	UploadAssetTypeID = "41c1b1da-6a88-4993-b654-bfb3452aeb44"
	// GeometryAssetTypeID is the id of the AssetType Geometry.
	GeometryAssetTypeID = "c8cee3bb-89e7-4d05-862c-ab2d917c3336"
	// SceneAssetTypeID is the id of the AssetType Scene.
	SceneAssetTypeID = "e0c582a8-a27d-4531-9fc3-690388920be0"
	// RigAssetTypeID is the id of the AssetType Rig.
	RigAssetTypeID = "0476d422-8e8e-445e-8064-0f32622479b8"
	// CameraAssetTypeID is the id of the AssetType Camera.
	CameraAssetTypeID = "0f16679d-9156-44ee-ac66-f66ab4119802"
	// CacheAssetTypeID is the id of the AssetType Cache.
	CacheAssetTypeID = "7a2576d0-ca58-4ebc-980d-4dd883af5d1d"
	// TextureAssetTypeID is the id of the AssetType Texture.
	TextureAssetTypeID = "039968f7-cd96-4005-90fc-1be0c0e6f8b6"
	// RenderAssetTypeID is the id of the AssetType Render.
	RenderAssetTypeID = "14f1f7c9-4ca5-4720-8a52-452d7384c686"
	// CompAssetTypeID is the id of the AssetType Comp.
	CompAssetTypeID = "e59d178d-2c2a-46a9-b864-c8ff95a8bc66" //nolint:gosec // G101: "mpAss" is not a password
	// ImageAssetTypeID is the id of the AssetType Image.
	ImageAssetTypeID = "c77bb8b9-77c5-4916-baf7-4ed3c3c4c8d7"
	// AudioAssetTypeID is the id of the AssetType Audio.
	AudioAssetTypeID = "9cbf9c11-f95a-43da-bf12-8ab2ea598fb7"
	// EditAssetTypeID is the id of the AssetType Edit.
	EditAssetTypeID = "66b35ec6-8dcf-4b6d-8572-035d0e832048"
)

// Note categories.
const (
	// DefaultNoteCategoryID is the id of the NoteCategory Default.
	DefaultNoteCategoryID = "baaacb1c-0b05-4231-850e-77cadad6d17e"
	// InternalNoteCategoryID is the id of the NoteCategory Internal.
	InternalNoteCategoryID = "4e11837a-45f4-441e-a979-863b7bc9466d"
	// ClientNoteCategoryID is the id of the NoteCategory Client feedback.
	ClientNoteCategoryID = "7a824346-7465-4cf7-b35b-44bd512b5444"
)

// User types.
const (
	// StandardUserTypeID is the id of the UserType standard.
	StandardUserTypeID = "7b232548-fe15-4874-a1ba-3ddd7d7e7fa7"
	// ServiceUserTypeID is the id of the UserType service.
	ServiceUserTypeID = "0587bc7b-9003-48bc-aaea-573de549ad65"
)

// Security roles.
const (
	// AdministratorSecurityRoleID is the id of the SecurityRole Administrator.
	AdministratorSecurityRoleID = "0aa4b5a5-63be-4eeb-b2a0-95a6d39691fc"
	// ProjectManagerSecurityRoleID is the id of the SecurityRole Project Manager.
	ProjectManagerSecurityRoleID = "c1230ac4-7aa7-4111-a30a-099f0c0cbff5"
	// SupervisorSecurityRoleID is the id of the SecurityRole Supervisor.
	SupervisorSecurityRoleID = "92ac6c8e-9331-41e3-9e4d-8af92216c418"
	// UserSecurityRoleID is the id of the SecurityRole User.
	UserSecurityRoleID = "3a90fef1-993a-44a6-b005-14ac2651c7e1"
	// APISecurityRoleID is the id of the SecurityRole API.
	APISecurityRoleID = "b7586c45-583a-4bdc-a211-61f48ab01188"
)

// Custom attribute types.
const (
	// TextCustomAttributeTypeID is the id of the CustomAttributeType text.
	TextCustomAttributeTypeID = "f61ac3d8-e322-4ee3-b054-62d3d842ee2d"
	// NumberCustomAttributeTypeID is the id of the CustomAttributeType number.
	NumberCustomAttributeTypeID = "24bc7d18-85fa-4992-818f-e21432f43781"
	// BooleanCustomAttributeTypeID is the id of the CustomAttributeType boolean.
	BooleanCustomAttributeTypeID = "8a859fd8-c0d6-47fe-bcba-bdc990bd7c48"
	// DateCustomAttributeTypeID is the id of the CustomAttributeType date.
	DateCustomAttributeTypeID = "c58d0bbd-77f3-4ec9-9116-e51ddd732fa8"
	// EnumeratorCustomAttributeTypeID is the id of the CustomAttributeType enumerator.
	EnumeratorCustomAttributeTypeID = "3f33fc68-62b6-4c18-a010-a8d9d99407bc"
	// DynamicEnumeratorCustomAttributeTypeID is the id of the CustomAttributeType dynamic enumerator.
	DynamicEnumeratorCustomAttributeTypeID = "8fc454fa-9836-499b-ac65-feada22230a0"
	// ExpressionCustomAttributeTypeID is the id of the CustomAttributeType expression.
	ExpressionCustomAttributeTypeID = "ff94cf91-3a67-4428-a01e-c22c09dc6899"
	// URLCustomAttributeTypeID is the id of the CustomAttributeType url.
	URLCustomAttributeTypeID = "a4c56912-8425-4faf-9f6e-a337170b7edc"
	// NotificationTypeCustomAttributeTypeID is the id of the CustomAttributeType notificationtype.
	NotificationTypeCustomAttributeTypeID = "529dd054-cfef-465e-991f-6d53b2641671"
)

// List categories.
const (
	// DefaultListCategoryID is the id of the ListCategory Default.
	DefaultListCategoryID = "66008ec8-43ee-44ed-93ac-7c591eff42f4"
	// DailiesListCategoryID is the id of the ListCategory Dailies.
	DailiesListCategoryID = "a90181f4-45ed-4462-a8d8-bb0b7ab28115"
)

// Manager types.
const (
	// SupervisorManagerTypeID is the id of the ManagerType Supervisor.
	SupervisorManagerTypeID = "fbfbd6b4-160b-4980-9450-4b6d0b3d62f3"
	// CoordinatorManagerTypeID is the id of the ManagerType Coordinator.
	CoordinatorManagerTypeID = "1843f388-ef24-4df0-820e-e0d2858f5fc5"
)

// The default project schema and its parts.
const (
	// DefaultProjectSchemaID is the id of the project schema "VFX".
	DefaultProjectSchemaID = "99b00270-70ac-44d2-b3ad-67ff513adea9"
	// TaskWorkflowSchemaID is the id of the task workflow.
	TaskWorkflowSchemaID = "1ff53cdb-5eef-4007-a687-483a232f4c67"
	// VersionWorkflowSchemaID is the id of the asset version workflow.
	VersionWorkflowSchemaID = "b278822b-bc60-44d6-be2b-27c85acac5ca"
	// TaskTypeSchemaID is the id of the task type schema.
	TaskTypeSchemaID = "31a59ed4-550f-4205-9763-8050fc27fb5a"
	// ShotSchemaID is the id of the Shot workflow of the default project schema.
	ShotSchemaID = "18c4eb34-fe5c-46dc-bcfc-999f6baf21ed"
	// AssetBuildSchemaID is the id of the AssetBuild workflow and types of the default project schema.
	AssetBuildSchemaID = "b3854837-89a3-436a-a030-393e6e6474bf"
	// MilestoneSchemaID is the id of the Milestone workflow and types of the default project schema.
	MilestoneSchemaID = "bb566e01-f0e3-49ef-a2a1-c6bfc016a6a1"
)

// Well-known ids shared with real ftrack servers and the official clients.
const (
	// OriginLocationID is the id of the Location ftrack.origin.
	OriginLocationID = "ce9b348f-8809-11e3-821c-20c9d081909b"
	// UnmanagedLocationID is the id of the Location ftrack.unmanaged.
	UnmanagedLocationID = "cb268ecc-8809-11e3-a7e2-20c9d081909b"
	// ReviewLocationID is the id of the Location ftrack.review.
	ReviewLocationID = "cd41be70-8809-11e3-b98a-20c9d081909b"
	// ConnectLocationID is the id of the Location ftrack.connect.
	ConnectLocationID = "07b82a97-8cf9-11e3-9383-20c9d081909b"
	// ServerLocationID is the id of the Location ftrack.server.
	ServerLocationID = "3a372bde-05bc-11e4-8908-20c9d081909b"

	// TaskObjectTypeID is the id of the ObjectType Task, the classifier and
	// object_type_id default of the Task entity type.
	TaskObjectTypeID = "11c137c0-ee7e-4f9c-91c5-8c77cec22b2c"
	// ShotObjectTypeID is the id of the ObjectType Shot.
	ShotObjectTypeID = "bad911de-3bd6-47b9-8b46-3476e237cb36"
	// SequenceObjectTypeID is the id of the ObjectType Sequence.
	SequenceObjectTypeID = "e5139355-61da-4c8f-9db4-3abc870166bc"
	// EpisodeObjectTypeID is the id of the ObjectType Episode.
	EpisodeObjectTypeID = "22139355-61da-4c8f-9db4-3abc870166bc"
	// FolderObjectTypeID is the id of the ObjectType Folder.
	FolderObjectTypeID = "3c133785-51cb-11e3-980a-20c9d0831e59"
	// AssetBuildObjectTypeID is the id of the ObjectType AssetBuild.
	AssetBuildObjectTypeID = "4be63b64-5010-42fb-bf1f-428af9d638f0"
	// MilestoneObjectTypeID is the id of the ObjectType Milestone.
	MilestoneObjectTypeID = "01decdd1-51cb-11e3-9d5b-20c9d0831e59"

	// DefaultPriorityID is the priority_id default of every TypedContext
	// subtype; the seeded Priority "None".
	DefaultPriorityID = "9661b320-3a0c-11e2-81c1-0800200c9a66"
	// NotStartedStatusID is the id of the Status Not started.
	NotStartedStatusID = "44dd9fb2-4164-11df-9218-0019bb4983d8"
)
