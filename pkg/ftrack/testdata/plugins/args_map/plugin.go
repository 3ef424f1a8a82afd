package main

// Register receives every plugin argument.
func Register(session any, args map[string]any) {
	record := args["record"].(func(string))
	record("map:" + args["greeting"].(string))
}
