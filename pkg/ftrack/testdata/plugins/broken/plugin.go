package plugin

func Register(session any {
