package maker

import (
	"net/url"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

// BenchmarkPages times the pages a maker opens most, on --demo (emulator,
// git server and GitHub stand-in on loopback): the solution list, the
// commit form and the request history.
func BenchmarkPages(b *testing.B) {
	_, base := app(b)
	c := newClient(b, base)
	c.get("/start?environment=dev")
	sol := fixtures.DemoSolutionName
	c.post("/solutions/"+sol+"/profile", url.Values{"profile": {DemoProfile}})
	for _, p := range []string{"/", "/solutions/" + sol + "/commit", "/solutions/" + sol + "/history"} {
		b.Run(p, func(b *testing.B) {
			for b.Loop() {
				if code, _ := c.get(p); code != 200 {
					b.Fatalf("%s: %d", p, code)
				}
			}
		})
	}
}
