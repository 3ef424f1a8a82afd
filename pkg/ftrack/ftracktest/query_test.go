package ftracktest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ids returns the ids of a query result's data, in order.
func ids(res map[string]any) []string {
	var out []string
	for _, d := range res["data"].([]any) {
		out = append(out, d.(map[string]any)["id"].(string))
	}
	return out
}

func TestQueryCriteria(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t)
	seed := []Record{
		{"Metadata", map[string]any{"parent_id": fxShotID, "parent_type": "Shot", "key": "camera", "value": "alexa"}},
		{"Timelog", map[string]any{"id": "00000000-0000-0000-0000-000000000701", "context_id": fxTaskID, "start": "2024-05-01T09:00:00", "duration": 3600, "comment": "x", "user_id": mustUserID(t, s)}},
	}
	if err := s.Seed(seed...); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		reason string
		expr   string
		want   []string
	}{
		"IsQuoted":          {"is compares equal", `Shot where name is "sh010"`, []string{fxShotID}},
		"EqualsSign":        {"= is a synonym of is", `Shot where name="sh020"`, []string{fxShot2ID}},
		"IsNot":             {"is_not excludes", `Shot where name is_not "sh010"`, []string{fxShot2ID}},
		"NotEqualsSign":     {"!= is a synonym", `Shot where name != "sh010"`, []string{fxShot2ID}},
		"BareWord":          {"bare words are strings", `Shot where name is sh010`, []string{fxShotID}},
		"BareUUID":          {"a bare uuid matches the id", "Shot where id is " + fxShot2ID, []string{fxShot2ID}},
		"GreaterNumber":     {"> compares numbers", `Shot where bid > 15`, []string{fxShot2ID}},
		"LessNumber":        {"< compares numbers", `Shot where bid < 15`, []string{fxShotID}},
		"GreaterEqual":      {">= is inclusive", `Shot where bid >= 10.5`, []string{fxShotID, fxShot2ID}},
		"LessEqual":         {"<= is inclusive", `Shot where bid <= 10.5`, []string{fxShotID}},
		"GreaterThanWord":   {"greater_than is a synonym of >", `Shot where bid greater_than 15`, []string{fxShot2ID}},
		"LessThanWord":      {"less_than is a synonym of <", `Shot where bid less_than 15`, []string{fxShotID}},
		"SingleQuoted":      {"single-quoted strings", `Shot where name is 'sh010'`, []string{fxShotID}},
		"UppercaseNone":     {"NONE is null in any case", `Shot where description is NONE`, []string{fxShotID}},
		"After":             {"after compares datetimes", `Task where start_date after "2024-02-01"`, []string{fxTaskID}},
		"Before":            {"before compares datetimes", `Task where start_date before "2024-02-01T00:00:00.000Z"`, nil},
		"DatetimeOffset":    {"offsets are converted to UTC", `Task where start_date is "2024-03-01T12:00:00+02:00"`, []string{fxTaskID}},
		"In":                {"in matches a list", `Shot where name in ("sh020", "nope")`, []string{fxShot2ID}},
		"InBare":            {"in accepts bare ids", "Shot where id in (" + fxShotID + "," + fxShot2ID + ")", []string{fxShotID, fxShot2ID}},
		"NotIn":             {"not_in excludes a list", `Shot where name not_in ("sh020")`, []string{fxShotID}},
		"InSubquery":        {"in accepts a sub-query", `Shot where status_id in (select id from Status where name is "In progress")`, []string{fxShot2ID}},
		"RelationInSub":     {"a relation compares its primary key", `Project where project_schema in (select id from ProjectSchema where name is "VFX")`, []string{fxProjectID}},
		"Like":              {"like with % wildcard", `Shot where name like "sh0%"`, []string{fxShotID, fxShot2ID}},
		"LikeSuffix":        {"like with a leading %", `Project where name like "%rones"`, []string{fxProjectID}},
		"LikeEscaped":       {`\% is a literal percent`, `Shot where description like "%0\% done"`, []string{fxShot2ID}},
		"LikeEscapedNoHit":  {`\% does not match other text`, `Shot where description like "100\%"`, nil},
		"NotLike":           {"not_like excludes", `Shot where name not_like "%20"`, []string{fxShotID}},
		"Has":               {"has tests a scalar relation", `Shot where status has (name is "In progress")`, []string{fxShot2ID}},
		"AnyMetadata":       {"any tests collection items", `Shot where metadata any (key is "camera" and value is "alexa")`, []string{fxShotID}},
		"AnySameItem":       {"any needs one item to match all", `Shot where metadata any (key is "camera" and value is "red")`, nil},
		"NotAnyEmpty":       {"not any () finds empty collections", `Task where not timelogs any ()`, nil},
		"AnyEmpty":          {"any () finds non-empty collections", `Task where timelogs any ()`, []string{fxTaskID}},
		"ThroughCollection": {"dotted path through a collection means some item", `Task where timelogs.start >= "2024-05-01"`, []string{fxTaskID}},
		"DottedRelation":    {"dotted paths walk references", `Task where parent.parent.name is "sq010"`, []string{fxTaskID}},
		"ThreeLevels":       {"dotted paths to a state", `Shot where status.state.short is "NOT_STARTED"`, []string{fxShotID, fxShot2ID}},
		"ParentID":          {"parent_id uses the index", "TypedContext where parent_id is " + fxSeqID, []string{fxShotID, fxShot2ID}},
		"ParentDotID":       {"parent.id is the foreign key", `TypedContext where parent.id is "` + fxSeqID + `"`, []string{fxShotID, fxShot2ID}},
		"IsNone":            {"None matches null", `Shot where description is None`, []string{fxShotID}},
		"IsNotNone":         {"is_not None matches set values", `Shot where description is_not None`, []string{fxShot2ID}},
		"NullLower":         {"null is None", `Shot where description is null`, []string{fxShotID}},
		"BoolTrue":          {"True compares booleans", `Status where is_active is True`, []string{fxStatusID, fxStatus2ID}},
		"BoolLower":         {"false compares booleans", `Status where is_active is false`, nil},
		"And":               {"and needs both", `Shot where name is "sh010" and bid > 5`, []string{fxShotID}},
		"Or":                {"or needs one", `Shot where name is "sh010" or bid > 15`, []string{fxShotID, fxShot2ID}},
		"Not":               {"not negates", `Shot where not name is "sh010"`, []string{fxShot2ID}},
		"Parentheses":       {"parentheses group", `Shot where (name is "sh010" or name is "sh020") and bid > 15`, []string{fxShot2ID}},
		"AndBeforeOr":       {"and binds tighter than or", `Shot where name is "sh020" or name is "sh010" and bid > 15`, []string{fxShot2ID}},
		"QuoteThenAnd":      {`"x"and tokenises`, `Shot where (name is "sh010"and bid > 1)`, []string{fxShotID}},
		"Polymorphic":       {"Context returns every concrete type", `Context where name like "%0%"`, []string{fxSeqID, fxShotID, fxShot2ID}},
		"PolymorphicAll":    {"TypedContext excludes projects", `select id from TypedContext`, []string{fxSeqID, fxShotID, fxShot2ID, fxTaskID}},
		"CustomAttribute":   {"custom attributes are dense", `Shot where custom_attributes any (key is "fstart" and value is 1001)`, []string{fxShotID, fxShot2ID}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := ids(query(t, s, tc.expr))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n%s: ids (-want +got):\n%s", tc.reason, tc.expr, diff)
			}
		})
	}
}

func mustUserID(t *testing.T, s *Server) string {
	t.Helper()
	for _, u := range s.All("User") {
		if u["username"] == DefaultUser {
			return u["id"].(string)
		}
	}
	t.Fatal("no API user entity")
	return ""
}

func TestQueryPagingAndOrder(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t)
	cases := map[string]struct {
		reason   string
		expr     string
		want     []string
		wantNext any
	}{
		"Limit":               {"limit cuts and reports the next offset", `select name from TypedContext limit 2`, []string{fxSeqID, fxShotID}, float64(2)},
		"OffsetLimit":         {"offset then limit", `TypedContext offset 2 limit 1`, []string{fxShot2ID}, float64(3)},
		"LimitOffset":         {"limit before offset is accepted", `TypedContext limit 1 offset 2`, []string{fxShot2ID}, float64(3)},
		"LastPage":            {"no next offset on the last page", `TypedContext offset 2 limit 2`, []string{fxShot2ID, fxTaskID}, nil},
		"LimitZero":           {"limit 0 returns nothing", `TypedContext limit 0`, nil, float64(0)},
		"NoLimit":             {"no limit, no next", `Shot`, []string{fxShotID, fxShot2ID}, nil},
		"OrderDesc":           {"order by desc", `Shot order by name desc`, []string{fxShot2ID, fxShotID}, nil},
		"OrderDescendingWord": {"descending is a synonym", `Shot order by name descending`, []string{fxShot2ID, fxShotID}, nil},
		"OrderMulti":          {"several keys", `TypedContext order by object_type_id asc, name desc`, []string{fxTaskID, fxShot2ID, fxShotID, fxSeqID}, nil},
		"OrderRelation":       {"order through a relation", `Shot order by status.name desc`, []string{fxShotID, fxShot2ID}, nil},
		"OffsetBeyond":        {"offset past the end", `Shot offset 5 limit 2`, nil, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := query(t, s, tc.expr)
			if diff := cmp.Diff(tc.want, ids(res)); diff != "" {
				t.Errorf("%s\n%s: ids (-want +got):\n%s", tc.reason, tc.expr, diff)
			}
			next := res["metadata"].(map[string]any)["next"].(map[string]any)["offset"]
			if diff := cmp.Diff(tc.wantNext, next); diff != "" {
				t.Errorf("%s\n%s: next offset (-want +got):\n%s", tc.reason, tc.expr, diff)
			}
		})
	}
}

func TestQueryProjections(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t)
	cases := map[string]struct {
		reason string
		expr   string
		want   []any
	}{
		"SystemProjections": {
			"system projections, type and id always come back",
			`select name from Task`,
			[]any{map[string]any{"__entity_type__": "Task", "id": fxTaskID, "name": "comp", "context_type": "task", "project_id": fxProjectID, "object_type_id": taskOTID}},
		},
		"NestedReference": {
			"references nest with their own system projections",
			`select status.state.short from Task`,
			[]any{map[string]any{"__entity_type__": "Task", "id": fxTaskID, "context_type": "task", "project_id": fxProjectID, "object_type_id": taskOTID,
				"status": map[string]any{"__entity_type__": "Status", "id": fxStatusID,
					"state": map[string]any{"__entity_type__": "State", "id": fxStateID, "short": "NOT_STARTED"}}}},
		},
		"Collection": {
			"collections are lists, merged across projections",
			`select children.name, children.bid from Sequence`,
			[]any{map[string]any{"__entity_type__": "Sequence", "id": fxSeqID, "context_type": "task", "project_id": fxProjectID, "object_type_id": "e5139355-61da-4c8f-9db4-3abc870166bc",
				"children": []any{
					map[string]any{"__entity_type__": "Shot", "id": fxShotID, "name": "sh010", "bid": 10.5, "context_type": "task", "project_id": fxProjectID, "object_type_id": shotOTID},
					map[string]any{"__entity_type__": "Shot", "id": fxShot2ID, "name": "sh020", "bid": float64(20), "context_type": "task", "project_id": fxProjectID, "object_type_id": shotOTID},
				}}},
		},
		"Datetime": {
			"datetimes are tagged naive UTC",
			`select start_date from Task`,
			[]any{map[string]any{"__entity_type__": "Task", "id": fxTaskID, "context_type": "task", "project_id": fxProjectID, "object_type_id": taskOTID,
				"start_date": map[string]any{"__type__": "datetime", "value": "2024-03-01T10:00:00"}}},
		},
		"CustomAttributes": {
			"custom attributes are dense with the default",
			`select custom_attributes from Shot where id is ` + fxShotID,
			[]any{map[string]any{"__entity_type__": "Shot", "id": fxShotID, "context_type": "task", "project_id": fxProjectID, "object_type_id": shotOTID,
				"custom_attributes": []any{map[string]any{"__entity_type__": "ContextCustomAttributeValue", "configuration_id": fxCAConfigID, "entity_id": fxShotID, "key": "fstart", "value": float64(1001)}}}},
		},
		"NullReference": {
			"an unset reference is null",
			`select thumbnail from Task`,
			[]any{map[string]any{"__entity_type__": "Task", "id": fxTaskID, "context_type": "task", "project_id": fxProjectID, "object_type_id": taskOTID, "thumbnail": nil}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := query(t, s, tc.expr)["data"]
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n%s (-want +got):\n%s", tc.reason, tc.expr, diff)
			}
		})
	}
}

func TestQueryErrors(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t)
	cases := map[string]struct {
		reason string
		expr   string
		want   string
	}{
		"UnknownType":      {"unknown types are refused", `Nope where id is 1`, "ValidationError"},
		"UnknownAttribute": {"unknown attributes are refused", `Shot where nope is 1`, "ValidationError"},
		"SyntaxError":      {"syntax errors are refused", `Shot where name is`, "ValidationError"},
		"GroupNotStrict":   {"group by needs the strict API", `select count(id) from Shot group by status_id`, "ValidationError"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			status, out := post(t, s, []any{map[string]any{"action": "query", "expression": tc.expr}}, nil)
			obj, ok := out.(map[string]any)
			if !ok || status != 200 {
				t.Fatalf("%s: want an error object with status 200, got %d %v", tc.reason, status, out)
			}
			if diff := cmp.Diff(tc.want, obj["exception"]); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestQueryAggregate(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t)
	_, out := post(t, s, []any{map[string]any{"action": "query", "expression": `select count(id), sum(bid), max(bid), status_id from Shot group by status_id`}}, map[string]string{"ftrack-strict-api": "true"})
	want := []any{map[string]any{"action": "query", "data": []any{
		map[string]any{"status_id": fxStatusID, "count_id": float64(1), "sum_bid": 10.5, "max_bid": 10.5},
		map[string]any{"status_id": fxStatus2ID, "count_id": float64(1), "sum_bid": float64(20), "max_bid": float64(20)},
	}, "metadata": map[string]any{"next": map[string]any{"offset": nil}}}}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("aggregate (-want +got):\n%s", diff)
	}
}
