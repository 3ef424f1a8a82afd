package plan

import (
	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/schema"
)

// Desired is an FtrackEntity's spec checked against the server's schema, with its
// references and custom attributes resolved: what ftrack should hold.
type Desired struct {
	// Type is the entity type.
	Type EntityType
	// ID is the ftrack id of the entity.
	ID string
	// Attrs are the scalar attributes, converted to the values sent and compared.
	Attrs map[string]any
	// Refs are the resolved references by relation.
	Refs map[string]Ref
	// ParentPath is the path of the parent (see EntityPath), "" when unknown.
	ParentPath string
	// Custom are custom attribute values by key, with their configuration.
	Custom map[string]Custom
	// Metadata are the metadata to hold, the managed-by mark included when the entity is
	// managed.
	Metadata map[string]string
}

// Ref is a reference resolved to an entity.
type Ref struct {
	ID   string
	Type string
	// Path is the entity's path in ftrack when it was read with its link.
	Path string
}

// Custom is one custom attribute value and the configuration it belongs to.
type Custom struct {
	ConfigID string
	Value    any
}

// Observed is what ftrack holds of the attributes the Desired names.
type Observed struct {
	// Type is the entity's concrete type.
	Type     string
	Attrs    map[string]any
	Refs     map[string]string
	Custom   map[string]any
	Metadata map[string]string
	// Path is project / … / name from the entity's link, "" for types without one.
	Path string
}

// CustomAttributeConfig is one CustomAttributeConfiguration of the server.
type CustomAttributeConfig struct {
	ID             string
	Key            string
	EntityType     string
	ObjectTypeID   string
	TypeName       string
	IsHierarchical bool
}

// Name returns the type's name.
func (es EntityType) Name() string { return es.s.ID }

// Schema returns the type's schema.
func (es EntityType) Schema() *schema.Schema { return es.s }

// Set returns the schema set the type belongs to.
func (es EntityType) Set() *schema.Set { return es.set }

// IsA reports whether the type is typ or one of its subtypes.
func (es EntityType) IsA(typ string) bool { return es.set.IsA(es.s.ID, typ) }

// HasLink reports whether entities of the type have ftrack's link: the list of
// {id, name, type} from the project down to the entity.
// DisplayAttribute is the attribute that names entities of the type for people: name, else
// key (custom attribute configurations), else username (users); "" when there is none.
func (es EntityType) DisplayAttribute() string {
	for _, a := range []string{"name", "key", "username"} {
		if _, ok := es.s.Property(a); ok {
			return a
		}
	}
	return ""
}

func (es EntityType) HasLink() bool {
	_, ok := es.s.Property("link")
	return ok
}

// TypeOf returns the EntityType of s in set, without the checks of LookupType.
func TypeOf(set *schema.Set, s *schema.Schema) EntityType { return EntityType{set: set, s: s} }
