package plugin

// Setup is not a Register function.
func Setup() {}
