package plugin

// Register does not compile: the called function does not exist.
func Register(session any) {
	doesNotExist(session)
}
