package ftracktest_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"

	"github.com/ftrack-operator/ftrack-operator/pkg/ftrack/ftracktest"
)

// Example starts an emulator with the built-in schema and fresh-site data and
// sends it a raw batch, as any ftrack client would.
func Example() {
	srv, err := ftracktest.NewServer(ftracktest.WithUser("jane", "secret-key"))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	body := `[{"action": "query", "expression": "select name from Location where name is \"ftrack.server\""}]`
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api", strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("ftrack-user", "jane")
	req.Header.Set("ftrack-api-key", "secret-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode)
	fmt.Print(string(answer))
	fmt.Println(srv.RequestCount("query"))
	// Output:
	// 200
	// [{"action":"query","data":[{"__entity_type__":"Location","id":"3a372bde-05bc-11e4-8908-20c9d081909b","name":"ftrack.server"}],"metadata":{"next":{"offset":null}}}]
	// 1
}
